"""Clips out: writing a painted clip (MP4 / MOV / AVI with OpenCV, animated GIF with Pillow, a folder
of PNG frames), checked before any work, and showing clips side by side in a notebook."""

import base64
import io

import numpy as np
import torch

from .. import files
from ..checks import check_number
from ..errors import NSTError
from ..images import load_image, to_pil
from .clips import opencv

#: Video files OpenCV writes here, with their codec; animated GIFs are written by Pillow.
WRITE_SUFFIXES = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".avi": "MJPG", ".gif": None}

def _as_frames(frames):
    """A list of checked 1x3xHxW pictures (NaN, out-of-range values and non-pictures are refused)."""
    if hasattr(frames, "frames"):  # a Clip or a VideoResult
        frames = frames.frames
    if torch.is_tensor(frames):
        if frames.dim() != 4 or frames.shape[1] != 3 or frames.shape[0] == 0:
            raise NSTError(f"frames have shape {tuple(frames.shape)}: expected Tx3xHxW with at least one frame")
        frames = [frames[t:t + 1] for t in range(frames.shape[0])]
    elif isinstance(frames, (list, tuple)):
        frames = list(frames)
    else:
        raise NSTError(f"frames must be a Tx3xHxW tensor, a list of pictures, a Clip or a VideoResult, not "
                       f"{type(frames).__name__}")
    if not frames:
        raise NSTError("no frames to write: give at least one")
    return [load_image(f, what=f"frame {t + 1}") for t, f in enumerate(frames)]


def video_format(path):
    """The writer for ``path``: ".gif" (Pillow), ".mp4"/".m4v"/".mov"/".avi" (OpenCV), or "folder"
    (a name without an ending, or an existing folder: numbered PNG files)."""
    path = files.as_path(path, "video output")
    if files.is_dir(path, "video output") or path.suffix == "":
        return "folder"
    suffix = path.suffix.lower()
    if suffix not in WRITE_SUFFIXES:
        raise NSTError(f"cannot write a clip as {str(path)[:80]!r}: end the name in {', '.join(WRITE_SUFFIXES)}, or "
                       f"give a folder name for PNG frames")
    return suffix


def check_clip_output(path, count, protect=(), overwrite=False):
    """Check, before any work, that a clip of ``count`` frames can be written to ``path`` without
    replacing a file in ``protect`` (or any file, without ``overwrite``); returns (kind, names): the
    writer (see ``video_format``) and, for a folder, the frame files it will write."""
    kind = video_format(path)
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
    pictures[0].save(buf, format="GIF", save_all=True, append_images=pictures[1:], loop=0,
                     duration=max(20, round(1000 / fps)), disposal=1)
    return buf.getvalue()


def write_clip(frames, path, fps=10.0, overwrite=False, protect=()):
    """Write ``frames`` (Tx3xHxW, a list of 1x3xHxW, a ``Clip`` or ``VideoResult``) to ``path``:
    an MP4 / MOV / AVI video, an animated GIF, or a folder of PNG files ``frame_0001.png`` ...

    Never replaces a file in ``protect`` (the inputs); an existing output only with ``overwrite``.
    The file is written under a temporary name and moved into place when complete.
    """
    fps = check_number(fps, "fps", above=0, maximum=1000)
    frames = _as_frames(frames)
    kind, names = check_clip_output(path, len(frames), protect, overwrite)
    path = files.as_path(path, "video output")
    if kind == "folder":
        from ..images import save_image

        try:
            path.mkdir(exist_ok=True)
        except OSError as err:
            raise NSTError(f"cannot create folder {str(path)[:80]!r} ({err.strerror}): choose another name") from None
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
        cells.append(f'<figure style="{box};margin:4px 8px;text-align:center">'
                     f'<figcaption style="font-size:14pt">{_escape(caption)}</figcaption>'
                     f'<img src="data:image/gif;base64,{data}" style="width:100%" alt="{_escape(caption)}"></figure>')
    return '<div style="display:flex;flex-wrap:wrap;align-items:flex-end">' + "".join(cells) + "</div>"


def show_clips(clips, fps=10.0, width=None):
    """Show clips side by side as looping animations in a notebook (see ``clips_html``)."""
    from IPython.display import HTML, display

    display(HTML(clips_html(clips, fps, width)))


def _escape(text):
    import html

    return html.escape(str(text), quote=True)
