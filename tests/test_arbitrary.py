"""Arbitrary style in one pass (notebook 11): AdaIN's known answers and invariances, the decoder, its file,
training from photos (one process and two under torchrun), painting, and the command line."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import nst_helpers as nst
from nst_helpers import arbitrary as ar
from nst_helpers.cli import main

ROOT = Path(__file__).resolve().parents[1]
FAST = ["--weights", "random", "--quiet"]
TINY = ["--steps", "3", "--crop", "32", "--batch-size", "1", "--width", "8", "--precision", "float32"]


@pytest.fixture
def photos(tmp_path, photo_folder):
    """A folder of four small 'photos' (gradients and stripes) and a 'painting' beside it."""
    folder = photo_folder
    rng = np.random.default_rng(1)
    Image.fromarray((rng.random((40, 40, 3)) * 255).astype(np.uint8)).save(tmp_path / "painting.png")
    return folder


# ------------------------------------------------------------------------------------------- AdaIN


def test_adain_by_hand():
    """One channel, two positions: content (1, 3) has mean 2 and std 1; style (10, 14) mean 12 and std 2,
    so AdaIN gives 12 + 2 * (-1, 1) = (10, 14)."""
    c = torch.tensor([1.0, 3.0]).view(1, 1, 1, 2)
    s = torch.tensor([10.0, 14.0]).view(1, 1, 2, 1)  # another shape: statistics only
    out = ar.adain(c, s, eps=0)
    assert torch.allclose(out.flatten(), torch.tensor([10.0, 14.0]))
    mean, std = ar.mean_std(s, eps=0)
    assert mean.item() == 12.0 and std.item() == 2.0


def test_adain_gives_the_style_statistics_and_ignores_the_content_scale():
    torch.manual_seed(0)
    c, s = torch.randn(2, 8, 5, 7), 3 * torch.randn(1, 8, 6, 4) + 2
    out = ar.adain(c, s)
    m, sd = ar.mean_std(out)
    sm, ssd = ar.mean_std(s)
    assert torch.allclose(m, sm.expand_as(m), atol=1e-5) and torch.allclose(sd, ssd.expand_as(sd), atol=1e-3)
    assert torch.allclose(ar.adain(5 * c + 7, s), out, atol=1e-4)  # the content's own mean and scale are gone
    assert torch.allclose(ar.adain(s, s), s, atol=1e-4)  # a picture's own statistics change nothing
    mean, std = ar.mean_std(c, eps=0)
    want_std, want_mean = torch.std_mean(c.flatten(2), dim=-1, unbiased=False)
    assert torch.allclose(mean.flatten(2).squeeze(-1), want_mean) and torch.allclose(
        std.flatten(2).squeeze(-1), want_std
    )


def test_adain_gradients_are_right():
    torch.manual_seed(1)
    c = torch.randn(1, 3, 4, 4, dtype=torch.float64, requires_grad=True)
    s = torch.randn(1, 3, 3, 5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(ar.adain, (c, s))


def test_alpha_and_blends_in_feature_space():
    torch.manual_seed(2)
    c, s1, s2 = torch.randn(1, 4, 6, 6), torch.randn(1, 4, 5, 5), 2 + torch.randn(1, 4, 5, 5)
    assert torch.equal(ar.adain_target(c, s1, alpha=0), c)
    assert torch.allclose(ar.adain_target(c, [s1], alpha=1), ar.adain(c, s1))
    half = ar.adain_target(c, s1, alpha=0.5)
    assert torch.allclose(half, 0.5 * c + 0.5 * ar.adain(c, s1))
    assert torch.allclose(ar.adain_target(c, [s1, s2], blend=[3, 0]), ar.adain(c, s1))
    mixed = ar.adain_target(c, [s1, s2], blend=[1, 3])
    assert torch.allclose(mixed, 0.25 * ar.adain(c, s1) + 0.75 * ar.adain(c, s2), atol=1e-6)
    for bad, message in ((dict(alpha=1.5), "alpha"), (dict(alpha=float("nan")), "alpha"), (dict(blend=[1]), "blend")):
        with pytest.raises(nst.NSTError, match=message):
            ar.adain_target(c, [s1, s2], **bad)
    with pytest.raises(nst.NSTError, match="channels"):
        ar.adain(c, torch.randn(1, 5, 3, 3))


# ----------------------------------------------------------------------------------------- decoder


def _other(model):
    """VGG19 with other weights: the model's, with its first filter changed."""
    state = {k: v.clone() for k, v in model.features.state_dict().items()}
    state["0.weight"][0] += 0.1
    return nst.vgg.VGGFeatures(state)


@pytest.mark.parametrize("layer, scale, channels", [("relu3_1", 4, 256), ("relu4_1", 8, 512)])
def test_the_decoder_mirrors_the_encoder(model, layer, scale, channels):
    decoder = ar.Decoder(layer, width=8)
    x = torch.rand(1, 3, 8 * 5, 8 * 6)
    f = model(x, [layer])[layer]
    assert f.shape[1] == channels == decoder.in_channels and decoder.scale == scale
    assert decoder(f).shape == x.shape
    kinds = {type(m).__name__ for m in decoder.modules()}
    assert "ReflectionPad2d" in kinds and "Upsample" in kinds
    assert not any("Norm" in k for k in kinds)  # no normalisation: it would undo AdaIN's statistics
    assert all(m.mode == "nearest" for m in decoder.modules() if isinstance(m, torch.nn.Upsample))
    with pytest.raises(nst.NSTError, match="relu3_1 or relu4_1"):
        ar.Decoder("relu5_1")
    with pytest.raises(nst.NSTError, match="width"):
        ar.Decoder(layer, width=0)


def test_the_fingerprint_belongs_to_the_weights(model):
    a = ar.encoder_fingerprint(model, "relu4_1")
    assert a == ar.encoder_fingerprint(model, "relu4_1") and len(a) == 16
    assert ar.encoder_fingerprint(_other(model), "relu4_1") != a
    # weights past the layer do not matter
    state = {k: v.clone() for k, v in model.features.state_dict().items()}
    state["34.weight"] += 1
    assert ar.encoder_fingerprint(nst.vgg.VGGFeatures(state), "relu4_1") == a


def test_a_decoder_file_round_trips_and_knows_its_encoder(model, tmp_path):
    decoder = ar.Decoder("relu3_1", 8)
    meta = {"encoder": ar.encoder_fingerprint(model, "relu3_1"), "steps": 5, "vgg_weights": "random"}
    path = ar.save_decoder(decoder, tmp_path / "d.pt", meta)
    with pytest.raises(nst.NSTError, match="exists"):
        ar.save_decoder(decoder, path, meta)
    loaded = ar.load_decoder(path)
    assert loaded.layer == "relu3_1" and loaded.width == 8 and loaded.meta["steps"] == 5
    assert all(torch.equal(a, b) for a, b in zip(decoder.state_dict().values(), loaded.state_dict().values()))
    assert ar.file_kind(path) == "decoder"
    assert ar.check_encoder(loaded, model) == meta["encoder"]
    other = _other(model)
    with pytest.raises(nst.NSTError, match="other VGG19 weights"):
        ar.check_encoder(loaded, other)
    ar.check_encoder(loaded, other, force=True)
    # damaged files: one line each
    data = torch.load(path, weights_only=True)
    for change, message in (
        (lambda d: d["meta"].update(width=3.5), "damaged metadata field 'width'"),
        (lambda d: d["meta"].pop("encoder"), "no 'encoder'"),
        (lambda d: d["meta"].update(version=7), "version"),
        (lambda d: d["state_dict"].popitem(), "does not match"),
        (lambda d: next(iter(d["state_dict"].values())).fill_(float("nan")), "NaN"),
    ):
        bad = {"meta": dict(data["meta"]), "state_dict": {k: v.clone() for k, v in data["state_dict"].items()}}
        change(bad)
        torch.save(bad, tmp_path / "bad.pt")
        with pytest.raises(nst.NSTError, match=message):
            ar.load_decoder(tmp_path / "bad.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a file")
    with pytest.raises(nst.NSTError, match="not a decoder file"):
        ar.load_decoder(tmp_path / "junk.pt")


# ---------------------------------------------------------------------------------------- training


def test_config_checks_and_presets():
    assert ar.make_decoder_config().layer in ar.ENCODER_LAYERS
    assert ar.make_decoder_config("notebook").steps < ar.make_decoder_config().steps
    for bad, message in (
        (dict(layer="conv4_2"), "encoder layer"),
        (dict(steps=0), "steps"),
        (dict(crop=8), "crop"),
        (dict(lr=float("inf")), "learning rate"),
        (dict(colour=1), "unknown option"),
    ):
        with pytest.raises(nst.NSTError, match=message):
            ar.make_decoder_config(**bad)
    with pytest.raises(nst.NSTError, match="unknown decoder preset"):
        ar.make_decoder_config("fast")


@pytest.mark.slow
def test_training_from_photos_learns_to_rebuild_them(model, photos, tmp_path):
    """Forty steps on small photos: the reconstruction error falls by more than half."""
    result = ar.train_decoder(
        photos,
        model=model,
        steps=40,
        crop=32,
        batch_size=2,
        width=8,
        lr=3e-3,
        precision="float32",
        progress=False,
        checkpoint=tmp_path / "d.pt",
    )
    pixel = result.history["pixel"]
    assert result.steps == 40 and len(pixel) == 40 and all(math.isfinite(v) for v in pixel)
    assert np.mean(pixel[-5:]) < 0.5 * np.mean(pixel[:5])
    saved = ar.load_decoder(tmp_path / "d.pt")
    assert saved.meta["steps"] == 40 and saved.meta["encoder"] == ar.encoder_fingerprint(model, "relu3_1")


def test_fine_tuning_with_paintings_adds_adains_losses(model, photos, tmp_path):
    result = ar.train_decoder(
        photos, [tmp_path / "painting.png"], model=model, steps=2, crop=32, batch_size=1, width=8, progress=False
    )
    assert set(result.history) >= {"pixel", "feature", "content", "style", "psnr"}
    assert result.meta["styles"] == ["painting"]


def test_the_style_loss_is_zero_for_the_paintings_own_statistics(model):
    torch.manual_seed(3)
    x = torch.rand(2, 3, 32, 32)
    layers = ar.statistic_layers("relu4_1")
    assert layers == ("relu1_1", "relu2_1", "relu3_1", "relu4_1") and ar.statistic_layers("relu3_1")[-1] == "relu3_1"
    f = model(x, list(layers))
    assert float(ar.style_statistics_loss(f, {k: v[:1] for k, v in f.items()}, layers)) > 0
    same = {k: v[:1] for k, v in f.items()}
    assert float(ar.style_statistics_loss(same, same, layers)) == pytest.approx(0, abs=1e-10)


# ---------------------------------------------------------------------------------------- painting


def test_paint_keeps_the_photo_size_and_its_controls(model, tiny_images):
    torch.manual_seed(0)
    decoder = ar.Decoder("relu3_1", 8).eval()
    decoder.meta = {}
    out = ar.paint(decoder, model, tiny_images["content"], tiny_images["style0"], precision="float32")
    assert out.shape == (1, 3, 40, 48) and float(out.min()) >= 0 and float(out.max()) <= 1
    blended = ar.paint(
        decoder,
        model,
        tiny_images["content"],
        [tiny_images["style0"], tiny_images["style1"]],
        blend=[1, 0],
        precision="float32",
    )
    assert torch.allclose(blended, out, atol=1e-5)
    kept = ar.paint(decoder, model, tiny_images["content"], tiny_images["style0"], preserve_color="luminance")
    photo = nst.load_image(tiny_images["content"])
    yiq = nst.color.rgb_to_yiq
    # the photo's chroma back (where the recombined picture is not clipped)
    inside = ((kept > 0.02) & (kept < 0.98)).all(1, keepdim=True).expand(1, 2, 40, 48)
    assert torch.allclose(yiq(kept)[:, 1:][inside], yiq(photo)[:, 1:][inside], atol=0.02)
    with pytest.raises(nst.NSTError, match="Decoder"):
        ar.paint("decoder.pt", model, tiny_images["content"], tiny_images["style0"])
    with pytest.raises(nst.NSTError, match="at least one painting"):
        ar.paint(decoder, model, tiny_images["content"], [])


# ------------------------------------------------------------------------------------ command line


@pytest.mark.slow
def test_train_arbitrary_then_apply_any_painting(photos, tmp_path, capsys):
    decoder = tmp_path / "decoder.pt"
    assert main(["train", "--arbitrary", "--images", str(photos), "-o", str(decoder), *TINY, *FAST]) == 0
    assert ar.load_decoder(decoder).meta["steps"] == 3
    out, report = tmp_path / "out.png", tmp_path / "r.json"
    args = ["apply", str(decoder), str(photos / "photo0.png"), "--style", str(tmp_path / "painting.png"), "the_scream"]
    assert main([*args, "--alpha", "0.7", "-o", str(out), "--report", str(report), "--weights", "random"]) == 0
    assert Image.open(out).size == (64, 48)
    data = json.loads(report.read_text())
    assert data["kind"] == "decoder" and data["ms_per_picture"][0] > 0 and data["alpha"] == 0.7
    assert "threads" in data and len(data["styles"]) == 2
    many = tmp_path / "many"
    assert main(["apply", str(decoder), str(photos), "--style", "the_scream", "-o", str(many), *FAST]) == 0
    assert len(list(many.iterdir())) == 4
    capsys.readouterr()


@pytest.mark.parametrize(
    "args, message",
    [
        (["apply", "{tmp}/d.pt", "chelsea", "-o", "{tmp}/o.png", "--weights", "random"], "--style PAINTING"),
        (["apply", "{tmp}/d.pt", "chelsea", "--style", "nowhere.jpg", "-o", "{tmp}/o.png"], "not found"),
        (["apply", "{tmp}/d.pt", "chelsea", "--style", "the_scream", "--alpha", "2", "-o", "{tmp}/o.png"], "alpha"),
        (["apply", "{tmp}/d.pt", "chelsea", "--style", "the_scream", "-o", "{tmp}/mine.png"], "exists"),
        (
            ["apply", "{tmp}/d.pt", "chelsea", "--style", "the_scream", "--blend", "1", "2", "-o", "{tmp}/o.png"],
            "blend",
        ),
        (
            [
                "apply",
                "{tmp}/d.pt",
                "chelsea",
                "--style",
                "the_scream",
                "-o",
                "{tmp}/o.png",
                "--weights",
                "{tmp}/w.pth",
            ],
            "other VGG19 weights",
        ),
        (["apply", "{tmp}/net.pt", "chelsea", "--style", "the_scream", "-o", "{tmp}/o.png"], "--style is for decoders"),
        (["apply", "{tmp}/d.pt", "chelsea", "{tmp}/tiny.png", "--style", "the_scream", "-o", "{tmp}/out"], "tiny.png"),
        (["train", "--arbitrary", "the_scream", "-o", "{tmp}/x.pt"], "--styles DIR"),
        (["train", "--arbitrary", "--layer", "relu5_1", "-o", "{tmp}/x.pt"], "invalid choice"),
        (["train", "--arbitrary", "-o", "{tmp}/mine.png"], "should end in .pt"),
        (["train", "--arbitrary", "-o", "{tmp}/d.pt"], "exists"),
        (["train", "the_scream", "--layer", "relu3_1", "-o", "{tmp}/x.pt"], "for train --arbitrary"),
    ],
)
def test_bad_command_lines_get_one_line_and_write_nothing(args, message, model, tmp_path, capsys):
    ar.save_decoder(ar.Decoder("relu3_1", 8), tmp_path / "d.pt", {"encoder": ar.encoder_fingerprint(model, "relu3_1")})
    nst.save_network(nst.TransformNet(4, 0), tmp_path / "net.pt")
    torch.save(_other(model).features.state_dict(), tmp_path / "w.pth")
    (tmp_path / "mine.png").write_bytes(b"my precious picture")
    Image.new("RGB", (3, 3)).save(tmp_path / "tiny.png")
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main([a.replace("{tmp}", str(tmp_path)) for a in args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert (tmp_path / "mine.png").read_bytes() == b"my precious picture"


@pytest.mark.slow
def test_other_weights_are_let_through_when_asked(model, tmp_path):
    ar.save_decoder(ar.Decoder("relu3_1", 8), tmp_path / "d.pt", {"encoder": "0123456789abcdef"})
    out = tmp_path / "o.png"
    args = ["apply", str(tmp_path / "d.pt"), "chelsea", "--style", "the_scream", "-o", str(out), "--size", "40"]
    assert main([*args, *FAST]) == 2
    assert main([*args, *FAST, "--other-weights"]) == 0 and out.exists()


# ------------------------------------------------------------------------------------- distributed


def _torchrun(args, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    return subprocess.run(
        [*cmd, "-m", "nst_helpers", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240
    )


@pytest.mark.slow
def test_two_processes_train_a_decoder_under_torchrun_with_gloo(photos, tmp_path):
    out = tmp_path / "ddp.pt"
    args = ["train", "--arbitrary", "--images", str(photos), "-o", str(out), *TINY, *FAST]
    args[args.index("--steps") + 1] = "2"
    proc = _torchrun(args, tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    meta = ar.load_decoder(out).meta
    assert meta["processes"] == 2 and meta["steps"] == 2


@pytest.mark.slow
@pytest.mark.parametrize("extra", [[], ["--temporal-weight", "5", "--adversarial-weight", "0.1"]])
def test_two_processes_train_a_real_time_network_under_torchrun(photos, tmp_path, extra):
    """Plain, and with the temporal term (a second pass of the network outside the DDP wrapper: its gradient
    reaches the same parameters before they are averaged) and the critic (one per process)."""
    out = tmp_path / "ddp_net.pt"
    args = ["train", str(tmp_path / "painting.png"), "--images", str(photos), "-o", str(out), *FAST, *extra]
    args += ["--steps", "2", "--crop", "32", "--batch-size", "1", "--width", "4", "--depth", "1", "--style-size", "32"]
    proc = _torchrun(args, tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    meta = nst.load_network(out).meta
    assert meta["steps"] == 2 and meta["processes"] == 2
    assert meta["temporal_weight"] == (5 if extra else 0) and meta["adversarial_weight"] == (0.1 if extra else 0)


def test_one_process_is_not_distributed(monkeypatch):
    from nst_helpers import distributed

    monkeypatch.delenv("WORLD_SIZE", raising=False)
    run = distributed.start("cpu")
    assert not run.active and run.is_main
    net = torch.nn.Linear(2, 2)
    assert distributed.wrap(net, run) is net
    assert distributed.shard([1, 2, 3], run) == [1, 2, 3]
    two = distributed.Distributed(rank=1, world_size=2, device=torch.device("cpu"))
    assert distributed.shard([1, 2, 3, 4, 5], two) == [2, 4] and distributed.shard([1], two) == [1]
    assert distributed.seed(7, two) != 7 and not two.is_main
    monkeypatch.setenv("WORLD_SIZE", "two")
    with pytest.raises(nst.NSTError, match="WORLD_SIZE"):
        distributed.start("cpu")
