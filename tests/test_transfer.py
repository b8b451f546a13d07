import math

import pytest
import torch

import nst_helpers as nst


def test_seed_preset_is_the_original_configuration():
    p = nst.PRESETS["seed"]
    assert p.content_layers == ("conv_4",)
    assert p.style_layers == ("conv_1", "conv_2", "conv_3", "conv_4", "conv_5")
    assert (p.content_weight, p.style_weight, p.steps, p.optimizer, p.init) == (1.0, 1e5, 300, "lbfgs", "content")
    assert p.gram_norm == "chw" and p.pooling == "max"
    assert nst.default_size("cpu") == 128


def test_stylize_lowers_the_objective(model, tiny_images):
    r = nst.stylize(tiny_images["content"], [tiny_images["style0"]], size=32, steps=40, model=model, progress=False)
    assert r.evaluations == 40 and r.stopped is None
    assert r.history["total"][-1] < 0.5 * r.history["total"][0]
    assert r.image.shape == (1, 3, 27, 32)
    assert r.image.min() >= 0 and r.image.max() <= 1
    assert r.losses["total"] == min(r.history["total"])
    assert r.config["content_layers"] == ["conv_4"] and r.config["output_size"] == [27, 32]
    assert r.config["name"] == "seed" and r.config["steps"] == 40


def test_same_seed_same_picture(model, tiny_images):
    kw = dict(size=24, steps=15, model=model, progress=False, init="noise")
    torch.manual_seed(123)
    state = torch.get_rng_state()
    a = nst.stylize(tiny_images["content"], tiny_images["style0"], random_seed=3, **kw)
    assert torch.equal(torch.get_rng_state(), state)  # the caller's random state is left alone
    b = nst.stylize(tiny_images["content"], tiny_images["style0"], random_seed=3, **kw)
    c = nst.stylize(tiny_images["content"], tiny_images["style0"], random_seed=4, **kw)
    assert torch.equal(a.image, b.image)
    assert not torch.equal(a.image, c.image)


@pytest.mark.slow
def test_long_runs_stay_finite_and_in_range(model, tiny_images):
    r = nst.stylize(
        tiny_images["content"],
        tiny_images["style0"],
        size=32,
        steps=1200,
        model=model,
        progress=False,
        style_weight=1e7,
    )
    assert r.evaluations == 1200 and r.stopped is None
    assert all(math.isfinite(v) for v in r.history["total"])
    assert r.history["total"][-1] < r.history["total"][0]
    assert r.image.min() >= 0 and r.image.max() <= 1


def test_ctrl_c_returns_the_best_image_so_far(model, tiny_images):
    def interrupt(step, parts, image):
        if step == 10:
            raise KeyboardInterrupt

    r = nst.stylize(
        tiny_images["content"],
        tiny_images["style0"],
        size=24,
        steps=100,
        model=model,
        progress=False,
        callback=interrupt,
        callback_every=1,
    )
    assert r.stopped == "interrupted" and r.evaluations == 10
    assert r.losses["total"] == min(r.history["total"])


def test_callback_sees_progress_and_can_stop(model, tiny_images):
    seen = []

    def cb(step, parts, image):
        seen.append((step, parts["total"], tuple(image.shape)))
        return step < 20

    r = nst.stylize(
        tiny_images["content"],
        tiny_images["style0"],
        size=24,
        steps=100,
        model=model,
        progress=False,
        callback=cb,
        callback_every=10,
    )
    assert [s for s, _, _ in seen] == [10, 20]
    assert r.stopped == "callback" and r.evaluations == 20
    assert seen[0][2] == (1, 3, 20, 24)


def test_several_styles_adam_and_noise(model, tiny_images):
    r = nst.stylize(
        tiny_images["content"],
        [tiny_images["style0"], tiny_images["style1"]],
        blend=[7, 3],
        size=24,
        steps=30,
        model=model,
        progress=False,
        optimizer="adam",
        init="noise",
        lr=0.05,
    )
    assert r.config["blend"] == pytest.approx([0.7, 0.3])
    assert r.history["total"][-1] < r.history["total"][0]


def test_content_and_style_sizes_may_differ(model, tiny_images):
    r = nst.stylize(
        tiny_images["content"], tiny_images["style0"], size=32, style_scale=0.75, steps=3, model=model, progress=False
    )
    assert r.evaluations == 3


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(size=3), "at least 16"),
        (dict(size=(16, 40), style_layers=["pool5"]), "too small for layer pool5"),
        (dict(steps=0), "at least 1"),
        (dict(style_weight=float("nan")), "finite"),
        (dict(content_weight=-1), "at least 0"),
        (dict(blend=[1, 2]), "2 blend weights for 1 style"),
        (dict(optimizer="sgd"), "lbfgs"),
        (dict(init="zeros"), "content, noise"),
        (dict(config="picasso"), "seed"),
        (dict(style_layers=["conv9_9"]), "unknown VGG19 layer"),
        (dict(preserve_color="sepia"), "luminance"),
        (dict(style_scale=0), "greater than 0"),
        (dict(seed=3), "unknown option 'seed'"),
        (dict(layer_weights=[1, 2]), "2 layer weights for 5 style layers"),
        (dict(content_layers=[], style_layers=[]), "at least one layer"),
    ],
)
def test_bad_arguments_fail_before_any_work(model, tiny_images, kwargs, message):
    with pytest.raises(nst.NSTError, match=message):
        nst.stylize(
            tiny_images["content"],
            tiny_images["style0"],
            model=model,
            progress=False,
            **{"size": 32, "steps": 2, **kwargs},
        )


def test_reconstructions_get_closer_to_their_targets(model, tiny_images):
    r = nst.reconstruct_content(tiny_images["content"], "conv_2", steps=30, size=32, model=model, progress=False)
    assert r.history["total"][-1] < 0.2 * r.history["total"][0]
    s = nst.reconstruct_style(
        tiny_images["style0"], ["conv1_1", "conv2_1"], steps=30, size=32, model=model, progress=False
    )
    assert s.history["total"][-1] < 0.2 * s.history["total"][0]
    assert s.image.shape == (1, 3, 32, 32)


def test_multiscale_plan_and_run(model, tiny_images):
    assert nst.multiscale_plan(512, 300) == [(128, 300), (256, 100), (512, 50)]
    assert nst.multiscale_plan(64, 300) == [(64, 300)]
    r = nst.stylize(
        tiny_images["content"],
        tiny_images["style0"],
        size=48,
        steps=12,
        model=model,
        progress=False,
        multiscale=[(24, 12), (48, 6)],
    )
    assert r.evaluations == 18 and r.image.shape == (1, 3, 40, 48)
    assert len(r.history["total"]) == 18


def test_a_tensor_keeps_its_size_unless_told(model):
    content, style = torch.rand(1, 3, 20, 30), torch.rand(1, 3, 30, 30)
    assert nst.stylize(content, style, steps=1, model=model, progress=False).image.shape == (1, 3, 20, 30)
    assert nst.stylize(content, style, steps=1, size=60, model=model, progress=False).image.shape == (1, 3, 40, 60)
