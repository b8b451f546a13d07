"""What every chapter's writer script shares: the three-cell opening, markdown and code cells, and
saving a stripped notebook with stable cell ids (so a change to a script shows as a small diff).

A chapter script (``tools/make_notebook_NN.py``) builds a ``Chapter`` and calls ``save``; the notebook
in ``notebooks/`` is its output, never edited by hand.
"""

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nst_helpers import course  # noqa: E402  (the badge address and the install line)

INSTALL = f'''
# On Colab, install the course's package from its repository. Colab's own torch, ipywidgets (7.x) and the
# rest are kept: pip only installs what is missing, and the package's requirements are lower bounds.
# Anywhere else this cell does nothing: install with `pip install -e .` from the repository.
import sys
if "google.colab" in sys.modules:
    %pip install --quiet "{course.pip_spec()}"
'''

#: The parameters every chapter starts with (a chapter adds its own below them).
COMMON_PARAMETERS = '''
# Parameters. The defaults suit a laptop CPU; on a GPU the images are larger.
FAST = nst.fast_mode()  # NST_FAST=1: tiny images, a few steps, random weights (how CI runs this notebook)
DEVICE = nst.resolve_device("auto")  # cuda, then mps, then cpu
SIZE = 32 if FAST else nst.default_size(DEVICE)  # long side in px: 128 on a CPU, 512 on a GPU
WEIGHTS = "random" if FAST else None  # None: $NST_VGG19_WEIGHTS if set, else torchvision's (downloaded once)
CONTENT = "chelsea"  # a bundled example, or the path of your own photo
STYLE = "starry_night"  # a bundled example, or the path of a painting
'''


class Chapter:
    """One notebook: ``md`` and ``code`` append cells; ``save`` writes it stripped."""

    def __init__(self, name, title, intro, time_line, imports="import torch\n\nimport nst_helpers as nst"):
        self.name, self.cells = name, []
        self.md(f"# {title}\n\n{intro.strip()}\n\n"
                f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({course.colab_url(name)})"
                f"\n\n*Time: {time_line}*")
        self.code(INSTALL)
        self.code(imports)

    def md(self, text):
        self.cells.append(new_markdown_cell(text.strip("\n")))

    def code(self, text):
        self.cells.append(new_code_cell(text.strip("\n")))

    def save(self):
        nb = new_notebook(cells=self.cells)
        prefix = self.name[:2]
        for i, cell in enumerate(nb.cells):
            cell.id = f"nb{prefix}-{i:02d}"
        nb.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                       "language_info": {"name": "python"}}
        path = ROOT / "notebooks" / self.name
        nbformat.write(nb, path)
        return path


def answer(text, indent="   "):
    """A worked answer a student reveals: a ``<details>`` block (rendered by JupyterLab, Notebook 7,
    Colab, GitHub and the built course). Its text is a markdown paragraph between blank lines, indented
    like the numbered exercise it follows, so that code and equations in it are rendered."""
    return f"<details><summary>Answer</summary>\n\n{indent}{text.strip()}\n\n{indent}</details>"
