"""Every notebook runs top to bottom in fast mode (slow), is saved stripped, and opens as the course asks.
The .ipynb files are generated from their MyST sources (notebooks/NN_name.md) by make notebooks;
tests/test_notebook_sources.py checks that each pair agrees and that the opening is the tool's template."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from nst_helpers import course

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NAMES = [name for name, _ in course.NOTEBOOKS]


def test_the_course_lists_every_notebook():
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == sorted(NAMES)
    assert sorted(p.name for p in NOTEBOOKS.glob("*.md")) == sorted(n.replace(".ipynb", ".md") for n in NAMES)
    readme = (NOTEBOOKS.parent / "README.md").read_text()
    for name in NAMES:
        assert course.colab_url(name) in readme


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_stripped_and_opens_with_title_badge_install_import(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, "save notebooks without outputs"
    first, install, imports, params = nb.cells[:4]
    assert first.cell_type == "markdown" and first.source.startswith("# ")
    assert course.colab_url(name) in first.source  # the badge points at this notebook's own path
    assert install.cell_type == "code" and '"google.colab" in sys.modules' in install.source
    assert course.pip_spec() in install.source
    assert "import nst_helpers as nst" in imports.source
    assert "Parameters" in params.source and "nst.fast_mode()" in params.source
    # it ends with its references; before them the summary and exercises, then only the exercises' self-checks
    assert nb.cells[-1].cell_type == "markdown" and nb.cells[-1].source.startswith("## References")
    exercises = max(i for i, c in enumerate(nb.cells[:-1]) if c.cell_type == "markdown")
    assert "## Summary" in nb.cells[exercises].source and "Exercises" in nb.cells[exercises].source
    assert all("self-check" in c.source.lower() for c in nb.cells[exercises + 1 : -1])
    # a self-check where the answer is a number or a property: every notebook has at least one
    assert any("self-check" in c.source.lower() for c in nb.cells[exercises + 1 : -1])


def test_the_opening_is_the_same_in_every_notebook():
    """The install cell and the imports cell are identical everywhere (a chapter's own imports come later)."""
    openings = {name: [c.source for c in nbformat.read(NOTEBOOKS / name, as_version=4).cells[1:3]] for name in NAMES}
    first = openings[NAMES[0]]
    assert first[1] == "import torch\n\nimport nst_helpers as nst"
    assert all(opening == first for opening in openings.values()), [n for n, o in openings.items() if o != first]


@pytest.mark.slow  # run by make test and CI
@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_in_fast_mode(name, tmp_path, monkeypatch):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    monkeypatch.setenv("NST_FAST", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    client = NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    assert not list(tmp_path.iterdir()) or all(p.suffix in (".png", ".jpg") for p in tmp_path.iterdir())
