"""Choosing the torch device and the seed's default image size for it."""

import torch

from .errors import NSTError

#: The seed's image sizes: small enough for a laptop CPU, large enough to look good on a GPU.
CPU_SIZE = 128
GPU_SIZE = 512


DEVICES = ("auto", "cpu", "cuda", "cuda:N", "mps")


def resolve_device(device="auto"):
    """Return a ``torch.device``: ``"auto"`` picks cuda, then mps, then cpu. Only devices the package
    runs on are accepted (cpu, cuda, cuda:N, mps); others torch knows (meta, xpu, ...) are refused."""
    if isinstance(device, torch.device):
        device = str(device)
    if device is not None and not isinstance(device, str):
        raise NSTError(f"device must be a name like 'cpu' or 'cuda', not {type(device).__name__}")
    name = "auto" if device is None else device.strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    index = name[5:] if name.startswith("cuda:") else None
    if name not in ("cpu", "cuda", "mps") and not (index is not None and index.isdigit() and len(index) < 4):
        raise NSTError(f"unknown device {str(device)[:40]!r}: use auto, cpu, cuda, cuda:N or mps")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise NSTError(f"device {device!r} was asked for but CUDA is not available: use --device cpu (or auto)")
        if index is not None and int(index) >= torch.cuda.device_count():
            raise NSTError(
                f"device {device!r} does not exist: this machine has {torch.cuda.device_count()} "
                f"CUDA device(s), cuda:0 to cuda:{torch.cuda.device_count() - 1}"
            )
    if name == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise NSTError("device 'mps' was asked for but Apple's MPS is not available: use --device cpu (or auto)")
    return torch.device(name)


#: The arithmetic of VGG19's passes (``StyleConfig.precision``): float32 is the seed's; bfloat16 runs the
#: convolutions in 16-bit floats with 8-bit mantissas, about 1.5x faster on CPUs with AVX512-BF16 or AMX
#: and on recent GPUs (benchmarks/RESULTS.md), and very slow where the CPU lacks them.
PRECISIONS = ("float32", "bfloat16")


def bfloat16_is_fast(device):
    """Whether ``device`` computes bfloat16 convolutions natively (a CPU with AVX512-BF16 or AMX, a
    CUDA GPU of compute capability 8 or more); elsewhere they are emulated and slower than float32."""
    device = torch.device(device)
    if device.type == "cuda":
        try:
            return torch.cuda.is_bf16_supported(including_emulation=False)
        except TypeError:  # torch before 2.3
            return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        try:
            return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
        except (AttributeError, RuntimeError):
            return False
    return False


def default_size(device="auto"):
    """The seed's image size for a device: 512 px on a GPU, 128 px on a CPU."""
    return GPU_SIZE if resolve_device(device).type in ("cuda", "mps") else CPU_SIZE
