"""Files in and out, safely: paths that may be odd, outputs that never replace an input, atomic writes.

Every file the package writes (pictures, reports, weights caches, trained models) goes through
``atomic_write``: the data goes to a uniquely named temporary file beside the target, which replaces
the target in one step (``os.replace``). An exception, Ctrl-C or SIGTERM during the write removes the
temporary file and leaves the old file as it was.
"""

import errno
import os
import tempfile
from pathlib import Path

from .errors import NSTError


def as_path(path, what="path"):
    """``path`` as a ``Path`` with ``~`` expanded; strings, bytes-free, non-empty."""
    if isinstance(path, bytes) or not isinstance(path, (str, os.PathLike)):
        raise NSTError(f"{what} must be a file path (a string), not {type(path).__name__}")
    text = os.fspath(path)
    if not str(text).strip():
        raise NSTError(f"{what} is empty: give a file name")
    if "\0" in str(text):
        raise NSTError(f"{what} {str(text)[:60]!r} contains a NUL character: give an ordinary file name")
    return Path(text).expanduser()


def _stat(path, what):
    """``os.stat`` or ``None`` if nothing is there; a name the system cannot take is an ``NSTError``."""
    try:
        return os.stat(path)
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        return None
    except OSError as err:
        if err.errno == errno.ENAMETOOLONG:
            raise NSTError(f"{what} {_short(path)} is longer than this system allows: use a shorter name") from None
        if err.errno == errno.ELOOP:
            raise NSTError(f"{what} {_short(path)} is a loop of symbolic links: give a real file") from None
        raise NSTError(f"cannot look at {what} {_short(path)} ({err.strerror}): check the path") from None


def exists(path, what="file"):
    """Whether something is at ``path`` (never raises ``OSError``; an impossible name is an ``NSTError``)."""
    return _stat(path, what) is not None


def is_dir(path, what="folder"):
    st = _stat(path, what)
    return st is not None and os.path.isdir(path)


def same_file(a, b):
    """Whether two paths name the same file (through links, ``..`` or hard links)."""
    try:
        if Path(a).resolve() == Path(b).resolve():
            return True
        return os.path.exists(a) and os.path.exists(b) and os.path.samefile(a, b)
    except (OSError, RuntimeError, ValueError):
        return False


def _short(path):
    text = str(path)
    return repr(text if len(text) <= 80 else text[:40] + "..." + text[-30:])


def check_output(path, inputs=(), overwrite=False, what="output"):
    """Refuse an output path that is an input, a folder, in a missing or unwritable folder, or (without
    ``overwrite``) an existing file. Returns the path. Checked before any long work."""
    path = as_path(path, what)
    for src in inputs:
        if src is not None and same_file(path, src):
            raise NSTError(f"{what} {_short(path)} is a file this run reads ({_short(src)}): choose another "
                           f"name (inputs are never overwritten)")
    folder = path.parent
    if not is_dir(folder, f"{what} folder"):
        raise NSTError(f"{what} folder {_short(folder)} does not exist: create it or choose another path")
    if is_dir(path, what):
        raise NSTError(f"{what} {_short(path)} is a folder: give a file name")
    if exists(path, what):
        if not overwrite:
            raise NSTError(f"{what} {_short(path)} already exists: pass --force (overwrite=True) to replace it, "
                           f"or choose another name")
        if not os.path.isfile(path):
            raise NSTError(f"{what} {_short(path)} is not an ordinary file: choose another name")
    if not _can_create(folder):
        raise NSTError(f"cannot write in {what} folder {_short(folder)}: choose a folder you can write to")
    return path


def _can_create(folder):
    """Whether a file can be created in ``folder`` (tried for real: permission bits do not tell root)."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def _new_file_mode(path):
    """The mode of the file being replaced, or what the umask gives a new file."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def atomic_write(path, write, replace=True, by_name=False):
    """Call ``write(binary_file)`` on a temporary file beside ``path``, then put it in ``path``'s place.
    With ``by_name``, ``write(temporary_path)`` instead, for writers that open a file by name (the
    temporary name ends like ``path``, so a writer that chooses a format by the ending still can).

    The temporary name is unique (``tempfile.mkstemp``), never a fixed name that could be a user's
    file. On any exception, KeyboardInterrupt included, it is removed and ``path`` is untouched.
    With ``replace=False`` a file that appeared at ``path`` meanwhile is never replaced (an
    ``NSTError``): the finished file is linked into place, which fails if the name is taken.
    """
    path = as_path(path)
    folder = path.parent
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:100]}.", suffix=".part" + (path.suffix if by_name else ""),
                                   dir=folder)
    except OSError as err:
        raise NSTError(f"cannot write in folder {_short(folder)} ({err.strerror}): choose a folder you can "
                       f"write to") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            if not by_name:
                write(fh)
        if by_name:
            write(tmp)
        os.chmod(tmp, _new_file_mode(path))  # mkstemp makes 0600; give the file the mode a new one would have
        if replace:
            os.replace(tmp, path)
        else:
            _link_new(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def _link_new(tmp, path):
    """Give the finished temporary file the name ``path`` only if no file has it."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise NSTError(f"{_short(path)} appeared while it was being written: nothing was replaced; choose "
                       f"another name") from None
    except OSError:  # a file system without hard links: check, then rename
        if exists(path):
            raise NSTError(f"{_short(path)} already exists: nothing was replaced; choose another name") from None
        os.replace(tmp, path)
        return
    os.unlink(tmp)


def free_path(path):
    """``path`` if no file has that name, else the first free ``NAME-2.EXT``, ``NAME-3.EXT``, ..."""
    path = as_path(path)
    n = 1
    candidate = path
    while exists(candidate) or is_dir(candidate):
        n += 1
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
    return candidate


def write_text(path, text):
    """Write a text file atomically (UTF-8)."""
    return atomic_write(path, lambda fh: fh.write(text.encode("utf-8")))
