"""The paper's normalised network (``normalize.py``), the ``gatys`` preset that uses it, and which network
made a picture (``describe_vgg``)."""

import hashlib
import json
import math

import pytest
import torch

import nst_helpers as nst
from nst_helpers import normalize as N
from nst_helpers import weights as W
from nst_helpers.cli import main
from nst_helpers.layers import LAYERS
from nst_helpers.objective import build_objective
from nst_helpers.optimize import initial_image, optimize_image

CONVS = [r.index for r in LAYERS if r.kind == "conv"]
#: A small calibration set for the tests: two bundled photos at 64 px (the default is eight at 224 px).
SMALL = (["chelsea", "coffee"], 64)
PROBE = [
    "conv1_1",
    "relu1_2",
    "pool1",
    "relu2_1",
    "conv3_1",
    "relu3_1",
    "relu4_1",
    "relu4_2",
    "conv5_1",
    "relu5_1",
    "pool5",
]


def rescaled(state, seed=1, spread=4.0):
    """The same network up to one positive factor per channel: filter i of each convolution (weights and
    bias) times c_i, the next convolution's input channel i divided by c_i; c_i log-uniform in [1/4, 4]."""
    g = torch.Generator().manual_seed(seed)
    out = {k: v.clone() for k, v in state.items()}
    for a, b in zip(CONVS, CONVS[1:]):
        c = torch.exp(
            (torch.rand(out[f"{a}.bias"].shape[0], generator=g, dtype=torch.float64) * 2 - 1) * math.log(spread)
        ).to(out[f"{a}.bias"].dtype)
        out[f"{a}.weight"] *= c.view(-1, 1, 1, 1)
        out[f"{a}.bias"] *= c
        out[f"{b}.weight"] /= c.view(1, -1, 1, 1)
    return out


def _vgg(state, pooling="max", dtype=torch.float64, source="random"):
    """A VGGFeatures holding ``state`` exactly in ``dtype`` (loading into float32 modules would round it)."""
    model = nst.VGGFeatures(state, pooling=pooling, source=source).to(dtype)
    model.features.load_state_dict({k: v.to(dtype) for k, v in state.items()})
    return model


@pytest.fixture(scope="module")
def state():
    """Seeded random weights in float64, so that rescaling them is exact."""
    return {k: v.double() for k, v in W.random_state_dict().items()}


@pytest.fixture(scope="module")
def raw64(state):
    return _vgg(state, dtype=torch.float64)


@pytest.fixture(scope="module")
def normalized64(raw64):
    return nst.normalize_vgg19(raw64, *SMALL, progress=False)


def _calibration_means(model, calibration=SMALL):
    return N.measure(model, N.Calibration(*calibration))


# ------------------------------------------------------------------------------- the normalised network


def _measured(stats):
    """The filters whose mean activation is measured: positive, and at least MIN_MEAN times the RMS of their
    ReLU's input."""
    return (stats["mean"] >= N.MIN_MEAN * stats["rms"]) & (stats["mean"] > 0)


def test_every_measured_filter_has_mean_activation_one(raw64, normalized64):
    """In float64: after normalising, each filter's mean activation over the calibration images is 1; a
    filter that fires too rarely for that (mean below 1/100 of its ReLU input's RMS) has that RMS at 100
    instead, and a mean below 1. They are counted."""
    before, after = _calibration_means(raw64), _calibration_means(normalized64)
    rare_total = 0
    for i in CONVS:
        measured = _measured(before[i])
        assert measured.sum() > 0.5 * len(measured), LAYERS[i].paper
        assert torch.allclose(
            after[i]["mean"][measured], torch.ones(int(measured.sum()), dtype=torch.float64), rtol=0, atol=1e-9
        )
        assert torch.equal(after[i]["fired"], before[i]["fired"])  # the same filters fire at the same places
        rare = ~measured & (before[i]["rms"] > 0)  # (a filter whose input is 0 everywhere keeps its scale)
        assert torch.allclose(
            after[i]["rms"][rare], torch.full((int(rare.sum()),), 1 / N.MIN_MEAN, dtype=torch.float64)
        )
        assert (after[i]["mean"][~measured] < 1).all()
        rare_total += int((~measured).sum())
    info = normalized64.normalization
    assert info["rare_total"] == rare_total == sum(info["rare"].values()) and info["filters"] == 5504
    assert info["never_fired"] == sum(int((before[i]["mean"] == 0).sum()) for i in CONVS) <= rare_total


@pytest.mark.slow
def test_float32_normalisation_holds_to_1e5():
    """The float32 network as the package loads it, checked in float64: means 1 to ~1e-5."""
    model = nst.load_vgg19("random", device="cpu")
    normalized = nst.normalize_vgg19(model, *SMALL, progress=False)
    before = _calibration_means(model.double())
    after = _calibration_means(normalized.double())
    model.float(), normalized.float()
    for i in CONVS:
        err = (after[i]["mean"][_measured(before[i])] - 1).abs()
        assert err.median() < 1e-6 and err.max() < 1e-4, LAYERS[i].paper


@pytest.mark.slow
def test_activations_are_the_originals_divided_by_the_means(raw64, normalized64):
    stats = _calibration_means(raw64)
    factors = N.scale_factors(stats)
    img = nst.load_image("starry_night", size=64).double()
    for pooling in ("max", "avg"):
        raw = raw64 if pooling == "max" else _vgg(raw64.features.state_dict(), "avg")
        norm = normalized64 if pooling == "max" else nst.normalize_vgg19(raw, *SMALL, progress=False)
        a, b = raw(img, PROBE), norm(img, PROBE)
        for name in PROBE:
            # a pooling or ReLU carries the factor of the convolution before it
            conv = max(i for i in CONVS if i <= nst.layer_index(name))
            expected = a[name] / factors[conv][0].view(1, -1, 1, 1)
            assert torch.allclose(b[name], expected, rtol=1e-9, atol=1e-12), (pooling, name)


@pytest.mark.slow
def test_rescaled_weights_give_the_same_normalised_network(state):
    """The invariance that defines it: weights rescaled by positive per-channel factors (the same network
    up to one factor per channel) give the same normalised network, while their raw activations differ."""
    img = nst.load_image("the_scream", size=64).double()
    a, b = _vgg(state, dtype=torch.float64), _vgg(rescaled(state), dtype=torch.float64)
    raw_a, raw_b = a(img, PROBE), b(img, PROBE)
    assert not torch.allclose(raw_a["relu3_1"], raw_b["relu3_1"], rtol=0.1)
    na, nb = (nst.normalize_vgg19(m, *SMALL, progress=False) for m in (a, b))
    fa, fb = na(img, PROBE), nb(img, PROBE)
    for name in PROBE:
        assert torch.allclose(fa[name], fb[name], rtol=1e-9, atol=1e-12), name
    # and in float32, as a run uses it, to float32's precision
    f32 = [
        nst.normalize_vgg19(_vgg(s, dtype=torch.float32), *SMALL, progress=False)(img.float(), ["relu4_2", "relu5_1"])
        for s in (state, rescaled(state))
    ]
    for name in ("relu4_2", "relu5_1"):
        assert (f32[0][name] - f32[1][name]).abs().max() < 1e-3 * f32[0][name].abs().max()


def test_normalising_twice_changes_nothing(normalized64):
    assert nst.normalize_vgg19(normalized64, *SMALL, progress=False) is normalized64
    again = nst.normalize_vgg19(normalized64, ["chelsea"], 64, progress=False)  # another set: measured again
    assert again is not normalized64 and again.normalization["images"] == 1


@pytest.mark.slow
def test_the_cache_is_hit_the_second_time(monkeypatch, tmp_path, state):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    N._memory.clear()
    calls = []
    measure = N.measure
    monkeypatch.setattr(N, "measure", lambda *a: calls.append(1) or measure(*a))
    model = _vgg(state, source="random")
    first = nst.normalize_vgg19(model, *SMALL, progress=False)
    second = nst.normalize_vgg19(model, *SMALL, progress=False)
    assert len(calls) == 1 and (first.normalization["from"], second.normalization["from"]) == ("measured", "memory")
    assert not (tmp_path / "torch_home").exists()  # random weights are not written to disk
    # weights from a file: the means are kept beside torchvision's cache, and read from there next time
    path = tmp_path / "w.pth"
    torch.save(rescaled(state, seed=5), path)
    from_file = nst.load_vgg19(str(path), device="cpu")
    nst.normalize_vgg19(from_file, *SMALL, progress=False)
    cached = list(W.cache_dir().glob("vgg19-means-*.pt"))
    assert len(calls) == 2 and len(cached) == 1 and cached[0].stat().st_size < 200_000
    N._memory.clear()
    again = nst.normalize_vgg19(nst.load_vgg19(str(path), device="cpu"), *SMALL, progress=False)
    assert len(calls) == 2 and again.normalization["from"] == "disk"
    cached[0].write_bytes(b"damaged")  # a damaged cache file is measured again and replaced
    N._memory.clear()
    nst.normalize_vgg19(from_file, *SMALL, progress=False)
    assert len(calls) == 3 and torch.load(cached[0], weights_only=True)["version"] == N.CACHE_VERSION


@pytest.mark.slow
def test_load_vgg19_normalize_uses_the_bundled_photos(capfd):
    model = nst.load_vgg19("random", device="cpu", pooling="avg", normalize=True)
    assert model.pooling == "avg" and model.channels_last
    assert model.normalization["calibration"] == "the 8 bundled photos at 224 px"
    assert model.normalization["images"] == len(list(N.CALIBRATION_DIR.glob("*.jpg")))
    assert model.description.endswith(
        "normalised as in the paper on the 8 bundled photos at 224 px "
        f"({model.normalization['rare_total']} of 5504 filters fire too rarely "
        f"there to be measured)"
    )


@pytest.mark.parametrize(
    "calibration, message",
    [
        ([], "the calibration set is empty: give at least one image"),
        ((), "the calibration set is empty"),
        (42, "calibration must be None (the bundled photos), a folder or a list of images, not int"),
        ("no_such_folder_or_photo", "calibration must be None"),
        (["no_such_photo.jpg"], "not found"),
        ([torch.zeros(2, 2)], "calibration image"),
    ],
)
def test_bad_calibration_sets_get_one_line(model, calibration, message):
    with pytest.raises(nst.NSTError, match=message.replace("(", r"\(").replace(")", r"\)")) as err:
        nst.normalize_vgg19(model, calibration, progress=False)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda m: nst.normalize_vgg19(torch.nn.Linear(2, 2)), "takes a VGG19 from nst.load_vgg19, not Linear"),
        (lambda m: nst.normalize_vgg19("vgg19"), "takes a VGG19 from nst.load_vgg19, not str"),
        (lambda m: nst.normalize_vgg19(m, ["chelsea"], size=8), "calibration size"),
        (lambda m: nst.normalize_vgg19(m, ["chelsea"], size="64x64"), "one number"),
        (lambda m: nst.load_vgg19("random", device="cpu", normalize="yes"), "normalize must be True or False"),
        (lambda m: nst.make_config(normalize_network="yes"), "normalize_network must be True or False"),
        (lambda m: nst.make_config(content_norm="sum"), "unknown content loss normalisation 'sum'"),
        (lambda m: nst.content_loss(torch.zeros(1), torch.zeros(1), norm="sum"), "content loss normalisation"),
    ],
)
def test_hostile_arguments_get_one_line(model, call, message):
    with pytest.raises(nst.NSTError, match=message) as err:
        call(model)
    assert "\n" not in str(err.value)


def test_a_model_that_does_not_match_the_configuration_is_refused(model, normalized64):
    photo = torch.rand(1, 3, 32, 32)
    raw_avg = nst.load_vgg19("random", device="cpu", pooling="avg")
    with pytest.raises(
        nst.NSTError,
        match=r"normalised network \(normalize_network\) but the model is not "
        r"normalised: load it with load_vgg19\(..., normalize=True\)",
    ):
        nst.stylize(photo, photo, "gatys", model=raw_avg, steps=1, progress=False)
    normalized = nst.normalize_vgg19(model, *SMALL, progress=False)
    with pytest.raises(nst.NSTError, match="the model is the paper's normalised network but the configuration"):
        nst.stylize(photo, photo, "seed", model=normalized, steps=1, progress=False)
    with pytest.raises(nst.NSTError, match="max pooling but the configuration asks for avg"):
        nst.stylize(photo, photo, "gatys", model=normalized, steps=1, progress=False)


# ---------------------------------------------------------------------------------- the gatys preset


def test_the_seed_preset_is_unchanged():
    seed = nst.PRESETS["seed"]
    assert (seed.normalize_network, seed.content_norm, seed.gram_norm, seed.pooling, seed.init) == (
        False,
        "mean",
        "chw",
        "max",
        "content",
    )
    assert (seed.content_weight, seed.style_weight, seed.steps) == (1.0, 1e5, 300)


def test_gatys_is_the_papers_method():
    p = nst.PRESETS["gatys"]
    assert p.normalize_network and p.pooling == "avg" and p.init == "content"  # Fig. 6 A's start
    assert p.content_layers == ("relu4_2",)
    assert p.style_layers == ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
    assert p.layer_weights == (0.2,) * 5
    assert (p.content_norm, p.gram_norm) == ("paper", "paper")
    assert p.content_weight / p.style_weight == pytest.approx(1e-3)  # alpha/beta of Fig. 3 B, Figs. 5 and 6
    assert "alpha/beta 1e-3" in p.description and "Fig. 3 B" in p.description


def test_gatys_objective_is_the_papers_formula_by_hand(normalized64):
    """alpha * 1/2 sum (F - P)^2 + beta * sum_l w_l sum (G - A)^2 / (4 N_l^2 M_l^2), with F, P, G = F F^T and
    A from the raw activations of the normalised network (float64), at two sizes."""
    p = nst.PRESETS["gatys"]
    model = nst.VGGFeatures({k: v for k, v in normalized64.features.state_dict().items()}, pooling="avg").double()
    model.normalization = normalized64.normalization
    for shape in ((32, 40), (48, 64)):
        g = torch.Generator().manual_seed(shape[0])
        photo, painting, x = (torch.rand(1, 3, *shape, generator=g, dtype=torch.float64) for _ in range(3))
        objective = build_objective(model, photo, [painting], p)
        with torch.no_grad():
            total, parts = objective(x)
            fx, fp, fa = (model(t, ["relu4_2", *p.style_layers]) for t in (x, photo, painting))
        content = 0.5 * ((fx["relu4_2"] - fp["relu4_2"]) ** 2).sum()
        style = 0.0
        for name, w in zip(p.style_layers, p.layer_weights):
            F_, A_ = fx[name][0].flatten(1), fa[name][0].flatten(1)
            n_l, m_l = F_.shape
            style += w * ((F_ @ F_.T - A_ @ A_.T) ** 2).sum() / (4 * n_l**2 * m_l**2)
        assert parts["unweighted"]["content"] == pytest.approx(content.item(), rel=1e-10)
        assert parts["unweighted"]["style"] == pytest.approx(style.item(), rel=1e-10)
        assert total.item() == pytest.approx((p.content_weight * content + p.style_weight * style).item(), rel=1e-10)


def test_paper_losses_are_half_sums_and_E_l():
    f, t = torch.rand(1, 4, 3, 5, dtype=torch.float64), torch.rand(1, 4, 3, 5, dtype=torch.float64)
    assert nst.content_loss(f, t, "paper").item() == pytest.approx(0.5 * ((f - t) ** 2).sum().item())
    e_l = ((f[0].flatten(1) @ f[0].flatten(1).T - t[0].flatten(1) @ t[0].flatten(1).T) ** 2).sum() / (4 * 16 * 15**2)
    assert nst.style_loss(nst.gram_matrix(f, "paper"), nst.gram_matrix(t, "paper")).item() == pytest.approx(e_l.item())
    assert nst.style_loss(nst.gram_matrix(f, "hw"), nst.gram_matrix(t, "hw")).item() == pytest.approx(4 * e_l.item())


@pytest.mark.slow
def test_gatys_objective_does_not_depend_on_per_channel_factors(state):
    """The gatys objective, value and gradient, is the same for weights rescaled per channel (float64);
    on the raw network (normalize_network off) it is not."""
    g = torch.Generator().manual_seed(0)
    photo, painting = (torch.rand(1, 3, 48, 48, generator=g, dtype=torch.float64) for _ in range(2))
    x = torch.rand(1, 3, 48, 48, generator=g, dtype=torch.float64)
    results = {}
    for name, st in (("original", state), ("rescaled", rescaled(state))):
        raw = _vgg(st, "avg", torch.float64)
        for normalize in (True, False):
            model = nst.normalize_vgg19(raw, *SMALL, progress=False) if normalize else raw
            config = nst.make_config("gatys", normalize_network=normalize)
            xx = x.clone().requires_grad_(True)
            total, _ = build_objective(model, photo, [painting], config)(xx)
            total.backward()
            results[name, normalize] = (total.item(), xx.grad)
    (va, ga), (vb, gb) = results["original", True], results["rescaled", True]
    assert vb == pytest.approx(va, rel=1e-9) and torch.allclose(gb, ga, rtol=1e-7, atol=1e-12 * ga.abs().max())
    assert results["rescaled", False][0] != pytest.approx(results["original", False][0], rel=0.05)


@pytest.mark.slow
def test_gatys_picture_does_not_depend_on_per_channel_factors(state):
    """The issue's experiment with random weights: 64 px, 60 steps of the gatys preset with the weights and
    with the rescaled copy give the same picture (<= 3 levels of 255 on average), where the raw network's
    pictures differ. ``stylize``'s own steps (``build_objective``, ``initial_image``, ``optimize_image``) in
    float64: in float32, L-BFGS from white noise is chaotic enough that rounding alone (the rescaled copy
    differs from the original by float32's 1e-7 per weight) moves the picture by about 10 levels after 60
    steps, with or without normalisation."""
    photo = nst.load_image("chelsea", size=64).double()
    painting = nst.load_image("starry_night", size=64).double()
    pictures = {}
    for name, st in (("original", state), ("rescaled", rescaled(state))):
        raw = _vgg(st, "avg")
        for normalize in (True, False):
            model = nst.normalize_vgg19(raw, *SMALL, progress=False) if normalize else raw
            config = nst.make_config("gatys", normalize_network=normalize, steps=60)
            objective = build_objective(model, photo, [painting], config)
            start = initial_image(config.init, photo, config.random_seed)
            result = optimize_image(objective, start, steps=config.steps, progress=False, log_every=0)
            pictures[name, normalize] = torch.round(result.image.float() * 255)
    same = (pictures["original", True] - pictures["rescaled", True]).abs().mean().item()
    raw = (pictures["original", False] - pictures["rescaled", False]).abs().mean().item()
    assert same <= 3 < raw


# ------------------------------------------------------------------------------ which network it was


@pytest.mark.slow
def test_describe_vgg_names_the_weights(tmp_path, monkeypatch, state):
    text, info = nst.describe_vgg(nst.load_vgg19("random", device="cpu"))
    assert text == "VGG19 with random weights (seed 0), max pooling, not normalised"
    assert info == {"weights": {"kind": "random", "seed": 0}, "pooling": "max", "normalized": False}
    path = tmp_path / "mine.pth"
    torch.save(state, path)
    model = nst.load_vgg19(str(path), device="cpu", pooling="avg")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    assert model.description == f"VGG19 with the weights file mine.pth (sha256 {digest}), avg pooling, not normalised"
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "th"))
    normalized = nst.normalize_vgg19(model, *SMALL, progress=False)
    text, info = nst.describe_vgg(normalized)
    assert info["weights"] == {"kind": "file", "name": "mine.pth", "sha256": digest}
    assert info["normalized"] and info["calibration"] == "2 given images at 64 px"
    assert "normalised as in the paper on 2 given images at 64 px" in text
    assert W.describe_source("torchvision") == {
        "kind": "torchvision",
        "name": "VGG19_Weights.IMAGENET1K_V1",
        "file": "vgg19-dcbb9e9d.pth",
    }
    from torchvision.models import VGG19_Weights

    assert W.TORCHVISION_WEIGHTS == f"VGG19_Weights.{VGG19_Weights.IMAGENET1K_V1.name}"


def test_stylize_and_the_report_say_which_network_made_the_picture(model, tiny_images, tmp_path):
    r = nst.stylize(torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32), steps=2, model=model, progress=False)
    assert r.config["network"] == {
        "weights": {"kind": "random", "seed": 0},
        "pooling": "max",
        "normalized": False,
        "description": model.description,
    }
    report = tmp_path / "r.json"
    assert (
        main(
            [
                str(tiny_images["content"]),
                str(tiny_images["style0"]),
                "-o",
                str(tmp_path / "o.png"),
                "--report",
                str(report),
                "--weights",
                "random",
                "--size",
                "32",
                "--steps",
                "2",
                "--quiet",
                "--normalize-network",
            ]
        )
        == 0
    )
    data = json.loads(report.read_text())
    assert data["network"].startswith(
        "VGG19 with random weights (seed 0), max pooling, normalised as in the paper on the 8 bundled photos at 224 px"
    )
    assert data["config"]["normalize_network"] is True and data["config"]["network"]["normalized"] is True
