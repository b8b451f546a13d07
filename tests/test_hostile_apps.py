"""Hostile inputs, second round (issue 32): train, apply and video held to the promise stylize keeps.

Bad input gets one line, ``nst_helpers: error: ...`` on stderr and exit status 2, before any work, and no
file of the user's is lost or changed. Class by class: 1 data loss through the API, 2 work done before the
input is checked, 3 sizes and memory, 4 files that are not regular files, 5 trusting what a file says,
6 signals, 7 one line means one line; then a fuzz test that feeds every command bad files and bad values.
CLI cases run ``main`` in-process (the signal tests that need a real process are marked slow)."""

import hashlib
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import threading
import time
import warnings
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

import nst_helpers as nst
from nst_helpers import feedforward as ff
from nst_helpers import files
from nst_helpers.cli import main
from nst_helpers.errors import NSTError, one_line

cv2 = pytest.importorskip("cv2")
from nst_helpers import video as V  # noqa: E402 -- needs OpenCV

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes (mkfifo) are POSIX only")
#: The line random weights print when VGG19 is loaded: information the user asked for, not an error.
RANDOM_NOTICE = "randomly initialised"


# ------------------------------------------------------------------------------------------------ helpers


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _bomb_png(path, width, height):
    """A tiny PNG whose header claims ``width`` x ``height`` pixels (a decompression bomb)."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 10)) + chunk(b"IEND", b"")
    )
    return path


def _photo(path, w=48, h=40, seed=0):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    arr = np.stack([x * 5, y * 6, (x + y) * 3], axis=-1) + rng.integers(0, 40, (h, w, 3))
    Image.fromarray(arr.clip(0, 255).astype(np.uint8)).save(path)
    return path


def _one_error_line(capsys):
    captured = capsys.readouterr()
    err = [line for line in captured.err.splitlines() if RANDOM_NOTICE not in line]
    assert len(err) == 1, err
    assert err[0].startswith("nst_helpers: error: ") and "Traceback" not in captured.err
    return err[0]


def _snapshot(folder):
    """{relative path: sha256 (files), 'dir', 'link:TARGET' or 'special'} of everything under ``folder``."""
    out = {}
    for root, dirs, names in os.walk(folder):
        for name in dirs + names:
            path = os.path.join(root, name)
            rel = os.path.relpath(path, folder)
            if os.path.islink(path):
                out[rel] = "link:" + os.readlink(path)
            elif os.path.isdir(path):
                out[rel] = "dir"
            elif os.path.isfile(path):
                with open(path, "rb") as fh:
                    out[rel] = hashlib.sha256(fh.read()).hexdigest()
            else:
                out[rel] = "special"
    return out


class FifoWatch:
    """Named pipes for the tests, and a watcher that frees a reader blocked on one (by opening the pipe for
    writing and closing it: the reader sees the end of the file) and records that it had to: a test that
    opened a pipe fails instead of hanging for ever."""

    def __init__(self):
        self.paths, self.rescued, self._stop = [], [], threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def make(self, path):
        os.mkfifo(path)
        self.paths.append(path)
        return path

    def _watch(self):
        while not self._stop.wait(0.5):
            for path in list(self.paths):
                try:
                    fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)  # succeeds only if a reader is waiting
                except OSError:
                    continue
                self.rescued.append(os.path.basename(path))
                os.close(fd)

    def close(self):
        self._stop.set()
        self._thread.join(5)


@pytest.fixture
def fifos():
    watch = FifoWatch()
    yield watch
    watch.close()
    assert watch.rescued == [], f"a reader blocked on the named pipes {watch.rescued}"


@pytest.fixture
def net_file(tmp_path):
    torch.manual_seed(0)
    return nst.save_network(ff.TransformNet(4, 1), tmp_path / "net.pt")


@pytest.fixture
def photos(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(3):
        _photo(folder / f"p{i}.png", 48, 40, i)
    _photo(tmp_path / "painting.png", 40, 40, 9)
    return folder


TINY = dict(network="small", width=4, depth=1, crop=32, style_size=32, batch_size=1, progress=False)


# 1. Data loss through the API ------------------------------------------------------------------------
def test_train_network_never_writes_its_checkpoint_over_a_file_it_reads(model, photos, tmp_path, monkeypatch):
    vgg = tmp_path / "vgg19.pth"
    vgg.write_bytes(b"the user's only copy of the weights")
    monkeypatch.setattr(model, "source", str(vgg))  # as if loaded from that file
    before = {p: _digest(p) for p in [vgg, tmp_path / "painting.png", *photos.iterdir()]}
    for target in (photos / "p1.png", vgg, tmp_path / "painting.png"):
        with pytest.raises(NSTError, match="reads"):
            ff.train_network(tmp_path / "painting.png", photos, model=model, steps=1, checkpoint=target, **TINY)
    with pytest.raises(NSTError, match="reads"):  # weights given by path, not as a model
        ff.train_network(tmp_path / "painting.png", photos, weights=vgg, steps=1, checkpoint=vgg, **TINY)
    result = ff.train_network(tmp_path / "painting.png", photos, model=model, steps=1, **TINY)
    for target in (photos / "p0.png", vgg):
        with pytest.raises(NSTError, match="reads"):
            result.save(target, overwrite=True)
    assert {p: _digest(p) for p in before} == before


def test_writing_a_clip_never_replaces_the_clip_it_was_read_from(tmp_path):
    source = V.write_clip(V.example_clip(3, 48), tmp_path / "clip.gif", fps=8)
    before = _digest(source)
    clip = V.read_clip(source)
    with pytest.raises(NSTError, match="reads"):
        V.write_clip(clip, source, overwrite=True)
    result = V.VideoResult(frames=clip.frames, method="independent", fps=8, inputs=(source,))
    with pytest.raises(NSTError, match="reads"):
        result.save(source, overwrite=True)
    frames = V.write_clip(clip, tmp_path / "frames", fps=8)
    again = V.read_clip(frames)
    with pytest.raises(NSTError, match="input"):
        V.write_clip(again, frames, overwrite=True)
    with pytest.raises(NSTError, match="folder this run reads"):  # a file inside a folder the run reads
        nst.save_image(again.frame(0), frames / "frame_0001.png", protect=[frames])
    assert _digest(source) == before


def test_apply_never_writes_over_the_network_or_a_photo(net_file, photos, tmp_path):
    net = nst.load_network(net_file)
    out = tmp_path / "painted"
    out.mkdir()
    inside = nst.save_network(ff.TransformNet(4, 1), out / "p0.png")  # a network file with a picture's name
    loaded = nst.load_network(inside)
    before = _digest(inside)
    with pytest.raises(NSTError, match="reads"):
        nst.apply_to_folder(loaded, photos, out, overwrite=True, progress=False)
    assert _digest(inside) == before and sorted(p.name for p in out.iterdir()) == ["p0.png"]
    with pytest.raises(NSTError, match="reads"):
        nst.apply_to_folder(net, photos, photos, overwrite=True, progress=False)


# 2. Work done before the input is checked ------------------------------------------------------------
@pytest.mark.parametrize("last", ["corrupt", "missing", "bomb", "tiny", "truncated"])
def test_apply_checks_every_photo_before_painting_the_first(net_file, photos, tmp_path, capsys, last):
    bad = photos / "z_last.png"
    if last == "corrupt":
        bad.write_bytes(b"not a picture")
    elif last == "bomb":
        _bomb_png(bad, 60000, 60000)
    elif last == "tiny":
        Image.new("RGB", (3, 3)).save(bad)
    elif last == "truncated":
        data = (photos / "p0.png").read_bytes()
        bad.write_bytes(data[: len(data) // 2])
    out = tmp_path / "painted"
    listed = sorted(photos.glob("p*.png")) + [bad]
    with pytest.raises(NSTError):
        nst.apply_to_folder(nst.load_network(net_file), listed, out, progress=False)
    assert not out.exists()  # nothing painted, no folder made
    assert main(["apply", str(net_file), *map(str, listed), "-o", str(out), "--quiet"]) == 2
    _one_error_line(capsys)
    assert not out.exists()


def test_apply_makes_no_folder_before_a_name_collision_is_found(net_file, photos, tmp_path, capsys):
    _photo(photos / "p0.jpg")
    out = tmp_path / "painted"
    assert main(["apply", str(net_file), str(photos), "-o", str(out)]) == 2
    assert "both be saved" in _one_error_line(capsys)
    assert not out.exists()


@pytest.mark.parametrize(
    "output, fps, message",
    [
        ("v.gif", "0.001", "longer than a GIF can"),
        ("v.mp4", "0.001", "frames per second"),
        ("v.avi", "0.0001", "frames per second"),
    ],
)
def test_video_checks_the_frame_rate_before_reading_or_painting(tmp_path, capsys, monkeypatch, output, fps, message):
    def never(*args, **kwargs):
        raise AssertionError("the clip was read or painted before --fps was checked")

    monkeypatch.setattr(V, "read_clip", never)
    monkeypatch.setattr(V, "stylize_video", never)
    assert (
        main(
            [
                "video",
                "camera_move",
                "starry_night",
                "-o",
                str(tmp_path / output),
                "--fps",
                fps,
                "--weights",
                "random",
                "--quiet",
            ]
        )
        == 2
    )
    assert message in _one_error_line(capsys)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(NSTError, match=message):
        V.write_clip(torch.rand(2, 3, 16, 16), tmp_path / output, fps=float(fps))
    assert list(tmp_path.iterdir()) == []


def test_video_refuses_to_write_over_its_clip_before_reading_it(tmp_path, capsys, monkeypatch):
    clip = V.write_clip(V.example_clip(3, 48), tmp_path / "clip.gif", fps=8)
    before = _digest(clip)
    monkeypatch.setattr(V, "read_clip", lambda *a, **k: pytest.fail("the clip was read first"))
    assert main(["video", str(clip), "starry_night", "-o", str(clip), "--force", "--weights", "random"]) == 2
    assert "reads" in _one_error_line(capsys)
    assert _digest(clip) == before


# 3. Sizes and memory --------------------------------------------------------------------------------
@pytest.mark.parametrize("side", [1, 2, 3, 15])
def test_tiny_photos_get_one_line(net_file, tmp_path, capsys, side):
    tiny = tmp_path / "tiny.png"
    Image.new("RGB", (side, side), (200, 30, 30)).save(tiny)
    assert main(["apply", str(net_file), str(tiny), "-o", str(tmp_path / "o.png")]) == 2
    assert f"{side}x{side} px, smaller than 16 px" in _one_error_line(capsys)
    assert not (tmp_path / "o.png").exists()


@pytest.mark.parametrize("side", [1, 2, 3, 4, 7])
def test_the_network_pads_any_picture_safely(side):
    assert ff.TransformNet(4, 1)(torch.rand(1, 3, side, side + 1)).shape == (1, 3, side, side + 1)


def test_apply_estimates_memory_before_reading(net_file, tmp_path, capsys, monkeypatch):
    photo = _photo(tmp_path / "photo.png")
    monkeypatch.setattr(nst.memory, "available_bytes", lambda device: 2**30)
    monkeypatch.setattr(ff.network, "load_image", lambda *a, **k: pytest.fail("read before the memory check"))
    assert main(["apply", str(net_file), str(photo), "-o", str(tmp_path / "o.png"), "--size", "4096"]) == 2
    assert "GB of memory" in _one_error_line(capsys)
    assert not (tmp_path / "o.png").exists()


def test_a_large_jpeg_is_decoded_reduced(tmp_path):
    big = tmp_path / "big.jpg"
    Image.new("RGB", (6400, 4800), (120, 30, 200)).save(big, quality=50)  # 31 Mpx
    img = nst.open_image(big, max_side=200)
    assert max(img.size) <= 1600  # JPEG draft: decoded at 1/4 or 1/8 scale, not 31 Mpx
    assert nst.load_image(big, max_side=200).shape == (1, 3, 150, 200)


@pytest.mark.parametrize(
    "error",
    [
        RuntimeError(
            "DefaultCPUAllocator: can't allocate memory: you tried to allocate "
            "8234567890 bytes. Error code 12 (Cannot allocate memory)"
        ),
        MemoryError(),
        torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2 GB"),
    ],
)
def test_running_out_of_memory_is_one_line_everywhere(net_file, tmp_path, capsys, monkeypatch, error):
    def exhausted(*args, **kwargs):
        raise error

    photo = _photo(tmp_path / "photo.png")
    net = nst.load_network(net_file)
    monkeypatch.setattr(ff.TransformNet, "forward", exhausted)
    with pytest.raises(NSTError, match="out of memory"):
        nst.apply_network(net, photo)
    assert main(["apply", str(net_file), str(photo), "-o", str(tmp_path / "o.png")]) == 2
    assert "out of memory" in _one_error_line(capsys)
    monkeypatch.setattr(nst.transfer, "optimize_image", exhausted)
    assert (
        main(
            [
                str(photo),
                "starry_night",
                "-o",
                str(tmp_path / "s.png"),
                "--weights",
                "random",
                "--size",
                "32",
                "--quiet",
            ]
        )
        == 2
    )
    assert "out of memory" in _one_error_line(capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.pt", "photo.png"]


def test_other_runtime_errors_are_not_disguised_as_memory(tmp_path, monkeypatch):
    monkeypatch.setattr(ff.TransformNet, "forward", lambda *a: (_ for _ in ()).throw(RuntimeError("a real bug")))
    with pytest.raises(RuntimeError, match="a real bug"):
        nst.apply_network(ff.TransformNet(4, 1), _photo(tmp_path / "p.png"))


def test_video_estimates_memory_before_reading_a_frame(tmp_path, capsys, monkeypatch):
    clip = V.write_clip(V.example_clip(3, 48), tmp_path / "clip.gif", fps=8)
    monkeypatch.setattr(nst.memory, "available_bytes", lambda device: 2**29)
    monkeypatch.setattr(V.clips, "load_image", lambda *a, **k: pytest.fail("a frame was read first"))
    assert (
        main(
            [
                "video",
                str(clip),
                "starry_night",
                "-o",
                str(tmp_path / "o.gif"),
                "--size",
                "4096",
                "--max-frames",
                "300",
                "--weights",
                "random",
                "--quiet",
            ]
        )
        == 2
    )
    assert "GB of memory" in _one_error_line(capsys)
    with pytest.raises(NSTError, match="GB of memory"):
        V.read_clip(clip, size=4096)


def test_a_size_that_leaves_a_side_too_short_says_which_and_what_to_give(tmp_path, capsys):
    clip = V.write_clip(torch.rand(2, 3, 48, 64), tmp_path / "clip.gif", fps=8)  # 4:3
    assert (
        main(
            [
                "video",
                str(clip),
                "starry_night",
                "-o",
                str(tmp_path / "o.gif"),
                "--size",
                "16",
                "--weights",
                "random",
                "--quiet",
            ]
        )
        == 2
    )
    line = _one_error_line(capsys)
    assert "height" in line and "16x12" in line and "21 or more" in line and "not 12" not in line
    assert nst.read_clip(clip, size=21).frames.shape[-2:] == (16, 21)


# 4. Files that are not regular files -------------------------------------------------------------------
@needs_fifo
def test_a_named_pipe_is_refused_as_every_kind_of_input(tmp_path, fifos, model):
    pipe = {ext: fifos.make(tmp_path / f"pipe{ext}") for ext in (".png", ".pt", ".pth", ".mp4", ".gif")}
    calls = {
        "image": lambda: nst.load_image(pipe[".png"]),
        "probe": lambda: nst.images.probe_image(pipe[".png"]),
        "mask": lambda: nst.stylize(
            "chelsea", ["starry_night", "the_scream"], mask=pipe[".png"], model=model, size=32, steps=1, progress=False
        ),
        "network": lambda: nst.load_network(pipe[".pt"]),
        "weights": lambda: nst.load_vgg19(str(pipe[".pth"]), device="cpu"),
        "video clip": lambda: nst.read_clip(pipe[".mp4"]),
        "animated clip": lambda: nst.read_clip(pipe[".gif"]),
        "training photo": lambda: ff.train_network("starry_night", [pipe[".png"]], model=model, steps=1, **TINY),
        "apply": lambda: nst.apply_network(ff.TransformNet(4, 1), pipe[".png"]),
    }
    for name, call in calls.items():
        with pytest.raises(NSTError, match="named pipe") as err:
            call()
        assert "\n" not in str(err.value), name


@needs_fifo
def test_a_named_pipe_on_the_command_line(tmp_path, fifos, capsys, net_file):
    pipe = fifos.make(tmp_path / "pipe.mp4")
    for args in (
        ["video", str(pipe), "starry_night", "-o", str(tmp_path / "o.gif")],
        ["apply", str(pipe), "chelsea", "-o", str(tmp_path / "o.png")],
        ["chelsea", "starry_night", "-o", str(tmp_path / "o.png"), "--weights", str(pipe)],
    ):
        assert main(args + ["--quiet"] + (["--weights", "random"] if args[0] == "video" else [])) == 2
        assert "named pipe" in _one_error_line(capsys)


# 5. Trusting what a file says ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "field, value",
    [
        ("steps", "ten"),
        ("steps", -3),
        ("steps", 2.5),
        ("width", "4.0"),
        ("width", 4.0),
        ("width", True),
        ("depth", "1"),
        ("style", ["a", "list"]),
        ("seconds", "x"),
        ("seconds", float("inf")),
        ("crop", 3),
        ("style_size", "128"),
        ("config", [1, 2]),
        ("lr", "fast"),
        ("batch_size", 0),
        ("version", True),
    ],
)
def test_network_metadata_is_checked_when_loaded(tmp_path, field, value):
    net = ff.TransformNet(4, 1)
    meta = {
        "format": ff.FILE_FORMAT,
        "version": ff.FILE_VERSION,
        "width": 4,
        "depth": 1,
        "steps": 10,
        "style": "starry night",
        field: value,
    }
    torch.save({"meta": meta, "state_dict": net.state_dict()}, tmp_path / "n.pt")
    with pytest.raises(NSTError, match="damaged metadata|file version") as err:
        nst.load_network(tmp_path / "n.pt")
    assert "\n" not in str(err.value)


def test_a_network_with_huge_finite_weights_is_refused_not_saved_black(tmp_path, capsys):
    net = ff.TransformNet(4, 1)
    with torch.no_grad():
        for p in net.parameters():
            p.fill_(1e30)
    path = nst.save_network(net, tmp_path / "huge.pt")
    photo = _photo(tmp_path / "photo.png")
    with pytest.raises(NSTError, match="NaN or infinite"):
        nst.load_network(path)
    with pytest.raises(NSTError, match="NaN or infinite"):
        nst.apply_network(net, photo)  # built in memory: the painted picture is checked
    assert main(["apply", str(path), str(photo), "-o", str(tmp_path / "o.png")]) == 2
    assert "NaN or infinite" in _one_error_line(capsys)
    assert not (tmp_path / "o.png").exists()


def test_every_writer_refuses_a_picture_with_nan(tmp_path):
    bad = torch.rand(1, 3, 16, 16)
    bad[0, 0, 0, 0] = float("nan")
    with pytest.raises(NSTError, match="diverged"):
        nst.save_image(bad, tmp_path / "x.png")
    with pytest.raises(NSTError, match="NaN"):
        V.write_clip(torch.cat([torch.rand(1, 3, 16, 16), bad]), tmp_path / "frames", fps=8)
    assert list(tmp_path.iterdir()) == []


# 6. Signals ---------------------------------------------------------------------------------------------
def test_a_save_finishes_before_ctrl_c_takes_effect(tmp_path):
    target = tmp_path / "out.bin"

    def write(fh):
        fh.write(b"first half, ")
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C in the middle of the write
        time.sleep(0.05)
        fh.write(b"second half")

    with pytest.raises(KeyboardInterrupt):
        files.atomic_write(target, write)
    assert target.read_bytes() == b"first half, second half"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def _fake_painting(monkeypatch, frames, interrupt):
    """``stylize_video`` replaced by one that returns ``frames`` (after a Ctrl-C of its own if ``interrupt``)."""

    def fake(clip, styles, config, video=None, **kwargs):
        result = V.VideoResult(
            frames=frames,
            method="independent",
            fps=8.0,
            steps=[1] * len(frames),
            seconds=[0.1] * len(frames),
            style_losses=[1.0] * len(frames),
            warping_error=0.1,
        )
        if interrupt:
            try:
                os.kill(os.getpid(), signal.SIGINT)  # the first Ctrl-C, while painting
                time.sleep(5)
            except KeyboardInterrupt:
                result.stopped = "interrupted"
        return result

    monkeypatch.setattr(V, "stylize_video", fake)


def _interrupt_the_first_save(monkeypatch):
    real, calls = nst.images.save_image, []

    def save(*args, **kwargs):
        if not calls:
            os.kill(os.getpid(), signal.SIGINT)  # a Ctrl-C a moment later, while the frames are being saved
            time.sleep(0.02)
        calls.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(nst.images, "save_image", save)
    return calls


def test_a_second_ctrl_c_while_the_frames_are_saved_loses_nothing(tmp_path, capsys, monkeypatch):
    _fake_painting(monkeypatch, torch.rand(3, 3, 24, 32), interrupt=True)
    calls = _interrupt_the_first_save(monkeypatch)
    out = tmp_path / "frames"
    assert (
        main(
            [
                "video",
                "camera_move",
                "starry_night",
                "-o",
                str(out),
                "--weights",
                "random",
                "--quiet",
                "--max-frames",
                "5",
            ]
        )
        == 130
    )
    err = capsys.readouterr().err
    assert "interrupted after 3 of 5 frames: saved them to" in err and "nothing was written" not in err
    assert "Traceback" not in err and len(calls) == 3
    assert sorted(p.name for p in out.iterdir()) == ["frame_0001.png", "frame_0002.png", "frame_0003.png"]


def test_a_ctrl_c_during_the_final_save_lets_it_finish_and_says_what_is_on_disk(tmp_path, capsys, monkeypatch):
    _fake_painting(monkeypatch, torch.rand(3, 3, 24, 32), interrupt=False)
    _interrupt_the_first_save(monkeypatch)
    out = tmp_path / "frames"
    assert (
        main(
            [
                "video",
                "camera_move",
                "starry_night",
                "-o",
                str(out),
                "--weights",
                "random",
                "--quiet",
                "--max-frames",
                "3",
            ]
        )
        == 130
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == f"nst_helpers: interrupted; 3 files were saved before it stopped (the last: {out}/frame_0003.png)"
    assert len(list(out.iterdir())) == 3
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # main restored it


def _run_and_interrupt_twice(args, bar, at_least, gap, timeout=600):
    """Run ``python -m nst_helpers ARGS``; once its progress bar ``bar`` (on stderr) counts ``at_least``, send
    SIGINT, then again after ``gap`` seconds. Returns (exit status, stderr)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "nst_helpers", *map(str, args)], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL
    )
    seen = bytearray()
    deadline = time.time() + timeout

    def counted():
        counts = re.findall(re.escape(bar) + rb":[^|]*\|[^|]*\| *(\d+)/\d+", bytes(seen))
        return max((int(n) for n in counts), default=0)

    while counted() < at_least and proc.poll() is None and time.time() < deadline:
        seen += os.read(proc.stderr.fileno(), 4096)
    assert proc.poll() is None, seen.decode(errors="replace")
    proc.send_signal(signal.SIGINT)
    time.sleep(gap)
    proc.send_signal(signal.SIGINT)
    _, rest = proc.communicate(timeout=timeout)
    return proc.returncode, (bytes(seen) + rest).decode(errors="replace")


@pytest.mark.slow
@pytest.mark.parametrize("gap", [0.005, 0.02])
def test_two_quick_ctrl_cs_during_a_clip_keep_the_painted_frames(tmp_path, gap):
    out = tmp_path / "frames"
    code, err = _run_and_interrupt_twice(
        [
            "video",
            "camera_move",
            "starry_night",
            "-o",
            out,
            "--weights",
            "random",
            "--size",
            "32",
            "--steps",
            "20",
            "--tol",
            "0",
            "--max-frames",
            "10",
        ],
        b"video (temporal)",
        2,
        gap,
    )
    assert code == 130, err
    assert "Traceback" not in err and "nothing was written" not in err and "Exception ignored" not in err, err
    assert "saved them to" in err
    painted = int(err.split("interrupted after ")[1].split(" of ")[0])
    assert painted >= 2 and len(list(out.glob("frame_*.png"))) == painted


@pytest.mark.slow
def test_two_quick_ctrl_cs_during_training_keep_a_usable_network(tmp_path):
    out = tmp_path / "n.pt"
    code, err = _run_and_interrupt_twice(
        [
            "train",
            "starry_night",
            "-o",
            out,
            "--weights",
            "random",
            "--width",
            "4",
            "--depth",
            "1",
            "--crop",
            "32",
            "--style-size",
            "32",
            "--steps",
            "100000",
            "--batch-size",
            "1",
            "--checkpoint-every",
            "100000",
        ],
        b"training",
        3,
        0.005,
    )
    assert code == 130 and "Traceback" not in err, err
    assert nst.load_network(out).meta["steps"] >= 3


# 7. One line means one line -------------------------------------------------------------------------------
def test_messages_are_one_printable_line():
    text = one_line("torch says \x1b[31mred\x1b[0m\nand\r\tmore\x07\x00 \u202eevil\u202c \x1b]0;title\x07end")
    assert text == "torch says red and more evil end" and one_line("a\x08b\x1b") == "ab"
    assert str(NSTError("two\nlines \x1b[1mbold\x1b[0m")) == "two lines bold"


def test_the_command_line_sanitises_errors_and_warnings_it_did_not_write(tiny_images, tmp_path, capsys, monkeypatch):
    def noisy(*args, **kwargs):
        warnings.warn("OpenCV: \x1b[33mwarning\x1b[0m\nsecond line", stacklevel=2)
        raise nst.NSTError("clip 'x' could not be read (\x1b[31mdecoder\x1b[0m said:\nbad\x07)")

    monkeypatch.setattr(nst.transfer, "start_run", noisy)
    assert (
        main(
            [
                str(tiny_images["content"]),
                str(tiny_images["style0"]),
                "-o",
                str(tmp_path / "o.png"),
                "--weights",
                "random",
                "--quiet",
            ]
        )
        == 2
    )
    err = [line for line in capsys.readouterr().err.splitlines() if RANDOM_NOTICE not in line]
    assert err == [
        "nst_helpers: warning: OpenCV: warning second line",
        "nst_helpers: error: clip 'x' could not be read (decoder said: bad)",
    ]


def test_training_photos_are_checked_before_training_with_one_line(model, photos, tmp_path, capsys):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "a.jpg").write_bytes(b"not a jpeg")
    (bad / "b.png").write_bytes(b"")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with pytest.raises(NSTError, match="none of the 2 training photos"):
            ff.train_network("starry_night", bad, model=model, steps=1, **TINY)
    assert seen == []  # no "skipping" lines before the error
    assert (
        main(
            [
                "train",
                "starry_night",
                "--images",
                str(bad),
                "-o",
                str(tmp_path / "n.pt"),
                "--weights",
                "random",
                "--quiet",
            ]
        )
        == 2
    )
    assert "none of the 2" in _one_error_line(capsys)
    with pytest.raises(NSTError, match="not found"):  # a missing photo in a list is an error, not a warning
        ff.train_network("starry_night", [photos / "p0.png", photos / "gone.png"], model=model, steps=1, **TINY)
    with pytest.warns(RuntimeWarning, match="skipping 1 of 4 training photos") as record:
        ff.train_network("starry_night", [*sorted(photos.iterdir()), bad / "a.jpg"], model=model, steps=1, **TINY)
    assert len([w for w in record if "training photo" in str(w.message)]) == 1


def test_torchscript_files_get_one_line_and_no_torch_warnings(tmp_path, capsys):
    class Double(torch.nn.Module):
        def forward(self, x):
            return x * 2

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.jit.save(torch.jit.script(Double()), str(tmp_path / "script.pt"))
    for args in (
        ["apply", str(tmp_path / "script.pt"), "chelsea", "-o", str(tmp_path / "o.png")],
        ["chelsea", "starry_night", "-o", str(tmp_path / "o.png"), "--weights", str(tmp_path / "script.pt")],
    ):
        assert main(args) == 2
        assert "TorchScript" in _one_error_line(capsys)


# 8. Fuzz: every command, every file and value argument ---------------------------------------------------
def _scripted():
    class Tiny(torch.nn.Module):
        def forward(self, x):
            return x * 2

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.jit.script(Tiny())


def _good_inputs(folder):
    """Small, valid inputs for every command: photos, paintings, a mask, a folder of photos, a network, a clip."""
    good = {
        "content": _photo(folder / "content.png"),
        "style": _photo(folder / "style.png", 40, 40, 1),
        "style2": _photo(folder / "style2.png", 40, 40, 2),
        "mask": folder / "mask.png",
    }
    Image.new("L", (48, 40), 255).save(good["mask"])
    good["photos"] = folder / "photos"
    good["photos"].mkdir()
    for i in range(2):
        _photo(good["photos"] / f"p{i}.png", 48, 40, 3 + i)
    torch.manual_seed(0)
    good["network"] = nst.save_network(ff.TransformNet(4, 1), folder / "net.pt")
    frames = [Image.fromarray(np.full((36, 48, 3), 40 * i + 60, np.uint8)) for i in range(3)]
    frames[0].save(folder / "clip.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    good["clip"] = folder / "clip.gif"
    return good


def _bad_files(folder, fifos):
    """{name: path}: files no command may accept as an input."""
    folder.mkdir()
    jpeg = folder / "whole.jpg"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)).save(jpeg, quality=90)
    data = jpeg.read_bytes()
    jpeg.unlink()
    bad = {}

    def put(name, content):
        bad[name] = folder / name
        bad[name].write_bytes(content)

    put("empty.jpg", b"")
    put("truncated.jpg", data[: len(data) // 3])
    put("text.jpg", b"hello, I am not a picture\n")
    put("empty.mp4", b"")
    put("text.mp4", b"\x1b[31mred text\x1b[0m and no video\n")
    bad["folder.jpg"] = folder / "folder.jpg"
    bad["folder.jpg"].mkdir()
    for name in ("loop.jpg", "loop.pt", "loop.gif"):
        (folder / name).symlink_to(folder / name)
        bad[name] = folder / name
    Image.new("RGB", (1, 1), (200, 10, 10)).save(folder / "dot.png")
    bad["dot.png"] = folder / "dot.png"
    bad["bomb.png"] = _bomb_png(folder / "bomb.png", 60000, 60000)
    torch.save([1, 2, 3], folder / "wrong.pt")
    bad["wrong.pt"] = folder / "wrong.pt"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.jit.save(_scripted(), str(folder / "script.pt"))
    bad["script.pt"] = folder / "script.pt"
    meta = {
        "format": ff.FILE_FORMAT,
        "version": ff.FILE_VERSION,
        "width": "4.0",
        "depth": 1,
        "steps": "ten",
        "style": ["a", "list"],
    }
    torch.save({"meta": meta, "state_dict": ff.TransformNet(4, 1).state_dict()}, folder / "badmeta.pt")
    bad["badmeta.pt"] = folder / "badmeta.pt"
    if fifos is not None:
        for name in ("fifo.jpg", "fifo.pt", "fifo.mp4", "fifo.gif"):
            bad[name] = fifos.make(folder / name)
    return bad


#: Values no numeric option takes; the first three run by default, the rest in the slow part.
BAD_VALUES = ["-1", "nan", "abc", "inf", "1e30", ""]
#: The numeric options of each command.
VALUE_OPTIONS = {
    "stylize": [
        "--size",
        "--steps",
        "--style-weight",
        "--content-weight",
        "--tv-weight",
        "--style-scale",
        "--tol",
        "--lr",
        "--random-seed",
    ],
    "train": [
        "--steps",
        "--batch-size",
        "--crop",
        "--style-size",
        "--lr",
        "--width",
        "--depth",
        "--seed",
        "--checkpoint-every",
        "--preview-every",
        "--style-weight",
    ],
    "apply": ["--size"],
    "video": ["--fps", "--max-frames", "--temporal-weight", "--size", "--steps", "--tol"],
}


def _commands(good, out):
    """{name: (args, {file argument: index in args, or None for an option})}: each command, tiny and fast."""
    fast = ["--weights", "random", "--quiet"]
    return {
        "stylize": (
            ["stylize", good["content"], good["style"], "-o", out / "o.png", "--size", "32", "--steps", "1", *fast],
            {"content": 1, "style": 2, "--weights": None},
        ),
        "stylize-mask": (
            [
                "stylize",
                good["content"],
                good["style"],
                good["style2"],
                "--mask",
                good["mask"],
                "-o",
                out / "o.png",
                "--size",
                "32",
                "--steps",
                "1",
                *fast,
            ],
            {"--mask": None},
        ),
        "train": (
            [
                "train",
                good["style"],
                "--images",
                good["photos"],
                "-o",
                out / "n.pt",
                "--width",
                "4",
                "--depth",
                "1",
                "--crop",
                "32",
                "--style-size",
                "32",
                "--batch-size",
                "1",
                "--steps",
                "1",
                *fast,
            ],
            {"style": 1, "--images": None, "--weights": None},
        ),
        "apply": (
            ["apply", good["network"], good["content"], "-o", out / "a.png", "--quiet"],
            {"network": 1, "photo": 2},
        ),
        "apply-many": (
            ["apply", good["network"], good["content"], good["style"], "-o", out / "painted", "--quiet"],
            {"photo": 3},
        ),
        "video": (
            [
                "video",
                good["clip"],
                good["style"],
                "-o",
                out / "v.gif",
                "--size",
                "32",
                "--steps",
                "1",
                "--max-frames",
                "3",
                *fast,
            ],
            {"clip": 1, "style": 2, "--weights": None},
        ),
    }


def _with(args, slot, value):
    new = list(args)
    if isinstance(slot, int):
        new[slot] = value
    elif slot in new:
        new[new.index(slot) + 1] = value
    else:
        new += [slot, value]
    return new


def fuzz_cases(good, bad, out, values=BAD_VALUES):
    """(args, label) for every command with one argument made bad."""
    cases = []
    for command, (args, slots) in _commands(good, out).items():
        for slot, index in slots.items():
            for name, path in bad.items():
                if slot == "--weights" and name.endswith((".png", ".mp4", ".gif")) and "fifo" not in name:
                    continue  # pictures and videos as the weights file: the .jpg ones are enough
                cases.append((_with(args, slot if index is None else index, path), f"{command} {slot}={name}"))
        for option in VALUE_OPTIONS.get(command, []):
            for value in values:
                cases.append((_with(args, option, value), f"{command} {option}={value!r}"))
    outputs = {
        "stylize": ["fifo.jpg", "loop.jpg", "folder.jpg"],
        "train": ["fifo.pt", "loop.pt"],
        "apply": ["fifo.jpg", "loop.jpg", "folder.jpg"],
        "video": ["fifo.gif", "loop.gif"],
    }
    for command, names in outputs.items():
        args = _commands(good, out)[command][0]
        for name in names:
            if name in bad:
                cases.append((_with(args, "-o", bad[name]) + ["--force"], f"{command} -o {name} --force"))
    return cases


def _keeps_the_promise(args, folder, capsys):
    """Run ``main(args)``; None if it kept the promise, else what went wrong (new files are removed)."""
    before = _snapshot(folder)
    capsys.readouterr()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            code = main([str(a) for a in args])
    except BaseException as err:  # noqa: B036 -- anything escaping main breaks the promise
        capsys.readouterr()
        return f"raised {type(err).__name__}: {one_line(err)[:150]}"
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if RANDOM_NOTICE not in line]
    problems = []
    if code != 2:
        problems.append(f"exit {code}")
    if len(lines) != 1 or not lines[0].startswith("nst_helpers: error: "):
        problems.append(f"stderr {lines[:3]!r}")
    elif lines[0] != one_line(lines[0]):
        problems.append(f"not one printable line: {lines[0]!r}")
    if "Traceback" in captured.err:
        problems.append("traceback")
    after = _snapshot(folder)
    if after != before:
        changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        problems.append(f"files changed: {changed}")
        for rel in sorted(set(after) - set(before), reverse=True):  # undo, so the next case starts clean
            path = os.path.join(folder, rel)
            os.rmdir(path) if after[rel] == "dir" else os.unlink(path)
    return "; ".join(problems) or None


def _fuzz(tmp_path, capsys, values, fifos):
    good = _good_inputs(tmp_path)
    bad = _bad_files(tmp_path / "bad", fifos)
    out = tmp_path / "out"
    out.mkdir()
    failures = []
    for args, label in fuzz_cases(good, bad, out, values):
        why = _keeps_the_promise(args, tmp_path, capsys)
        if why:
            failures.append(f"{label}: {why}")
    return failures


@pytest.mark.slow
def test_fuzz_every_command_with_bad_files_and_values(tmp_path, capsys):
    watch = FifoWatch() if hasattr(os, "mkfifo") else None
    try:
        failures = _fuzz(tmp_path, capsys, BAD_VALUES[:3], watch)
    finally:
        if watch:
            watch.close()
    assert not failures, "\n".join(failures)
    assert watch is None or watch.rescued == []


@pytest.mark.slow
def test_fuzz_the_rest_of_the_values_and_the_good_runs(tmp_path, capsys):
    """The other bad values, and each command's good run (what the fuzz changes one argument of) succeeding."""
    good = _good_inputs(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    failures = []
    for args, label in fuzz_cases(good, {}, out, BAD_VALUES[3:]):
        why = _keeps_the_promise(args, tmp_path, capsys)
        if why:
            failures.append(f"{label}: {why}")
    assert not failures, "\n".join(failures)
    for command, (args, _) in _commands(good, out).items():
        shutil.rmtree(out)
        out.mkdir()
        assert main([str(a) for a in args]) == 0, command
        assert "Traceback" not in capsys.readouterr().err
