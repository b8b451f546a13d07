"""How much memory a run needs, how much there is, and how much a run used (torch is imported only
for CUDA, so the benchmark can measure a process before torch is loaded).

``estimate_bytes`` adds up what one evaluation keeps alive: the activations of every VGG19 module up
to the deepest layer used (kept for the backward pass, and their gradients), the Gram matrices, and
L-BFGS's curvature history (two vectors the size of the picture per remembered step).
``check_memory`` refuses a run that cannot fit before any work starts.
"""

import os
import sys

from .errors import NSTError
from .layers import LAYERS, layer_info

#: Bytes per activation value kept per evaluation: float32, saved for the backward pass, its gradient,
#: and the allocator's slack; calibrated against measured peaks (``make benchmark``).
BYTES_PER_ACTIVATION = 4 * 3
#: The process itself (Python, torch, the network's weights) before any picture.
BASE_BYTES = 600 * 2**20


def estimate_bytes(height, width, layers, styles=1, lbfgs_history=100):
    """An estimate of the peak memory of optimising an ``height`` x ``width`` picture."""
    deepest = max((layer_info(n).index for n in layers), default=0)
    pixels = height * width
    activations = sum(r.channels * pixels / r.downsample**2 for r in LAYERS if r.index <= deepest)
    grams = sum(layer_info(n).channels ** 2 for n in layers) * (styles + 2)
    history = 2 * lbfgs_history * 3 * pixels * 4
    return int(BASE_BYTES + activations * BYTES_PER_ACTIVATION + grams * 4 + history + 20 * 3 * pixels * 4)


def available_bytes(device):
    """Memory free for a run on ``device``, or ``None`` if it cannot be told."""
    if device.type == "cuda":
        import torch

        free, _ = torch.cuda.mem_get_info(device)
        return free
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def check_memory(height, width, layers, device, styles=1, lbfgs_history=100, what="this run"):
    """An ``NSTError`` if ``what`` would need more memory than ``device`` has free."""
    need = estimate_bytes(height, width, layers, styles, lbfgs_history)
    have = available_bytes(device)
    if have is not None and need > have:
        raise NSTError(
            f"{what} at {width}x{height} px needs about {need / 2**30:.1f} GB of memory but "
            f"{have / 2**30:.1f} GB are free: use a smaller size (or --multiscale for large pictures)"
        )
    return need


def check_bytes(need, device, what="this run", advice="use a smaller size"):
    """An ``NSTError`` if ``need`` bytes (an estimate made before any work) exceed the free memory of
    ``device``; returns ``need``. For the runs ``check_memory`` does not model (a network's pass, a clip)."""
    have = available_bytes(device)
    if have is not None and need > have:
        raise NSTError(
            f"{what} needs about {need / 2**30:.1f} GB of memory but {have / 2**30:.1f} GB are free: {advice}"
        )
    return need


def peak_memory_mb(device):
    """Peak memory of this process so far: the GPU's allocator on CUDA, the resident size otherwise."""
    if str(device).startswith("cuda"):
        import torch

        return torch.cuda.max_memory_allocated() / 2**20
    try:
        import resource
    except ImportError:  # Windows
        return None
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (2**20 if sys.platform == "darwin" else 2**10)
