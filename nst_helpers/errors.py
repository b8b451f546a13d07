"""The one exception type the package raises for bad input.

Every message is a single line that says what is wrong and what to do about it, so the command
line can print it without a traceback and a notebook user can act on it.
"""


class NSTError(ValueError):
    """Bad input or an unusable environment; ``str(err)`` is a one-line fix-it message."""
