import hashlib
import json
import os
import subprocess
import sys

import pytest
from PIL import Image

from nst_helpers.cli import main

FAST = ["--weights", "random", "--size", "32", "--steps", "4", "--quiet"]


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.slow
def test_end_to_end_in_a_subprocess(tiny_images, tmp_path):
    out, report = tmp_path / "out.png", tmp_path / "report.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "nst_helpers",
            str(tiny_images["content"]),
            str(tiny_images["style0"]),
            str(tiny_images["style1"]),
            "--blend",
            "0.7",
            "0.3",
            "-o",
            str(out),
            "--report",
            str(report),
            *FAST,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert Image.open(out).size == (32, 27)
    data = json.loads(report.read_text())
    assert data["evaluations"] == 4 and data["size"] == [27, 32] and data["device"] == "cpu"
    assert data["seconds"] > 0 and data["peak_memory_mb"] > 100  # torch alone takes more
    assert set(data["losses"]) >= {"content", "style", "total"}
    assert data["config"]["blend"] == pytest.approx([0.7, 0.3])


def test_no_images_uses_the_bundled_example(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["-o", "cat.png", *FAST]) == 0
    assert Image.open(tmp_path / "cat.png").size == (32, 21)


@pytest.mark.slow
def test_options_reach_the_algorithm(tiny_images, tmp_path):
    report = tmp_path / "r.json"
    args = [
        str(tiny_images["content"]),
        str(tiny_images["style0"]),
        "-o",
        str(tmp_path / "o.jpg"),
        "--report",
        str(report),
        "--content-weight",
        "2",
        "--style-weight",
        "3e4",
        "--tv-weight",
        "5",
        "--init",
        "noise",
        "--optimizer",
        "adam",
        "--random-seed",
        "7",
        "--preserve-color",
        "histogram",
        "--style-scale",
        "0.5",
        "--pooling",
        "avg",
        "--preset",
        "gatys",
        "--precision",
        "bfloat16",
        *FAST,
    ]
    assert main(args) == 0
    cfg = json.loads(report.read_text())["config"]
    assert cfg["precision"] == "bfloat16"
    assert (cfg["content_weight"], cfg["style_weight"], cfg["tv_weight"]) == (2.0, 3e4, 5.0)
    assert (cfg["init"], cfg["optimizer"], cfg["random_seed"], cfg["pooling"]) == ("noise", "adam", 7, "avg")
    assert cfg["preserve_color"] == "histogram" and cfg["content_layers"] == ["relu4_2"]


def _bad_inputs(tiny_images, tmp_path):
    (tmp_path / "notes.txt").write_text("not an image")
    good = tmp_path / "big.jpg"
    Image.new("RGB", (64, 64), (200, 10, 10)).save(good)
    (tmp_path / "cut.jpg").write_bytes(good.read_bytes()[:300])
    existing = tmp_path / "mine.png"
    existing.write_bytes(b"my precious file")
    c, s = str(tiny_images["content"]), str(tiny_images["style0"])
    out = str(tmp_path / "o.png")
    return {
        "missing": ([str(tmp_path / "nope.jpg"), s, "-o", out], "not found"),
        "not an image": ([str(tmp_path / "notes.txt"), s, "-o", out], "not an image"),
        "truncated": ([str(tmp_path / "cut.jpg"), s, "-o", out], "truncated"),
        "too small": ([c, s, "-o", out, "--size", "3"], "at least 16"),
        "output is an input": ([c, s, "-o", c], "a file this run reads"),
        "output is the style": ([c, s, "-o", s, "--force"], "a file this run reads"),
        "no such folder": ([c, s, "-o", str(tmp_path / "no" / "o.png")], "does not exist"),
        "existing output": ([c, s, "-o", str(existing)], "--force"),
        "nan style weight": ([c, s, "-o", out, "--style-weight", "nan"], "finite"),
        "nan content weight": ([c, s, "-o", out, "--content-weight", "NaN"], "finite"),
        "nan blend": ([c, s, "-o", out, "--blend", "nan"], "finite"),
        "negative weight": ([c, s, "-o", out, "--style-weight", "-1"], "at least 0"),
        "seed is now random-seed": ([c, s, "-o", out, "--seed", "1"], "unrecognized arguments"),
        "blend count": ([c, s, "-o", out, "--blend", "1", "2"], "one weight per style image"),
        "one image": ([c, "-o", out], "at least one style"),
        "unknown format": ([c, s, "-o", str(tmp_path / "o.xyz")], ".png or .jpg"),
        "zero steps": ([c, s, "-o", out, "--steps", "0"], "at least 1"),
        "bad weights file": ([c, s, "-o", out, "--weights", str(tmp_path / "notes.txt")], "not a PyTorch weights"),
        "unknown preset": ([c, s, "-o", out, "--preset", "monet"], "invalid choice"),
        "report is output": ([c, s, "-o", out, "--report", out], "same file"),
        "mask with one style": ([c, s, "-o", out, "--mask", c], "two style images"),
        "missing mask": (
            [c, s, str(tiny_images["style1"]), "-o", out, "--mask", str(tmp_path / "m.png")],
            "mask image",
        ),
    }


def test_every_bad_input_gets_one_line_and_touches_nothing(tiny_images, tmp_path, capsys):
    cases = _bad_inputs(tiny_images, tmp_path)
    before = {p: _digest(p) for p in tmp_path.iterdir() if p.is_file()}
    for name, (args, message) in cases.items():
        extra = [] if "--weights" in args else ["--weights", "random"]
        code = main(args + extra + ["--steps", "2", "--quiet"] if "--steps" not in args else args + extra + ["--quiet"])
        err = capsys.readouterr().err.strip().splitlines()
        err = [line for line in err if "randomly initialised" not in line]
        assert code == 2, name
        assert len(err) == 1 and message in err[0], (name, err)
        assert err[0].startswith("nst_helpers: error: ")
    after = {p: _digest(p) for p in tmp_path.iterdir() if p.is_file()}
    assert after == before  # no input changed, nothing written
    assert not (tmp_path / "o.png").exists()


@pytest.mark.slow
def test_bad_input_in_a_subprocess_has_no_traceback(tiny_images, tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "nst_helpers",
            str(tmp_path / "nope.jpg"),
            str(tiny_images["style0"]),
            "-o",
            str(tmp_path / "o.png"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "not found" in proc.stderr


def test_unwritable_folder(tiny_images, tmp_path, capsys):
    if os.geteuid() == 0:  # root ignores permission bits; a read-only file system still says no
        locked = "/sys"
        if not os.path.isdir(locked) or os.access(locked, os.W_OK) and _writable(locked):
            pytest.skip("no read-only folder to test with")
    else:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
    code = main([str(tiny_images["content"]), str(tiny_images["style0"]), "-o", os.path.join(locked, "o.png")])
    assert code == 2
    assert "cannot write in output folder" in capsys.readouterr().err


def _writable(folder):
    try:
        open(os.path.join(folder, ".nst_probe"), "wb").close()
        os.unlink(os.path.join(folder, ".nst_probe"))
        return True
    except OSError:
        return False


def test_mask_option(tiny_images, tmp_path):
    mask = tmp_path / "mask.png"
    Image.new("L", (48, 40), 255).save(mask)
    report = tmp_path / "r.json"
    assert (
        main(
            [
                str(tiny_images["content"]),
                str(tiny_images["style0"]),
                str(tiny_images["style1"]),
                "--mask",
                str(mask),
                "-o",
                str(tmp_path / "o.png"),
                "--report",
                str(report),
                *FAST,
            ]
        )
        == 0
    )
    assert json.loads(report.read_text())["config"]["mask"] is True


def test_force_replaces_an_existing_output(tiny_images, tmp_path):
    out = tmp_path / "o.png"
    out.write_bytes(b"old")
    assert main([str(tiny_images["content"]), str(tiny_images["style0"]), "-o", str(out), "--force", *FAST]) == 0
    assert Image.open(out).size == (32, 27)


def test_stylize_is_the_default_command_and_can_be_named(tiny_images, tmp_path):
    """``python -m nst_helpers CONTENT STYLE`` and ``... stylize CONTENT STYLE`` make the same picture."""
    images = [str(tiny_images["content"]), str(tiny_images["style0"])]
    implicit, named = tmp_path / "a.png", tmp_path / "b.png"
    assert main([*images, "-o", str(implicit), *FAST]) == 0
    assert main(["stylize", *images, "-o", str(named), *FAST]) == 0
    assert _digest(implicit) == _digest(named)


def test_a_content_file_named_like_a_command_is_reached_as_dot_slash(tiny_images, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "train").write_bytes(tiny_images["content"].read_bytes())
    assert main(["./train", str(tiny_images["style0"]), "-o", "out.png", *FAST]) == 0
    assert (tmp_path / "out.png").exists()


@pytest.mark.parametrize("command", ["stylize", "train", "apply", "video", "demo"])
def test_every_command_shares_the_common_options(command, capsys):
    """--force, --device and --quiet come from one parent parser, and --weights (every command may run VGG19)."""
    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = capsys.readouterr().out
    for option in ("--force", "--device DEVICE", "--quiet"):
        assert option in text
    assert "--weights" in text  # apply too: a decoder (train --arbitrary) runs VGG19


def test_exit_statuses_are_decided_in_one_place(monkeypatch):
    from nst_helpers import cli

    assert cli.exit_status(None) == 0
    assert cli.exit_status("interrupted") == 130
    monkeypatch.setattr(cli, "_terminated", True)
    assert cli.exit_status("interrupted") == 143


def test_demo_puts_both_pictures_side_by_side_and_says_what_it_made(tmp_path, capsys):
    """make demo: the seed's picture and a larger one by one scale stopped at tol, in one file; the last line
    says what was made, how and how long it took (tiny sizes and random weights here)."""
    out, report = tmp_path / "demo.png", tmp_path / "demo.json"
    assert (
        main(
            [
                "demo",
                "--weights",
                "random",
                "--seed-size",
                "32",
                "--size",
                "64",
                "--steps",
                "4",
                "-o",
                str(out),
                "--report",
                str(report),
            ]
        )
        == 0
    )
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith(f"demo: {out}:") and "at 32x21 px by the seed configuration (4 steps" in last
    assert "at 64x43 px by one scale stopped at tol 0.005 in" in last and "s in all on cpu" in last
    sheet = Image.open(out)
    assert sheet.width >= 2 * 64 and sheet.height > 43  # two panels, labels under them
    data = json.loads(report.read_text())
    assert [p["size"] for p in data["pictures"]] == [[21, 32], [43, 64]]
    assert data["pictures"][1]["config"]["tol"] == 0.005
    assert main(["demo", "--weights", "random", "-o", str(out), "--quiet"]) == 2  # exists: --force needed
