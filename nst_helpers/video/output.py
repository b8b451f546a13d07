"""Clips out: writing a painted clip (MP4 / MOV / AVI with OpenCV, animated GIF with Pillow, a folder
of PNG frames), checked before any work, and showing clips side by side in a notebook."""

import base64
import io
import os
import tempfile

import numpy as np
import torch

from .. import files
from ..checks import check_number
from ..errors import NSTError, memory_errors
from ..images import check_finite, load_image, to_pil
from .clips import opencv

#: Video files OpenCV writes here, with their codec; animated GIFs are written by Pillow.
WRITE_SUFFIXES = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".avi": "MJPG", ".gif": None}
#: A GIF shows each frame for a whole number of hundredths of a second, at most 65535 of them, and browsers
#: show frames shorter than 20 ms at 100 ms: its frame times are kept in this range.
GIF_MIN_MS, GIF_MAX_MS = 20, 655350


def _as_frames(frames):
    """A list of checked 1x3xHxW pictures (NaN, out-of-range values and non-pictures are refused)."""
    if hasattr(frames, "frames"):  # a Clip or a VideoResult
        frames = frames.frames
    if torch.is_tensor(frames):
        if frames.dim() != 4 or frames.shape[1] != 3 or frames.shape[0] == 0:
            raise NSTError(f"frames have shape {tuple(frames.shape)}: expected Tx3xHxW with at least one frame")
        frames = [frames[t : t + 1] for t in range(frames.shape[0])]
    elif isinstance(frames, (list, tuple)):
        frames = list(frames)
    else:
        raise NSTError(
            f"frames must be a Tx3xHxW tensor, a list of pictures, a Clip or a VideoResult, not {type(frames).__name__}"
        )
    if not frames:
        raise NSTError("no frames to write: give at least one")
    checked = []
    for t, f in enumerate(frames):
        check_finite(f, f"frame {t + 1}")
        checked.append(load_image(f, what=f"frame {t + 1}"))
    return checked


def video_format(path):
    """The writer for ``path``: ".gif" (Pillow), ".mp4"/".m4v"/".mov"/".avi" (OpenCV), or "folder"
    (a name without an ending, or an existing folder: numbered PNG files)."""
    path = files.as_path(path, "video output")
    if files.is_dir(path, "video output") or path.suffix == "":
        return "folder"
    suffix = path.suffix.lower()
    if suffix not in WRITE_SUFFIXES:
        raise NSTError(
            f"cannot write a clip as {str(path)[:80]!r}: end the name in {', '.join(WRITE_SUFFIXES)}, or "
            f"give a folder name for PNG frames"
        )
    return suffix


def check_fps(fps, kind):
    """``fps`` as a float, if a clip of that kind (see ``video_format``) can be written at that rate; else
    one ``NSTError`` line that says what rates work. Checked before any frame is painted: a GIF holds
    frame times from 20 ms to 655 s; for a video file, OpenCV's writer is opened once at that rate on a
    tiny file in a temporary folder (its codecs refuse rates they cannot store)."""
    fps = check_number(fps, "fps", above=0, maximum=1000)
    if kind == ".gif":
        if round(1000 / fps) > GIF_MAX_MS:
            raise NSTError(
                f"fps {fps:g} would show each frame of a GIF for {1 / fps:.0f} s, longer than a GIF "
                f"can ({GIF_MAX_MS / 1000:g} s): give fps (--fps) {1000 / GIF_MAX_MS:.4f} or more"
            )
        return fps
    if kind in WRITE_SUFFIXES:
        if not _opencv_writes(kind, fps):
            if _opencv_writes(kind, 10.0):
                raise NSTError(
                    f"OpenCV cannot write {kind} files at {fps:g} frames per second: give fps (--fps) "
                    f"from 0.01 to 1000, or write a .gif"
                )
            raise NSTError(f"OpenCV cannot write {kind} files here: write a .gif or a folder of frames instead")
    return fps


def _opencv_writes(kind, fps, size=(16, 16)):
    """Whether OpenCV opens a ``kind`` writer at ``fps`` (tried on a file in a temporary folder)."""
    cv2 = opencv()
    try:
        with tempfile.TemporaryDirectory(prefix="nst_fps_") as folder:
            fourcc = cv2.VideoWriter_fourcc(*WRITE_SUFFIXES[kind])
            writer = cv2.VideoWriter(os.path.join(folder, "probe" + kind), fourcc, float(fps), size)
            try:
                return bool(writer.isOpened())
            finally:
                writer.release()
    except OSError:  # no temporary folder: the writer itself will tell
        return True
    except cv2.error:
        return False


def check_clip_output(path, count, protect=(), overwrite=False, fps=None):
    """Check, before any work, that a clip of ``count`` frames can be written to ``path`` (at ``fps``, if
    given: ``check_fps``) without replacing a file in ``protect`` (or any file, without ``overwrite``);
    returns (kind, names): the writer (see ``video_format``) and, for a folder, the frame files it will write."""
    kind = video_format(path)
    if fps is not None:
        check_fps(fps, kind)
    path = files.as_path(path, "video output")
    if kind != "folder":
        return kind, [files.check_output(path, protect, overwrite, "video output")]
    if any(files.same_file(path, p) for p in protect):
        raise NSTError(f"output folder {str(path)[:80]!r} is an input of this run: choose another folder")
    names = [path / f"frame_{t + 1:04d}.png" for t in range(count)]
    if files.is_dir(path, "video output"):
        for name in names:
            files.check_output(name, protect, overwrite, "frame")
    elif files.exists(path, "video output"):
        raise NSTError(f"{str(path)[:80]!r} is a file: give a folder name (or a name ending in .mp4 or .gif)")
    else:
        files.check_output(path, protect, overwrite, "video output")  # its parent folder must exist
    return kind, names


def gif_bytes(frames, fps=10.0):
    """An animated GIF (bytes, looping) of ``frames``."""
    pictures = [to_pil(f) for f in _as_frames(frames)]
    buf = io.BytesIO()
    pictures[0].save(
        buf,
        format="GIF",
        save_all=True,
        append_images=pictures[1:],
        loop=0,
        duration=min(GIF_MAX_MS, max(GIF_MIN_MS, round(1000 / fps))),
        disposal=1,
    )
    return buf.getvalue()


@memory_errors("writing the clip", "write fewer or smaller frames")
def write_clip(frames, path, fps=10.0, overwrite=False, protect=()):
    """Write ``frames`` (Tx3xHxW, a list of 1x3xHxW, a ``Clip`` or ``VideoResult``) to ``path``:
    an MP4 / MOV / AVI video, an animated GIF, or a folder of PNG files ``frame_0001.png`` ...

    Never replaces a file in ``protect`` (the inputs), nor the file a ``Clip`` was read from or a
    ``VideoResult``'s inputs; an existing output only with ``overwrite``. Every frame and ``fps`` are
    checked before anything is written (``check_fps``; NaN frames are refused). The file is written
    under a temporary name and moved into place when complete; a folder of frames is written as a
    whole, with Ctrl-C held until the last frame is in place.
    """
    protect = tuple(p for p in (*protect, getattr(frames, "source", None), *getattr(frames, "inputs", ())) if p)
    kind = video_format(path)
    fps = check_fps(fps, kind)
    frames = _as_frames(frames)
    kind, names = check_clip_output(path, len(frames), protect, overwrite)
    path = files.as_path(path, "video output")
    if kind == "folder":
        from ..images import save_image

        with files.signals_held():  # every frame, or (on an error) the frames written so far and a message
            try:
                path.mkdir(exist_ok=True)
            except OSError as err:
                raise NSTError(
                    f"cannot create folder {str(path)[:80]!r} ({err.strerror}): choose another name"
                ) from None
            for name, frame in zip(names, frames):
                save_image(frame, name, overwrite=overwrite, protect=protect)
        return path
    path = files.check_output(path, protect, overwrite, "video output")
    if kind == ".gif":
        data = gif_bytes(frames, fps)
        return files.atomic_write(path, lambda fh: fh.write(data), replace=overwrite)
    cv2 = opencv()
    h, w = frames[0].shape[-2:]
    if any(f.shape[-2:] != (h, w) for f in frames):
        raise NSTError("the frames differ in size: give frames of one size")

    def write(name):
        writer = cv2.VideoWriter(name, cv2.VideoWriter_fourcc(*WRITE_SUFFIXES[kind]), float(fps), (w, h))
        if not writer.isOpened():
            raise NSTError(f"OpenCV cannot write {kind} files here: write a .gif or a folder of frames instead")
        try:
            for f in frames:
                rgb = np.asarray(to_pil(f))
                writer.write(np.ascontiguousarray(rgb[:, :, ::-1]))
        finally:
            writer.release()

    return files.atomic_write(path, write, replace=overwrite, by_name=True)


def clips_html(clips, fps=10.0, width=None):
    """HTML showing clips side by side as looping GIFs, each with its caption above: ``clips`` maps a
    caption to frames (Tx3xHxW, a ``Clip`` or ``VideoResult``). ``width``: each clip's width in px;
    by default the clips share one row, each between 160 and 480 px wide, growing with the page.
    Display it with ``IPython.display.HTML``."""
    cells = []
    for caption, frames in clips.items():
        rate = getattr(frames, "fps", fps)
        pictures = _as_frames(frames)
        data = base64.b64encode(gif_bytes(pictures, rate)).decode("ascii")
        box = f"width:{int(width)}px" if width else "flex:1 1 0;min-width:160px;max-width:480px"
        cells.append(
            f'<figure style="{box};margin:4px 8px;text-align:center">'
            f'<figcaption style="font-size:14pt">{_escape(caption)}</figcaption>'
            f'<img src="data:image/gif;base64,{data}" style="width:100%" alt="{_escape(caption)}"></figure>'
        )
    return '<div style="display:flex;flex-wrap:wrap;align-items:flex-end">' + "".join(cells) + "</div>"


def show_clips(clips, fps=10.0, width=None):
    """Show clips side by side as looping animations in a notebook (see ``clips_html``)."""
    from IPython.display import HTML, display

    display(HTML(clips_html(clips, fps, width)))


def _escape(text):
    import html

    return html.escape(str(text), quote=True)
