"""Lecture decks from the executed notebooks: reveal.js through nbconvert, cut for a 1280x720 projector.

``build_course.py slides`` calls ``write_decks``. A notebook becomes a deck by these rules (nothing in a
notebook has to change; the conventions below are optional):

* Every heading starts a slide, also one in the middle of a markdown cell (the cell is split). ``#`` and
  ``##`` start a new column of slides, deeper headings a slide under it; the decks navigate linearly
  (the right arrow, space or a clicker's "next" reach every slide).
* A slide holds what fits at 1280x720 (the heights are estimated from the text; a slide that still comes out
  too tall is scaled to fit in the browser, and says so in ``data-nst-scale``). What does not fit goes on a
  continuation slide headed by the same title; a code cell's outputs go on their own slide when the code and
  its outputs do not fit together; a figure is sized to the largest box the slide has for it.
* Left out: the install cell, cells of imports only, the parameters cell (its first line starts with
  ``# Parameters``), prompts ("In [2]"), stderr (warnings; the fast-mode banner says what they would),
  and cells tagged ``remove-cell`` (inputs tagged ``remove-input`` or ``hide-input``, outputs tagged
  ``remove-output``), as Jupyter Book does.
* tqdm progress bars become static bars (their last state); the laboratory's widget (``nst.Lab``) becomes
  the run that the build recorded with the same settings (frames as an animated GIF, the loss plot) and a
  link to where it runs live.
* Speaker notes: an HTML comment ``<!-- notes: ... -->`` in a markdown cell (invisible in Jupyter and in the
  book) goes to the speaker view (key S) of the slide it is on; so does a markdown cell tagged ``notes``.
* Fragments: in a section with two or more display equations (``$$ ... $$``), each equation after the first,
  with the text that leads to it, appears one step at a time. A ``<details>`` block (an exercise's answer)
  becomes its summary followed by its content as a fragment.
* Title slide: the notebook's title and introduction; the remote Colab badge becomes a text link.
* Fast mode: a banner on the title slide and a line at the foot of every slide.
"""

import base64
import copy
import html
import io
import math
import re
import struct
from pathlib import Path

import nbformat

TEMPLATES = Path(__file__).resolve().parent / "slides_template"

#: The slide (CSS px; reveal.js scales it to the screen) and its content box.
SLIDE_W, SLIDE_H = 1280, 720
PAD_X, PAD_TOP, FOOTER = 40, 22, 46  # the foot of the slide is kept free for the arrows and the banner
CONTENT_W = SLIDE_W - 2 * PAD_X
BUDGET = SLIDE_H - PAD_TOP - FOOTER  # 652 px for the content of one slide
#: Type sizes (px) the CSS below uses and the estimates assume.
BODY_PX, BODY_LINE = 30, 1.35
CODE_PX_MAX, CODE_PX_MIN, CODE_LINE = 24, 19, 1.3
OUT_PX, OUT_LINE = 20, 1.3
MONO_EM = 0.602  # DejaVu Sans Mono's advance width
SANS_EM = 0.48  # Source Sans Pro's average is about 0.45: the estimate errs towards more lines
CONTINUED, CELL_GAP = 58, 12  # a continuation slide's title; the space between two cells
MAX_OUTPUT_LINES = 16  # longer text outputs are cut on a slide (with a line saying how many are left out)

FAST_BANNER = (
    "built in fast mode: tiny images, random weights — the pictures show that the code runs, not what it paints"
)


# -- markdown: blocks, their heights ------------------------------------------------------------------
def md_blocks(text):
    """Split markdown into top-level blocks: (kind, text) with kind heading, math, code, table, item, details,
    comment, html or para. List items are one block each (their nested content included)."""
    lines = text.split("\n")
    blocks, i, n = [], 0, len(lines)
    while i < n:
        line = lines[i]
        stripped = line.strip()
        if not stripped:
            i += 1
            continue
        if stripped.startswith("<!--"):
            j = i
            while "-->" not in lines[j] and j + 1 < n:
                j += 1
            blocks.append(("comment", "\n".join(lines[i : j + 1])))
            i = j + 1
        elif re.match(r"#{1,6}\s", line):
            blocks.append(("heading", line))
            i += 1
        elif stripped.startswith("$$"):
            j = i
            if stripped.count("$$") < 2 or stripped == "$$":
                j = i + 1
                while j < n and "$$" not in lines[j]:
                    j += 1
            blocks.append(("math", "\n".join(lines[i : j + 1])))
            i = j + 1
        elif stripped.startswith(("```", "~~~")):
            fence = stripped[:3]
            j = i + 1
            while j < n and not lines[j].strip().startswith(fence):
                j += 1
            blocks.append(("code", "\n".join(lines[i : j + 1])))
            i = j + 1
        elif stripped.startswith("|"):
            j = i
            while j < n and lines[j].strip().startswith("|"):
                j += 1
            blocks.append(("table", "\n".join(lines[i:j])))
            i = j
        elif re.match(r"(\d+[.)]|[-*+])\s", line):
            j = i + 1
            while j < n:
                if re.match(r"(\d+[.)]|[-*+])\s", lines[j]) or re.match(r"#{1,6}\s", lines[j]):
                    break
                if lines[j].strip() and not lines[j].startswith((" ", "\t")):
                    break  # a paragraph after the list
                j += 1
            blocks.append(("item", "\n".join(lines[i:j]).rstrip()))
            i = j
        elif stripped.startswith("<details"):
            j = i
            while j < n and "</details>" not in lines[j]:
                j += 1
            blocks.append(("details", "\n".join(lines[i : j + 1])))
            i = j + 1
        elif stripped.startswith("<") and not stripped.startswith(("<a ", "<b>", "<i>", "<em>", "<code>", "<span")):
            j = i
            while j < n and lines[j].strip():
                j += 1
            blocks.append(("html", "\n".join(lines[i:j])))
            i = j
        else:
            j = i
            while (
                j < n
                and lines[j].strip()
                and not lines[j].strip().startswith("$$")
                and not re.match(r"#{1,6}\s", lines[j])
                and not (j > i and re.match(r"(\d+[.)]|[-*+])\s", lines[j]))
            ):
                j += 1
            blocks.append(("para", "\n".join(lines[i:j])))
            i = j
    return blocks


def _visible(text):
    """Roughly the characters a line of markdown shows: links by their text, math shorter than its source."""
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"<[^>]+>", "", text)
    text = re.sub(
        r"\$([^$]+)\$", lambda m: "x" * max(1, int(len(re.sub(r"\\[a-zA-Z]+|[{}_^]", "", m.group(1))) * 1.1)), text
    )
    return re.sub(r"[*`]", "", text)


def text_height(text, px=BODY_PX, width=CONTENT_W, indent=0):
    per_line = max(10, int((width - indent) / (px * SANS_EM)))
    lines = 0
    for para in re.split(r"\n\s*\n", text.strip()):
        lines += max(1, math.ceil(len(_visible(" ".join(para.split()))) / per_line))
    return lines * px * BODY_LINE


def math_height(text):
    body = text.replace("$$", "")
    rows = body.count("\\\\") + 1
    tall = any(k in body for k in ("\\frac", "\\dfrac", "\\sum", "\\begin", "\\int", "\\prod", "\\Big", "\\big"))
    return rows * (80 if tall else 52) + 24


def table_rows(text):
    return [ln for ln in text.split("\n") if ln.strip().startswith("|") and not re.match(r"^\|[\s:|-]+\|$", ln.strip())]


def table_height(text):
    rows = table_rows(text)
    height = 0
    for row in rows:
        cells = [c for c in row.strip().strip("|").split("|")]
        longest = max((len(_visible(c)) for c in cells), default=1)
        # the widest column gets about 70 % of the width at the table's 26 px
        height += max(1, math.ceil(longest / (0.7 * CONTENT_W / (26 * SANS_EM)))) * 26 * 1.3 + 14
    return height + 20


def block_height(kind, text):
    if kind == "heading":
        level = len(text) - len(text.lstrip("#"))
        px = {1: 56, 2: 44}.get(level, 36)
        return max(1, math.ceil(len(_visible(text.lstrip("# "))) / (CONTENT_W / (px * 0.52)))) * px * 1.2 + 28
    if kind == "math":
        return math_height(text)
    if kind == "code":
        return len(text.split("\n")) * OUT_PX * 1.3 + 24
    if kind == "table":
        return table_height(text)
    if kind == "item":
        return text_height(re.sub(r"^(\d+[.)]|[-*+])\s", "", text), indent=60) + 12
    if kind == "html":
        return 200
    return text_height(text) + 0.6 * BODY_PX


# -- outputs --------------------------------------------------------------------------------------------
def png_size(data):
    raw = base64.b64decode(data[:64])
    if raw[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return struct.unpack(">II", raw[16:24])


def fit_box(size, width, height):
    w, h = size
    scale = min(width / w, height / h)
    return max(1, int(w * scale)), max(1, int(h * scale))


def _widget_models(nb):
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
    return state


def tqdm_html(model_id, models):
    """The last state of a tqdm bar (an HBox of an HTML, a progress bar and an HTML) as static HTML, or None."""
    box = models.get(model_id)
    if not box or box.get("model_name") != "HBoxModel":
        return None
    children = [models.get(c.replace("IPY_MODEL_", ""), {}) for c in box["state"].get("children", [])]
    names = [c.get("model_name") for c in children]
    if len(children) != 3 or names[1] not in ("FloatProgressModel", "IntProgressModel"):
        return None
    desc = children[0].get("state", {}).get("value", "")
    bar = children[1].get("state", {})
    info = children[2].get("state", {}).get("value", "")
    value, top = bar.get("value", 0), bar.get("max", 1) or 1
    style = bar.get("bar_style", "")
    return (
        f"<div class='nst-tqdm'><span class='nst-tqdm-desc'>{html.escape(html.unescape(desc))}</span>"
        f"<span class='nst-tqdm-bar {style}'><span style='width:{100 * min(value, top) / top:.1f}%'></span></span>"
        f"<span class='nst-tqdm-info'>{html.escape(html.unescape(info))}</span></div>"
    )


def output_font(outs):
    """The text outputs' font size (px): the largest up to OUT_PX at which their longest line fits, at least 16."""
    lines = [ln for o in outs if o.output_type == "stream" for ln in o.text.split("\n")]
    lines += [
        ln
        for o in outs
        if o.output_type == "execute_result" and set(o.get("data", {})) == {"text/plain"}
        for ln in o.data["text/plain"].split("\n")
    ]
    longest = max((len(ln.rstrip()) for ln in lines), default=1)
    return int(max(16, min(OUT_PX, (CONTENT_W - 40) / (max(longest, 1) * MONO_EM))))


def html_height(text):
    """A rough height for an HTML output: a row of figures (the video chapter's clips), else a guess."""
    figures = text.count("<figure")
    if not figures:
        return 320
    aspect = 0.75
    m = re.search(r"data:image/(gif|png);base64,([A-Za-z0-9+/=]{32})", text)
    if m:
        raw = base64.b64decode(m.group(2)[:32])
        if m.group(1) == "gif" and raw[:3] == b"GIF":
            w, h = struct.unpack("<HH", raw[6:10])
            aspect = h / w
        elif raw[:8] == b"\x89PNG\r\n\x1a\n":
            w, h = struct.unpack(">II", raw[16:24])
            aspect = h / w
    per_row = max(1, min(figures, CONTENT_W // 176))
    rows = math.ceil(figures / per_row)
    width = min(480, CONTENT_W / per_row - 16)
    return rows * (width * aspect + 60)


def output_height(out, px=OUT_PX):
    if out.output_type == "stream":
        lines = out.text.rstrip("\n").split("\n")
        per_line = int((CONTENT_W - 40) / (px * MONO_EM))
        return sum(max(1, math.ceil(len(ln) / per_line)) for ln in lines) * px * OUT_LINE + 20
    data = out.get("data", {})
    if "image/png" in data:
        return int(out.metadata.get("nst_height", 400)) + 12
    if "text/html" in data:
        text = data["text/html"]
        if "nst-tqdm" in text:
            return 48 * text.count("nst-tqdm'>")
        if "nst-lab-recording" in text:
            m = re.search(r"data-nst-height='(\d+)'", text)
            return int(m.group(1)) if m else BUDGET
        return html_height(text)
    if "text/plain" in data:
        lines = data["text/plain"].split("\n")
        return len(lines) * px * OUT_LINE + 20
    return 100


def _truncate(text, limit=MAX_OUTPUT_LINES):
    lines = text.rstrip("\n").split("\n")
    if len(lines) <= limit:
        return text
    keep = limit - 1
    return "\n".join(lines[:keep]) + f"\n… ({len(lines) - keep} more lines: see the notebook)\n"


def slide_outputs(cell, models, recording, notes):
    """The outputs of a code cell as a slide shows them (see the module doc), each with its height."""
    outs, pending = [], None
    for out in cell.get("outputs", []):
        if out.output_type == "stream" and out.name == "stderr":
            continue
        if out.output_type == "stream":
            if pending is not None:
                pending.text += out.text
                continue
            pending = copy.deepcopy(out)
            outs.append(pending)
            continue
        pending = None
        data = out.get("data", {})
        if out.output_type == "error":
            outs.append(out)
            continue
        if "application/javascript" in data and not set(data) - {"application/javascript", "text/plain"}:
            continue  # a script for the live notebook (the laboratory's kernel watch): nothing to show
        view = data.get("application/vnd.jupyter.widget-view+json")
        if view:
            bar = tqdm_html(view.get("model_id"), models)
            if bar is None and "nst.Lab(" in cell.source:
                outs.append(nbformat.v4.new_output("display_data", {"text/html": recording}))
                continue
            if bar is not None:
                if outs and "nst-tqdm" in outs[-1].get("data", {}).get("text/html", ""):
                    outs[-1].data["text/html"] += bar
                else:
                    outs.append(nbformat.v4.new_output("display_data", {"text/html": bar}))
                continue
            notes.append("a widget that the slides cannot show live")
            continue
        out = copy.deepcopy(out)
        outs.append(out)
    for out in outs:
        if out.output_type == "stream":
            out.text = _truncate(out.text)
    return outs


def size_image(out, width, height):
    size = png_size(out.data["image/png"])
    if size:
        w, h = fit_box(size, width, height)
        out.metadata["image/png"] = {"width": w, "height": h}
        out.metadata["nst_height"] = h
    return out


# -- code ---------------------------------------------------------------------------------------------------
def code_font(source):
    """The code's font size (px): the largest up to CODE_PX_MAX at which its longest line fits the slide, not
    below CODE_PX_MIN (longer lines wrap)."""
    longest = max((len(ln.rstrip()) for ln in source.split("\n")), default=1)
    px = (CONTENT_W - 40) / (max(longest, 1) * MONO_EM)
    return int(max(CODE_PX_MIN, min(CODE_PX_MAX, px)))


def code_height(source, px):
    per_line = int((CONTENT_W - 40) / (px * MONO_EM))
    lines = sum(max(1, math.ceil(len(ln.rstrip()) / per_line)) for ln in source.split("\n"))
    return lines * px * CODE_LINE + 30


def is_setup(cell):
    source = cell.source.strip()
    if '"google.colab" in sys.modules' in source:
        return True
    if source.startswith("# Parameters"):
        return True
    meaningful = [ln for ln in source.split("\n") if ln.strip() and not ln.strip().startswith("#")]
    return bool(meaningful) and all(re.match(r"(import|from)\s", ln) for ln in meaningful)


# -- the deck ---------------------------------------------------------------------------------------------
class Deck:
    """Slides as lists of cells (nbformat cells with slideshow metadata), packed by estimated height."""

    def __init__(self):
        self.cells = []
        self.height = None  # the current slide's content so far; None before the first slide
        self.placed = 0
        self.title = ""
        self.slides = 0
        self.fragments = 0
        self.notes = 0

    def _add(self, cell, kind):
        cell = copy.deepcopy(cell)
        cell.metadata["slideshow"] = {"slide_type": kind}
        cell.id = f"slide-{len(self.cells):03d}"  # a notebook cell may be cut into several
        self.cells.append(cell)

    def new_slide(self, kind, title="", heading=None, height=0):
        self.slides += 1
        self.title = title
        self.height = height
        self.placed = 0  # cells placed under the slide's title
        self._add(nbformat.v4.new_markdown_cell(heading or ""), kind)

    def continuation(self):
        label = html.escape(_visible(self.title)) if self.title else ""
        self.new_slide("subslide", self.title, f"<p class='nst-continued'>{label}</p>" if label else "", CONTINUED)

    def room(self):
        return BUDGET - (self.height or 0)

    def fits(self, height):
        return self.height is not None and self.height + height <= BUDGET

    def place(self, cell, height, fragment=False, force=False):
        """Put a cell on the current slide, or on a continuation slide when it does not fit (unless ``force``)."""
        if self.height is None:
            self.new_slide("slide")
        elif not force and not self.fits(height) and self.height > 60:
            self.continuation()
        if not self.placed:
            fragment = False  # the first thing under a title shows with it
        self._add(cell, "fragment" if fragment else "-")
        self.fragments += bool(fragment)
        self.height += height + CELL_GAP
        self.placed += 1

    def note(self, text):
        if self.height is None:
            self.new_slide("slide")
        self._add(nbformat.v4.new_markdown_cell(text), "notes")
        self.notes += 1


def _md(text):
    return nbformat.v4.new_markdown_cell(text)


def _notes_in(text):
    found = []

    def keep(m):
        found.append(m.group(1).strip())
        return ""

    rest = re.sub(r"<!--\s*notes:\s*(.*?)-->", keep, text, flags=re.S)
    return rest, found


def _details(text):
    """A <details> block as (its summary, its content)."""
    summary = re.search(r"<summary>(.*?)</summary>", text, re.S)
    body = re.sub(r"</?details[^>]*>|<summary>.*?</summary>", "", text, flags=re.S)
    lines = body.split("\n")
    indents = [len(ln) - len(ln.lstrip()) for ln in lines if ln.strip()]
    cut = min(indents, default=0)
    return (summary.group(1).strip() if summary else "Details"), "\n".join(ln[cut:] for ln in lines).strip()


def _sentence_ends(text):
    return text.rstrip().endswith((".", "!", "?"))


def _groups(blocks):
    """Consecutive plain blocks (para, math, item, code, html) joined into what belongs on a slide together: a
    paragraph that leads into a display equation (it does not end a sentence) goes with it, and so does the
    paragraph that finishes the equation's sentence (it starts in lower case) unless it leads into the next
    equation. A group holds one display equation at most (each can then be a step of a derivation)."""
    groups, i = [], 0
    while i < len(blocks):
        group = [blocks[i]]
        kind, text = blocks[i]
        i += 1
        if kind == "para" and not _sentence_ends(text) and i < len(blocks) and blocks[i][0] == "math":
            group.append(blocks[i])
            i += 1
            kind = "math"
        if kind == "math" and i < len(blocks) and blocks[i][0] == "para" and blocks[i][1].lstrip()[:1].islower():
            leads_on = not _sentence_ends(blocks[i][1]) and i + 1 < len(blocks) and blocks[i + 1][0] == "math"
            if not leads_on:
                group.append(blocks[i])
                i += 1
        groups.append(group)
    return groups


def add_markdown(deck, cell, title_slide=False, colab=None):
    """A markdown cell: a slide at each heading, its blocks packed by height (see the module doc)."""
    tags = cell.metadata.get("tags", [])
    if "notes" in tags:
        deck.note(cell.source)
        return
    source = cell.source
    if title_slide and colab:
        source = re.sub(
            r"\[!\[Open In Colab\]\([^)]*\)\]\([^)]*\)",
            f"<p class='nst-links'>Run it yourself: <a href='{colab}'>open this notebook in Colab</a>, "
            f"or in Jupyter from the course's repository.</p>",
            source,
        )
    blocks = md_blocks(source)
    # sections: the blocks between headings; plain runs of blocks are grouped, the rest handled one by one
    pending = []

    def flush():
        if not pending:
            return
        groups = _groups(pending)
        derivation = sum(kind == "math" for kind, _ in pending) >= 2
        seen_math = False
        split = []
        for group in groups:  # a group too tall for a slide that holds only its title: its blocks one by one
            height = sum(block_height(k, t) for k, t in group)
            if len(group) > 1 and deck.height is not None and not deck.placed and not deck.fits(height):
                split += [[block] for block in group]
            else:
                split.append(group)
        groups = split
        for group in groups:
            text = "\n\n".join(t for _, t in group)
            text, notes = _notes_in(text)
            height = sum(block_height(k, t) for k, t in group)
            has_math = any(k == "math" for k, _ in group)
            if title_slide:
                deck.place(_md(text), height, force=True)
            else:
                deck.place(_md(text), height, fragment=derivation and seen_math)
            seen_math = seen_math or has_math
            for note in notes:
                deck.note(note)
        pending.clear()

    for kind, text in blocks:
        if kind in ("para", "math", "item", "code", "html") and not (kind == "item" and "<details" in text):
            pending.append((kind, text))
            continue
        flush()
        if kind == "heading":
            level = len(text) - len(text.lstrip("#"))
            deck.new_slide(
                "slide" if level <= 2 or deck.height is None else "subslide",
                text.lstrip("# ").strip(),
                text,
                block_height(kind, text),
            )
        elif kind == "comment":
            _, notes = _notes_in(text)
            for note in notes:
                deck.note(note)
        elif kind == "details" or kind == "item":
            if kind == "item":
                head, rest = text.split("<details", 1)
                summary, body = _details("<details" + rest)
                deck.place(_md(head.rstrip()), block_height("item", head) + 10)
            else:
                summary, body = _details(text)
            answer = f"**{summary}.** " + body if summary else body
            deck.place(_md(answer), text_height(answer) + 16, fragment=True)
        elif kind == "table":
            rows = text.split("\n")
            header, rows = rows[:2], rows[2:]
            chunk = []
            for row in rows:
                if chunk and table_height("\n".join(header + chunk + [row])) > BUDGET - 100:
                    deck.place(_md("\n".join(header + chunk)), table_height("\n".join(header + chunk)))
                    chunk = []
                chunk.append(row)
            if chunk:
                deck.place(_md("\n".join(header + chunk)), table_height("\n".join(header + chunk)))
    flush()


def split_code(source, px, limit):
    """The lines of a code cell in pieces no taller than ``limit``, cut before a top-level line (or a blank one)."""
    lines = source.split("\n")
    pieces, start = [], 0
    while start < len(lines):
        end = start + 1
        while end < len(lines) and code_height("\n".join(lines[start : end + 1]), px) <= limit:
            end += 1
        if end < len(lines):  # back up to a good place to cut
            for cut in range(end, start + max(2, (end - start) // 2), -1):
                if not lines[cut].strip() or not lines[cut].startswith((" ", "\t", ")", "]", "}")):
                    end = cut
                    break
        pieces.append("\n".join(lines[start:end]).strip("\n"))
        start = end
        while start < len(lines) and not lines[start].strip():
            start += 1
    return [p for p in pieces if p.strip()]


def _is_image(out):
    return out.output_type in ("display_data", "execute_result") and "image/png" in out.get("data", {})


def add_code(deck, cell, models, recording, skipped):
    """A code cell: its code (split over slides when it is long), then its outputs, packed by height: with the
    code while they fit (a figure shrinks to 70 % of its largest size at most), else on continuation slides."""
    tags = cell.metadata.get("tags", [])
    if "remove-cell" in tags or is_setup(cell):
        skipped.append(cell.source.split("\n", 1)[0][:60])
        return
    show_input = not ({"remove-input", "hide-input"} & set(tags)) and bool(cell.source.strip())
    warn = []
    outs = [] if "remove-output" in tags else slide_outputs(cell, models, recording, warn)
    px = code_font(cell.source)
    base = copy.deepcopy(cell)
    base.outputs = []
    base.metadata["tags"] = [t for t in tags if not t.startswith("nst-")]
    full = BUDGET - CONTINUED - CELL_GAP  # a continuation slide's room

    items = []
    if show_input:
        pieces = split_code(cell.source, px, full) if code_height(cell.source, px) > full else [cell.source]
        items += [("input", piece, code_height(piece, px)) for piece in pieces]
    out_px = output_font(outs)
    for out in outs:
        if _is_image(out):
            size_image(out, CONTENT_W, full - 24)
        items.append(("out", out, output_height(out, out_px) + 6))

    room = deck.room() if deck.height is not None else BUDGET
    groups, heights, fresh = [[]], [0], []
    for kind, thing, h in items:
        left = room - heights[-1] - CELL_GAP
        if kind == "out" and _is_image(thing) and h > left and left - 24 >= 0.7 * h:
            size_image(thing, CONTENT_W, left - 24)
            h = output_height(thing, out_px) + 6
        title_only = len(groups) == 1 and not groups[0] and deck.height is not None and deck.height <= 100
        second_piece = kind == "input" and any(k == "input" for k, _ in groups[-1])
        if (heights[-1] + h + CELL_GAP > room and not title_only) or second_piece:
            if groups[-1]:
                groups.append([])
                heights.append(0)
            fresh.append(len(groups) - 1)
            room = full
        groups[-1].append((kind, thing))
        heights[-1] += h
    for i, (group, height) in enumerate(zip(groups, heights)):
        if not group:
            continue
        piece = next((t for k, t in group if k == "input"), None)
        c = copy.deepcopy(base)
        c.source = piece if piece is not None else cell.source
        c.outputs = [t for k, t in group if k == "out"]
        c.metadata["tags"] = (
            base.metadata["tags"]
            + [f"nst-out-{out_px}"]
            + ([f"nst-code-{px}"] if piece is not None else ["nst-no-input"])
        )
        if i in fresh and deck.height is not None and deck.height > 0:
            deck.continuation()
        deck.place(c, height)


def recording_html(rec, name, colab, fast):
    if not rec or "frames" not in rec:
        why = (rec or {}).get("error", "no recording")
        return (
            f"<div class='nst-lab-recording'><p class='nst-live'>The laboratory runs live in Jupyter or on "
            f"<a href='{colab}'>Colab</a> ({html.escape(why)}: no recorded run here).</p></div>"
        )
    gif, (w, h) = lab_gif(rec)
    box_w, box_h = fit_box((w, h), 480, 330)
    height = 110 + max(box_h, 320) + 56  # the text above, the row, its captions
    parts = "; ".join(f"steps {p['from']}–{p['to']}: {html.escape(p['label'])}" for p in rec["parts"])
    size = "×".join(str(s) for s in reversed(rec.get("size") or []))
    mode = "fast mode, random weights" if fast else "the notebook's defaults"
    return f"""<div class='nst-lab-recording' data-nst-height='{height}'>
<p class='nst-live'><b>Live</b> in Jupyter (<code>{html.escape(name)}</code>, Run All, then the sliders) or on
<a href='{colab}'>Colab</a>. Here: a run recorded while this deck was built, with the laboratory's own images,
model and steps ({size} px, {mode}, {rec["seconds"]:.1f} s).</p>
<div class='nst-lab-row'>
<figure><img class='nst-pixelated' alt='the recorded run, every step' width='{box_w}' height='{box_h}'
 src='data:image/gif;base64,{gif}'><figcaption>the picture, step by step (the bar: the step)</figcaption></figure>
<figure><img alt='losses of the recorded run' width='560' src='data:image/png;base64,{rec["plot"]}'>
<figcaption>{parts}</figcaption></figure>
</div></div>"""


def lab_gif(rec):
    """The recorded frames as an animated GIF (base64) with a bar under each picture for the step."""
    from PIL import Image, ImageDraw

    frames = [Image.open(io.BytesIO(base64.b64decode(f["png"]))).convert("RGB") for f in rec["frames"]]
    last_step = max(f["step"] for f in rec["frames"]) or 1
    w, h = frames[0].size
    scale = max(1, 256 // max(w, h))
    colours = [(46, 125, 50), (198, 40, 40), (21, 101, 192), (106, 27, 154)]
    out = []
    for f, image in zip(rec["frames"], frames):
        canvas = Image.new("RGB", (w * scale, h * scale + 10), "white")
        canvas.paste(image.resize((w * scale, h * scale), Image.NEAREST), (0, 0))
        part = next((i for i, p in enumerate(rec["parts"]) if p["from"] <= f["step"] <= p["to"]), 0)
        ImageDraw.Draw(canvas).rectangle(
            [0, h * scale + 2, int(w * scale * f["step"] / last_step), h * scale + 9], fill=colours[part % len(colours)]
        )
        out.append(canvas)
    buf = io.BytesIO()
    durations = [120] * (len(out) - 1) + [1500]
    out[0].save(buf, format="GIF", save_all=True, append_images=out[1:], duration=durations, loop=0)
    return base64.b64encode(buf.getvalue()).decode(), out[0].size


def notebook_title(nb):
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            m = re.search(r"^#\s+(.+)$", cell.source, re.M)
            if m:
                return m.group(1).strip()
    return ""


def deck_notebook(nb, name, colab, fast):
    """The executed notebook ``nb`` cut into slides: a new notebook whose cells carry reveal.js metadata."""
    models = _widget_models(nb)
    recording = recording_html(nb.metadata.get("nst_lab_recording"), name, colab, fast)
    deck, skipped = Deck(), []
    first_md = True
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            add_markdown(deck, cell, title_slide=first_md, colab=colab)
            if first_md:
                if fast:
                    deck.place(_md(f"<p class='nst-fast-banner'>{FAST_BANNER}</p>"), 90, force=True)
                first_md = False
        elif cell.cell_type == "code":
            add_code(deck, cell, models, recording, skipped)
    out = nbformat.v4.new_notebook(metadata=copy.deepcopy(nb.metadata))
    out.metadata.pop("widgets", None)  # no widget is left: bars are static, the lab is a recording
    out.metadata.pop("nst_lab_recording", None)
    out.cells = [
        c
        for c in deck.cells
        if c.cell_type != "markdown"
        or c.source.strip()
        or c.metadata["slideshow"]["slide_type"] in ("slide", "subslide")
    ]
    stats = {"slides": deck.slides, "fragments": deck.fragments, "notes": deck.notes, "skipped": skipped}
    return out, stats


# -- HTML -----------------------------------------------------------------------------------------------
def exporter():
    from nbconvert import SlidesExporter

    ex = SlidesExporter(
        extra_template_basedirs=[str(TEMPLATES)],
        template_name="nst_reveal",
        reveal_url_prefix="assets/reveal.js",
        reveal_theme="white",
        reveal_width=str(SLIDE_W),
        reveal_height=str(SLIDE_H),
        require_js_url="assets/require.js",
        jquery_url="assets/jquery.min.js",
        mathjax_url="assets/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe",
        mermaid_js_url="data:text/javascript,",
    )
    return ex


def write_deck(ex, executed_path, out_dir, colab):
    """The deck of one executed notebook; ``fast`` (for the banner) is how it was executed (its build stamp)."""
    nb = nbformat.read(executed_path, as_version=4)
    fast = bool(nb.metadata.get("nst_build", {}).get("fast"))
    title = notebook_title(nb) or executed_path.stem
    deck, stats = deck_notebook(nb, executed_path.name, colab, fast)
    body, _ = ex.from_notebook_node(deck, resources={"nst": {"fast": fast, "banner": FAST_BANNER, "title": title}})
    body = re.sub(r"<title>.*?</title>", f"<title>{html.escape(title)}</title>", body, count=1, flags=re.S)
    target = out_dir / (executed_path.stem + ".slides.html")
    target.write_text(body, encoding="utf-8")
    stats.update(title=title, file=target.name, fast=fast)
    return target, stats


def index_html(entries, fast, built):
    cards = []
    for i, e in enumerate(entries, 1):
        meta = (
            f"{e['slides']} slides"
            + (f" · {e['fragments']} steps" if e["fragments"] else "")
            + (f" · {e['notes']} speaker notes" if e["notes"] else "")
        )
        cards.append(f"""<li><a class='deck' href='{e["file"]}'><span class='num'>{i}</span>
<span class='title'>{html.escape(e["title"])}</span>
<span class='meta'>{meta}</span></a>
<a class='pdf' href='{e["file"]}?print-pdf' title='print to PDF from the browser'>print / PDF</a></li>""")
    banner = f"<p class='fast'>{html.escape(FAST_BANNER)}.</p>" if fast else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Neural style transfer: the course as slides</title>
<style>
body {{ font-family: "Source Sans Pro", "Helvetica Neue", Helvetica, Arial, sans-serif; margin: 0; color: #222;
       background: #f6f5f2; }}
header {{ background: #1f2a44; color: #fff; padding: 2.2rem 3rem 1.6rem; }}
header h1 {{ margin: 0 0 .4rem; font-size: 2.2rem; font-weight: 600; }}
header p {{ margin: .2rem 0; color: #d6dbe8; font-size: 1.05rem; }}
main {{ max-width: 980px; margin: 1.6rem auto; padding: 0 1.5rem; }}
ol {{ list-style: none; padding: 0; margin: 0; display: grid; gap: .8rem; }}
li {{ display: flex; align-items: stretch; background: #fff; border-radius: 10px; box-shadow: 0 1px 3px #0002; }}
a.deck {{ flex: 1; display: grid; grid-template-columns: 3.2rem 1fr; grid-template-rows: auto auto; padding: .9rem 1rem;
         text-decoration: none; color: inherit; }}
a.deck:hover .title {{ color: #b3541e; }}
.num {{ grid-row: span 2; font-size: 1.8rem; font-weight: 700; color: #b3541e; }}
.title {{ font-size: 1.25rem; font-weight: 600; }}
.meta {{ color: #666; font-size: .95rem; }}
a.pdf {{ align-self: center; margin-right: 1rem; padding: .35rem .7rem; border: 1px solid #ccc; border-radius: 6px;
        color: #444; text-decoration: none; font-size: .9rem; white-space: nowrap; }}
.fast {{ background: #fff3cd; border: 1px solid #e0c36a; color: #5c4500; padding: .7rem 1rem; border-radius: 8px; }}
.help {{ color: #555; font-size: .95rem; line-height: 1.5; }}
kbd {{ border: 1px solid #bbb; border-radius: 4px; padding: 0 .3rem; background: #fff; font-size: .85rem; }}
</style></head><body>
<header><h1>Neural style transfer</h1><p>The course as lecture slides: nine decks, one per notebook.</p>
<p>Built {html.escape(built)}; everything is local, no network needed.</p></header>
<main>{banner}<ol>
{chr(10).join(cards)}
</ol>
<p class="help">In a deck: <kbd>→</kbd> / <kbd>Space</kbd> next (every slide, in order), <kbd>←</kbd> back,
<kbd>S</kbd> speaker view with notes, <kbd>F</kbd> full screen, <kbd>Esc</kbd> overview. <em>print / PDF</em> opens the
deck laid out for printing: print it to a PDF from the browser (one page per slide).</p>
</main></body></html>"""
