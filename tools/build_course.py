"""Builds the executed course for a lecture and for reading, offline:

* ``python tools/build_course.py slides`` (``make slides``): one lecture deck per notebook in ``build/slides/``
  (``course_slides.py``: reveal.js at 1280x720, a slide per heading, setup cells left out, speaker notes and
  fragments, the laboratory as a recorded run), with reveal.js, require.js, jQuery and MathJax 2 from pinned
  npm packages copied beside the decks, so they open from disk without a network (a lecture hall's Wi-Fi is
  no dependency); ``index.html`` lists them.
* ``python tools/build_course.py book`` (``make book``): the course as a static website (Jupyter Book 1,
  Sphinx) in ``build/book/_build/html/``, with a local MathJax 3 and the widget renderer, and a last page,
  ``references``, listing every work the course cites (from ``nst_helpers/course.py``).
* ``python tools/build_course.py both`` (``make course``): both.

All first execute the notebooks (nbclient) into ``build/executed/``: at their defaults, or in fast mode with
``NST_FAST=1`` (how CI builds them). An executed notebook is reused while its stamp holds (the notebook, the
package's code, the mode, the weights: ``build_stamp``), so slides and book share one execution;
``--fresh`` executes again, ``--reuse`` keeps whatever is there. ``--notebooks 03 05`` picks notebooks by
number. The kernel runs ``course_kernel.py`` first (figure text legible on a projector). The assets are
fetched once into ``.cache/course-assets`` (``npm install`` of pinned versions; the npm registry is the only
network access, and only on the first build).
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nst_helpers import course  # noqa: E402

TOOLS = Path(__file__).resolve().parent
sys.path.insert(0, str(TOOLS))

import course_kernel  # noqa: E402

BUILD = ROOT / "build"
ASSETS_CACHE = ROOT / ".cache" / "course-assets"
NPM_PACKAGES = (
    "reveal.js@4.6.1",
    "requirejs@2.3.7",
    "jquery@3.7.1",
    "mathjax@2.7.9",
    "@jupyter-widgets/html-manager@1.0.14",
    "mathjax3@npm:mathjax@3.2.2",
)
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


def build_stamp(name):
    """What an executed notebook was made from: its source, the package's code, the mode, the weights and the
    kernel's additions. An executed notebook whose stamp matches is reused (``make slides`` then ``make book``
    execute once)."""
    digest = hashlib.sha256((ROOT / "notebooks" / name).read_bytes())
    digest.update((TOOLS / "course_kernel.py").read_bytes())
    for source in sorted((ROOT / "nst_helpers").rglob("*.py")):
        digest.update(source.read_bytes())
    return {
        "source": digest.hexdigest()[:16],
        "fast": bool(course_fast()),
        "weights": os.environ.get("NST_VGG19_WEIGHTS", ""),
    }


def course_fast():
    """Fast mode as the notebooks read it (``nst.fast_mode()``): NST_FAST set to anything but 0 or empty."""
    return os.environ.get("NST_FAST", "") not in ("", "0")


def execute(names, out_dir, reuse=False, timeout=900, fresh=False):
    """Execute each notebook top to bottom into ``out_dir`` (working directory: a scratch folder).

    A notebook already there is kept when its stamp (``build_stamp``: source, fast mode, weights) matches;
    ``reuse`` keeps whatever is there, ``fresh`` executes everything again. The kernel runs
    ``course_kernel.py`` first (figure text legible on a projector). A notebook that shows the laboratory
    gets a recorded LiveSession run in its metadata (``nst_lab_recording``), for the slides."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    out_dir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="_scratch-", dir=out_dir))  # one per build: two builds may run at once
    # the kernel's own environment, without MPLBACKEND: its inline backend puts the figures into the outputs
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    for name in names:
        target = out_dir / name
        stamp = build_stamp(name)
        if target.exists() and not fresh:
            old = nbformat.read(target, as_version=4).metadata.get("nst_build")
            if reuse or old == stamp:
                print(f"reused {name} (executed before{'' if old == stamp else ', --reuse'})", flush=True)
                continue
        nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
        records_lab = any(c.cell_type == "code" and "nst.Lab(" in c.source for c in nb.cells)
        if records_lab:
            nb.cells.append(nbformat.v4.new_code_cell(course_kernel.RECORD_LAB))
        start = time.perf_counter()
        try:
            NotebookClient(
                nb,
                timeout=timeout,
                kernel_name="python3",
                resources={"metadata": {"path": str(scratch)}},
                extra_arguments=[f"--IPKernelApp.exec_files={TOOLS / 'course_kernel.py'}"],
            ).execute(env=env)
        except CellExecutionError as err:
            plain = re.sub(r"\x1b\[[0-9;]*m", "", str(err))  # the traceback's terminal colours
            last = next((line for line in reversed(plain.splitlines()) if line.strip()), "an error")
            raise BuildError(
                f"{name} stopped with {last[:200]}: run it in Jupyter to see the cell, fix it, then build again"
            ) from None
        if records_lab:
            recorder = nb.cells.pop()
            text = "".join(o.get("text", "") for o in recorder.outputs if o.get("name") == "stdout")
            line = next((ln for ln in text.splitlines() if ln.startswith("NST_LAB_RECORDING ")), None)
            nb.metadata["nst_lab_recording"] = (
                json.loads(line.split(" ", 1)[1]) if line else {"error": "the recording printed nothing"}
            )
        nb.metadata["nst_build"] = stamp
        nbformat.write(nb, target)
        print(f"executed {name} in {time.perf_counter() - start:.0f} s", flush=True)
    shutil.rmtree(scratch, ignore_errors=True)
    return [out_dir / n for n in names]


def assets():
    """The node_modules folder with the pinned ``NPM_PACKAGES`` (fetched once by npm)."""
    modules = ASSETS_CACHE / "node_modules"
    if not all((modules / npm_name(p)).is_dir() for p in NPM_PACKAGES):
        if shutil.which("npm") is None:
            raise BuildError(
                "npm is needed once to fetch reveal.js, require.js and jQuery: install Node.js "
                "(e.g. apt install npm), then run this again"
            )
        ASSETS_CACHE.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--silent", "--prefix", str(ASSETS_CACHE), *NPM_PACKAGES],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise BuildError(
                f"npm could not fetch {', '.join(NPM_PACKAGES)} ({last}): check the connection to "
                f"the npm registry, then run this again"
            )
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
    for part in (
        "config",
        "extensions",
        "jax/input/TeX",
        "jax/output/CommonHTML",
        "jax/element",
        "localization/en",
        "fonts/HTML-CSS/TeX/woff",
    ):
        shutil.copytree(source / part, target / part)
    return target


def build_slides(executed, out_dir):
    """One lecture deck per notebook (``course_slides``: cut for 1280x720, see its doc), an index page, and
    the scripts they need copied beside them."""
    import course_slides

    out_dir.mkdir(parents=True, exist_ok=True)
    modules = assets()
    lib = out_dir / "assets"
    shutil.rmtree(lib, ignore_errors=True)
    shutil.copytree(modules / "reveal.js" / "dist", lib / "reveal.js" / "dist")
    shutil.copytree(modules / "reveal.js" / "plugin", lib / "reveal.js" / "plugin")
    shutil.copy(modules / "requirejs" / "require.js", lib / "require.js")
    shutil.copy(modules / "jquery" / "dist" / "jquery.min.js", lib / "jquery.min.js")
    copy_mathjax(lib / "mathjax")
    for old in out_dir.glob("*.slides.html"):
        old.unlink()
    exporter = course_slides.exporter()
    written, entries = [], []
    for path in executed:
        target, stats = course_slides.write_deck(exporter, path, out_dir, course.colab_url(path.name))
        written.append(target)
        entries.append(stats)
        print(
            f"deck {target.name}: {stats['slides']} slides, {stats['fragments']} fragments, "
            f"{stats['notes']} notes, {len(stats['skipped'])} setup cells left out",
            flush=True,
        )
    fast = any(e["fast"] for e in entries)
    built = time.strftime("%Y-%m-%d %H:%M") + (" in fast mode" if fast else " at the notebooks' defaults")
    (out_dir / "index.html").write_text(course_slides.index_html(entries, fast, built), encoding="utf-8")
    (out_dir / "decks.json").write_text(json.dumps(entries, indent=1), encoding="utf-8")
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
    html_context:
      default_mode: light
    nb_ipywidgets_js:
      ../widgets/mathjax2-shim.js: {{}}
      ../widgets/require.js: {{}}
      ../@jupyter-widgets/html-manager/dist/embed-amd.js: {{}}
"""


def write_book_pages(executed, out_dir):
    """The book's own pages beside the executed notebooks: the introduction, the bibliography (every work the
    course cites, from ``course.REFERENCES``), the table of contents (the notebooks, then the references) and
    the configuration."""
    chapters = "\n".join(f"  - file: {p.stem}" for p in executed)
    intro = [
        "# Neural style transfer, a course",
        "",
        "Gatys et al.'s algorithm, taught in notebooks backed by the tested package `nst_helpers`. "
        "The chapters below are the notebooks, executed"
        + (
            " in fast mode (tiny images, random weights): the pictures show that the code runs, not what it paints."
            if os.environ.get("NST_FAST")
            else "."
        )
        + " The last page lists the works the course cites.",
        "",
    ]
    (out_dir / "intro.md").write_text("\n".join(intro), encoding="utf-8")
    (out_dir / "references.md").write_text(course.bibliography_page(), encoding="utf-8")
    (out_dir / "_toc.yml").write_text(
        f"format: jb-book\nroot: intro\nchapters:\n{chapters}\n  - file: references\n", encoding="utf-8"
    )
    (out_dir / "_config.yml").write_text(
        BOOK_CONFIG.format(repository=course.REPOSITORY, branch=course.BRANCH), encoding="utf-8"
    )


def build_book(executed, out_dir):
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("*.ipynb"):
        old.unlink()
    for path in executed:
        shutil.copy(path, out_dir / path.name)
    local = out_dir / "local"
    shutil.rmtree(local, ignore_errors=True)
    modules = assets()
    shutil.copytree(
        modules / "mathjax3" / "es5",
        local / "mathjax3",  # MathJax 3, Sphinx's own choice
        ignore=shutil.ignore_patterns("sre", "*-svg*.js", "svg", "mml-*.js", "node-main.js"),
    )
    shutil.copytree(
        modules / "@jupyter-widgets" / "html-manager" / "dist",
        local / "@jupyter-widgets" / "html-manager" / "dist",
        ignore=shutil.ignore_patterns("*.map", "*.eot", "*.svg"),
    )
    (local / "widgets").mkdir()
    shutil.copy(modules / "requirejs" / "require.js", local / "widgets" / "require.js")
    shutil.copy(TOOLS / "book_mathjax2_shim.js", local / "widgets" / "mathjax2-shim.js")  # the widgets call MathJax 2
    for font in (modules / "@jupyter-widgets" / "html-manager" / "dist").glob("*.woff*"):
        shutil.copy(font, local / "@jupyter-widgets" / font.name)  # where the renderer asks for its icon fonts
    for font in (modules / "@jupyter-widgets" / "html-manager" / "dist").glob("*.ttf"):
        shutil.copy(font, local / "@jupyter-widgets" / font.name)

    write_book_pages(executed, out_dir)
    jb = shutil.which("jupyter-book", path=str(Path(sys.executable).parent)) or shutil.which("jupyter-book")
    if jb is None:
        raise BuildError("jupyter-book is not installed: pip install -e '.[course]'")
    done = subprocess.run([jb, "build", str(out_dir), "--all", "--quiet"], capture_output=True, text=True)
    if done.returncode != 0:
        raise BuildError("jupyter-book build failed:\n" + done.stdout[-3000:] + done.stderr[-3000:])
    dedupe_inline_scripts(out_dir / "_build" / "html")
    return out_dir / "_build" / "html"


def dedupe_inline_scripts(html_dir):
    """sphinx-thebe (0.3.1, under Sphinx 7) writes its inline configuration twice into every page, and the
    second ``const THEBE_JS_URL`` is a script error: keep the first copy of each inline script in a head."""
    for page in html_dir.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        head, sep, rest = text.partition("</head>")
        seen, kept = set(), []
        for line in head.split("\n"):
            key = line.strip()
            if key.startswith("<script>") and key.endswith("</script>"):
                if key in seen:
                    continue
                seen.add(key)
            kept.append(line)
        if len(kept) != head.count("\n") + 1:
            page.write_text("\n".join(kept) + sep + rest, encoding="utf-8")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "what",
        choices=["slides", "book", "both", "execute"],
        help="slides, book, both (make course), or only execute the notebooks",
    )
    p.add_argument("--notebooks", nargs="*", default=[], help="notebook numbers (default: all)")
    p.add_argument("--out", type=Path, default=BUILD, help="build folder (default: build/)")
    p.add_argument(
        "--reuse",
        action="store_true",
        help="keep every notebook already executed in OUT/executed, even one whose source changed",
    )
    p.add_argument("--fresh", action="store_true", help="execute every notebook again")
    args = p.parse_args(argv)
    try:
        start = time.perf_counter()
        executed = execute(notebooks(args.notebooks), args.out / "executed", reuse=args.reuse, fresh=args.fresh)
        if args.what in ("slides", "both"):
            decks = build_slides(executed, args.out / "slides")
            print(f"slides: {len(decks)} decks in {args.out / 'slides'} (open index.html)")
        if args.what in ("book", "both"):
            html = build_book(executed, args.out / "book")
            print(f"book: {html / 'index.html'}")
        print(f"built in {time.perf_counter() - start:.0f} s")
    except BuildError as err:
        print(f"build_course: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
