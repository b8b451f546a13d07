import os

import numpy as np
import pytest
import torch
from PIL import Image

import nst_helpers as nst


def _pixels(t):
    return (t[0].permute(1, 2, 0).numpy() * 255).round().astype(int)


def test_bundled_examples_exist_and_are_small():
    for name in nst.EXAMPLES:
        img = nst.open_image(name)
        assert img.mode == "RGB" and max(img.size) <= 1024
    assert "starry_night" in nst.EXAMPLES
    sources = (nst.example_path("chelsea").parent / "SOURCES.md").read_text()
    for name in nst.EXAMPLES:
        assert nst.EXAMPLES[name] in sources


@pytest.mark.parametrize(
    "mode, make, expected",
    [
        ("RGBA", lambda: Image.new("RGBA", (16, 16), (255, 0, 0, 0)), (255, 255, 255)),  # transparent -> white
        ("RGBA-half", lambda: Image.new("RGBA", (16, 16), (0, 0, 0, 128)), (127, 127, 127)),
        ("LA", lambda: Image.new("LA", (16, 16), (0, 0)), (255, 255, 255)),
        ("L", lambda: Image.new("L", (16, 16), 100), (100, 100, 100)),
        ("I;16", lambda: Image.fromarray(np.full((16, 16), 65535, dtype=np.uint16)), (255, 255, 255)),
        ("CMYK", lambda: Image.new("CMYK", (16, 16), (0, 255, 255, 0)), (255, 0, 0)),
        ("P", lambda: Image.new("RGB", (16, 16), (0, 0, 255)).convert("P"), (0, 0, 255)),
    ],
)
def test_any_mode_becomes_rgb(tmp_path, mode, make, expected):
    img = make()
    path = tmp_path / ("x.tif" if mode in ("CMYK",) else "x.png")
    img.save(path)
    t = nst.load_image(str(path))
    assert t.shape == (1, 3, 16, 16) and t.dtype == torch.float32
    assert np.abs(_pixels(t)[0, 0] - np.array(expected)).max() <= 1


def test_palette_with_transparency_is_composited_on_white(tmp_path):
    img = Image.new("P", (16, 16), 0)
    img.putpalette([10, 20, 30] + [0] * 765)
    img.info["transparency"] = 0
    img.save(tmp_path / "p.png", transparency=0)
    assert tuple(_pixels(nst.load_image(tmp_path / "p.png"))[0, 0]) == (255, 255, 255)


def test_exif_orientation_is_applied(tmp_path):
    img = Image.new("RGB", (32, 16), (0, 255, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees when shown
    img.save(tmp_path / "r.jpg", exif=exif)
    assert nst.load_image(tmp_path / "r.jpg").shape == (1, 3, 32, 16)


def test_resize_long_side_and_exact():
    img = Image.new("RGB", (300, 200))
    assert nst.load_image(img, size=150).shape == (1, 3, 100, 150)
    assert nst.load_image(img, size=(128, 128)).shape == (1, 3, 128, 128)  # the seed's square
    assert nst.load_image(torch.rand(3, 40, 20), size=20).shape == (1, 3, 20, 10)
    with pytest.raises(nst.NSTError, match="pair"):
        nst.load_image(img, size=(1, 2, 3))


def test_tensor_round_trip_and_range():
    img = Image.fromarray(np.arange(48, dtype=np.uint8).reshape(4, 4, 3) * 5)
    t = nst.pil_to_tensor(img)
    assert t.min() >= 0 and t.max() <= 1
    assert np.array_equal(np.asarray(nst.to_pil(t)), np.asarray(img))
    assert np.asarray(nst.to_pil(torch.full((1, 3, 2, 2), 7.0))).max() == 255  # clamped, not wrapped


def test_quantize_matches_saved_file(tmp_path):
    t = torch.rand(1, 3, 16, 16)
    nst.save_image(t, tmp_path / "q.png")
    assert torch.equal(nst.quantize(t), nst.load_image(tmp_path / "q.png"))


def test_save_is_atomic_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "out.png"
    nst.save_image(torch.zeros(1, 3, 4, 4), path)
    before = path.read_bytes()

    def broken_save(self, fp, *args, **kwargs):
        fp.write(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(KeyboardInterrupt):
        nst.save_image(torch.ones(1, 3, 4, 4), path)
    assert path.read_bytes() == before  # the old file is intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]


def test_saved_files_get_ordinary_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        nst.save_image(torch.zeros(1, 3, 2, 2), tmp_path / "new.png")
        assert (tmp_path / "new.png").stat().st_mode & 0o777 == 0o644
        (tmp_path / "kept.png").write_bytes(b"x")
        (tmp_path / "kept.png").chmod(0o640)
        nst.save_image(torch.zeros(1, 3, 2, 2), tmp_path / "kept.png")
        assert (tmp_path / "kept.png").stat().st_mode & 0o777 == 0o640
    finally:
        os.umask(old)


def test_save_errors(tmp_path):
    with pytest.raises(nst.NSTError, match="does not exist"):
        nst.save_image(torch.zeros(1, 3, 2, 2), tmp_path / "nope" / "x.png")
    (tmp_path / "x.png").write_bytes(b"mine")
    with pytest.raises(nst.NSTError, match="already exists"):
        nst.save_image(torch.zeros(1, 3, 2, 2), tmp_path / "x.png", overwrite=False)
    assert (tmp_path / "x.png").read_bytes() == b"mine"
    with pytest.raises(nst.NSTError, match=".png or .jpg"):
        nst.save_image(torch.zeros(1, 3, 2, 2), tmp_path / "x.unknown")


def test_bad_files_get_one_line_errors(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    good = tmp_path / "good.jpg"
    Image.new("RGB", (64, 64), (9, 9, 9)).save(good)
    (tmp_path / "cut.jpg").write_bytes(good.read_bytes()[:200])
    cases = {
        tmp_path / "missing.png": "not found",
        tmp_path / "notes.txt": "not an image",
        tmp_path / "cut.jpg": "truncated",
        tmp_path: "is a folder",
    }
    for path, msg in cases.items():
        with pytest.raises(nst.NSTError, match=msg) as info:
            nst.load_image(path)
        assert "\n" not in str(info.value)


def test_unknown_example_name():
    with pytest.raises(nst.NSTError, match="starry_night"):
        nst.example_path("mona_lisa")


def test_a_save_that_must_not_replace_never_replaces_a_file_that_appears_meanwhile(tmp_path, monkeypatch):
    from nst_helpers import files

    target = tmp_path / "out.png"
    real_link = files.os.link

    def someone_else_writes_first(src, dst):
        target.write_bytes(b"theirs")  # the name is taken between the check and the write
        return real_link(src, dst)

    monkeypatch.setattr(files.os, "link", someone_else_writes_first)
    with pytest.raises(nst.NSTError, match="nothing was replaced"):
        nst.save_image(torch.rand(1, 3, 8, 8), target, overwrite=False)
    assert target.read_bytes() == b"theirs" and not list(tmp_path.glob(".*.part"))


def test_free_path_picks_the_next_free_name(tmp_path):
    from nst_helpers.files import free_path

    assert free_path(tmp_path / "a.png") == tmp_path / "a.png"
    (tmp_path / "a.png").write_bytes(b"x")
    (tmp_path / "a-2.png").mkdir()
    assert free_path(tmp_path / "a.png") == tmp_path / "a-3.png"
