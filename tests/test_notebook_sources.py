"""Every notebook's source is its MyST Markdown file (notebooks/NN_name.md); the .ipynb beside it is what
``make notebooks`` (tools/notebooks.py) generates from it: the same cells, stripped, with the shared opening
of the tool's templates. Fast: nothing is executed."""

import importlib.util
import os
import shutil
from pathlib import Path

import nbformat
import pytest

from nst_helpers import course

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("notebooks_tool", ROOT / "tools" / "notebooks.py")
tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tool)

STEMS = [Path(name).stem for name, _ in course.NOTEBOOKS]


@pytest.mark.parametrize("stem", STEMS)
def test_the_md_and_the_ipynb_agree(stem):
    assert tool.check(stem) == []


def test_every_source_is_a_course_notebook():
    assert sorted(p.stem for p in tool.NOTEBOOKS.glob("*.md")) == sorted(STEMS)
    assert tool.stems() == STEMS


@pytest.fixture
def copy(tmp_path, monkeypatch):
    """The notebooks copied into tmp_path, with the tool pointed there."""
    shutil.copytree(tool.NOTEBOOKS, tmp_path / "notebooks")
    monkeypatch.setattr(tool, "NOTEBOOKS", tmp_path / "notebooks")
    monkeypatch.setattr(tool, "REPLACED", tmp_path / "replaced")
    return tmp_path / "notebooks"


def _newer(path, than):
    stamp = than.stat().st_mtime + 10
    os.utime(path, (stamp, stamp))


def test_the_check_fails_on_an_edited_ipynb_a_missing_md_and_outputs(copy):
    path = copy / "02_content_reconstruction.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[5].source += "\nprint('edited in Jupyter')"
    nbformat.write(nb, path)
    assert any("cell 6 differs from its .md" in p for p in tool.check("02_content_reconstruction"))

    nb.cells[5].source = nb.cells[5].source.rsplit("\n", 1)[0]
    nb.cells[5].outputs = [nbformat.v4.new_output("stream", text="hi")]
    nbformat.write(nb, path)
    assert [p for p in tool.check("02_content_reconstruction") if "outputs" in p]

    (copy / "03_gram_matrices.md").unlink()
    assert "missing" in tool.check("03_gram_matrices")[0]


@pytest.mark.slow
def test_the_check_fails_when_an_opening_is_not_the_template(copy, monkeypatch):
    md = copy / "05_style_transfer_lbfgs.md"
    md.write_text(md.read_text().replace("--quiet", "--quiet --upgrade"))
    assert any("cell 2 differs from the shared opening" in p for p in tool.check("05_style_transfer_lbfgs"))
    # a new address for the course: every notebook is out of date until make notebooks renders it
    monkeypatch.setattr(course, "REPOSITORY", "someone/elsewhere")
    monkeypatch.setattr(tool, "INSTALL", tool.INSTALL.replace("nst-course/neural-style-course", "someone/elsewhere"))
    assert all(tool.check(stem) for stem in STEMS)
    for stem in STEMS:
        tool.sync(stem, say=lambda line: None)
    assert all(tool.check(stem) == [] for stem in STEMS)
    for stem in STEMS:
        text = (copy / f"{stem}.ipynb").read_text()
        assert "someone/elsewhere" in text and "nst-course/neural-style-course" not in text
        assert "--upgrade" not in (copy / f"{stem}.md").read_text()


def test_sync_newest_wins_and_keeps_what_it_replaced(copy):
    stem = "04_style_reconstruction"
    md, ipynb = copy / f"{stem}.md", copy / f"{stem}.ipynb"
    before_md = md.read_text()
    # saved from Jupyter without jupytext: new ids, outputs, an edited cell; the .ipynb is the newer file
    nb = nbformat.read(ipynb, as_version=4)
    nb.cells[5].source += "\n# a note made in Jupyter"
    nb.cells[5].outputs = [nbformat.v4.new_output("stream", text="hi")]
    nb.cells[5].id = "a1b2c3d4"
    nbformat.write(nb, ipynb)
    _newer(ipynb, md)
    said = []
    tool.sync(stem, say=said.append)
    assert "# a note made in Jupyter" in md.read_text() and "was saved after its .md" in said[0]
    assert (tool.REPLACED / f"{stem}.md").read_text() == before_md
    assert tool.check(stem) == []
    assert '"a1b2c3d4"' not in ipynb.read_text() and '"outputs": []' in ipynb.read_text()
    # then the .md is edited: it is the newer file, and the .ipynb follows
    md.write_text(md.read_text().replace("# a note made in Jupyter", "# the note, edited in the .md"))
    _newer(md, ipynb)
    tool.sync(stem, say=said.append)
    assert "# the note, edited in the .md" in ipynb.read_text() and tool.check(stem) == []
    # nothing to do the second time
    assert tool.sync(stem, say=said.append) == []


def test_an_ipynb_saved_with_outputs_only_is_stripped_not_copied_back(copy):
    stem = "01_preprocessing"
    md, ipynb = copy / f"{stem}.md", copy / f"{stem}.ipynb"
    nb = nbformat.read(ipynb, as_version=4)
    code = next(c for c in nb.cells[4:] if c.cell_type == "code")
    code.outputs = [nbformat.v4.new_output("stream", text="hi")]
    code.execution_count = 3
    nbformat.write(nb, ipynb)
    _newer(ipynb, md)
    said = []
    assert tool.sync(stem, say=said.append) == [ipynb] and not said
    assert tool.check(stem) == []


def test_the_time_line_is_rewritten_in_the_md(copy):
    stem = "09_video"
    tool.sync(stem, time_text="99 s somewhere", say=lambda line: None)
    assert "\n*Time: 99 s somewhere*" in (copy / f"{stem}.md").read_text()
    assert tool.check(stem) == []


def test_a_notebook_without_its_opening_is_refused(copy):
    md = copy / "06_interactive_alpha_beta.md"
    text = md.read_text()
    md.write_text(text.replace("import torch\n\nimport nst_helpers as nst", "import torch", 1))
    with pytest.raises(tool.NotebookError, match="imports cell"):
        tool.sync("06_interactive_alpha_beta")
