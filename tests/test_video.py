"""Video (notebook 9, ``video.py``): reading and writing clips, optical flow, warping, occlusions,
the temporal loss, the three painting methods, and the ``video`` command."""

import hashlib
import json
import math
import warnings

import numpy as np
import pytest
import torch
from PIL import Image

import nst_helpers as nst
from nst_helpers import video as V
from nst_helpers.cli import main
from nst_helpers.errors import NSTError
from nst_helpers.losses import temporal_loss
from nst_helpers.objective import TemporalTerm

pytest.importorskip("cv2")


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def clip():
    return V.example_clip(frames=4, size=64)


def _textured(h=64, w=80, seed=0):
    """A smooth random texture (blurred noise) that optical flow can follow."""
    gen = torch.Generator().manual_seed(seed)
    noise = torch.rand(1, 3, h // 4, w // 4, generator=gen)
    return torch.nn.functional.interpolate(noise, size=(h, w), mode="bicubic", align_corners=False).clamp(0, 1)


# ------------------------------------------------------------------------------------------ flow and warping


@pytest.mark.parametrize("method", V.FLOW_METHODS)
def test_flow_of_a_shift_recovers_the_shift(method):
    big = _textured(96, 112)
    a = big[..., 10:74, 12:92]  # a(x) = big(x + (12, 10))
    b = big[..., 12:76, 9:89]  # b(x) = big(x + (9, 12)), so a(x) = b(x + (3, -2))
    flow = V.estimate_flow(a, b, method)
    assert flow.shape == (1, 2, 64, 80)
    inner = flow[..., 8:-8, 8:-8]
    assert inner[0, 0].median().item() == pytest.approx(3.0, abs=0.25)
    assert inner[0, 1].median().item() == pytest.approx(-2.0, abs=0.25)


def test_warp_by_a_whole_pixel_shift_is_exact():
    picture = _textured(20, 24)
    flow = torch.zeros(1, 2, 20, 24)
    flow[:, 0] = 2.0  # out(x) = picture(x + 2 px to the right)
    warped, inside = V.warp(picture, flow)
    assert torch.allclose(warped[..., :, :-2], picture[..., :, 2:], atol=1e-5)
    assert inside[..., :, :-2].min() == 1 and inside[..., :, -2:].max() == 0


def test_warping_by_the_true_flow_reproduces_the_next_frame(clip):
    for t in range(1, len(clip)):
        warped, inside = V.warp(clip.frame(t - 1), clip.true_flows[t : t + 1])
        mask = clip.true_masks[t : t + 1] * inside
        err = ((warped - clip.frame(t)).abs() * mask).sum() / (3 * mask.sum())
        assert err < 0.02, (t, float(err))
        assert mask.mean() > 0.8
        unexplained = ((warped - clip.frame(t)).abs().mean(1, keepdim=True) * (1 - mask)).sum() / (1 - mask).sum()
        assert unexplained > 2 * err  # the masked-out pixels are the ones the flow cannot explain
    assert V.warping_error(clip.frames, clip.true_flows, clip.true_masks) < 0.02


def test_estimated_flow_and_occlusions_match_the_bundled_clips_truth(clip):
    backward, forward, masks = V.clip_flows(clip)
    assert len(backward) == len(forward) == len(masks) == len(clip) and masks[0].min() == 1
    for t in range(1, len(clip)):
        truth = clip.true_masks[t : t + 1]
        error = ((backward[t] - clip.true_flows[t : t + 1]).norm(dim=1, keepdim=True) * truth).sum() / truth.sum()
        assert error < 0.5, float(error)  # mean end-point error in px, where the truth is reliable
        agree = ((masks[t] > 0.5) == (truth > 0.5)).float().mean()
        assert agree > 0.85, float(agree)


def _moving_square():
    """A static background with a 10 px square that moves 4 px to the right: flows known exactly."""
    h, w = 30, 40
    backward = torch.zeros(1, 2, h, w)  # frame t: square at columns 14..23 came from 4 px left
    backward[:, 0, 10:20, 14:24] = -4.0
    forward = torch.zeros(1, 2, h, w)  # frame t-1: square at columns 10..19 goes 4 px right
    forward[:, 0, 10:20, 10:20] = 4.0
    return backward, forward


def test_occlusion_mask_on_a_known_case():
    backward, forward = _moving_square()
    mask = V.occlusion_mask(backward, forward)[0, 0]
    assert mask[10:20, 10:14].max() == 0  # uncovered behind the square: hidden in frame t-1
    assert mask[10:19, 14:23].min() == 1  # inside the square: flow consistent
    assert mask[:9].min() == 1 and mask[:, 25:].min() == 1 and mask[:, :9].min() == 1  # background
    assert mask[10:19, 23].max() == 0 and mask[19, 14:23].max() == 0  # where the flow jumps: motion boundaries
    # no motion at all: every pixel is reliable
    assert V.occlusion_mask(torch.zeros(1, 2, 8, 8), torch.zeros(1, 2, 8, 8)).min() == 1
    # a flow pointing out of the frame: not reliable
    out = torch.zeros(1, 2, 8, 8)
    out[:, 0] = 20.0
    assert V.occlusion_mask(out, -out).max() == 0


# ------------------------------------------------------------------------------------------ the temporal loss


def test_temporal_loss_by_hand():
    image = torch.zeros(1, 3, 2, 2)
    warped = torch.zeros(1, 3, 2, 2)
    image[0, :, 0, 0] = torch.tensor([1.0, 0.5, 0.0])  # pixel (0, 0): squared differences 1 + 0.25 + 0
    image[0, 0, 1, 1] = 2.0  # pixel (1, 1): 4, but masked out
    mask = torch.tensor([[[[1.0, 1.0], [1.0, 0.0]]]])
    assert temporal_loss(image, warped, mask).item() == pytest.approx(1.25 / 12)
    assert temporal_loss(image, warped, torch.zeros_like(mask)).item() == 0


def test_temporal_term_in_the_objective_and_its_gradient(model):
    content = _textured(40, 48, seed=1)
    objective = nst.build_objective(model, content, [_textured(40, 40, seed=2)], nst.make_config("seed"))
    warped = _textured(40, 48, seed=3)
    mask = (torch.rand(1, 1, 40, 48, generator=torch.Generator().manual_seed(4)) > 0.3).float()
    image = _textured(40, 48, seed=5).requires_grad_(True)
    _, before = objective(image)
    objective.temporal_term, objective.temporal_weight = TemporalTerm(warped, mask), 7.0
    total, parts = objective(image)
    by_hand = 7.0 * (mask * (image - warped) ** 2).sum().item() / image.numel()
    assert parts["temporal"] == pytest.approx(by_hand, rel=1e-5)
    assert parts["total"] == pytest.approx(before["total"] + by_hand, rel=1e-5)
    # d/dx of lambda * sum c (x - w)^2 / D is 2 lambda c (x - w) / D
    term = objective.temporal_weight * objective.temporal_term(image)
    (grad,) = torch.autograd.grad(term, image)
    assert torch.allclose(grad, 2 * 7.0 * mask * (image - warped).detach() / image.numel(), atol=1e-9)
    with pytest.raises(NSTError, match="temporal weight"):
        objective.temporal_weight = -1


# ------------------------------------------------------------------------------------------ painting a clip

FAST = dict(weights="random", size=48, steps=4, progress=False)


@pytest.mark.slow
def test_three_methods_and_temporal_stability(model, clip):
    short = V.Clip(clip.frames[:3], clip.fps, "short", clip.true_flows[:3], clip.true_masks[:3])
    results = {
        m: V.stylize_video(
            short, "starry_night", method=m, model=model, size=64, steps=20, temporal_weight=1e4, progress=False
        )
        for m in V.METHODS
    }
    for m, r in results.items():
        assert r.frames.shape == short.frames.shape and r.method == m
        assert len(r.steps) == len(r.seconds) == len(r.style_losses) == 3 and r.flow_source == "true"
        assert all(0 < s <= 20 for s in r.steps) and all(math.isfinite(x) for x in r.style_losses)
        assert 0 <= r.frames.min() and r.frames.max() <= 1
        assert "warping error" in r.summary()
    # the first frame is painted the same way by every method
    assert torch.allclose(results["independent"].frames[0], results["temporal"].frames[0])
    # a strong temporal weight keeps the clip far steadier than painting each frame on its own
    assert results["temporal"].warping_error < 0.6 * results["independent"].warping_error
    assert results["warm"].config["method"] == "warm" and results["temporal"].config["temporal_weight"] == 1e4
    assert results["warm"].config["tol"] == V.DEFAULT_TOL  # the seed preset sets none: the clip default


def test_a_user_clip_is_judged_with_estimated_flow(model, tmp_path):
    frames = [_textured(48, 56, seed=9)[..., :, i : i + 48] for i in (0, 2, 4)]
    result = V.stylize_video(frames, "starry_night", model=model, steps=3, progress=False, size=48)
    assert result.flow_source == "estimated" and math.isfinite(result.warping_error)
    path = result.save(tmp_path / "out.gif")
    assert Image.open(path).n_frames == 3


def test_stopping_keeps_the_frames_painted_so_far(model, clip):
    calls = []
    result = V.stylize_video(
        clip,
        "starry_night",
        model=model,
        size=48,
        steps=3,
        progress=False,
        callback=lambda t, picture: calls.append(t),
        should_stop=lambda: len(calls) >= 2,
    )
    assert result.stopped == "stop" and calls == [0, 1] and result.frames.shape[0] == 2


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(method="magic"), "method"),
        (dict(temporal_weight=-1), "temporal weight"),
        (dict(temporal_weight=float("nan")), "temporal weight"),
        (dict(flow="lucas"), "flow method"),
        (dict(multiscale=True), "one scale"),
        (dict(preserve_color="luminance"), "histogram"),
        (dict(max_frames=0), "max frames"),
        (dict(styles=[]), "no style image"),
        (dict(clip="nowhere.mp4"), "not found"),
        (dict(clip=torch.zeros(2, 4, 8, 8)), "Tx3xHxW"),
        (dict(clip=torch.zeros(0, 3, 8, 8)), "no frames"),
        (dict(clip=[]), "no frames"),
        (dict(clip=42), "not int"),
        (dict(clip=[torch.full((1, 3, 32, 32), 7.0)]), "not in [0, 1]"),
    ],
)
def test_bad_arguments_get_one_line_errors(model, kwargs, message):
    kwargs = {"clip": "camera_move", "styles": "starry_night", **kwargs}
    with pytest.raises(NSTError, match=message.replace("[", r"\[").replace("]", r"\]")) as err:
        V.stylize_video(
            kwargs.pop("clip"), kwargs.pop("styles"), model=model, steps=1, size=48, progress=False, **kwargs
        )
    assert "\n" not in str(err.value)


# ------------------------------------------------------------------------------------------ reading and writing


@pytest.mark.parametrize("name", ["clip.gif", "clip.mp4", "clip.avi", "frames"])
def test_write_then_read_round_trip(clip, tmp_path, name):
    path = V.write_clip(clip, tmp_path / name, fps=8)
    back = V.read_clip(path)
    assert back.frames.shape == clip.frames.shape
    tolerance = {"frames": 0.003, "clip.gif": 0.05}.get(name, 0.08)  # PNG exact; GIF 256 colours; video lossy
    assert (back.frames - clip.frames).abs().mean() < tolerance
    if name != "frames":
        assert back.fps == pytest.approx(8, rel=0.05)


def test_read_clip_resizes_limits_and_accepts_lists(clip, tmp_path):
    with pytest.warns(UserWarning, match="only the first 2"):
        short = V.read_clip(V.write_clip(clip, tmp_path / "c.gif"), max_frames=2, size=32)
    assert short.frames.shape == (2, 3, 21, 32)
    pictures = [nst.to_pil(clip.frame(t)) for t in range(len(clip))]
    assert V.read_clip(pictures).frames.shape == clip.frames.shape
    assert V.read_clip(clip.frames, fps=3).fps == 3
    # frames of other sizes in a folder are brought to the first one's size
    folder = tmp_path / "mixed"
    folder.mkdir()
    Image.new("RGB", (40, 30), "red").save(folder / "a.png")
    Image.new("RGB", (80, 50), "blue").save(folder / "b.png")
    assert V.read_clip(folder).frames.shape == (2, 3, 30, 40)
    # a still picture is a clip of one frame
    assert len(V.read_clip("chelsea" if False else nst.example_path("chelsea"), size=32)) == 1
    bundled = V.read_clip("camera_move", size=64)
    assert bundled.true_flows is not None and bundled.frames.shape[-1] == 64


def _bad_files(tmp_path):
    (tmp_path / "text.mp4").write_text("not a video at all")
    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "empty_dir").mkdir()
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.txt").write_text("x")
    good = V.write_clip(V.example_clip(3, 48), tmp_path / "good.mp4")
    (tmp_path / "truncated.mp4").write_bytes(good.read_bytes()[:200])
    (tmp_path / "fake.gif").write_bytes(b"GIF89a" + b"\0" * 10)


@pytest.mark.parametrize(
    "name, message",
    [
        ("text.mp4", "could not be opened"),
        ("empty.mp4", "could not be opened"),
        ("empty_dir", "holds no images"),
        ("notes", "holds no images"),
        ("truncated.mp4", "could not be opened"),
        ("fake.gif", "not an image Pillow can read"),
        ("missing.mov", "not found"),
    ],
)
def test_bad_video_files_get_one_line_errors(tmp_path, name, message):
    _bad_files(tmp_path)
    with pytest.raises(NSTError, match=message) as err:
        V.read_clip(tmp_path / name)
    assert "\n" not in str(err.value)


def test_writing_never_replaces_a_file(clip, tmp_path):
    mine = tmp_path / "mine.gif"
    mine.write_bytes(b"precious")
    with pytest.raises(NSTError, match="exists"):
        V.write_clip(clip, mine)
    with pytest.raises(NSTError):
        V.write_clip(clip, mine, overwrite=True, protect=[mine])
    assert mine.read_bytes() == b"precious"
    with pytest.raises(NSTError, match="end the name in"):
        V.write_clip(clip, tmp_path / "clip.txt")
    folder = tmp_path / "frames"
    folder.mkdir()
    (folder / "frame_0002.png").write_bytes(b"precious")
    with pytest.raises(NSTError, match="exists"):
        V.write_clip(clip, folder)
    assert sorted(p.name for p in folder.iterdir()) == ["frame_0002.png"]  # nothing written before the check
    assert not list(tmp_path.glob(".*part*"))


def test_clips_html_and_flow_picture(clip):
    html = V.clips_html({"<a> & b": clip, "two": clip.frames[:2]})
    assert html.count("data:image/gif;base64,") == 2 and "&lt;a&gt; &amp; b" in html
    picture = V.flow_to_rgb(clip.true_flows[1:2])
    assert picture.shape == (1, 3, *clip.frames.shape[-2:]) and 0 <= picture.min() and picture.max() <= 1


# ------------------------------------------------------------------------------------------ command line

VIDEO_FAST = ["--weights", "random", "--size", "48", "--steps", "3", "--max-frames", "3", "--quiet"]


@pytest.mark.slow
def test_video_command_end_to_end(tmp_path, capsys):
    out, report = tmp_path / "out.mp4", tmp_path / "r.json"
    assert (
        main(
            [
                "video",
                "camera_move",
                "starry_night",
                "-o",
                str(out),
                "--report",
                str(report),
                "--temporal-weight",
                "50",
                *VIDEO_FAST,
            ]
        )
        == 0
    )
    data = json.loads(report.read_text())
    assert data["frames"] == 3 and len(data["seconds_per_frame"]) == 3 and data["warping_error_flow"] == "true"
    assert data["config"]["temporal_weight"] == 50 and data["method"] == "temporal"
    assert len(V.read_clip(out)) == 3
    gif = tmp_path / "g.gif"
    assert main(["video", str(out), "the_scream", "-o", str(gif), "--method", "independent", *VIDEO_FAST[:-1]]) == 0
    assert "independent: 3 frames" in capsys.readouterr().out
    assert (
        main(
            [
                "video",
                str(gif),
                "starry_night",
                "the_scream",
                "-o",
                str(tmp_path / "frames"),
                "--blend",
                "1",
                "3",
                "--fps",
                "5",
                *VIDEO_FAST,
            ]
        )
        == 0
    )
    assert len(list((tmp_path / "frames").glob("frame_*.png"))) == 3


@pytest.mark.parametrize(
    "args, message",
    [
        (["video", "camera_move", "starry_night", "-o", "{tmp}/mine.gif"], "exists"),
        (["video", "camera_move", "starry_night", "-o", "{tmp}/o.txt"], "end the name in"),
        (["video", "camera_move", "starry_night", "-o", "{tmp}/o.gif", "--report", "{tmp}/mine.gif"], "looks like"),
        (["video", "{tmp}/text.mp4", "starry_night", "-o", "{tmp}/o.gif"], "could not be opened"),
        (["video", "{tmp}/nowhere.mp4", "starry_night", "-o", "{tmp}/o.gif"], "not found"),
        (["video", "camera_move", "nowhere.jpg", "-o", "{tmp}/o.gif"], "not found"),
        (["video", "camera_move", "starry_night", "-o", "{tmp}/o.gif", "--temporal-weight", "-2"], "temporal weight"),
        (["video", "camera_move", "starry_night", "-o", "{tmp}/o.gif", "--max-frames", "many"], "max frames"),
        (["video", "camera_move", "starry_night", "-o", "{tmp}/o.gif", "--fps", "0"], "fps"),
        (["video", "camera_move", "starry_night", "-o", "{tmp}/o.gif", "--method", "magic"], "invalid choice"),
        (["video", "camera_move", "starry_night", "-o", "{tmp}/o.gif", "--multiscale"], "one scale"),
        (["video", "camera_move", "starry_night", "-o", "{tmp}/o.gif", "--blend", "1", "2"], "blend weights"),
        (["video", "{tmp}/frames", "starry_night", "-o", "{tmp}/frames", "--force"], "is an input"),
        (["video", "{tmp}/good.mp4", "starry_night", "-o", "{tmp}/good.mp4", "--force"], "this run reads"),
        (["video", "camera_move"], "give a STYLE"),
        (["video", "camera_move", "starry_night", "-o", "{tmp}/notes/a.txt/x"], "not"),
        (["video", "camera_move", "starry_night", "-o", "{tmp}/plain"], "is a file"),
        (["video", "camera_move", "starry_night", "-o", "{tmp}/frames"], "exists"),
        (["video", "camera_move", "starry_night", "-o", "{tmp}/o.gif", "--tol", "2"], "tol"),
    ],
)
def test_bad_video_command_lines_get_one_line_and_write_nothing(tmp_path, capsys, args, message):
    _bad_files(tmp_path)
    (tmp_path / "mine.gif").write_bytes(b"my precious clip")
    (tmp_path / "plain").write_bytes(b"a file without an ending")
    frames = tmp_path / "frames"
    frames.mkdir()
    Image.new("RGB", (40, 30)).save(frames / "frame_0001.png")
    before = {p: _digest(p) for p in tmp_path.rglob("*") if p.is_file()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert (
            main(
                [a.replace("{tmp}", str(tmp_path)) for a in args]
                + ["--weights", "random", "--size", "48", "--steps", "1"]
            )
            == 2
        )
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err
    after = {p: _digest(p) for p in tmp_path.rglob("*") if p.is_file()}
    assert after == before


def test_a_content_file_named_video_is_still_reachable(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Image.fromarray(np.full((40, 48, 3), 120, np.uint8)).save(tmp_path / "video", format="PNG")
    assert (
        main(
            [
                "./video",
                "starry_night",
                "-o",
                "out.png",
                "--weights",
                "random",
                "--size",
                "40",
                "--steps",
                "1",
                "--quiet",
            ]
        )
        == 0
    )


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: V.read_clip("camera_move", size=0), "size"),
        (lambda: V.read_clip("camera_move", size=(40, 50)), "long side"),
        (lambda: V.read_clip("camera_move", max_frames=True), "max frames"),
        (lambda: V.read_clip("camera_move", fps=float("nan")), "fps"),
        (lambda: V.read_clip(b"clip.mp4"), "not bytes"),
        (lambda: V.read_clip(["nowhere.png"]), "not found"),
        (lambda: V.write_clip(torch.full((2, 3, 8, 8), float("nan")), "never.gif"), "NaN"),
        (lambda: V.write_clip(torch.full((2, 3, 8, 8), 9.0), "never.gif"), "not in [0, 1]"),
        (lambda: V.write_clip([1, 2], "never.gif"), "not int"),
        (lambda: V.write_clip((x for x in ()), "never.gif"), "not generator"),
        (lambda: V.write_clip([], "never.gif"), "no frames"),
        (lambda: V.estimate_flow(torch.rand(1, 3, 8, 8), torch.rand(1, 3, 9, 8)), "differ in shape"),
        (lambda: V.example_clip(frames=0), "frames"),
    ],
)
def test_bad_api_values_get_one_line_errors(tmp_path, monkeypatch, call, message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(NSTError) as err:
        call()
    assert message in str(err.value) and "\n" not in str(err.value)
    assert list(tmp_path.iterdir()) == []  # nothing written
