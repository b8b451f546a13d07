"""Bad, odd and extreme input, class by class: one clear line, a non-zero exit, before the long work,
and nothing lost. CLI cases run ``main`` in-process (and a few in a subprocess); API cases expect ``NSTError``."""

import hashlib
import os
import re
import signal
import struct
import subprocess
import sys
import time
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

import nst_helpers as nst
from nst_helpers import files
from nst_helpers.cli import main

FAST = ["--weights", "random", "--size", "32", "--steps", "2", "--quiet"]


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _one_error_line(capsys):
    err = [line for line in capsys.readouterr().err.strip().splitlines() if "randomly initialised" not in line]
    assert len(err) == 1, err
    assert err[0].startswith("nst_helpers: error: ") and "Traceback" not in err[0]
    return err[0]


def _bomb_png(path, width, height):
    """A tiny PNG whose header claims ``width`` x ``height`` pixels (a decompression bomb)."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 10)) + chunk(b"IEND", b"")
    )
    return path


@pytest.fixture
def weights_file(tmp_path):
    path = tmp_path / "vgg.pth"
    torch.save(nst.weights.random_state_dict(), path)
    return path


# 1. Data loss --------------------------------------------------------------------------------
def test_no_output_or_report_may_be_a_file_the_run_reads(tiny_images, tmp_path, weights_file, capsys):
    c, s0, s1 = (str(tiny_images[k]) for k in ("content", "style0", "style1"))
    mask = tmp_path / "mask.png"
    Image.new("L", (48, 40), 255).save(mask)
    link = tmp_path / "link.png"
    link.symlink_to(tiny_images["style0"])
    before = {p: _digest(p) for p in tmp_path.iterdir() if p.is_file()}
    w = ["--weights", str(weights_file), "--size", "32", "--steps", "2", "--quiet", "--force"]
    cases = [
        [c, s0, "-o", str(weights_file), *w],  # the weights file as the output
        [c, s0, "-o", str(tmp_path / "o.png"), "--report", str(weights_file), *w],  # ... or the report
        [c, s0, "-o", str(tmp_path / "o.png"), "--report", c, *w],
        [c, s0, s1, "--mask", str(mask), "-o", str(mask), *w],
        [c, s0, "-o", str(link), *w],  # a link to an input
        [c, s0, "-o", str(tmp_path / "." / ".." / tmp_path.name / "content.png"), *w],
    ]
    for args in cases:
        assert main(args) == 2, args
        _one_error_line(capsys)
    assert {p: _digest(p) for p in tmp_path.iterdir() if p.is_file()} == before
    assert not (tmp_path / "o.png").exists()


def test_the_api_never_saves_over_an_input(model, tiny_images):
    r = nst.stylize(tiny_images["content"], tiny_images["style0"], model=model, size=32, steps=1, progress=False)
    before = _digest(tiny_images["content"])
    with pytest.raises(nst.NSTError, match="reads"):
        r.save(tiny_images["content"])
    assert _digest(tiny_images["content"]) == before


def test_an_interrupted_write_leaves_the_old_file_and_no_temporary_file(tmp_path):
    target = tmp_path / "out.png"
    target.write_bytes(b"old")
    (tmp_path / ".out.png.tmp").write_bytes(b"a user's file with the old fixed temporary name")

    def write(fh):
        fh.write(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        files.atomic_write(target, write)
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.png.tmp", "out.png"]
    assert (tmp_path / ".out.png.tmp").read_bytes().startswith(b"a user's file")


def _signal_a_long_run(tiny_images, out, signum):
    """Start a practically endless run in a subprocess, send it ``signum`` once its progress bar shows that the
    optimisation runs (however long a loaded machine takes to get there); (exit code, stderr)."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "nst_helpers",
            str(tiny_images["content"]),
            str(tiny_images["style0"]),
            "-o",
            str(out),
            "--weights",
            "random",
            "--size",
            "32",
            "--steps",
            "100000",
        ],
        stderr=subprocess.PIPE,
    )
    seen, deadline = bytearray(), time.time() + 300
    while (
        not re.search(rb"style transfer:[^|]*\|[^|]*\| *[1-9]", bytes(seen))
        and proc.poll() is None
        and time.time() < deadline
    ):
        seen += os.read(proc.stderr.fileno(), 4096)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=120)
    return proc.returncode, (bytes(seen) + err).decode(errors="replace")


@pytest.mark.slow
def test_sigterm_during_a_run_saves_the_best_picture_and_removes_temporaries(tiny_images, tmp_path):
    out = tmp_path / "o.png"
    code, err = _signal_a_long_run(tiny_images, out, signal.SIGTERM)
    assert code == 143, err
    assert "Traceback" not in err and Image.open(out).size == (32, 27)
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []


# 2. Formats Pillow can only read -------------------------------------------------------------
@pytest.mark.parametrize("ext", [".psd", ".xbm", ".fits", ".xyz", ""])
def test_outputs_must_be_formats_pillow_writes_rgb_to(tiny_images, tmp_path, capsys, ext):
    assert main([str(tiny_images["content"]), str(tiny_images["style0"]), "-o", str(tmp_path / f"o{ext}"), *FAST]) == 2
    assert ".png or .jpg" in _one_error_line(capsys)
    with pytest.raises(nst.NSTError, match=".png or .jpg"):
        nst.save_image(torch.rand(1, 3, 4, 4), tmp_path / f"x{ext}")
    assert list(tmp_path.glob("o*")) == []


def test_every_accepted_format_really_writes(tmp_path):
    formats = nst.images.writable_formats()
    assert {".png", ".jpg", ".webp", ".tif", ".bmp"} <= set(formats) and ".psd" not in formats
    for ext in formats:
        nst.save_image(torch.rand(1, 3, 20, 24), tmp_path / f"x{ext}")
        assert (tmp_path / f"x{ext}").stat().st_size > 0


# 3. Size and memory bombs --------------------------------------------------------------------
@pytest.mark.parametrize(
    "option",
    [
        ["--size", "100000"],
        ["--size", "99999x64"],
        ["--style-scale", "1000"],
        ["--size", "4096", "--style-scale", "4"],
        ["--size", "0"],
        ["--size", "-5"],
        ["--size", "abc"],
        ["--size", "32x32x3"],
        ["--steps", "10000000"],
    ],
)
def test_sizes_beyond_the_limits_are_refused_at_once(tiny_images, tmp_path, capsys, option):
    args = [
        str(tiny_images["content"]),
        str(tiny_images["style0"]),
        "-o",
        str(tmp_path / "o.png"),
        "--weights",
        "random",
        "--quiet",
        *option,
    ]
    t = time.perf_counter()
    assert main(args) == 2
    assert time.perf_counter() - t < 10
    _one_error_line(capsys)


def test_a_run_that_cannot_fit_in_memory_is_refused_before_it_starts(tiny_images, monkeypatch):
    monkeypatch.setattr(nst.memory, "available_bytes", lambda device: 2 * 2**30)
    with pytest.raises(nst.NSTError, match="GB of memory"):
        nst.stylize(tiny_images["content"], tiny_images["style0"], size=2048, weights="random", progress=False)
    assert (
        nst.memory.estimate_bytes(128, 128, ["conv_5"]) < 2 * 2**30 < nst.memory.estimate_bytes(2048, 2048, ["conv_5"])
    )


def test_decompression_bombs_are_refused_and_large_pictures_load_quietly(tmp_path, recwarn):
    bomb = _bomb_png(tmp_path / "bomb.png", 50000, 50000)
    with pytest.raises(nst.NSTError, match="decompression bomb"):
        nst.load_image(bomb, size=64)
    big = tmp_path / "big.jpg"
    Image.new("RGB", (10000, 9500), (120, 30, 200)).save(big, quality=50)  # 95 Mpx: past Pillow's warning
    t = nst.load_image(big, size=64)
    assert t.shape == (1, 3, 61, 64) and abs(t[0, 0].mean().item() - 120 / 255) < 0.02
    assert not [w for w in recwarn if "DecompressionBomb" in type(w.message).__name__]


def test_a_bomb_on_the_command_line_is_one_line(tmp_path, capsys):
    bomb = _bomb_png(tmp_path / "bomb.png", 60000, 60000)
    assert main([str(bomb), "starry_night", "-o", str(tmp_path / "o.png"), *FAST]) == 2
    assert "decompression bomb" in _one_error_line(capsys)


# 4. Paths ------------------------------------------------------------------------------------
def test_names_longer_than_the_system_allows(tiny_images, tmp_path, capsys):
    long = str(tmp_path / ("x" * 300 + ".png"))
    for args in (
        [long, str(tiny_images["style0"]), "-o", str(tmp_path / "o.png")],
        [str(tiny_images["content"]), str(tiny_images["style0"]), "-o", long],
        [
            str(tiny_images["content"]),
            str(tiny_images["style0"]),
            "-o",
            str(tmp_path / "o.png"),
            "--report",
            long + ".json",
        ],
        [str(tiny_images["content"]), str(tiny_images["style0"]), "-o", str(tmp_path / "o.png"), "--weights", long],
    ):
        assert main(args + ["--quiet", "--size", "32", "--steps", "1"]) == 2, args
        assert "longer than this system allows" in _one_error_line(capsys)
    with pytest.raises(nst.NSTError, match="longer than"):
        nst.load_image(long)


def test_odd_paths_get_one_line(tiny_images, tmp_path, capsys):
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    for args, message in (
        ([str(tmp_path / "loop"), "starry_night"], "loop"),
        ([str(tiny_images["content"]), "starry_night", "-o", ""], "empty"),
        ([str(tiny_images["content"]), "starry_night", "-o", str(tmp_path)], ""),
    ):
        assert main(args + FAST) == 2
        assert message in _one_error_line(capsys)


# 5. Devices and numbers ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "option, message",
    [
        (["--device", "meta"], "unknown device"),
        (["--device", "xpu"], "unknown device"),
        (["--device", "cuda:99"], "cuda"),
        (["--device", "cpu:0"], "unknown device"),
        (["--random-seed", str(2**64)], "at most"),
        (["--random-seed", "-1"], "at least 0"),
        (["--random-seed", "1.5"], "whole number"),
        (["--style-weight", "1e308"], "at most"),
        (["--content-weight", "inf"], "finite"),
        (["--tv-weight", "1e400"], "finite"),
        (["--lr", "0"], "greater than 0"),
        (["--tol", "-1"], "at least 0"),
    ],
)
def test_devices_and_numbers_are_checked_before_any_work(tiny_images, tmp_path, capsys, option, message):
    assert (
        main([str(tiny_images["content"]), str(tiny_images["style0"]), "-o", str(tmp_path / "o.png"), *FAST, *option])
        == 2
    )
    assert message in _one_error_line(capsys)
    assert not (tmp_path / "o.png").exists()


def test_blend_weights_whose_sum_overflows_are_fine(tiny_images, tmp_path):
    assert (
        main(
            [
                str(tiny_images["content"]),
                str(tiny_images["style0"]),
                str(tiny_images["style1"]),
                "--blend",
                "1e308",
                "1e308",
                "-o",
                str(tmp_path / "o.png"),
                *FAST,
            ]
        )
        == 0
    )


@pytest.mark.parametrize("poison", [float("nan"), float("inf")])
def test_weights_files_with_non_finite_values_are_refused(tmp_path, poison):
    state = nst.weights.random_state_dict()
    state["features.10.weight"] = state.pop("10.weight")
    state["features.10.weight"][0, 0, 0, 0] = poison
    path = tmp_path / "bad.pth"
    torch.save({f"features.{k}" if not k.startswith("features.") else k: v for k, v in state.items()}, path)
    with pytest.raises(nst.NSTError, match="NaN or infinite"):
        nst.load_vgg19(str(path), device="cpu")


# 6. Signals ----------------------------------------------------------------------------------
@pytest.mark.slow
def test_ctrl_c_during_the_run_saves_and_exits_130(tiny_images, tmp_path):
    out = tmp_path / "o.png"
    code, err = _signal_a_long_run(tiny_images, out, signal.SIGINT)
    assert code == 130 and "Traceback" not in err
    assert "saved the best picture" in err and out.exists()


@pytest.mark.slow
def test_ctrl_c_while_importing_prints_no_traceback(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "nst_helpers", "--help"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    time.sleep(0.3)  # torch is still loading
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert "Traceback" not in err
    assert proc.returncode in (0, 130)  # 0 only if it had already printed the help


def test_help_states_the_limits_and_exit_codes(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    assert "16..4096 px" in text and "130 interrupted" in text and "--random-seed" in text


# 7. The Python API ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "content, message",
    [
        (np.zeros((32, 32, 3), np.uint8), "numpy array"),
        (5, "not int"),
        (None, "bundled cat"),
        (torch.zeros(1, 3, 0, 32), "no pixels"),
        (torch.full((1, 3, 32, 32), float("nan")), "NaN"),
        (torch.zeros(2, 3, 32, 32), "1x3xHxW"),
        (torch.zeros(1, 1, 32, 32), "1x3xHxW"),
        (torch.full((1, 3, 32, 32), 200.0), "divide 0..255"),
        (torch.zeros(1, 3, 32, 32, dtype=torch.bool), "dtype"),
    ],
)
def test_bad_images_in_the_api(model, content, message):
    if content is None:  # None is the bundled example: no error, shown here to document it
        assert nst.stylize(None, "starry_night", model=model, size=32, steps=1, progress=False).image.shape[0] == 1
        return
    with pytest.raises(nst.NSTError, match=message):
        nst.stylize(content, "starry_night", model=model, size=32, steps=1, progress=False)


def test_a_uint8_tensor_is_converted_not_clamped_to_white(model):
    photo = (torch.rand(1, 3, 32, 32) * 255).to(torch.uint8)
    loaded = nst.load_image(photo)
    assert torch.allclose(loaded, photo.float() / 255)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(size="abc"), "number"),
        (dict(size=-4), "at least 16"),
        (dict(size=(32,)), "pair"),
        (dict(size=1e9), "at most 4096"),
        (dict(multiscale=[(8, 5), (32, 5)]), "at least 16"),
        (dict(size=32, multiscale=[(16, 5), (32, 5)], style_layers=["pool4"]), "too small"),
        (dict(steps=2.5), "whole number"),
        (dict(blend="0.5"), "list"),
        (dict(style_weight="lots"), "number"),
        (dict(content_layers="conv_99"), "unknown VGG19 layer"),
        (dict(balance_styles="yes"), "balance_styles must be one of none, static, dynamic"),
        (dict(device="meta"), "unknown device"),
        (dict(weights=42), "file path"),
        (dict(precision="float16"), "unknown precision"),
        (dict(precision=16), "unknown precision"),
        (dict(precision=["bfloat16"]), "unknown precision"),
    ],
)
def test_bad_arguments_in_the_api(model, tiny_images, kwargs, message):
    kw = {"model": model, "size": 32, "steps": 1, "progress": False, **kwargs}
    if "device" in kwargs or "weights" in kwargs:
        kw.pop("model")
    with pytest.raises(nst.NSTError, match=message):
        nst.stylize(tiny_images["content"], tiny_images["style0"], **kw)


def test_the_objective_must_be_finite_at_the_start():
    def overflowing(image):
        total = image.sum() * 1e38 * 1e38
        return total, {"content": 0.0, "style": total.item(), "tv": 0.0, "total": total.item()}

    with pytest.raises(nst.NSTError, match="not finite at the start"):
        nst.optimize_image(overflowing, torch.rand(1, 3, 8, 8), steps=3, progress=False)


# 8. Warnings are one line --------------------------------------------------------------------
def test_warnings_reach_a_cli_user_as_one_line(tiny_images, tmp_path, capsys, monkeypatch):
    import warnings

    def noisy(*args, **kwargs):
        warnings.warn("something odd\nover two lines", RuntimeWarning, stacklevel=2)
        raise nst.NSTError("stop here")

    monkeypatch.setattr(nst.prepare.RunSetup, "load_images", noisy)
    assert main([str(tiny_images["content"]), str(tiny_images["style0"]), "-o", str(tmp_path / "o.png"), *FAST]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if "randomly" not in line]
    assert err == ["nst_helpers: warning: something odd over two lines", "nst_helpers: error: stop here"]
