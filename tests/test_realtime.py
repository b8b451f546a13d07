"""Issue 31: the adversarial critic and the temporal term for the real-time network, and a network on a clip."""

import json
import math

import numpy as np
import pytest
import torch
from PIL import Image

import nst_helpers as nst
from nst_helpers import feedforward as ff
from nst_helpers.cli import main
from nst_helpers.errors import NSTError
from nst_helpers.feedforward import critic as C
from nst_helpers.feedforward import temporal as T

TINY = dict(network="small", width=4, depth=1, crop=32, style_size=32, batch_size=2, progress=False)


@pytest.fixture
def photos(make_photos, tmp_path):
    """Three small 'photos' (gradients) and a striped 'painting'."""
    folder = make_photos(3)
    style = (np.random.default_rng(1).random((48, 48, 3)) * 255).astype(np.uint8)
    style[:, ::6] = (250, 210, 30)
    Image.fromarray(style).save(tmp_path / "painting.png")
    return folder


# ------------------------------------------------------------------------------------------ the critic


@pytest.mark.parametrize("shape", [(2, 3, 64, 64), (1, 3, 40, 56)])
def test_the_critic_scores_patches(shape):
    """Two stride-2 4x4 convolutions (padding 1) halve each side; the stride-1 4x4 takes one off; the 3x3 keeps it."""
    d = C.PatchDiscriminator(8)
    b, _, h, w = shape
    assert d(torch.rand(shape)).shape == (b, 1, h // 4 - 1, w // 4 - 1)
    with pytest.raises(NSTError):
        C.PatchDiscriminator(0)


def test_the_critic_learns_to_tell_the_paintings_patches_from_the_output():
    """Separable data: the 'painting' has sharp yellow stripes, the 'output' is flat grey with a little noise.
    After a few of its Adam steps, the critic scores the painting's patches as painting and the output's as not,
    and the network's adversarial loss (-log D(output)) has grown: the output is recognised."""
    torch.manual_seed(0)
    painting = torch.full((1, 3, 48, 48), 0.2)
    painting[..., ::4] = torch.tensor([1.0, 0.8, 0.1])[:, None, None]
    fake = 0.5 + 0.02 * torch.randn(2, 3, 32, 32)
    critic = C.Critic(painting, 32, width=8, lr=2e-3)
    before = float(critic.loss(fake))
    losses = [critic.update(fake) for _ in range(30)]
    with torch.no_grad():
        real_score = torch.sigmoid(critic.discriminator(painting[..., :32, :32])).mean()
        fake_score = torch.sigmoid(critic.discriminator(fake)).mean()
    assert losses[-1] < 0.5 * losses[0]
    assert real_score > 0.8 and fake_score < 0.2
    assert float(critic.loss(fake)) > before + 0.5
    # the network's loss sends gradients to the output only: the critic's weights get none
    fake = fake.clone().requires_grad_(True)
    critic.optimizer.zero_grad(set_to_none=True)
    critic.loss(fake).backward()
    assert fake.grad.abs().sum() > 0
    assert all(p.grad is None or p.grad.abs().sum() == 0 for p in critic.discriminator.parameters())


def test_the_critics_real_patches_come_from_the_painting():
    import random

    painting = torch.arange(3 * 10 * 12, dtype=torch.float32).view(1, 3, 10, 12)
    patches = C.painting_patches(painting, 6, 5, random.Random(0))
    assert patches.shape == (5, 3, 6, 6)
    flat = painting[0, 0]
    for patch in patches[:, 0]:  # each patch, unmirrored, is a window of the painting
        found = any(
            torch.equal(flat[i : i + 6, j : j + 6], p)
            for p in (patch, patch.flip(-1))
            for i in range(5)
            for j in range(7)
        )
        assert found
    assert C.painting_patches(painting, 64, 1, random.Random(0)).shape[-2:] == (10, 10)  # cut to the short side


# ------------------------------------------------------------------------------------------ synthetic motion


def test_an_integer_shift_moves_every_valid_pixel_exactly():
    """Frame 2 = frame 1 warped by the known flow: for a shift of (+2, -3) px, frame2[y, x] = frame1[y - 3, x + 2]."""
    frames = torch.rand(2, 3, 20, 24)
    shift = torch.tensor([[2.0, -3.0], [-1.0, 4.0]])
    flow = T.affine_flow(2, 20, 24, shift, torch.zeros(2), torch.zeros(2))
    second, valid = T.warp_batch(frames, flow)
    assert torch.allclose(second[0, :, 3:, :22], frames[0, :, :17, 2:], atol=1e-5)
    assert torch.allclose(second[1, :, :16, 1:], frames[1, :, 4:, :23], atol=1e-5)
    assert valid[0, 0].sum() == 17 * 22 and valid[0, 0, 3:, :22].all()
    assert valid[1, 0].sum() == 16 * 23


def test_the_synthetic_motion_matches_the_video_chapters_warp_and_its_flow_is_exact():
    """Rotation and zoom too: the flow is the affine map's, and notebook 9's warp (video.motion.warp) moves frame 1
    onto frame 2 by it where both call the pixel valid."""
    V = pytest.importorskip("nst_helpers.video")
    frames = torch.rand(1, 3, 30, 40)
    second, flow, valid = T.synthetic_motion(frames, torch.Generator().manual_seed(3))
    warped, inside = V.warp(frames, flow)
    mask = (valid * inside).bool().expand_as(warped)
    assert mask.float().mean() > 0.7
    assert torch.allclose(warped[mask], second[mask], atol=1e-5)
    # the flow is an affine function of the position: second differences vanish
    assert flow.diff(dim=-1).diff(dim=-1).abs().max() < 1e-3 and flow.diff(dim=-2).diff(dim=-2).abs().max() < 1e-3
    assert flow.abs().max() <= T.MAX_SHIFT + 40 * (T.MAX_ZOOM + math.radians(T.MAX_ANGLE))


def test_the_temporal_loss_is_zero_for_a_network_that_moves_with_the_picture():
    frames, gen = torch.rand(2, 3, 24, 24), torch.Generator().manual_seed(0)
    assert float(T.pair_loss(torch.nn.Identity(), frames, frames, gen)) < 1e-10
    pointwise = torch.nn.Conv2d(3, 3, 1)  # a per-pixel network moves with any motion too
    with torch.no_grad():
        out = pointwise(frames)
        assert float(T.pair_loss(pointwise, frames, out, gen)) < 1e-10

    class Stamped(torch.nn.Module):  # adds a pattern fixed to the frame, not to the picture: flickers
        def forward(self, x):
            return x + 0.1 * torch.sin(torch.arange(x.shape[-1], dtype=x.dtype))

    assert float(T.pair_loss(Stamped(), frames, Stamped()(frames), gen)) > 1e-3


def test_the_temporal_loss_by_hand():
    """A whole-pixel shift and outputs that differ by a known amount where valid."""
    a = torch.zeros(1, 3, 8, 8)
    flow = T.affine_flow(1, 8, 8, torch.tensor([[1.0, 0.0]]), torch.zeros(1), torch.zeros(1))
    valid = T.warp_batch(a, flow)[1]
    assert float(T.temporal_loss(a, a + 0.5, flow, valid)) == pytest.approx(0.25)


# ------------------------------------------------------------------------------------------ training


def test_training_with_both_new_terms(model, photos, tmp_path):
    """Two steps with the critic and the temporal term on: both recorded, in the total, and in the file."""
    run = ff.train_network(
        tmp_path / "painting.png", photos, model=model, steps=2, adversarial_weight=0.5, temporal_weight=10, **TINY
    )
    h = run.history
    assert len(h["adversarial"]) == len(h["critic"]) == len(h["temporal"]) == 2
    assert all(0 < x < 50 for x in h["adversarial"]) and h["temporal"][0] > 0
    assert h["total"][0] == pytest.approx(
        h["content"][0] + h["style"][0] + h["tv"][0] + h["adversarial"][0] + h["temporal"][0]
    )
    loaded = nst.load_network(run.save(tmp_path / "both.pt"))
    assert loaded.meta["adversarial_weight"] == 0.5 and loaded.meta["temporal_weight"] == 10
    assert "adversarial weight 0.5 and temporal weight 10" in ff.describe_network(loaded)


@pytest.mark.slow
def test_each_new_term_changes_what_is_learned(model, photos, tmp_path):
    painting = tmp_path / "painting.png"
    plain = ff.train_network(painting, photos, model=model, steps=2, **TINY)
    assert "adversarial" not in plain.history and plain.meta["adversarial_weight"] == 0
    adv = ff.train_network(painting, photos, model=model, steps=2, adversarial_weight=0.5, **TINY)
    tmp = ff.train_network(painting, photos, model=model, steps=2, temporal_weight=10, **TINY)
    assert "temporal" not in adv.history and "adversarial" not in tmp.history
    x = torch.rand(1, 3, 32, 32)
    with torch.no_grad():  # same seed, same crops: the extra terms changed the weights
        assert not torch.equal(plain.network(x), adv.network(x)) and not torch.equal(plain.network(x), tmp.network(x))


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf"), "x", True])
@pytest.mark.parametrize("name", ["adversarial_weight", "temporal_weight"])
def test_bad_weights_are_refused(name, bad):
    with pytest.raises(NSTError, match=name.split("_")[0]):
        ff.make_train_config("default", **{name: bad})


def test_the_command_line_has_the_options(tmp_path, capsys):
    assert main(["train", "starry_night", "-o", str(tmp_path / "n.pt"), "--adversarial-weight", "-2"]) == 2
    assert "adversarial weight" in capsys.readouterr().err
    assert main(["train", "starry_night", "-o", str(tmp_path / "n.pt"), "--temporal-weight", "nan"]) == 2
    assert "temporal weight" in capsys.readouterr().err


def test_a_damaged_weight_in_a_network_file_is_refused(tmp_path):
    torch.manual_seed(0)
    path = ff.save_network(ff.TransformNet(4, 1), tmp_path / "n.pt", {"temporal_weight": "lots"})
    with pytest.raises(NSTError, match="temporal_weight"):
        nst.load_network(path)


# ------------------------------------------------------------------------------------------ a network on a clip


class _Pointwise(torch.nn.Module):
    """A 1x1 convolution: identity, or a fixed colour change. It moves with the picture."""

    def __init__(self, identity=True):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 3, 1)
        with torch.no_grad():
            self.conv.weight.copy_(torch.eye(3)[..., None, None] * (1.0 if identity else 0.5))
            self.conv.bias.fill_(0.0 if identity else 0.25)

    def forward(self, x):
        return self.conv(x)


def test_a_network_on_the_bundled_clip():
    V = pytest.importorskip("nst_helpers.video")
    clip = V.example_clip(frames=4, size=48)
    same = V.paint_with_network(clip, _Pointwise(), batch_size=3, progress=False, precision="float32")
    assert torch.allclose(same.frames, clip.frames, atol=1e-6) and same.flow_source == "true"
    assert same.warping_error == pytest.approx(V.warping_error(clip.frames, clip.true_flows, clip.true_masks), abs=1e-6)
    half = V.paint_with_network(clip, _Pointwise(False), progress=False, precision="float32")
    assert half.warping_error == pytest.approx(same.warping_error / 2, rel=1e-4)  # the colour change halves it
    assert len(half.seconds) == 4 and half.frames_per_second > 0 and "frames per second" in half.summary()
    via = V.stylize_video(clip, network=_Pointwise(), progress=False, precision="float32")
    assert via.method == "network" and torch.allclose(via.frames, clip.frames, atol=1e-6)
    for bad in [dict(network="net.pt"), dict(method="network"), dict(network=_Pointwise(), method="warm")]:
        with pytest.raises(NSTError):
            V.stylize_video(clip, progress=False, **bad)
    with pytest.raises(NSTError, match="style it was trained on"):
        V.stylize_video(clip, "starry_night", network=_Pointwise(), progress=False)
    with pytest.raises(NSTError, match="optimisation"):
        V.stylize_video(clip, network=_Pointwise(), steps=3, progress=False)
    with pytest.raises(NSTError, match="batch size"):
        V.paint_with_network(clip, _Pointwise(), batch_size=0, progress=False)


def test_video_with_a_network_on_the_command_line(tmp_path, capsys):
    V = pytest.importorskip("nst_helpers.video")
    torch.manual_seed(0)
    net = ff.save_network(ff.TransformNet(4, 1), tmp_path / "net.pt", {"style": "noise"})
    out, report = tmp_path / "out.gif", tmp_path / "r.json"
    args = ["video", "camera_move", "--network", str(net), "--size", "48", "--max-frames", "3"]
    assert main([*args, "-o", str(out), "--report", str(report), "--quiet"]) == 0
    data = json.loads(report.read_text())
    assert data["frames"] == 3 and data["method"] == "network" and data["warping_error_flow"] == "true"
    assert data["frames_per_second"] > 0 and len(V.read_clip(out)) == 3
    capsys.readouterr()
    bad = {
        "starry_night": [*args, "starry_night", "-o", str(tmp_path / "a.gif")],
        "--network NET.pt": ["video", "camera_move", "--method", "network", "-o", str(tmp_path / "b.gif")],
        "--steps": [*args, "--steps", "3", "-o", str(tmp_path / "c.gif")],
        "leave out --method warm": [*args, "--method", "warm", "-o", str(tmp_path / "c.gif")],
        "already exists": [*args, "-o", str(out)],
        "not found": ["video", "camera_move", "--network", str(tmp_path / "none.pt"), "-o", str(tmp_path / "d.gif")],
    }
    (tmp_path / "decoder.pt").write_bytes(b"")
    torch.save({"meta": {"format": "nst_helpers.decoder"}, "state_dict": {}}, tmp_path / "decoder.pt")
    bad["not a style network"] = ["video", "camera_move", "--network", str(tmp_path / "decoder.pt"), "-o", "e.gif"]
    torch.save({"features.0.weight": torch.zeros(1)}, tmp_path / "vgg.pt")
    bad["VGG19 weights"] = ["video", "camera_move", "--network", str(tmp_path / "vgg.pt"), "-o", "f.gif"]
    for expected, argv in bad.items():
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert expected in err and len(err.strip().splitlines()) == 1, err
    assert not any((tmp_path / n).exists() for n in ("a.gif", "b.gif", "c.gif", "d.gif"))


# ------------------------------------------------------------------------------------------ the benchmark's rule


def _row(warping, clip_style, worst_ratio, weight=None):
    row = {
        "clip_128": {"warping_error": warping, "style_loss": clip_style},
        "photos": {"a": {"style_ratio": worst_ratio / 2}, "b": {"style_ratio": worst_ratio}},
    }
    return row if weight is None else {**row, "temporal_weight": weight}


def test_the_realtime_benchmark_chooses_the_halving_weight_that_keeps_most_style():
    """benchmarks/realtime.py's rule on hand-made rows: style lost is the larger of the clip's style ratio and the
    worst held-out ratio's ratio; among the weights at or under half the warping error, the least of it wins."""
    from benchmarks.realtime import choose_temporal, label, style_lost

    base = _row(0.1, 2.0, 3.0)
    assert style_lost(_row(0.05, 3.0, 3.0), base) == pytest.approx(1.5)  # the clip decides
    assert style_lost(_row(0.05, 1.0, 6.0), base) == pytest.approx(2.0)  # the held-out photos decide
    networks = {
        "gram": base,
        "temporal_2": _row(0.051, 2.0, 3.0, 2),  # keeps all the style, but misses half by a hair
        "temporal_4": _row(0.05, 2.2, 3.0, 4),  # exactly half: 1.1x style lost
        "temporal_5": _row(0.04, 2.0, 3.9, 5),  # 1.3x
        "temporal_50": _row(0.01, 4.0, 3.0, 50),  # 2x
    }
    assert choose_temporal(networks) == "temporal_4"
    none_halve = {"gram": base, "temporal_2": _row(0.08, 2.0, 3.0, 2), "temporal_5": _row(0.06, 3.0, 3.0, 5)}
    assert choose_temporal(none_halve) == "temporal_5"  # the steadiest, when none reaches the target
    assert label("temporal_4", networks["temporal_4"], "temporal_4").endswith("weight 4 (chosen)")
    assert "chosen" not in label("temporal_5", networks["temporal_5"], "temporal_4")
