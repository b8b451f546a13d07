"""Facts about the course itself: where it lives, its notebooks in order, the works it cites, and the check
under its "write it yourself" cells.

Where it lives (``REPOSITORY``, ``BRANCH``) is changed for every badge and install line at once by
``python tools/publish.py OWNER/NAME [--branch B]``."""

from collections import namedtuple

#: The GitHub repository (owner/name) that the Colab badges and install cells point to; ``tools/publish.py``
#: rewrites these two lines.
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
    ("10_what_is_style.ipynb", "What is style? Gram matrices against other statistics, and what the weights buy"),
    ("11_arbitrary_style.ipynb", "Arbitrary style in one pass: AdaIN and a decoder trained on photos alone"),
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
        raise AssertionError(
            f"{what}: your result has shape {tuple(yours.shape)}, the package's {tuple(expected.shape)}"
        )
    yours, expected = yours.detach().double().cpu(), expected.detach().double().cpu()
    if not torch.allclose(yours, expected, rtol=rtol, atol=atol):
        worst = (yours - expected).abs().max().item()
        raise AssertionError(f"{what}: your result differs from the package's by up to {worst:.3g}")
    print(f"{what}: correct")
    return True


# --------------------------------------------------------------------------------------------- references


class Reference(namedtuple("Reference", "key authors year title venue arxiv doi url")):
    """One work the course uses: who, when, what and where, and how to find it (arXiv number, DOI or a web
    address). Each was checked against the work itself or its publisher's record."""

    __slots__ = ()

    def link(self):
        """Where to read it: its DOI, else its arXiv page, else its web address."""
        if self.doi:
            return f"https://doi.org/{self.doi}"
        if self.arxiv:
            return f"https://arxiv.org/abs/{self.arxiv}"
        return self.url

    def markdown(self):
        """One line of Markdown: authors (year). *Title*. Venue. arXiv / DOI with links."""
        ids = []
        if self.arxiv:
            ids.append(f"arXiv:[{self.arxiv}](https://arxiv.org/abs/{self.arxiv})")
        if self.doi:
            ids.append(f"DOI [{self.doi}](https://doi.org/{self.doi})")
        if self.url and not ids:
            ids.append(f"<{self.url}>")
        year = f" ({self.year})" if self.year else ""
        return f"{self.authors}{year}. *{self.title}*. {self.venue}. {'; '.join(ids)}."


#: Every work the notebooks cite, in one list: each notebook ends with the ones it uses (``references_markdown``),
#: and the book's bibliography page lists them all (``tools/build_course.py``).
REFERENCES = tuple(
    Reference(*fields)
    for fields in (
        (
            "ulyanov2016audio",
            "D. Ulyanov, V. Lebedev",
            2016,
            "Audio texture synthesis and style transfer",
            "blog post with code (no paper, arXiv number or DOI)",
            "",
            "",
            "https://dmitryulyanov.github.io/audio-texture-synthesis-and-style-transfer/",
        ),
        (
            "ustyuzhaninov2016",
            "I. Ustyuzhaninov, W. Brendel, L. A. Gatys, M. Bethge",
            2016,
            "Texture Synthesis Using Shallow Convolutional Networks with Random Filters",
            "arXiv preprint",
            "1606.00021",
            "",
            "",
        ),
        (
            "griffin1984",
            "D. W. Griffin, J. S. Lim",
            1984,
            "Signal estimation from modified short-time Fourier transform",
            "IEEE Transactions on Acoustics, Speech, and Signal Processing 32(2), 236-243",
            "",
            "10.1109/TASSP.1984.1164317",
            "",
        ),
        (
            "perraudin2013",
            "N. Perraudin, P. Balazs, P. L. Søndergaard",
            2013,
            "A fast Griffin-Lim algorithm",
            "IEEE Workshop on Applications of Signal Processing to Audio and Acoustics (WASPAA)",
            "",
            "10.1109/WASPAA.2013.6701851",
            "",
        ),
        (
            "mital2017",
            "P. K. Mital",
            2017,
            "Time Domain Neural Audio Style Transfer",
            "arXiv preprint",
            "1711.11160",
            "",
            "",
        ),
        (
            "huzaifah2019",
            "M. Huzaifah, L. Wyse",
            2019,
            "Applying visual domain style transfer and texture synthesis techniques to audio: insights and challenges",
            "Neural Computing and Applications",
            "1901.10240",
            "10.1007/s00521-019-04053-8",
            "",
        ),
        (
            "shen2017",
            "T. Shen, T. Lei, R. Barzilay, T. Jaakkola",
            2017,
            "Style Transfer from Non-Parallel Text by Cross-Alignment",
            "Advances in Neural Information Processing Systems 30 (NeurIPS 2017)",
            "1705.09655",
            "",
            "",
        ),
        (
            "fu2018",
            "Z. Fu, X. Tan, N. Peng, D. Zhao, R. Yan",
            2018,
            "Style Transfer in Text: Exploration and Evaluation",
            "AAAI Conference on Artificial Intelligence (AAAI 2018)",
            "1711.06861",
            "",
            "",
        ),
        (
            "gatys2015texture",
            "L. A. Gatys, A. S. Ecker, M. Bethge",
            2015,
            "Texture Synthesis Using Convolutional Neural Networks",
            "Advances in Neural Information Processing Systems 28 (NeurIPS 2015)",
            "1505.07376",
            "",
            "",
        ),
        (
            "gatys2015arxiv",
            "L. A. Gatys, A. S. Ecker, M. Bethge",
            2015,
            "A Neural Algorithm of Artistic Style",
            "arXiv preprint (the first version of the method; its figures use other alpha/beta ratios than the CVPR "
            "paper's)",
            "1508.06576",
            "",
            "",
        ),
        (
            "gatys2016",
            "L. A. Gatys, A. S. Ecker, M. Bethge",
            2016,
            "Image Style Transfer Using Convolutional Neural Networks",
            "IEEE Conference on Computer Vision and Pattern Recognition (CVPR 2016), pp. 2414-2423",
            "",
            "10.1109/CVPR.2016.265",
            "",
        ),
        (
            "gatys2016color",
            "L. A. Gatys, M. Bethge, A. Hertzmann, E. Shechtman",
            2016,
            "Preserving Color in Neural Artistic Style Transfer",
            "arXiv preprint",
            "1606.05897",
            "",
            "",
        ),
        (
            "gatys2017",
            "L. A. Gatys, A. S. Ecker, M. Bethge, A. Hertzmann, E. Shechtman",
            2017,
            "Controlling Perceptual Factors in Neural Style Transfer",
            "IEEE Conference on Computer Vision and Pattern Recognition (CVPR 2017)",
            "1611.07865",
            "",
            "",
        ),
        (
            "simonyan2015",
            "K. Simonyan, A. Zisserman",
            2015,
            "Very Deep Convolutional Networks for Large-Scale Image Recognition",
            "International Conference on Learning Representations (ICLR 2015)",
            "1409.1556",
            "",
            "",
        ),
        (
            "russakovsky2015",
            "O. Russakovsky, J. Deng, H. Su, J. Krause, S. Satheesh, S. Ma, Z. Huang, A. Karpathy, "
            "A. Khosla, M. Bernstein, A. C. Berg, L. Fei-Fei",
            2015,
            "ImageNet Large Scale Visual Recognition Challenge",
            "International Journal of Computer Vision 115",
            "1409.0575",
            "",
            "",
        ),
        (
            "mahendran2015",
            "A. Mahendran, A. Vedaldi",
            2015,
            "Understanding Deep Image Representations by Inverting Them",
            "IEEE Conference on Computer Vision and Pattern Recognition (CVPR 2015)",
            "1412.0035",
            "",
            "",
        ),
        (
            "liu1989",
            "D. C. Liu, J. Nocedal",
            1989,
            "On the Limited Memory BFGS Method for Large Scale Optimization",
            "Mathematical Programming 45, pp. 503-528",
            "",
            "10.1007/BF01589116",
            "",
        ),
        (
            "kingma2015",
            "D. P. Kingma, J. Ba",
            2015,
            "Adam: A Method for Stochastic Optimization",
            "International Conference on Learning Representations (ICLR 2015)",
            "1412.6980",
            "",
            "",
        ),
        (
            "rudin1992",
            "L. I. Rudin, S. Osher, E. Fatemi",
            1992,
            "Nonlinear Total Variation Based Noise Removal Algorithms",
            "Physica D 60, pp. 259-268",
            "",
            "10.1016/0167-2789(92)90242-F",
            "",
        ),
        (
            "li2017universal",
            "Y. Li, C. Fang, J. Yang, Z. Wang, X. Lu, M.-H. Yang",
            2017,
            "Universal Style Transfer via Feature Transforms",
            "Advances in Neural Information Processing Systems 30 (NIPS 2017)",
            "1705.08086",
            "",
            "",
        ),
        (
            "johnson2016",
            "J. Johnson, A. Alahi, L. Fei-Fei",
            2016,
            "Perceptual Losses for Real-Time Style Transfer and Super-Resolution",
            "European Conference on Computer Vision (ECCV 2016)",
            "1603.08155",
            "10.1007/978-3-319-46475-6_43",
            "",
        ),
        (
            "ulyanov2016",
            "D. Ulyanov, A. Vedaldi, V. Lempitsky",
            2016,
            "Instance Normalization: The Missing Ingredient for Fast Stylization",
            "arXiv preprint",
            "1607.08022",
            "",
            "",
        ),
        (
            "odena2016",
            "A. Odena, V. Dumoulin, C. Olah",
            2016,
            "Deconvolution and Checkerboard Artifacts",
            "Distill",
            "",
            "10.23915/distill.00003",
            "",
        ),
        (
            "ioffe2015",
            "S. Ioffe, C. Szegedy",
            2015,
            "Batch Normalization: Accelerating Deep Network Training by Reducing Internal Covariate Shift",
            "International Conference on Machine Learning (ICML 2015)",
            "1502.03167",
            "",
            "",
        ),
        (
            "he2016",
            "K. He, X. Zhang, S. Ren, J. Sun",
            2016,
            "Deep Residual Learning for Image Recognition",
            "IEEE Conference on Computer Vision and Pattern Recognition (CVPR 2016)",
            "1512.03385",
            "",
            "",
        ),
        (
            "ruder2016",
            "M. Ruder, A. Dosovitskiy, T. Brox",
            2016,
            "Artistic Style Transfer for Videos",
            "German Conference on Pattern Recognition (GCPR 2016)",
            "1604.08610",
            "",
            "",
        ),
        (
            "ruder2018",
            "M. Ruder, A. Dosovitskiy, T. Brox",
            2018,
            "Artistic Style Transfer for Videos and Spherical Images",
            "International Journal of Computer Vision 126",
            "1708.04538",
            "",
            "",
        ),
        (
            "kroeger2016",
            "T. Kroeger, R. Timofte, D. Dai, L. Van Gool",
            2016,
            "Fast Optical Flow Using Dense Inverse Search",
            "European Conference on Computer Vision (ECCV 2016)",
            "1603.03590",
            "",
            "",
        ),
        (
            "farneback2003",
            "G. Farnebäck",
            2003,
            "Two-Frame Motion Estimation Based on Polynomial Expansion",
            "Scandinavian Conference on Image Analysis (SCIA 2003), LNCS 2749, pp. 363-370",
            "",
            "10.1007/3-540-45103-X_50",
            "",
        ),
        (
            "li2016mgan",
            "C. Li, M. Wand",
            2016,
            "Precomputed Real-Time Texture Synthesis with Markovian Generative Adversarial Networks",
            "European Conference on Computer Vision (ECCV 2016)",
            "1604.04382",
            "",
            "",
        ),
        (
            "li2017demystifying",
            "Y. Li, N. Wang, J. Liu, X. Hou",
            2017,
            "Demystifying Neural Style Transfer",
            "International Joint Conference on Artificial Intelligence (IJCAI 2017)",
            "1701.01036",
            "",
            "",
        ),
        (
            "huang2017adain",
            "X. Huang, S. Belongie",
            2017,
            "Arbitrary Style Transfer in Real-time with Adaptive Instance Normalization",
            "IEEE International Conference on Computer Vision (ICCV 2017)",
            "1703.06868",
            "",
            "",
        ),
        (
            "heitz2021",
            "E. Heitz, K. Vanhoey, T. Chambon, L. Belcour",
            2021,
            "A Sliced Wasserstein Loss for Neural Texture Synthesis",
            "IEEE Conference on Computer Vision and Pattern Recognition (CVPR 2021)",
            "2006.07229",
            "",
            "",
        ),
        (
            "li2016mrf",
            "C. Li, M. Wand",
            2016,
            "Combining Markov Random Fields and Convolutional Neural Networks for Image Synthesis",
            "IEEE Conference on Computer Vision and Pattern Recognition (CVPR 2016)",
            "1601.04589",
            "",
            "",
        ),
        (
            "isola2017",
            "P. Isola, J.-Y. Zhu, T. Zhou, A. A. Efros",
            2017,
            "Image-to-Image Translation with Conditional Adversarial Networks",
            "IEEE Conference on Computer Vision and Pattern Recognition (CVPR 2017)",
            "1611.07004",
            "",
            "",
        ),
        (
            "he2016random",
            "K. He, Y. Wang, J. Hopcroft",
            2016,
            "A Powerful Generative Model Using Random Weights for the Deep Image Representation",
            "Advances in Neural Information Processing Systems 29 (NeurIPS 2016), pp. 631-639",
            "1606.04801",
            "",
            "",
        ),
        (
            "risser2017",
            "E. Risser, P. Wilmot, C. Barnes",
            2017,
            "Stable and Controllable Neural Texture Synthesis and Style Transfer Using Histogram Losses",
            "arXiv preprint",
            "1701.08893",
            "",
            "",
        ),
        (
            "goodfellow2014",
            "I. Goodfellow, J. Pouget-Abadie, M. Mirza, B. Xu, D. Warde-Farley, S. Ozair, A. Courville, Y. Bengio",
            2014,
            "Generative Adversarial Nets",
            "Advances in Neural Information Processing Systems 27 (NeurIPS 2014)",
            "1406.2661",
            "",
            "",
        ),
        (
            "huang2017",
            "H. Huang, H. Wang, W. Luo, L. Ma, W. Jiang, X. Zhu, Z. Li, W. Liu",
            2017,
            "Real-Time Neural Style Transfer for Videos",
            "IEEE Conference on Computer Vision and Pattern Recognition (CVPR 2017), pp. 783-791",
            "",
            "",
            "https://openaccess.thecvf.com/content_cvpr_2017/html/Huang_Real-Time_Neural_Style_CVPR_2017_paper.html",
        ),
        (
            "portilla2000",
            "J. Portilla, E. P. Simoncelli",
            2000,
            "A Parametric Texture Model Based on Joint Statistics of Complex Wavelet Coefficients",
            "International Journal of Computer Vision 40(1), 49-70",
            "",
            "10.1023/A:1026553619983",
            "",
        ),
        (
            "jacq_tutorial",
            "A. Jacq, edited by W. Herring",
            None,
            "Neural Transfer Using PyTorch",
            "PyTorch Tutorials (web page; the seed configuration's source)",
            "",
            "",
            "https://docs.pytorch.org/tutorials/advanced/neural_style_tutorial.html",
        ),
    )
)

#: The works each notebook uses, in the order its References section lists them.
NOTEBOOK_REFERENCES = {
    "01": ("gatys2016", "simonyan2015", "russakovsky2015", "jacq_tutorial"),
    "02": ("gatys2016", "mahendran2015", "simonyan2015", "liu1989", "jacq_tutorial"),
    "03": ("gatys2015texture", "gatys2016", "jacq_tutorial"),
    "04": ("gatys2015texture", "gatys2016", "liu1989"),
    "05": ("gatys2016", "gatys2015arxiv", "liu1989", "kingma2015", "jacq_tutorial"),
    "06": ("gatys2016",),
    "07": ("gatys2016", "gatys2016color", "gatys2017", "rudin1992", "mahendran2015", "johnson2016"),
    "08": (
        "johnson2016",
        "gatys2016",
        "ulyanov2016",
        "odena2016",
        "ioffe2015",
        "he2016",
        "kingma2015",
        "simonyan2015",
        "li2016mgan",
        "isola2017",
        "goodfellow2014",
    ),
    "09": ("ruder2016", "ruder2018", "kroeger2016", "farneback2003", "gatys2016", "johnson2016", "huang2017"),
    "10": (
        "gatys2015texture",
        "gatys2016",
        "li2017demystifying",
        "ioffe2015",
        "huang2017adain",
        "heitz2021",
        "li2016mrf",
        "ustyuzhaninov2016",
        "he2016random",
        "portilla2000",
        "risser2017",
    ),
    "11": ("huang2017adain", "li2017universal", "ulyanov2016", "johnson2016", "gatys2016", "odena2016", "simonyan2015"),
    "12": (
        "ulyanov2016audio",
        "gatys2015texture",
        "gatys2015arxiv",
        "ustyuzhaninov2016",
        "griffin1984",
        "perraudin2013",
        "mital2017",
        "huzaifah2019",
        "shen2017",
        "fu2018",
    ),
}


def reference(key):
    """The ``Reference`` called ``key`` (``KeyError`` naming the keys there are)."""
    for ref in REFERENCES:
        if ref.key == key:
            return ref
    raise KeyError(f"no reference {key!r}: the course has {', '.join(r.key for r in REFERENCES)}")


def references_markdown(keys=None):
    """A Markdown list of references: ``keys`` in their order, or every reference sorted by author and year."""
    refs = (
        [reference(k) for k in keys]
        if keys is not None
        else sorted(REFERENCES, key=lambda r: (r.authors.split(",")[0].split()[-1].lower(), r.year or 0))
    )
    return "\n".join(f"- {r.markdown()}" for r in refs)


def bibliography_page():
    """The book's bibliography page (Markdown): every work the course cites, and which notebooks cite it."""
    cited_by = {}
    for number, keys in NOTEBOOK_REFERENCES.items():
        for key in keys:
            cited_by.setdefault(key, []).append(str(int(number)))
    lines = [
        "# References",
        "",
        "Every work the course cites, with the notebooks that use it. Each notebook ends with its own list.",
        "",
    ]
    for ref in sorted(REFERENCES, key=lambda r: (r.authors.split(",")[0].split()[-1].lower(), r.year or 0)):
        where = cited_by.get(ref.key, [])
        lines.append(
            f"- {ref.markdown()} Notebook{'s' if len(where) > 1 else ''} {', '.join(where)}."
            if where
            else f"- {ref.markdown()}"
        )
    return "\n".join(lines) + "\n"
