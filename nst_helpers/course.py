"""Facts about the course itself: where it lives, and its notebooks in order."""

#: The GitHub repository (owner/name) that the Colab badges and install cells point to.
REPOSITORY = "nst-course/neural-style-course"
BRANCH = "main"

NOTEBOOKS = (
    ("01_preprocessing.ipynb", "Preprocessing: images to tensors, ImageNet normalisation"),
    ("02_content_reconstruction.ipynb", "Content reconstruction from each layer"),
    ("03_gram_matrices.ipynb", "Gram matrices: what style is, and what it ignores"),
    ("04_style_reconstruction.ipynb", "Style reconstruction from growing sets of layers"),
    ("05_style_transfer_lbfgs.ipynb", "The full style transfer with L-BFGS, and several styles"),
    ("06_interactive_alpha_beta.ipynb", "The alpha/beta laboratory: live sliders and a beta sweep"),
    ("07_beyond_the_paper.ipynb", "Beyond the seed: paper preset, colour, smoothness, scale, balance, high resolution"),
    ("08_real_time_style.ipynb", "Real-time style: a feed-forward network trained with the course's losses"),
    ("09_video.ipynb", "Video: optical flow, occlusions and the temporal loss against flicker"),
    ("12_sound.ipynb", "Beyond images: style transfer for sound with a random network and Griffin-Lim"),
)


def colab_url(notebook):
    """The "Open in Colab" address of a notebook of this repository."""
    return f"https://colab.research.google.com/github/{REPOSITORY}/blob/{BRANCH}/notebooks/{notebook}"


def pip_spec():
    """What ``pip install`` takes to install the package from the repository (used on Colab)."""
    return f"nst_helpers @ git+https://github.com/{REPOSITORY}.git@{BRANCH}"


def check_exercise(what, yours, expected, rtol=1e-4, atol=1e-6):
    """The check under a "write it yourself" cell: compare a student's result with the package's.

    ``yours`` is None while the cell still holds its placeholder: the check says so and passes, so the
    notebook still runs top to bottom. A wrong value (or shape) raises ``AssertionError`` saying what
    differs; a right one prints a line saying so. Returns True when the answer was checked and right.
    """
    import torch

    if yours is None:
        print(f"{what}: not written yet (fill in the cell above, then run this one again)")
        return False
    yours = torch.as_tensor(yours)
    expected = torch.as_tensor(expected)
    if yours.shape != expected.shape:
        raise AssertionError(f"{what}: your result has shape {tuple(yours.shape)}, the package's "
                             f"{tuple(expected.shape)}")
    yours, expected = yours.detach().double().cpu(), expected.detach().double().cpu()
    if not torch.allclose(yours, expected, rtol=rtol, atol=atol):
        worst = (yours - expected).abs().max().item()
        raise AssertionError(f"{what}: your result differs from the package's by up to {worst:.3g}")
    print(f"{what}: correct")
    return True
