"""Sound: style transfer beyond images (Ulyanov and Lebedev 2016), notebook 12's chapter, in five modules:

==========  ===================================================================================
examples    sounds the package synthesises from a seed (melody, rain, organ, babble; CC0)
audio       WAV in and out (stdlib ``wave``, integer PCM), mono mix-down, resampling, the limits
spectrum    STFT and its inverse, the log-spectrogram in [0, 1], Griffin-Lim, spectral convergence
config      ``SoundConfig``: the settings, each checked and each a command-line option
transfer    the random 1-D network, the objective (the course's terms), ``stylize_sound``, measures
==========  ===================================================================================

Notation (notebook 12): a waveform x; its log-magnitude spectrogram S, F frequency bins x T frames, read
as a 1 x T signal with F channels; the random network's activations P (C filters x T' frames); their
Gram matrix G = P P^T / T'.
"""

from .audio import (
    MAX_SECONDS,
    MIN_SECONDS,
    SILENCE_DB,
    check_waveform,
    clipped_fraction,
    limit,
    load_audio,
    peak_db,
    read_wav,
    resample,
    rms_db,
    save_wav,
    to_mono,
)
from .config import SOUND_OPTIONS, SoundConfig, make_sound_config
from .examples import SOUNDS, synthesize
from .spectrum import (
    frame_times,
    frequencies,
    griffin_lim,
    istft,
    log_spectrogram,
    magnitude,
    magnitude_ceiling,
    show_spectrograms,
    spectral_convergence,
    stft,
)
from .transfer import (
    GRAM_NORM,
    LAYER,
    RandomFeatures,
    SoundResult,
    features,
    gram,
    initial_spectrogram,
    mean_spectrum,
    measure,
    sound_objective,
    style_distance,
    stylize_sound,
)

__all__ = [
    "GRAM_NORM",
    "LAYER",
    "MAX_SECONDS",
    "MIN_SECONDS",
    "SILENCE_DB",
    "SOUNDS",
    "SOUND_OPTIONS",
    "RandomFeatures",
    "SoundConfig",
    "SoundResult",
    "check_waveform",
    "clipped_fraction",
    "features",
    "frame_times",
    "frequencies",
    "gram",
    "griffin_lim",
    "initial_spectrogram",
    "istft",
    "limit",
    "load_audio",
    "log_spectrogram",
    "magnitude",
    "magnitude_ceiling",
    "make_sound_config",
    "measure",
    "mean_spectrum",
    "peak_db",
    "read_wav",
    "resample",
    "rms_db",
    "save_wav",
    "show_spectrograms",
    "sound_objective",
    "spectral_convergence",
    "stft",
    "style_distance",
    "stylize_sound",
    "synthesize",
    "to_mono",
]
