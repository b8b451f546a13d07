"""Training on several processes (``torchrun --nproc_per_node N``): DistributedDataParallel, in one place.

``torchrun`` starts N copies of the same command and tells each its place through environment variables
(``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``, ``MASTER_PORT``). ``start`` reads them and joins
the process group: gloo between CPU processes, NCCL between GPUs (one GPU per process, ``cuda:LOCAL_RANK``).
Each process then draws its own crops (``shard``: its share of the photos, its own seed), computes the
gradients of its own batch, and DistributedDataParallel (``wrap``) averages the gradients of all processes
before every optimiser step, so the weights stay the same everywhere: N processes train as one run with
an N times larger batch. Only the first process (rank 0) writes files and prints.

Without torchrun's variables (or with ``WORLD_SIZE=1``) everything here is a no-op: ``start`` returns a
``Distributed`` of one process and ``wrap`` returns the model itself.
"""

import os
from dataclasses import dataclass

import torch

from .devices import resolve_device
from .errors import NSTError


@dataclass(frozen=True)
class Distributed:
    """Where this process stands in a run: its ``rank`` of ``world_size`` processes, and its device."""

    rank: int = 0
    world_size: int = 1
    device: torch.device = None  # None for one process: the caller's device stands
    backend: str = None

    @property
    def active(self):
        """True when several processes train together."""
        return self.world_size > 1

    @property
    def is_main(self):
        """True for the one process that writes files and prints (rank 0)."""
        return self.rank == 0


def _env_int(name, default):
    text = os.environ.get(name)
    if text is None or text.strip() == "":
        return default
    try:
        return int(text)
    except ValueError:
        raise NSTError(
            f"the environment variable {name} is {text[:20]!r}, not a whole number: start with torchrun"
        ) from None


def start(device="auto"):
    """Join the process group torchrun set up (if any); returns this process's ``Distributed``.

    ``device`` is resolved as usual; under torchrun on GPUs each process takes ``cuda:LOCAL_RANK``. The
    backend is gloo for CPUs and NCCL for CUDA."""
    world = _env_int("WORLD_SIZE", 1)
    if world <= 1:  # the device is left to the caller (its own checks come first)
        return Distributed(device=None)
    dev = resolve_device(device)
    rank, local = _env_int("RANK", 0), _env_int("LOCAL_RANK", 0)
    if dev.type == "cuda":
        if local >= torch.cuda.device_count():
            raise NSTError(
                f"process {local} has no GPU of its own ({torch.cuda.device_count()} found): lower --nproc_per_node"
            )
        dev = torch.device("cuda", local)
        torch.cuda.set_device(dev)
    backend = "nccl" if dev.type == "cuda" else "gloo"
    if not torch.distributed.is_initialized():
        torch.distributed.init_process_group(backend)
    return Distributed(rank=rank, world_size=world, device=dev, backend=backend)


def stop(run):
    """Leave the process group ``start`` joined (a no-op for one process)."""
    if run.active and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


def wrap(model, run):
    """``model`` in DistributedDataParallel when several processes train (gradients averaged at each
    ``backward``), else ``model`` itself. Every process starts from rank 0's weights."""
    if not run.active:
        return model
    from torch.nn.parallel import DistributedDataParallel

    ids = [run.device.index] if run.device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=ids)


def shard(items, run):
    """This process's share of ``items`` (every ``world_size``-th, from its rank); all of them when there
    are fewer items than processes (the processes then differ by their seeds: ``seed``)."""
    items = list(items)
    if not run.active or len(items) < run.world_size:
        return items
    return items[run.rank :: run.world_size]


def seed(base, run):
    """A random seed of this process's own (``base`` for rank 0), so the processes draw different crops."""
    return base + 1000003 * run.rank


def average(value, run):
    """The mean of a number over all processes (for logging a loss); the number itself for one process."""
    if not run.active:
        return float(value)
    t = torch.tensor([float(value)], device=run.device)
    torch.distributed.all_reduce(t)
    return t.item() / run.world_size
