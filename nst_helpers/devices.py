"""Choosing the torch device and the seed's default image size for it."""

import torch

from .errors import NSTError

#: The seed's image sizes: small enough for a laptop CPU, large enough to look good on a GPU.
CPU_SIZE = 128
GPU_SIZE = 512


def resolve_device(device="auto"):
    """Return a ``torch.device``: ``"auto"`` picks cuda, then mps, then cpu."""
    if isinstance(device, torch.device):
        return device
    name = "auto" if device is None else str(device).lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise NSTError(f"device {device!r} was asked for but CUDA is not available: use --device cpu (or auto)")
    if name == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise NSTError("device 'mps' was asked for but Apple's MPS is not available: use --device cpu (or auto)")
    try:
        return torch.device(name)
    except RuntimeError:
        raise NSTError(f"unknown device {device!r}: use auto, cpu, cuda or mps") from None


def default_size(device="auto"):
    """The seed's image size for a device: 512 px on a GPU, 128 px on a CPU."""
    return GPU_SIZE if resolve_device(device).type in ("cuda", "mps") else CPU_SIZE
