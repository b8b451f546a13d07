"""The course's notebooks have one source each: ``notebooks/NN_name.md``, MyST Markdown read and written
with jupytext (``md:myst``: code in ```{code-cell} ipython3 fences, consecutive markdown cells separated by
``+++``). ``notebooks/NN_name.ipynb`` is generated from it, stripped (no outputs, no execution counts),
with stable cell ids (``nbNN-00``, ``nbNN-01``, ... by position) and fixed notebook metadata, so Colab opens
it and a change to the source shows as a small diff in both files.

The opening that every notebook shares is written here once and re-rendered into every .md:

* the front matter of the .md (``HEADER``);
* in the title cell, the Colab badge line (``badge``); the title, intro and time line are the notebook's own;
* the install cell (``INSTALL``, acts only on Colab) and the imports cell (``IMPORTS``);
* the first lines of the parameters cell (``COMMON_PARAMETERS``, up to its first blank line; the notebook's
  own lines follow after a blank line), except in the notebooks of ``OWN_PARAMETERS``;
* the last cell, ``## References``: the works of ``course.NOTEBOOK_REFERENCES[NN]``, formatted from the one list
  ``course.REFERENCES`` (``render_references``).

Commands (run from anywhere; ``make notebooks`` is ``sync``):

* ``python tools/notebooks.py sync [NN ...]``: for each notebook (default: all), newest wins: if the .ipynb
  was saved after its .md (in Jupyter, say) and its cells differ, its cells are written into the .md;
  otherwise the .md is the source. Then the shared opening is rendered into the .md and the .ipynb is
  written from it. A replaced file whose cells differed is kept in ``.cache/notebooks-replaced/``.
* ``python tools/notebooks.py check``: what ``tests/test_notebook_sources.py`` checks, one line per problem.
* ``python tools/notebooks.py time NN "TEXT"``: the notebook's time line becomes ``*Time: TEXT*`` (after
  ``python -m benchmarks.run --only notebooks`` measured it), then it is synced.
"""

import argparse
import copy
import shutil
import sys
from pathlib import Path

import jupytext
import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nst_helpers import course  # noqa: E402  (the badge address and the install line)

NOTEBOOKS = ROOT / "notebooks"
REPLACED = ROOT / ".cache" / "notebooks-replaced"

#: The front matter of every .md: what jupytext, Jupyter Book (MyST-NB) and Jupyter need to read it as a
#: notebook. No jupytext version (it would change with whoever ran the tool) and no pairing (``formats``):
#: jupytext would then write its own metadata and cell ids into the .ipynb; ``make notebooks`` pairs them.
HEADER = """\
---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---
"""

#: The notebook metadata of every .ipynb (Colab needs the kernelspec).
METADATA = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}

#: What identifies the install cell (tools/build_course.py leaves it out of the slides by the same test).
INSTALL_MARK = '"google.colab" in sys.modules'

INSTALL = f'''\
# On Colab, install the course's package from its repository. Colab's own torch, ipywidgets (7.x) and the
# rest are kept: pip only installs what is missing, and the package's requirements are lower bounds.
# Anywhere else this cell does nothing: install with `pip install -e .` from the repository.
import sys

if {INSTALL_MARK}:
    %pip install --quiet "{course.pip_spec()}"'''

IMPORTS = "import torch\n\nimport nst_helpers as nst"

#: The parameters every notebook starts with (a notebook adds its own below them, after a blank line).
COMMON_PARAMETERS = """\
# Parameters. The defaults suit a laptop CPU; on a GPU the images are larger.
FAST = nst.fast_mode()  # NST_FAST=1: tiny images, a few steps, random weights (how CI runs this notebook)
DEVICE = nst.resolve_device("auto")  # cuda, then mps, then cpu
SIZE = 32 if FAST else nst.default_size(DEVICE)  # long side in px: 128 on a CPU, 512 on a GPU
WEIGHTS = "random" if FAST else None  # None: $NST_VGG19_WEIGHTS if set, else torchvision's (downloaded once)
CONTENT = "chelsea"  # a bundled example, or the path of your own photo
STYLE = "starry_night"  # a bundled example, or the path of a painting"""

#: Notebooks whose parameters cell is wholly their own: 8 (a network trained at the seed's CPU size) and
#: 9 (video frames) have no content photo and a size of their own; 12 (sound) has no pictures at all.
OWN_PARAMETERS = ("08", "09", "12")

BADGE_START = "[![Open In Colab]"
REFERENCES_START = "## References"
REFERENCES_INTRO = (
    "The works this notebook uses, from the course's one list in `nst_helpers/course.py` (the book's "
    "*References* page lists them all):"
)
TIME_START = "*Time: "


class NotebookError(Exception):
    """A notebook cannot be synced as it is; the message says which file and what to do."""


def badge(name):
    """The Colab badge line of the title cell of ``name`` (an .ipynb file name)."""
    return f"{BADGE_START}(https://colab.research.google.com/assets/colab-badge.svg)]({course.colab_url(name)})"


def stems():
    """Every notebook: the course's list, and any .md or .ipynb in notebooks/ beside it."""
    listed = [Path(name).stem for name, _ in course.NOTEBOOKS]
    found = {p.stem for p in NOTEBOOKS.glob("*.md")} | {p.stem for p in NOTEBOOKS.glob("*.ipynb")}
    return listed + sorted(found - set(listed))


def select(prefixes):
    chosen = [s for s in stems() if not prefixes or any(s.startswith(p) for p in prefixes)]
    if not chosen:
        raise NotebookError(f"no notebook starts with {', '.join(prefixes)}: use numbers like 03 05")
    return chosen


# --- reading and writing -------------------------------------------------------------------------------


def read_md(path):
    return jupytext.reads(path.read_text(encoding="utf-8"), fmt="md:myst")


def read_ipynb(path):
    return nbformat.read(path, as_version=4)


def cells(nb):
    """What a pair must agree on: each cell's type, source and tags, from an .md or a saved .ipynb (no
    outputs; of the cell metadata only ``tags``: collapsed, scrolled, execution times and the like are the
    editor's, not the course's)."""
    return [
        (c.cell_type, c.source, {"tags": list(c.metadata.tags)} if c.metadata.get("tags") else {}) for c in nb.cells
    ]


def build(stem, cell_list):
    """The stripped notebook of ``cell_list`` with ids ``nbNN-XX`` by position and the fixed metadata."""
    make = {"markdown": new_markdown_cell, "code": new_code_cell, "raw": new_raw_cell}
    nb = new_notebook(metadata=copy.deepcopy(METADATA))
    for i, (kind, source, metadata) in enumerate(cell_list):
        cell = make[kind](source, metadata=metadata)
        cell.id = f"nb{stem[:2]}-{i:02d}"
        nb.cells.append(cell)
    return nb


def ipynb_text(nb):
    text = nbformat.writes(nb)
    return text if text.endswith("\n") else text + "\n"


def md_text(nb):
    body = jupytext.writes(nb, fmt={"extension": ".md", "format_name": "myst", "notebook_metadata_filter": "-all"})
    return HEADER + "\n" + body.lstrip("\n")


def expected(stem, cell_list):
    """The .md and .ipynb texts that ``cell_list`` (the opening already rendered) gives."""
    nb = build(stem, cell_list)
    return md_text(_with_lexer(nb)), ipynb_text(nb)


def _with_lexer(nb):
    """A copy that asks jupytext to write ```{code-cell} ipython3 (the lexer is not kept in the .ipynb)."""
    out = copy.deepcopy(nb)
    out.metadata = {"language_info": {"name": "python", "pygments_lexer": "ipython3"}}
    return out


# --- the shared opening --------------------------------------------------------------------------------


def render_opening(stem, cell_list):
    """``cell_list`` with the shared parts of its first four cells rewritten from this file's templates.
    Raises NotebookError when those cells are not the opening (the shared parts go by position)."""
    where = f"notebooks/{stem}.md"
    if len(cell_list) < 4:
        raise NotebookError(f"{where}: a notebook opens with four cells (title, install, imports, parameters)")
    out = [list(c) for c in cell_list]
    (t0, title, _), (t1, install, _), (t2, imports, _), (t3, params, _) = cell_list[:4]
    lines = title.split("\n")
    if t0 != "markdown" or not title.startswith("# ") or sum(x.startswith(BADGE_START) for x in lines) != 1:
        raise NotebookError(
            f"{where}: the first cell should be markdown: '# title', intro, one Colab badge "
            f"line ({BADGE_START}...) and a time line"
        )
    out[0][1] = "\n".join(badge(stem + ".ipynb") if x.startswith(BADGE_START) else x for x in lines)
    if t1 != "code" or INSTALL_MARK not in install:
        raise NotebookError(f"{where}: the second cell should be the install cell (code with {INSTALL_MARK})")
    out[1][1] = INSTALL
    if t2 != "code" or "import nst_helpers as nst" not in imports:
        raise NotebookError(f"{where}: the third cell should be the imports cell ({IMPORTS!r})")
    out[2][1] = IMPORTS
    if t3 != "code" or not params.startswith("# Parameters"):
        raise NotebookError(f"{where}: the fourth cell should be the parameters cell ('# Parameters...')")
    if not stem.startswith(OWN_PARAMETERS):
        _, blank, own = params.partition("\n\n")
        out[3][1] = COMMON_PARAMETERS + blank + own
    return [tuple(c) for c in out]


def render_references(stem, cell_list):
    """``cell_list`` with its last cell, ``## References``, written from ``course.NOTEBOOK_REFERENCES``. Raises
    NotebookError when the notebook does not end with that cell (every course notebook does)."""
    keys = course.NOTEBOOK_REFERENCES.get(stem[:2])
    if keys is None:
        return list(cell_list)
    kind, source, metadata = cell_list[-1]
    if kind != "markdown" or not source.startswith(REFERENCES_START):
        raise NotebookError(
            f"notebooks/{stem}.md: the last cell should be markdown starting with "
            f"'{REFERENCES_START}' (make notebooks writes its list from nst_helpers/course.py)"
        )
    text = f"{REFERENCES_START}\n\n{REFERENCES_INTRO}\n\n{course.references_markdown(keys)}"
    return list(cell_list[:-1]) + [(kind, text, metadata)]


def set_time(cell_list, text):
    """The title cell's time line becomes ``*Time: text*``."""
    (kind, title, metadata), rest = cell_list[0], cell_list[1:]
    lines = title.split("\n")
    if sum(x.startswith(TIME_START) for x in lines) != 1:
        raise NotebookError(f"the title cell should have one time line ({TIME_START}...*)")
    title = "\n".join(f"{TIME_START}{text.strip()}*" if x.startswith(TIME_START) else x for x in lines)
    return [(kind, title, metadata)] + list(rest)


# --- sync and check ------------------------------------------------------------------------------------


def _keep(path):
    """Keep a copy of a file about to be replaced whose cells differed: an edit made to both files of a
    pair can be taken from there."""
    REPLACED.mkdir(parents=True, exist_ok=True)
    shutil.copy2(path, REPLACED / path.name)
    return REPLACED / path.name


def sync(stem, time_text=None, say=print):
    """Newest wins between notebooks/STEM.md and .ipynb; the opening is rendered; both are written when
    they change. Returns the paths written."""
    md, ipynb = NOTEBOOKS / f"{stem}.md", NOTEBOOKS / f"{stem}.ipynb"
    if not md.exists() and not ipynb.exists():
        raise NotebookError(f"notebooks/{stem}: the course lists it but there is neither an .md nor an .ipynb")
    if not md.exists():
        source = cells(read_ipynb(ipynb))
        say(f"notebooks/{stem}.md: written from its .ipynb (there was no .md)")
    else:
        source = cells(read_md(md))
        if ipynb.exists() and ipynb.stat().st_mtime > md.stat().st_mtime:
            saved = cells(read_ipynb(ipynb))
            if saved != source:
                kept = _keep(md)
                source = saved
                say(
                    f"notebooks/{stem}.ipynb was saved after its .md and differs: its cells went into "
                    f"notebooks/{stem}.md (the .md it replaced: {_show(kept)})"
                )
    if time_text is not None:
        source = set_time(source, time_text)
    want_md, want_ipynb = expected(stem, render_references(stem, render_opening(stem, source)))
    written = []
    for path, text in ((md, want_md), (ipynb, want_ipynb)):
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            if (
                path.suffix == ".ipynb"
                and path.exists()
                and cells(read_ipynb(path)) != cells(jupytext.reads(want_md, fmt="md:myst"))
            ):
                _keep(path)
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


def check(stem):
    """What is wrong with notebook ``stem``'s pair, one line per problem (empty: all is well)."""
    md, ipynb = NOTEBOOKS / f"{stem}.md", NOTEBOOKS / f"{stem}.ipynb"
    problems = []
    if not md.exists():
        return [
            f"notebooks/{stem}.md is missing: every notebook's source is its .md (make notebooks writes "
            f"it from the .ipynb)"
        ]
    if not ipynb.exists():
        return [f"notebooks/{stem}.ipynb is missing: make notebooks writes it from the .md"]
    source = cells(read_md(md))
    text = md.read_text(encoding="utf-8")
    if not text.startswith(HEADER):
        problems.append(f"notebooks/{stem}.md: its front matter is not tools/notebooks.py's HEADER")
    try:
        rendered = render_opening(stem, source)
    except NotebookError as err:
        return problems + [str(err)]
    for i, (have, want) in enumerate(zip(source[:4], rendered[:4])):
        if have != want:
            problems.append(
                f"notebooks/{stem}.md: cell {i + 1} differs from the shared opening of "
                f"tools/notebooks.py: {_first_difference(have[1], want[1])}"
            )
    try:
        last = render_references(stem, source)[-1]
    except NotebookError as err:
        return problems + [str(err)]
    if last != source[-1]:
        problems.append(
            f"notebooks/{stem}.md: its references differ from nst_helpers/course.py's list: "
            f"{_first_difference(source[-1][1], last[1])}; make notebooks"
        )
    want_md, want_ipynb = expected(stem, source)
    if text != want_md and not problems:
        problems.append(f"notebooks/{stem}.md is not as make notebooks writes it: {_first_difference(text, want_md)}")
    nb = read_ipynb(ipynb)
    if any(c.get("outputs") or c.get("execution_count") is not None for c in nb.cells if c.cell_type == "code"):
        problems.append(f"notebooks/{stem}.ipynb has outputs or execution counts: save it stripped (make notebooks)")
    saved = cells(nb)
    if saved != source:
        if len(saved) != len(source):
            problems.append(
                f"notebooks/{stem}.ipynb has {len(saved)} cells, its .md gives {len(source)}: "
                f"make notebooks (the newer file wins)"
            )
        else:
            i = next(i for i, (a, b) in enumerate(zip(saved, source)) if a != b)
            how = _first_difference(saved[i][1], source[i][1]) if saved[i][1] != source[i][1] else "its type or tags"
            problems.append(
                f"notebooks/{stem}.ipynb: cell {i + 1} differs from its .md: {how}; make notebooks "
                f"(the newer file wins)"
            )
    elif ipynb.read_text(encoding="utf-8") != want_ipynb:
        problems.append(
            f"notebooks/{stem}.ipynb is not as make notebooks writes it (cell ids, metadata or layout): make notebooks"
        )
    return problems


def _show(path):
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


def _first_difference(have, want):
    """Where two texts first differ, for a message."""
    a, b = have.split("\n"), want.split("\n")
    i = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    got, wanted = (a[i] if i < len(a) else "(the end)"), (b[i] if i < len(b) else "(the end)")
    return f"line {i + 1} is {got[:100]!r}, expected {wanted[:100]!r}"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("sync", help="make notebooks: newest wins, then the opening, then both files")
    s.add_argument("notebooks", nargs="*", help="numbers like 02 09 (default: all)")
    sub.add_parser("check", help="say what make notebooks would change or what is wrong; exit 1 if anything")
    t = sub.add_parser("time", help="rewrite a notebook's time line, then sync it")
    t.add_argument("notebook", help="its number, like 09")
    t.add_argument("text", help="the line after 'Time: '")
    args = p.parse_args(argv)
    try:
        if args.command == "check":
            problems = [line for stem in stems() for line in check(stem)]
            print("\n".join(problems) or "notebooks: every .md and .ipynb agree")
            return 1 if problems else 0
        if args.command == "time":
            matches = select([args.notebook])
            if len(matches) != 1:
                raise NotebookError(f"{args.notebook} names {len(matches)} notebooks: give one number, like 09")
            chosen = [(matches[0], args.text)]
        else:
            chosen = [(stem, None) for stem in select(args.notebooks)]
        written = [path for stem, text in chosen for path in sync(stem, time_text=text)]
        for path in written:
            print(f"wrote {_show(path)}")
        if not written:
            print(f"notebooks: nothing to write ({len(chosen)} checked: every .md and .ipynb agree)")
    except NotebookError as err:
        print(f"notebooks: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
