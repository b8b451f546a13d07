"""How much disk an install takes: ``python -m benchmarks.install_size`` in the environment to measure.

Adds up the files each installed distribution records (``importlib.metadata``) and groups them: PyTorch
itself, its CUDA libraries (``nvidia-*``, ``cuda-*``, ``triton``: only in the CUDA build), and the
rest. Run it in a virtual environment made by each install route of the README to compare the routes.
"""

import importlib.metadata as md
import sys
from pathlib import Path

CUDA_PREFIXES = ("nvidia-", "nvidia_", "cuda-", "cuda_", "triton")


def distribution_sizes():
    sizes = {}
    for dist in md.distributions():
        total = 0
        for f in dist.files or ():
            try:
                total += Path(dist.locate_file(f)).stat().st_size
            except OSError:
                pass
        name = dist.metadata["Name"] or "?"
        sizes[name.lower()] = sizes.get(name.lower(), 0) + total
    return sizes


def groups(sizes):
    cuda = sum(v for k, v in sizes.items() if k.startswith(CUDA_PREFIXES))
    torch = sizes.get("torch", 0) + sizes.get("torchvision", 0)
    return {
        "torch + torchvision": torch,
        "CUDA libraries": cuda,
        "everything else": sum(sizes.values()) - cuda - torch,
        "total": sum(sizes.values()),
    }


def main():
    sizes = distribution_sizes()
    try:
        import torch

        build = f"torch {torch.__version__} ({'CUDA ' + torch.version.cuda if torch.version.cuda else 'CPU only'})"
    except ImportError:
        build = "no torch"
    print(f"{sys.prefix}: {build}")
    for name, size in groups(sizes).items():
        print(f"  {name:20s} {size / 2**30:6.2f} GiB")
    largest = sorted(sizes.items(), key=lambda kv: -kv[1])[:8]
    print("  largest: " + ", ".join(f"{k} {v / 2**20:.0f} MiB" for k, v in largest))


if __name__ == "__main__":
    main()
