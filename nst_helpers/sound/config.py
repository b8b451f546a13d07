"""``SoundConfig``: everything that decides what a sound style transfer computes, checked once, here.

Like ``StyleConfig`` it is frozen and each field carries its command-line help in its metadata
(``help``, ``kind``, ``metavar``, ``choices``), so ``python -m nst_helpers sound`` makes one option per
field (``--style-weight``, ``--filters``, ...) and the Python API and the command line accept and refuse
the same values. Change a field with ``make_sound_config(config, field=value)``.

The defaults follow Ulyanov and Lebedev's TensorFlow notebook (22050 Hz, a 2048-sample STFT with a hop of
512, one layer of random 1-D filters 11 frames wide, a ReLU, Gram matrices over time, L-BFGS), with two
changes for a laptop CPU, 1024 filters instead of their 4096 (a step costs a quarter as much; ``--filters
4096`` is theirs) and the L-BFGS budget counted in evaluations (``steps``) as everywhere in the course, and
one change to what the network sees: ``offset="style"`` subtracts the style's mean level from every
spectrogram first. A log-spectrogram is never negative and the activations follow a ReLU, so each Gram
matrix is mostly the outer product of the filters' mean responses; the covariance, which describes how the
sound varies, is about 1 % of the bundled rain's Gram matrix without the offset and about 5 % with it
(notebook 12 measures it; ``offset="none"`` is Ulyanov and Lebedev's network).
"""

from dataclasses import asdict, dataclass, field, fields, replace

from ..checks import MAX_RANDOM_SEED, MAX_STEPS, check_choice, check_number, check_weight
from ..errors import NSTError

INITS = ("content", "noise")
OFFSETS = ("style", "none")


def _opt(help, kind="text", **extra):
    return {"help": help, "kind": kind, **extra}


@dataclass(frozen=True)
class SoundConfig:
    """The settings of ``stylize_sound``. Frozen; every field is checked when a configuration is made."""

    sample_rate: int = field(
        default=22050, metadata=_opt("every sound is mixed to mono and resampled to this rate (Hz)", metavar="HZ")
    )
    n_fft: int = field(
        default=2048,
        metadata=_opt("STFT window in samples: n_fft/2 + 1 frequency bins, the network's input channels", metavar="N"),
    )
    hop: int = field(default=512, metadata=_opt("STFT hop in samples (at most n_fft/2)", metavar="N"))
    filters: int = field(
        default=1024, metadata=_opt("random 1-D convolution filters (Ulyanov and Lebedev used 4096)", metavar="N")
    )
    kernel: int = field(default=11, metadata=_opt("filter width in STFT frames", metavar="FRAMES"))
    offset: str = field(
        default="style",
        metadata=_opt(
            "subtract the style's mean level from every spectrogram before the network ('style': a random network "
            "with biases) or nothing ('none', as Ulyanov and Lebedev)",
            choices=OFFSETS,
        ),
    )
    content_weight: float = field(default=1.0, metadata=_opt("content weight alpha", metavar="ALPHA"))
    style_weight: float = field(default=1e5, metadata=_opt("style weight beta", metavar="BETA"))
    steps: int = field(
        default=100, metadata=_opt("L-BFGS evaluations of the objective (forward + backward passes)", metavar="N")
    )
    tol: float = field(
        default=0.0,
        metadata=_opt(
            "stop early once the objective improved by less than this fraction over the last 20 steps (0: never)",
            metavar="TOL",
        ),
    )
    init: str = field(
        default="content", metadata=_opt("start from the content's spectrogram or from quiet noise", choices=INITS)
    )
    random_seed: int = field(
        default=0,
        metadata=_opt("seed of the random filters, the noise start and Griffin-Lim's first phases", metavar="N"),
    )
    griffin_lim_iterations: int = field(
        default=100,
        metadata=_opt(
            "Griffin-Lim rounds to recover a waveform (Ulyanov and Lebedev: 500, without momentum)", metavar="N"
        ),
    )
    momentum: float = field(
        default=0.99,
        metadata=_opt("fast Griffin-Lim's momentum (Perraudin et al. 2013; 0: the original algorithm)", metavar="M"),
    )

    def __post_init__(self):
        set_ = object.__setattr__
        set_(
            self,
            "sample_rate",
            check_number(self.sample_rate, "sample rate", minimum=8000, maximum=48000, integer=True),
        )
        set_(self, "n_fft", check_number(self.n_fft, "n_fft", minimum=64, maximum=8192, integer=True))
        if self.n_fft % 2:
            raise NSTError(f"n_fft must be even (it gives n_fft/2 + 1 frequency bins), not {self.n_fft}")
        set_(self, "hop", check_number(self.hop, "hop", minimum=16, maximum=self.n_fft // 2, integer=True))
        set_(self, "filters", check_number(self.filters, "filters", minimum=1, maximum=8192, integer=True))
        set_(self, "kernel", check_number(self.kernel, "kernel", minimum=1, maximum=64, integer=True))
        set_(self, "offset", check_choice(self.offset, OFFSETS, "offset"))
        set_(self, "content_weight", check_weight(self.content_weight, "content weight"))
        set_(self, "style_weight", check_weight(self.style_weight, "style weight"))
        set_(self, "steps", check_number(self.steps, "steps", minimum=1, maximum=MAX_STEPS, integer=True))
        set_(self, "tol", check_number(self.tol, "tol", minimum=0, maximum=0.5))
        set_(self, "init", check_choice(self.init, INITS, "init"))
        set_(
            self,
            "random_seed",
            check_number(self.random_seed, "random seed", minimum=0, maximum=MAX_RANDOM_SEED, integer=True),
        )
        set_(
            self,
            "griffin_lim_iterations",
            check_number(self.griffin_lim_iterations, "Griffin-Lim iterations", minimum=0, maximum=10000, integer=True),
        )
        set_(self, "momentum", check_number(self.momentum, "momentum", minimum=0, maximum=0.999))

    @property
    def bins(self):
        """Frequency bins of the spectrogram: the network's input channels."""
        return self.n_fft // 2 + 1

    def to_dict(self):
        return asdict(self)


#: The fields a caller may set.
SOUND_OPTIONS = tuple(f.name for f in fields(SoundConfig))


def make_sound_config(config=None, **overrides):
    """A checked ``SoundConfig``: the defaults, a given one or a dict (``to_dict()``), with ``overrides``."""
    if config is None:
        config = SoundConfig()
    elif isinstance(config, dict):
        overrides = {**config, **overrides}
        config = SoundConfig()
    elif not isinstance(config, SoundConfig):
        raise NSTError(f"config must be a SoundConfig or a dict, not {type(config).__name__}")
    unknown = [k for k in overrides if k not in SOUND_OPTIONS]
    if unknown:
        raise NSTError(f"unknown option {unknown[0]!r}: the options are {', '.join(SOUND_OPTIONS)}")
    return replace(config, **overrides) if overrides else config
