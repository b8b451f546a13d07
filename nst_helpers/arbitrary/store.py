"""A decoder's file: its weights and what it belongs to (the encoder's layer and weights), written
atomically and read with ``torch.load(..., weights_only=True)`` (no code runs when a file is loaded).

A decoder inverts the features of one encoder: the same layer of the same VGG19 weights. Its file
records the weights' fingerprint (``adain.encoder_fingerprint``), and ``check_encoder`` refuses, in one
line, a decoder used with other weights (``force=True`` paints anyway, for experiments).
"""

import math
import numbers

import torch

from .. import files
from ..devices import resolve_device
from ..errors import NSTError, memory_errors
from ..weights import load_torch_file
from .adain import ENCODER_LAYERS, MAX_DECODER_WIDTH, Decoder, encoder_fingerprint

#: What a decoder file says it is (a real-time network's file says ``nst_helpers.feedforward``).
FILE_FORMAT = "nst_helpers.arbitrary"
FILE_VERSION = 1
KIND = "decoder"


def _ok_text(value):
    return isinstance(value, str) and len(value) <= 1000


def _ok_whole(low, high):
    return lambda v: isinstance(v, numbers.Integral) and not isinstance(v, bool) and low <= v <= high


def _ok_real(v):
    return isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v) and 0 <= v <= 1e9


#: The metadata the package reads, and what each field must be (layer, width and fingerprint are required).
META_FIELDS = {
    "layer": (lambda v: v in ENCODER_LAYERS, "relu3_1 or relu4_1"),
    "width": (_ok_whole(4, MAX_DECODER_WIDTH), f"a whole number from 4 to {MAX_DECODER_WIDTH}"),
    "encoder": (lambda v: isinstance(v, str) and 0 < len(v) <= 64, "a hash"),
    "steps": (_ok_whole(0, 10**9), "a whole number"),
    "seconds": (_ok_real, "a number of seconds"),
    "vgg_weights": (_ok_text, "a text"),
    "styles": (lambda v: isinstance(v, list) and all(_ok_text(s) for s in v), "a list of names"),
}
REQUIRED = ("layer", "width", "encoder")


def file_kind(path):
    """``"decoder"`` for a decoder file, ``"network"`` for anything else (a real-time network's file, or
    a file that the real-time network's reader will refuse with its own message)."""
    path = files.input_file(path, "network file", missing="train one with 'python -m nst_helpers train'")
    data = load_torch_file(path, "style network file", "give the .pt file train wrote")
    meta = data.get("meta") if isinstance(data, dict) else None
    return KIND if isinstance(meta, dict) and meta.get("format") == FILE_FORMAT else "network"


def save_decoder(decoder, path, meta=None, overwrite=False, protect=()):
    """Write a decoder and its metadata (with ``encoder``, the fingerprint of the weights it inverts);
    never over an existing file without ``overwrite``, never over a file in ``protect``."""
    if not isinstance(decoder, Decoder):
        raise NSTError(f"save_decoder saves a Decoder, not {type(decoder).__name__}")
    path = files.check_output(path, protect, overwrite=overwrite, what="decoder file")
    meta = dict(meta or {})
    if "encoder" not in meta:
        raise NSTError("a decoder file needs the encoder's fingerprint (meta['encoder']): use train_decoder")
    meta.update(format=FILE_FORMAT, version=FILE_VERSION, kind=KIND, layer=decoder.layer, width=decoder.width)
    state = {k: v.detach().cpu().clone() for k, v in decoder.state_dict().items()}
    files.atomic_write(path, lambda fh: torch.save({"meta": meta, "state_dict": state}, fh), replace=overwrite)
    return path


def read_decoder_file(path):
    """(meta, state dict) of a decoder file, checked; every problem is one ``NSTError`` line."""
    path = files.input_file(
        path,
        "decoder file",
        missing="train one with 'python -m nst_helpers train --arbitrary'",
        folder="give the .pt file 'train --arbitrary' wrote",
    )
    data = load_torch_file(path, "decoder file", "give the .pt file 'train --arbitrary' wrote")
    name = repr(str(path)[:80])
    meta = data.get("meta") if isinstance(data, dict) else None
    if not isinstance(meta, dict) or meta.get("format") != FILE_FORMAT:
        raise NSTError(f"{name} is not a decoder written by nst_helpers: train one with 'train --arbitrary'")
    version = meta.get("version")
    if isinstance(version, bool) or version != FILE_VERSION:
        raise NSTError(
            f"{name} is a decoder of file version {repr(version)[:40]}; this nst_helpers reads version "
            f"{FILE_VERSION}: update nst_helpers or train the decoder again"
        )
    for key, (ok, expected) in META_FIELDS.items():
        if key not in meta:
            if key in REQUIRED:
                raise NSTError(f"{name} has no {key!r} in its metadata: the file is damaged; train the decoder again")
            continue
        if not ok(meta[key]):
            raise NSTError(
                f"{name} has a damaged metadata field {key!r} (expected {expected}): train the decoder again"
            )
    state = data.get("state_dict")
    if (
        not isinstance(state, dict)
        or not state
        or not all(isinstance(k, str) and torch.is_tensor(v) for k, v in state.items())
    ):
        raise NSTError(f"{name} has no decoder weights in it: the file is damaged; train the decoder again")
    return meta, state


@memory_errors("loading the decoder", "close other programs")
def load_decoder(path, device="cpu"):
    """A saved decoder in eval mode, with ``.meta`` and ``.path``; its weights checked (they must match
    the layer and width it states, and be finite)."""
    meta, state = read_decoder_file(path)
    name = repr(str(path)[:80])
    try:
        decoder = Decoder(meta["layer"], meta["width"])
        decoder.load_state_dict({k: v.float() for k, v in state.items()})
    except (NSTError, RuntimeError, TypeError, ValueError) as err:
        first = " ".join(str(err).split())[:100]
        raise NSTError(f"{name} does not match the decoder it describes ({first}): train the decoder again") from None
    if not all(bool(torch.isfinite(v).all()) for v in state.values() if v.is_floating_point()):
        raise NSTError(
            f"{name} holds NaN or infinite weights: the training diverged; train again with a lower learning rate"
        )
    decoder = decoder.to(resolve_device(device)).eval().requires_grad_(False)
    decoder.meta = meta
    decoder.path = files.as_path(path, "decoder file")
    return decoder


def check_encoder(decoder, model, force=False):
    """An ``NSTError`` (one line) unless ``model``'s weights are those the decoder was trained to invert;
    with ``force`` a mismatch is let through (the pictures will be wrong). Returns the fingerprint."""
    meta = getattr(decoder, "meta", {}) or {}
    fingerprint = encoder_fingerprint(model, decoder.layer)
    expected = meta.get("encoder")
    if expected is not None and expected != fingerprint and not force:
        trained = meta.get("vgg_weights") or "other weights"
        raise NSTError(
            f"this decoder was trained for other VGG19 weights ({str(trained)[:60]}, fingerprint {expected}; these: "
            f"{fingerprint}): give those weights with --weights, train a decoder for these, or --force"
        )
    return fingerprint


def describe_decoder(decoder):
    """One line: the decoder's size and how long it was trained."""
    meta = getattr(decoder, "meta", {}) or {}
    text = decoder.describe()
    if meta.get("steps"):
        seconds = meta.get("seconds")
        text += f", {meta['steps']} steps" + (f" ({seconds:.0f} s)" if isinstance(seconds, (int, float)) else "")
    if meta.get("styles"):
        text += f", fine-tuned on {len(meta['styles'])} paintings"
    return text
