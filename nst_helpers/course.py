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
)


def colab_url(notebook):
    """The "Open in Colab" address of a notebook of this repository."""
    return f"https://colab.research.google.com/github/{REPOSITORY}/blob/{BRANCH}/notebooks/{notebook}"


def pip_spec():
    """What ``pip install`` takes to install the package from the repository (used on Colab)."""
    return f"nst_helpers @ git+https://github.com/{REPOSITORY}.git@{BRANCH}"
