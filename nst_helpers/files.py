"""Files in and out, safely: paths that may be odd, inputs that are regular files, outputs that never
replace an input, atomic writes, and saves that Ctrl-C cannot cut in half.

Every file the package reads (pictures, masks, network files, clips, weights) is first checked by
``input_file``: something that is not a regular file (a named pipe, a device, a socket) would block
or never end, so it is refused with one line before anything opens it.

Every file the package writes (pictures, reports, weights caches, trained models) goes through
``atomic_write``: the data goes to a uniquely named temporary file beside the target, which replaces
the target in one step (``os.replace``). Ctrl-C and SIGTERM are held while it writes (``signals_held``)
and take effect once the file is in place; an exception removes the temporary file and leaves the old
file as it was. ``written`` records what this process wrote, so an interrupted command can say what is
on disk.
"""

import contextlib
import errno
import os
import signal
import stat
import tempfile
import threading
from pathlib import Path

from .errors import NSTError

#: Every path ``atomic_write`` put in place in this process, in order (a path written again moves to the end).
written = {}


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


def _kind(mode):
    for test, name in (
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISDIR, "a folder"),
    ):
        if test(mode):
            return name
    return "not an ordinary file"


def input_file(path, what="file", missing="check the path", folder="give the path of a file"):
    """``path`` (as a ``Path``) if it names a regular file (through links), else one ``NSTError`` line.

    The one check before the package opens any file it reads: a missing file, a loop of links, a folder,
    and anything that is not a regular file (a named pipe would block the reader forever, a device never
    ends) are refused here, before Pillow, torch or OpenCV see the path. ``missing`` and ``folder`` say
    what to do in those two cases."""
    path = as_path(path, what)
    st = _stat(path, what)
    if st is None:
        raise NSTError(f"{what} {_short(path)} not found: {missing}")
    if stat.S_ISDIR(st.st_mode):
        raise NSTError(f"{what} {_short(path)} is a folder: {folder}")
    if not stat.S_ISREG(st.st_mode):
        raise NSTError(
            f"{what} {_short(path)} is {_kind(st.st_mode)}, not a regular file: give the path of an "
            f"ordinary file (it would never be read to its end)"
        )
    return path


def exists(path, what="file"):
    """Whether something is at ``path`` (never raises ``OSError``; an impossible name is an ``NSTError``)."""
    return _stat(path, what) is not None


def is_dir(path, what="folder"):
    st = _stat(path, what)
    return st is not None and os.path.isdir(path)


def same_file(a, b):
    """Whether two paths name the same file (through links, ``..`` or hard links); None is no file."""
    if a is None or b is None:
        return False
    try:
        if Path(a).resolve() == Path(b).resolve():
            return True
        return os.path.exists(a) and os.path.exists(b) and os.path.samefile(a, b)
    except (OSError, RuntimeError, ValueError):
        return False


def _short(path):
    text = str(path)
    return repr(text if len(text) <= 80 else text[:40] + "..." + text[-30:])


def check_not_input(path, inputs=(), what="output"):
    """Refuse ``path`` if it is one of ``inputs`` (through links, ``..`` and hard links), or an existing file
    inside an input that is a folder (a folder of photos or frames): inputs are never overwritten."""
    for src in inputs:
        if src is None:
            continue
        if same_file(path, src):
            raise NSTError(
                f"{what} {_short(path)} is a file this run reads ({_short(src)}): choose another "
                f"name (inputs are never overwritten)"
            )
        if os.path.isdir(src) and os.path.isfile(path) and same_file(Path(path).parent, src):
            raise NSTError(
                f"{what} {_short(path)} is a file in {_short(src)}, a folder this run reads: choose "
                f"another name (inputs are never overwritten)"
            )


def check_output(path, inputs=(), overwrite=False, what="output"):
    """Refuse an output path that is an input, a folder, in a missing or unwritable folder, or (without
    ``overwrite``) an existing file. Returns the path. Checked before any long work."""
    path = as_path(path, what)
    check_not_input(path, inputs, what)
    folder = path.parent
    if not is_dir(folder, f"{what} folder"):
        raise NSTError(f"{what} folder {_short(folder)} does not exist: create it or choose another path")
    if is_dir(path, what):
        raise NSTError(f"{what} {_short(path)} is a folder: give a file name")
    if exists(path, what):
        if not overwrite:
            raise NSTError(
                f"{what} {_short(path)} already exists: pass --force (overwrite=True) to replace it, "
                f"or choose another name"
            )
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
    file. On any exception it is removed and ``path`` is untouched. Ctrl-C and SIGTERM are held while
    the file is written and put in place (``signals_held``): they take effect after it.
    With ``replace=False`` a file that appeared at ``path`` meanwhile is never replaced (an
    ``NSTError``): the finished file is linked into place, which fails if the name is taken.
    """
    path = as_path(path)
    with signals_held():
        _atomic_write(path, write, replace, by_name)
        written.pop(str(path), None)
        written[str(path)] = True
    return path


def _atomic_write(path, write, replace, by_name):
    folder = path.parent
    try:
        fd, tmp = tempfile.mkstemp(
            prefix=f".{path.name[:100]}.", suffix=".part" + (path.suffix if by_name else ""), dir=folder
        )
    except OSError as err:
        raise NSTError(
            f"cannot write in folder {_short(folder)} ({err.strerror}): choose a folder you can write to"
        ) from None
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


@contextlib.contextmanager
def signals_held():
    """Hold Ctrl-C (SIGINT) and SIGTERM while the body runs, and deliver them when it has finished.

    The one helper every save goes through (``atomic_write``, and a clip's folder of frames as a whole):
    a signal that arrives during a save is recorded instead of interrupting it, and is raised again once
    the files are in place, so the handler in force (Python's ``KeyboardInterrupt``, the command line's own)
    then acts on it with the save complete. If the body fails, the held signals are dropped with it (the
    exception ends the run anyway). Python runs signal handlers in the main thread only, so elsewhere (and
    where signals cannot be handled) the body runs as it is. Nested holds deliver at the outermost end."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught = []

    def hold(signum, frame):
        caught.append(signum)

    previous = {}
    try:
        for signum in _HELD:
            previous[signum] = signal.signal(signum, hold)
    except (ValueError, OSError):  # an interpreter without signals: nothing to hold
        _restore(previous)
        yield
        return
    try:
        yield
    finally:
        _restore(previous)
    for signum in dict.fromkeys(caught):  # once each, in the order they came
        signal.raise_signal(signum)


_HELD = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM") if hasattr(signal, name))


def _restore(previous):
    for signum, handler in previous.items():
        signal.signal(signum, signal.SIG_DFL if handler is None else handler)


def _link_new(tmp, path):
    """Give the finished temporary file the name ``path`` only if no file has it."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise NSTError(
            f"{_short(path)} appeared while it was being written: nothing was replaced; choose another name"
        ) from None
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
