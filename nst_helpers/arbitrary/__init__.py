"""Arbitrary style in one pass (Huang and Belongie 2017): AdaIN and a decoder trained on photos alone.

A real-time network (``feedforward``) knows one painting. AdaIN knows none: it gives a photo's VGG19
features any painting's channel means and standard deviations, and a decoder trained to invert VGG19's
features (from photos: Li et al. 2017) paints the result. Notebook 11's chapter, in four modules:

=========  ==================================================================================
adain      the operation (``adain``, ``adain_target``: alpha, blends), ``Decoder``, the encoder's fingerprint
store      a decoder's file (``save_decoder``, ``load_decoder``), the check against the encoder's weights
paint      ``paint``: a photo in the style of any painting, in one pass
training   ``train_decoder`` and its ``DecoderConfig``: photos (and optionally paintings), Adam, DDP
=========  ==================================================================================
"""

from .adain import (
    ENCODER_LAYERS,
    STATISTIC_LAYERS,
    Decoder,
    adain,
    adain_target,
    encoder_fingerprint,
    mean_std,
    statistic_layers,
)
from .paint import paint
from .store import (
    FILE_FORMAT,
    FILE_VERSION,
    check_encoder,
    describe_decoder,
    file_kind,
    load_decoder,
    read_decoder_file,
    save_decoder,
)
from .training import (
    DECODER_OPTIONS,
    DECODER_PRESETS,
    DecoderConfig,
    DecoderResult,
    adain_losses,
    make_decoder_config,
    reconstruction_losses,
    style_statistics_loss,
    train_decoder,
)

__all__ = [
    "adain",
    "adain_losses",
    "adain_target",
    "check_encoder",
    "Decoder",
    "DECODER_OPTIONS",
    "DECODER_PRESETS",
    "DecoderConfig",
    "DecoderResult",
    "describe_decoder",
    "ENCODER_LAYERS",
    "encoder_fingerprint",
    "file_kind",
    "FILE_FORMAT",
    "FILE_VERSION",
    "load_decoder",
    "make_decoder_config",
    "mean_std",
    "paint",
    "read_decoder_file",
    "reconstruction_losses",
    "save_decoder",
    "STATISTIC_LAYERS",
    "statistic_layers",
    "style_statistics_loss",
    "train_decoder",
]
