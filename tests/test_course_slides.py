"""How a notebook is cut into a lecture deck (tools/course_slides.py), on small made-up notebooks: no
execution, no browser (tests/browser/test_course_build.py measures the real decks in Chromium)."""

import sys
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))

import course_slides as cs  # noqa: E402

COLAB = "https://colab.research.google.com/github/x/y/blob/main/notebooks/01.ipynb"


def _nb(*cells):
    nb = nbformat.v4.new_notebook()
    for kind, source, *outputs in cells:
        if kind == "md":
            nb.cells.append(nbformat.v4.new_markdown_cell(source))
        else:
            cell = nbformat.v4.new_code_cell(source)
            cell.outputs = outputs[0] if outputs else []
            nb.cells.append(cell)
    return nb


def _slides(deck):
    """The deck's slides as lists of (slide type, source) of their cells."""
    slides = []
    for cell in deck.cells:
        kind = cell.metadata["slideshow"]["slide_type"]
        if kind in ("slide", "subslide"):
            slides.append([])
        slides[-1].append((kind, cell.source))
    return slides


TITLE = (
    "md",
    "# 1. A title\n\nWhat it teaches.\n\n[![Open In Colab](https://colab.research.google.com/assets/"
    "colab-badge.svg)](https://colab.research.google.com/x)\n\n*Time: 5 s.*",
)


def test_a_heading_inside_a_markdown_cell_starts_a_slide():
    deck, stats = cs.deck_notebook(
        _nb(TITLE, ("md", "## One\n\ntext one\n\n## Two\n\ntext two\n\n### Three\n\nmore")),
        "01.ipynb",
        COLAB,
        fast=False,
    )
    slides = _slides(deck)
    assert [s[0][1].split("\n")[0] for s in slides[1:]] == ["## One", "## Two", "### Three"]
    assert [s[0][0] for s in slides] == ["slide", "slide", "slide", "subslide"]
    assert stats["slides"] == 4


def test_the_title_slide_links_to_colab_in_text_and_carries_the_fast_banner():
    deck, _ = cs.deck_notebook(_nb(TITLE), "01.ipynb", COLAB, fast=True)
    text = "\n".join(c.source for c in deck.cells)
    assert "colab-badge.svg" not in text and f"href='{COLAB}'" in text
    assert cs.FAST_BANNER in text
    deck, _ = cs.deck_notebook(_nb(TITLE), "01.ipynb", COLAB, fast=False)
    assert cs.FAST_BANNER not in "\n".join(c.source for c in deck.cells)


def test_setup_cells_are_left_out():
    nb = _nb(
        TITLE,
        ("code", 'import sys\nif "google.colab" in sys.modules:\n    pass'),
        ("code", "import torch\n\nimport nst_helpers as nst"),
        ("code", "# Parameters. The defaults suit a laptop CPU\nFAST = True"),
        ("code", "import time\nx = 1"),
    )
    deck, stats = cs.deck_notebook(nb, "01.ipynb", COLAB, fast=False)
    code = [c.source for c in deck.cells if c.cell_type == "code"]
    assert code == ["import time\nx = 1"] and len(stats["skipped"]) == 3


def test_speaker_notes_from_a_comment_go_to_their_slide():
    nb = _nb(
        TITLE,
        (
            "md",
            "## One\n\nvisible\n\n<!-- notes: say why this matters -->\n\n## Two\n\nmore <!-- notes: inline, too -->",
        ),
    )
    deck, stats = cs.deck_notebook(nb, "01.ipynb", COLAB, fast=False)
    slides = _slides(deck)
    assert ("notes", "say why this matters") in slides[1]
    assert ("notes", "inline, too") in slides[2]
    assert all("notes:" not in source for s in slides for kind, source in s if kind != "notes")
    assert stats["notes"] == 2


def test_a_derivation_steps_through_its_equations_and_an_answer_is_a_fragment():
    md = (
        "## Derivation\n\nStart from\n\n$$a = b$$\n\nthen, multiplying,\n\n$$2a = 2b$$\n\n"
        "and so\n\n$$a - b = 0.$$\n\n"
        "## Exercises\n\n1. Why?\n   <details><summary>Answer</summary>\n\n   Because.\n\n   </details>\n"
    )
    deck, stats = cs.deck_notebook(_nb(TITLE, ("md", md)), "01.ipynb", COLAB, fast=False)
    slides = _slides(deck)
    derivation = [c for c in slides[1] if c[0] == "fragment"]
    assert [c[1] for c in derivation] == ["then, multiplying,\n\n$$2a = 2b$$", "and so\n\n$$a - b = 0.$$"]
    assert ("fragment", "**Answer.** Because.") in slides[2]
    assert any(source.startswith("1. Why?") for _, source in slides[2])


def test_long_prose_continues_on_slides_of_its_own_under_the_same_title():
    para = "A sentence of about ten words that goes on and on. " * 12
    deck, _ = cs.deck_notebook(_nb(TITLE, ("md", "## Long\n\n" + "\n\n".join([para] * 5))), "01.ipynb", COLAB, False)
    slides = _slides(deck)[1:]
    assert len(slides) >= 3
    assert all("nst-continued" in s[0][1] and "Long" in s[0][1] for s in slides[1:])


def test_code_size_follows_its_longest_line_and_long_code_is_split():
    assert cs.code_font("x = 1") == cs.CODE_PX_MAX
    assert cs.code_font("x = 1  # " + "a" * 100) == cs.CODE_PX_MIN
    source = "\n".join(f"value_{i} = {i}" for i in range(60))
    pieces = cs.split_code(source, 22, cs.BUDGET - 80)
    assert len(pieces) >= 2 and "\n".join(pieces) == source
    assert all(cs.code_height(p, 22) <= cs.BUDGET - 80 for p in pieces)


def _tqdm_state():
    def model(name, state):
        return {
            "model_name": name,
            "model_module": "@jupyter-widgets/controls",
            "model_module_version": "2.0.0",
            "state": state,
        }

    return {
        "box": model("HBoxModel", {"children": ["IPY_MODEL_d", "IPY_MODEL_p", "IPY_MODEL_i"]}),
        "d": model("HTMLModel", {"value": "style transfer: 100%"}),
        "p": model("FloatProgressModel", {"value": 5, "max": 5, "bar_style": "success"}),
        "i": model("HTMLModel", {"value": " 5/5 [00:01&lt;00:00]"}),
    }


def test_outputs_on_a_slide_tqdm_static_stderr_dropped_images_sized():
    import base64
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (400, 200), "white").save(buf, "PNG")
    png = base64.b64encode(buf.getvalue()).decode()
    outputs = [
        nbformat.v4.new_output("stream", name="stderr", text="a warning\n"),
        nbformat.v4.new_output(
            "display_data",
            {
                "application/vnd.jupyter.widget-view+json": {"model_id": "box", "version_major": 2, "version_minor": 0},
                "text/plain": "0%",
            },
        ),
        nbformat.v4.new_output("stream", name="stdout", text="done\n"),
        nbformat.v4.new_output("display_data", {"image/png": png, "text/plain": "<Figure>"}),
    ]
    nb = _nb(TITLE, ("code", "run()", outputs))
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": _tqdm_state()}}
    deck, _ = cs.deck_notebook(nb, "01.ipynb", COLAB, fast=False)
    outs = [o for c in deck.cells if c.cell_type == "code" for o in c.outputs]
    assert not any(o.get("name") == "stderr" for o in outs)
    bar = next(o for o in outs if "nst-tqdm" in o.get("data", {}).get("text/html", ""))
    assert "width:100.0%" in bar.data["text/html"] and "style transfer: 100%" in bar.data["text/html"]
    image = next(o for o in outs if "image/png" in o.get("data", {}))
    width, height = image.metadata["image/png"]["width"], image.metadata["image/png"]["height"]
    assert width <= cs.CONTENT_W and height <= cs.BUDGET and abs(width / height - 2) < 0.02  # 400x200, scaled up
    assert "widgets" not in deck.metadata


@pytest.mark.parametrize("fast", [True, False])
def test_the_deck_html_has_notes_fragments_no_prompts_and_the_notebooks_title(tmp_path, fast):
    nb = _nb(TITLE, ("md", "## A\n\nx\n\n$$a$$\n\ny\n\n$$b$$\n\n<!-- notes: a note -->"), ("code", "print(1)"))
    nb.cells[2].execution_count = 3
    nb.metadata["nst_build"] = {"fast": fast}
    path = tmp_path / "01_x.ipynb"
    nbformat.write(nb, path)
    target, stats = cs.write_deck(cs.exporter(), path, tmp_path, COLAB)
    html = target.read_text()
    assert "<title>1. A title</title>" in html
    assert '<aside class="notes">' in html and 'class="fragment"' in html
    assert "In&nbsp;[" not in html and "unpkg.com" not in html
    assert ('class="nst-fast-line"' in html) == fast and stats["fast"] == fast
