"""The one exception type the package raises for bad input, and the two things every message goes through.

Every message is a single line that says what is wrong and what to do about it, so the command
line can print it without a traceback and a notebook user can act on it. ``one_line`` makes any
text such a line (an error text taken from torch, OpenCV or Pillow may carry newlines, ANSI escapes
or other control characters); ``NSTError`` applies it to its message, and the command line to
everything it prints. ``memory_errors`` turns running out of memory (``MemoryError``, torch's
allocator failures) into an ``NSTError`` at the API's entry points.
"""

import functools
import re

#: ANSI escape sequences (colours, cursor moves, OSC titles) and the control characters around them.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]?|\x9b[0-?]*[ -/]*[@-~]")
#: Control characters (C0 but white space, DEL, C1) and the Unicode marks that reorder or hide text on a terminal.
_CONTROLS = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def one_line(text, limit=1000):
    """``text`` as one printable line: escape sequences and control characters removed, line breaks and
    runs of white space made single spaces, at most ``limit`` characters."""
    text = _ESCAPES.sub("", str(text))
    text = " ".join(_CONTROLS.sub("", text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


class NSTError(ValueError):
    """Bad input or an unusable environment; ``str(err)`` is a one-line fix-it message."""

    def __init__(self, message=""):
        super().__init__(one_line(message))


#: What torch, the C allocator and CUDA / MPS say when memory runs out.
_OUT_OF_MEMORY = re.compile(
    r"out of memory|can't allocate memory|cannot allocate memory|not enough memory|"
    r"failed to allocate|std::bad_alloc",
    re.I,
)


def is_out_of_memory(err):
    """Whether ``err`` means the machine ran out of memory (``MemoryError``, ``torch.OutOfMemoryError``, or a
    ``RuntimeError`` from torch's allocator such as ``DefaultCPUAllocator: can't allocate memory``)."""
    if isinstance(err, MemoryError) or type(err).__name__ == "OutOfMemoryError":
        return True
    return isinstance(err, RuntimeError) and bool(_OUT_OF_MEMORY.search(str(err)[:2000]))


def out_of_memory_message(what="this run", advice="use a smaller size"):
    return f"out of memory in {what}: this machine has too little free memory for it; {advice}"


def memory_errors(what, advice="use a smaller size"):
    """Decorate an API entry point so that running out of memory anywhere inside it is an ``NSTError``
    (one line) instead of a ``MemoryError`` or torch's ``RuntimeError``; other exceptions pass."""

    def wrap(function):
        @functools.wraps(function)
        def entry(*args, **kwargs):
            try:
                return function(*args, **kwargs)
            except (MemoryError, RuntimeError) as err:
                if isinstance(err, NSTError) or not is_out_of_memory(err):
                    raise
                raise NSTError(out_of_memory_message(what, advice)) from None

        return entry

    return wrap
