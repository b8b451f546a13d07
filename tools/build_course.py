"""Builds the executed course for a lecture and for reading, offline:

* ``python tools/build_course.py slides`` (``make slides``): one reveal.js deck per notebook in
  ``build/slides/``, with reveal.js, require.js, jQuery, MathJax 2 and the widget renderer (for the
  progress bars in the outputs) from pinned npm packages copied beside the decks, so they open from disk
  without a network (a lecture hall's Wi-Fi is no dependency).
* ``python tools/build_course.py book`` (``make book``): the course as a static website (Jupyter Book 1,
  Sphinx) in ``build/book/_build/html/``, with the same local MathJax, and a last page, ``references``, listing
  every work the course cites (from ``nst_helpers/course.py``).

Both first execute the notebooks (nbclient) into ``build/executed/``: at their defaults, or in fast mode
with ``NST_FAST=1`` (how CI builds them). ``--notebooks 03 05`` picks notebooks by number; ``--reuse``
keeps notebooks already executed there. The assets are fetched once into ``.cache/course-assets``
(``npm install`` of pinned versions; the npm registry is the only network access, and only on the
first build).
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nst_helpers import course  # noqa: E402

BUILD = ROOT / "build"
ASSETS_CACHE = ROOT / ".cache" / "course-assets"
NPM_PACKAGES = ("reveal.js@4.6.1", "requirejs@2.3.7", "jquery@3.7.1", "mathjax@2.7.9", "@jupyter-widgets/html-manager@1.0.14",
                "mathjax3@npm:mathjax@3.2.2")
#: MathJax 2 configuration that both nbconvert's slides and Sphinx can use from a local copy.
MATHJAX_CONFIG = "TeX-AMS_CHTML-full,Safe"
#: No mermaid diagrams in the course: an empty module instead of nbconvert's CDN address.
NO_MERMAID = "data:text/javascript,export%20default%20%7Binitialize()%7B%7D%7D"


class BuildError(Exception):
    """A build step failed; the message says which and what to do."""


def notebooks(selected=()):
    names = [name for name, _ in course.NOTEBOOKS]
    if selected:
        names = [n for n in names if any(n.startswith(s) for s in selected)]
        if not names:
            raise BuildError(f"no notebook starts with {', '.join(selected)}: use numbers like 03 05")
    return names


def execute(names, out_dir, reuse=False, timeout=900):
    """Execute each notebook top to bottom into ``out_dir`` (working directory: a scratch folder)."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    out_dir.mkdir(parents=True, exist_ok=True)
    scratch = out_dir / "_scratch"
    scratch.mkdir(exist_ok=True)
    # the kernel's own environment, without MPLBACKEND: its inline backend puts the figures into the outputs
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    for name in names:
        target = out_dir / name
        if reuse and target.exists():
            continue
        nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
        start = time.perf_counter()
        try:
            NotebookClient(nb, timeout=timeout, kernel_name="python3",
                           resources={"metadata": {"path": str(scratch)}}).execute(env=env)
        except CellExecutionError as err:
            plain = re.sub(r"\x1b\[[0-9;]*m", "", str(err))  # the traceback's terminal colours
            last = next((line for line in reversed(plain.splitlines()) if line.strip()), "an error")
            raise BuildError(f"{name} stopped with {last[:200]}: run it in Jupyter to see the cell, fix it, "
                             f"then build again") from None
        nbformat.write(nb, target)
        print(f"executed {name} in {time.perf_counter() - start:.0f} s", flush=True)
    shutil.rmtree(scratch, ignore_errors=True)
    return [out_dir / n for n in names]


def assets():
    """The node_modules folder with the pinned ``NPM_PACKAGES`` (fetched once by npm)."""
    modules = ASSETS_CACHE / "node_modules"
    if not all((modules / npm_name(p)).is_dir() for p in NPM_PACKAGES):
        if shutil.which("npm") is None:
            raise BuildError("npm is needed once to fetch reveal.js, require.js and jQuery: install Node.js "
                             "(e.g. apt install npm), then run this again")
        ASSETS_CACHE.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent", "--prefix",
                               str(ASSETS_CACHE), *NPM_PACKAGES], capture_output=True, text=True)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise BuildError(f"npm could not fetch {', '.join(NPM_PACKAGES)} ({last}): check the connection to "
                             f"the npm registry, then run this again")
    return modules


def npm_name(spec):
    """The folder of an npm package spec: "reveal.js@4.6.1" -> reveal.js, "@a/b@1" -> @a/b, "x@npm:y@3" -> x."""
    return spec[0] + spec[1:].split("@", 1)[0]


def copy_mathjax(target):
    """The part of MathJax 2 that TeX input and CommonHTML output need (about 10 of its 70 MB)."""
    source = assets() / "mathjax"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    shutil.copy(source / "MathJax.js", target / "MathJax.js")
    shutil.copy(source / "LICENSE", target / "LICENSE")
    for part in ("config", "extensions", "jax/input/TeX", "jax/output/CommonHTML", "jax/element", "localization/en",
                 "fonts/HTML-CSS/TeX/woff"):
        shutil.copytree(source / part, target / part)
    return target


def slide_metadata(nb):
    """Slides from the notebook's own structure: every heading (# or ##) starts a slide, every other cell
    is a sub-slide below it (the arrow down), and the Colab install cell is left out."""
    for i, cell in enumerate(nb.cells):
        source = cell.source.lstrip()
        if cell.cell_type == "code" and '"google.colab" in sys.modules' in source:
            kind = "skip"
        elif cell.cell_type == "markdown" and (source.startswith("# ") or source.startswith("## ")):
            kind = "slide"
        else:
            kind = "subslide" if i else "slide"
        cell.metadata["slideshow"] = {"slide_type": kind}
    return nb


def build_slides(executed, out_dir):
    from nbconvert import SlidesExporter

    out_dir.mkdir(parents=True, exist_ok=True)
    modules = assets()
    lib = out_dir / "assets"
    shutil.rmtree(lib, ignore_errors=True)
    shutil.copytree(modules / "reveal.js" / "dist", lib / "reveal.js" / "dist")
    shutil.copytree(modules / "reveal.js" / "plugin", lib / "reveal.js" / "plugin")
    shutil.copy(modules / "requirejs" / "require.js", lib / "require.js")
    shutil.copy(modules / "jquery" / "dist" / "jquery.min.js", lib / "jquery.min.js")
    shutil.copy(modules / "@jupyter-widgets" / "html-manager" / "dist" / "embed-amd.js", lib / "embed-amd.js")
    copy_mathjax(lib / "mathjax")
    exporter = SlidesExporter(reveal_url_prefix="assets/reveal.js", reveal_scroll=True, reveal_theme="white",
                              require_js_url="assets/require.js", jquery_url="assets/jquery.min.js",
                              mathjax_url=f"assets/mathjax/MathJax.js?config={MATHJAX_CONFIG}",
                              widget_renderer_url="assets/embed-amd.js", mermaid_js_url=NO_MERMAID)
    written = []
    for path in executed:
        nb = slide_metadata(nbformat.read(path, as_version=4))
        body, _ = exporter.from_notebook_node(nb)
        target = out_dir / (path.stem + ".slides.html")
        target.write_text(body, encoding="utf-8")
        written.append(target)
    index = ["<!doctype html><meta charset='utf-8'><title>Neural style transfer: slides</title>",
             "<h1>Neural style transfer: the course as slides</h1><ol>"]
    titles = dict(course.NOTEBOOKS)
    for path, target in zip(executed, written):
        index.append(f"<li><a href='{target.name}'>{titles[path.name]}</a></li>")
    (out_dir / "index.html").write_text("\n".join(index + ["</ol>"]), encoding="utf-8")
    return written


BOOK_CONFIG = """\
title: Neural style transfer, a course
author: the nst-course team
only_build_toc_files: true
execute:
  execute_notebooks: "off"
repository:
  url: https://github.com/{repository}
  branch: {branch}
html:
  use_repository_button: true
parse:
  myst_enable_extensions: [dollarmath, amsmath, html_image]
sphinx:
  config:
    # local copies (html_extra_path puts them beside the pages; _static is not used because Jupyter Book
    # would load every script in it)
    html_extra_path: [local]
    mathjax_path: ../mathjax3/tex-chtml.js
    nb_ipywidgets_js:
      ../widgets/require.js: {{}}
      ../@jupyter-widgets/html-manager/dist/embed-amd.js: {{}}
"""


def write_book_pages(executed, out_dir):
    """The book's own pages beside the executed notebooks: the introduction, the bibliography (every work the
    course cites, from ``course.REFERENCES``), the table of contents (the notebooks, then the references) and
    the configuration."""
    chapters = "\n".join(f"  - file: {p.stem}" for p in executed)
    intro = ["# Neural style transfer, a course", "",
             "Gatys et al.'s algorithm, taught in notebooks backed by the tested package `nst_helpers`. "
             "The chapters below are the notebooks, executed" +
             (" in fast mode (tiny images, random weights): the pictures show that the code runs, not what it "
              "paints." if os.environ.get("NST_FAST") else ".") + " The last page lists the works the course cites.",
             ""]
    (out_dir / "intro.md").write_text("\n".join(intro), encoding="utf-8")
    (out_dir / "references.md").write_text(course.bibliography_page(), encoding="utf-8")
    (out_dir / "_toc.yml").write_text(f"format: jb-book\nroot: intro\nchapters:\n{chapters}\n  - file: references\n",
                                      encoding="utf-8")
    (out_dir / "_config.yml").write_text(BOOK_CONFIG.format(repository=course.REPOSITORY, branch=course.BRANCH),
                                         encoding="utf-8")


def build_book(executed, out_dir):
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("*.ipynb"):
        old.unlink()
    for path in executed:
        shutil.copy(path, out_dir / path.name)
    local = out_dir / "local"
    shutil.rmtree(local, ignore_errors=True)
    modules = assets()
    shutil.copytree(modules / "mathjax3" / "es5", local / "mathjax3",  # MathJax 3, Sphinx's own choice
                    ignore=shutil.ignore_patterns("sre", "*-svg*.js", "svg", "mml-*.js", "node-main.js"))
    shutil.copytree(modules / "@jupyter-widgets" / "html-manager" / "dist", local / "@jupyter-widgets" / "html-manager" / "dist",
                    ignore=shutil.ignore_patterns("*.map", "*.eot", "*.svg"))
    (local / "widgets").mkdir()
    shutil.copy(modules / "requirejs" / "require.js", local / "widgets" / "require.js")

    write_book_pages(executed, out_dir)
    jb = shutil.which("jupyter-book", path=str(Path(sys.executable).parent)) or shutil.which("jupyter-book")
    if jb is None:
        raise BuildError("jupyter-book is not installed: pip install -e '.[course]'")
    done = subprocess.run([jb, "build", str(out_dir), "--all", "--quiet"], capture_output=True, text=True)
    if done.returncode != 0:
        raise BuildError("jupyter-book build failed:\n" + done.stdout[-3000:] + done.stderr[-3000:])
    return out_dir / "_build" / "html"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("what", choices=["slides", "book", "both"])
    p.add_argument("--notebooks", nargs="*", default=[], help="notebook numbers (default: all)")
    p.add_argument("--out", type=Path, default=BUILD, help="build folder (default: build/)")
    p.add_argument("--reuse", action="store_true", help="keep notebooks already executed in OUT/executed")
    args = p.parse_args(argv)
    try:
        executed = execute(notebooks(args.notebooks), args.out / "executed", reuse=args.reuse)
        if args.what in ("slides", "both"):
            decks = build_slides(executed, args.out / "slides")
            print(f"slides: {len(decks)} decks in {args.out / 'slides'} (open index.html)")
        if args.what in ("book", "both"):
            html = build_book(executed, args.out / "book")
            print(f"book: {html / 'index.html'}")
    except BuildError as err:
        print(f"build_course: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
