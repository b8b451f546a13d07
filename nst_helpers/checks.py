"""Checks of single values, shared by the configuration, the API and the command line.

Each check returns the value in its proper type or raises ``NSTError`` with one line that says what
is wrong and what to do. Limits that protect the machine (image sizes, weights) live here too, so the
command line's ``--help`` and the Python API state and enforce the same numbers.
"""

import math
import numbers

from .errors import NSTError

#: The longest image side the package works at (style images included): 4096 px is a 16-megapixel
#: picture, beyond what a laptop or a free GPU can optimise. ``memory.py`` also checks the memory.
MAX_SIZE = 4096
#: The smallest image side: VGG19's first pooling needs 2 px, and a picture smaller than this is no picture.
MIN_SIZE = 16
#: The largest loss weight. float32 losses overflow past about 3e38; with weights up to 1e15 the
#: objective of any picture in [0, 1] stays finite.
MAX_WEIGHT = 1e15
#: Random seeds are what ``torch.Generator.manual_seed`` takes without overflow.
MAX_RANDOM_SEED = 2**63 - 1
#: At most this many steps (evaluations) per run: 100000 is hours on a GPU.
MAX_STEPS = 100_000


def check_number(value, name, minimum=None, maximum=None, integer=False, above=None):
    """``value`` as a finite float (or int with ``integer=True``) within the given bounds."""
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:  # a numpy or torch scalar
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, str)):
        raise NSTError(f"{name} must be a number, not {_show(value)}")
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise NSTError(f"{name} must be a number, not {_show(value)}") from None
    if not math.isfinite(number):
        raise NSTError(f"{name} must be a finite number, not {_show(value)}")
    if integer:
        if number != int(number):
            raise NSTError(f"{name} must be a whole number, not {_show(value)}")
        number = int(value) if isinstance(value, numbers.Integral) else int(number)
    if above is not None and not number > above:
        raise NSTError(f"{name} must be greater than {above}, not {_show(value)}")
    if minimum is not None and number < minimum:
        raise NSTError(f"{name} must be at least {minimum:g}, not {_show(value)}")
    if maximum is not None and number > maximum:
        raise NSTError(f"{name} must be at most {maximum:g}, not {_show(value)}")
    return number


def check_weight(value, name):
    """A loss weight: a finite number in [0, ``MAX_WEIGHT``]."""
    return check_number(value, name, minimum=0, maximum=MAX_WEIGHT)


def check_choice(value, choices, name):
    """One of ``choices`` (compared as given), or an error that lists them."""
    if not isinstance(value, (str, type(None))) or value not in choices:
        shown = ", ".join("none" if c is None else str(c) for c in choices)
        raise NSTError(f"unknown {name} {_show(value)}: use one of {shown}")
    return value


def check_size(size, name="size"):
    """An image size: ``None`` (the default), a long side in px, or an exact (height, width)."""
    if size is None:
        return None
    if isinstance(size, str):
        parts = size.strip().lower().split("x")
        if len(parts) > 2:
            raise NSTError(f"{name} {_show(size)} must be one number (the long side) or HxW, like 128 or 96x128")
        return tuple(_side(p, name) for p in parts) if len(parts) == 2 else _side(parts[0], name)
    if isinstance(size, (tuple, list)):
        if len(size) != 2:
            raise NSTError(f"{name} {_show(size)} must be one number (the long side) or a pair (height, width)")
        return tuple(_side(s, name) for s in size)
    return _side(size, name)


def _side(value, name):
    return check_number(value, f"{name} (px)", minimum=MIN_SIZE, maximum=MAX_SIZE, integer=True)


def _show(value):
    """A short, safe rendering of a bad value for a one-line message."""
    text = repr(value) if isinstance(value, (str, numbers.Number, type(None), tuple, list)) else type(value).__name__
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:57] + "..."
