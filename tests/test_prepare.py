"""One set-up of a run (``prepare.py``) behind every entry point, and the configurations taken whole:
``optimize_image``'s ``StyleConfig``, ``TrainConfig`` and ``VideoConfig``.

Each shared check is asked of every entry point that sets a run up: they must report the same one line."""

import dataclasses
import re

import numpy as np
import pytest
import torch
from PIL import Image

import nst_helpers as nst
from nst_helpers import feedforward as ff
from nst_helpers import video as V
from nst_helpers.errors import NSTError
from nst_helpers.lab import LiveSession, beta_sweep

TRAIN = dict(width=4, depth=1, crop=32, style_size=32, batch_size=2, steps=1, progress=False)


def _entry_points(content, style, model, **kwargs):
    """Each entry point, called with the same images and configuration fields (``kwargs``)."""
    frames = torch.rand(2, 3, 27, 32)
    return {
        "stylize": lambda: nst.stylize(content, style, model=model, steps=1, progress=False, **kwargs),
        "stylize_video": lambda: V.stylize_video(frames, style, model=model, steps=1, progress=False, **kwargs),
        "LiveSession": lambda: LiveSession(content, style, model, **kwargs).close(),
        "beta_sweep": lambda: beta_sweep(content, style, model, [1e3], steps=1, progress=False, **kwargs),
        "train_network": lambda: ff.train_network(style, None, nst.make_config("seed", **kwargs), model=model, **TRAIN),
    }


def _errors(calls):
    """The one-line error of each call (each must raise ``NSTError``)."""
    messages = {}
    for name, call in calls.items():
        with pytest.raises(NSTError) as err:
            call()
        messages[name] = str(err.value)
        assert "\n" not in messages[name], name
    return messages


def test_a_model_with_the_wrong_pooling_is_refused_by_every_entry_point(model, tiny_images):
    messages = _errors(_entry_points(tiny_images["content"], tiny_images["style0"], model, size=32, pooling="avg"))
    expected = (
        "the model uses max pooling but the configuration asks for avg: load it with load_vgg19(..., pooling='avg')"
    )
    assert set(messages.values()) == {expected}, messages


def test_no_style_image_is_reported_before_any_file_is_read(model, tmp_path):
    missing = tmp_path / "nowhere.png"
    messages = _errors(
        {
            "stylize": lambda: nst.stylize(missing, [], model=model, progress=False),
            "stylize_video": lambda: V.stylize_video(tmp_path / "nowhere.mp4", [], model=model, progress=False),
            "LiveSession": lambda: LiveSession(missing, [], model),
            "beta_sweep": lambda: beta_sweep(missing, [], model, progress=False),
        }
    )
    assert set(messages.values()) == {"no style image given: pass at least one"}, messages


def test_the_blend_count_is_checked_before_any_file_is_read(model, tmp_path):
    missing = tmp_path / "nowhere.png"
    calls = _entry_points(missing, missing, model, blend=[1, 2])
    calls["stylize_video"] = lambda: V.stylize_video(tmp_path / "nowhere.mp4", missing, model=model, blend=[1, 2])
    messages = _errors(calls)
    assert set(messages.values()) == {"got 2 blend weights for 1 style images: give one weight per style image"}, (
        messages
    )


def test_a_style_image_too_small_for_the_layers_gets_the_same_line_everywhere(model, tiny_images, tmp_path):
    sliver = tmp_path / "sliver.png"
    Image.fromarray(np.full((16, 64, 3), 90, np.uint8)).save(sliver)  # 64x16: 32x8 at the content's 32 px
    calls = _entry_points(tiny_images["content"], sliver, model, size=32, style_layers=["relu5_1"])
    del calls["train_network"]  # the painting is the training's own: "the style image", at the style size
    messages = _errors(calls)
    assert set(messages.values()) == {
        "a style image is 32x8 px, too small for layer relu5_1, which needs at least "
        "16 px on each side: use a larger size"
    }, messages


def test_memory_is_checked_before_vgg19_is_loaded_by_every_entry_point(model, tiny_images, tmp_path, monkeypatch):
    monkeypatch.setattr(nst.memory, "available_bytes", lambda device: 2**20)
    content, style, weights = tiny_images["content"], tiny_images["style0"], tmp_path / "nowhere.pth"
    messages = _errors(
        {
            "stylize": lambda: nst.stylize(content, style, weights=weights, size=32, progress=False),
            "stylize_video": lambda: V.stylize_video(torch.rand(2, 3, 27, 32), style, weights=weights, progress=False),
            "LiveSession": lambda: LiveSession(content, style, model, size=32),
            "beta_sweep": lambda: beta_sweep(content, style, model, [1e3], size=32, progress=False),
            "reconstruct_content": lambda: nst.reconstruct_content(content, "conv_4", size=32, weights=weights),
            "reconstruct_style": lambda: nst.reconstruct_style(style, ["conv_1"], size=32, weights=weights),
        }
    )
    # a clip's estimate counts its frames as well (video.paint.check_clip_memory), before any frame is read
    assert re.fullmatch(
        r"painting 2 frames of 32x27 px needs about \d+\.\d GB of memory but 0\.0 GB are free: give a "
        r"smaller size \(--size\) or fewer frames \(--max-frames\)",
        messages.pop("stylize_video"),
    )
    for name, message in messages.items():
        assert re.fullmatch(
            r"this run at 32x\d+ px needs about \d+\.\d GB of memory but 0\.0 GB are free: use a "
            r"smaller size \(or --multiscale for large pictures\)",
            message,
        ), (name, message)


def test_prepare_run_sets_a_run_up_on_the_models_device(model, tiny_images):
    run = nst.prepare_run(
        tiny_images["content"], None, nst.make_config("seed", size=32), model=model, device="cuda:99"
    )  # a given model's device wins: cuda:99 is never asked for
    assert run.device == torch.device("cpu") and run.model is model
    assert run.content.shape == (1, 3, 27, 32) and run.sources == list(nst.images.DEFAULT_STYLES)
    assert [max(s.shape[-2:]) for s in run.styles] == [32]  # the bundled painting, at the content's 32 px
    assert run.memory > 0
    # a tensor keeps its own size when the configuration sets none (as stylize has always done)
    assert nst.prepare_run(torch.rand(1, 3, 20, 24), "starry_night", "seed", model=model).content.shape[-2:] == (20, 24)


# ------------------------------------------------------------------------------------------ optimize_image


def _quadratic(target):
    def objective(image):
        total = ((image - target) ** 2).sum()
        value = float(total.detach())
        return total, {"content": value, "style": 0.0, "tv": 0.0, "total": value}

    return objective


def test_optimize_image_takes_the_configuration_whole():
    target, start = torch.full((1, 3, 8, 8), 0.7), torch.full((1, 3, 8, 8), 0.2)
    adam = nst.make_config("seed", optimizer="adam", lr=0.05, steps=7)
    result = nst.optimize_image(_quadratic(target), start, adam, progress=False)
    assert result.evaluations == 7 and result.stopped is None
    assert nst.optimize_image(_quadratic(target), start, adam, steps=3, progress=False).evaluations == 3
    lbfgs = nst.optimize_image(_quadratic(target), start, nst.make_config("seed", steps=30), progress=False)
    assert torch.allclose(lbfgs.image, target, atol=1e-3)  # L-BFGS with a line search solves it at once
    assert float(((result.image - target) ** 2).sum()) > 1e-2  # 7 small Adam steps do not
    # tol from the configuration, or given for one call
    flat = lambda image: (image.sum() * 0, {"content": 1.0, "style": 0.0, "tv": 0.0, "total": 1.0})  # noqa: E731
    assert nst.optimize_image(flat, start, nst.make_config("seed", tol=0.1), progress=False).stopped == "converged"
    assert (
        nst.optimize_image(flat, start, nst.make_config("seed", tol=0.1, steps=30), tol=0, progress=False).evaluations
        == 30
    )
    with pytest.raises(NSTError, match="steps must be at least 1, not 0"):
        nst.optimize_image(flat, start, "seed", steps=0)


# ------------------------------------------------------------------------------------------ TrainConfig


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("steps", 0, "steps must be at least 1, not 0"),
        ("batch_size", 65, "batch size must be at most 64, not 65"),
        ("crop", 8, "crop size (px) must be at least 16, not 8"),
        ("crop", "32x48", "crop size is one number (the side of the square crops, like 96), not HxW"),
        ("style_size", "40x60", "style size is one number (the painting's long side, like 128), not HxW"),
        ("lr", 0, "learning rate must be greater than 0, not 0"),
        ("lr", float("nan"), "learning rate must be a finite number, not nan"),
        ("seed", -1, "random seed must be at least 0, not -1"),
        ("checkpoint_every", 0, "checkpoint interval must be at least 1, not 0"),
        ("preview_every", "often", "preview interval must be a number, not 'often'"),
        ("network", "huge", "unknown network size 'huge': use one of small, full (or give width and depth)"),
        ("width", 0, "network width must be at least 1, not 0"),
        ("depth", 17, "network depth must be at most 16, not 17"),
        ("precision", "half", "unknown precision 'half': use one of auto, float32, bfloat16"),
        ("style_weight", -1, "style weight must be at least 0, not -1"),
    ],
)
def test_train_config_checks_each_field_with_one_line(model, field, value, message):
    with pytest.raises(NSTError) as err:
        ff.TrainConfig(**{field: value})
    assert str(err.value) == message
    # the same line from train_network, before the photos folder is looked at
    with pytest.raises(NSTError) as err:
        ff.train_network("starry_night", "/nowhere/photos", model=model, **{**TRAIN, field: value})
    assert str(err.value) == message


def test_train_presets_and_overrides():
    default, notebook = ff.TRAIN_PRESETS["default"], ff.TRAIN_PRESETS["notebook"]
    assert (default.network, default.steps, default.batch_size, default.crop, default.style_size, default.lr) == (
        "small",
        2800,
        4,
        96,
        128,
        2e-3,
    )
    assert notebook == dataclasses.replace(default, name="notebook", steps=1000)
    assert ff.make_train_config() is default and ff.make_train_config(None) is default
    mine = ff.make_train_config("notebook", crop="64", steps="10", style_size=None)
    assert (mine.crop, mine.steps, mine.painting_size, mine.name) == (64, 10, 64, "notebook")
    assert ff.make_train_config(mine.to_dict()) == mine and ff.make_train_config(mine, seed=3).seed == 3
    with pytest.raises(dataclasses.FrozenInstanceError):
        mine.steps = 5
    with pytest.raises(NSTError, match="unknown option 'stepz': the options are network, width, depth, steps"):
        ff.make_train_config(stepz=3)
    with pytest.raises(NSTError, match="unknown training preset 'fast': use one of default, notebook"):
        ff.make_train_config("fast")
    with pytest.raises(NSTError, match="not int"):
        ff.make_train_config(5)


def test_a_train_config_reaches_the_network_and_its_metadata(model, photos_dir, tmp_path):
    painting = tmp_path / "painting.png"
    Image.fromarray(np.full((40, 40, 3), 200, np.uint8)).save(painting)
    training = ff.make_train_config(
        "notebook",
        width=4,
        depth=1,
        crop=32,
        style_size=40,
        batch_size=2,
        steps=2,
        lr=1e-3,
        style_weight=2e4,
        precision="float32",
    )
    result = ff.train_network(painting, photos_dir, training=training, model=model, progress=False, steps=3)
    assert result.steps == 3 and (result.network.width, result.network.depth) == (4, 1)  # keyword over config
    meta = result.meta
    assert (meta["crop"], meta["style_size"], meta["batch_size"], meta["lr"]) == (32, 40, 2, 1e-3)
    assert meta["config"]["style_weight"] == 2e4 and meta["config"]["precision"] == "float32"
    # a given objective keeps its own beta
    kept = ff.train_network(painting, photos_dir, nst.PRESETS["seed"], training, model=model, progress=False, steps=1)
    assert kept.meta["config"]["style_weight"] == 1e5


@pytest.fixture
def photos_dir(make_photos):
    return make_photos(2)


# ------------------------------------------------------------------------------------------ VideoConfig


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("method", "magic", "unknown method 'magic': use one of independent, warm, temporal, network"),
        ("flow", "lucas", "unknown flow method 'lucas': use one of dis, farneback"),
        ("temporal_weight", -1, "temporal weight must be at least 0, not -1"),
        ("tol", 2, "tol must be at most 0.5, not 2"),
        ("max_frames", 0, "max frames must be at least 1, not 0"),
    ],
)
def test_video_config_checks_each_field_with_one_line(model, field, value, message):
    with pytest.raises(NSTError) as err:
        V.VideoConfig(**{field: value})
    assert str(err.value) == message
    with pytest.raises(NSTError) as err:  # the same line from stylize_video, given by keyword
        V.stylize_video("nowhere.mp4", "starry_night", model=model, **{field: value})
    assert str(err.value) == message


def test_video_config_defaults_tol_and_overrides(model):
    video = V.VideoConfig()
    assert (video.method, video.temporal_weight, video.flow, video.max_frames) == (
        "temporal",
        V.DEFAULT_TEMPORAL_WEIGHT,
        "dis",
        V.DEFAULT_MAX_FRAMES,
    )
    assert V.VideoConfig(temporal_weight=None).temporal_weight == V.DEFAULT_TEMPORAL_WEIGHT
    seed, strict = nst.make_config("seed"), nst.make_config("seed", tol=0.02)
    assert video.frame_tol(seed) == V.DEFAULT_TOL and video.frame_tol(strict) == 0.02
    assert V.VideoConfig(tol=0).frame_tol(strict) == 0  # 0: every frame gets all its steps
    assert V.make_video_config(video.to_dict()) == video
    with pytest.raises(NSTError, match="unknown option 'lambda'"):
        V.make_video_config(video, **{"lambda": 3})
    # a keyword overrides the given VideoConfig; the StyleConfig's fields go to the StyleConfig
    frames = torch.rand(2, 3, 24, 24)
    result = V.stylize_video(
        frames,
        "starry_night",
        "seed",
        V.VideoConfig(method="warm", tol=0.3),
        model=model,
        method="independent",
        steps=2,
        progress=False,
    )
    assert result.method == "independent" and result.config["tol"] == 0.3
    assert result.config["steps"] == 2 and result.steps == [2, 2]
