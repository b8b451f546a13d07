"""Beyond the seed: the paper's preset, colour preservation, smoothness, style scale, high resolution."""

import pytest
import torch

import nst_helpers as nst
from nst_helpers import color


def _photo(h=32, w=40):
    y, x = torch.meshgrid(torch.linspace(0, 1, h), torch.linspace(0, 1, w), indexing="ij")
    return torch.stack([0.2 + 0.6 * x, 0.3 + 0.2 * y, 0.6 - 0.3 * x * y]).unsqueeze(0)


def _painting(h=32, w=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    base = torch.tensor([0.9, 0.5, 0.1]).view(1, 3, 1, 1)  # an orange painting with blue strokes
    img = base + 0.2 * torch.rand(1, 3, h, w, generator=g)
    img[..., ::3, :] = torch.tensor([0.1, 0.2, 0.9]).view(3, 1, 1)
    return img.clamp(0, 1)


@pytest.fixture(scope="module")
def paper_model():
    """The gatys preset's network with random weights: average pooling, normalised (on two photos, to be quick)."""
    raw = nst.load_vgg19("random", device="cpu", pooling="avg")
    return nst.normalize_vgg19(raw, ["chelsea", "coffee"], 64, progress=False)


@pytest.mark.slow
def test_gatys_preset_uses_the_papers_layers(paper_model):
    p = nst.PRESETS["gatys"]
    assert p.content_layers == ("relu4_2",)
    assert p.style_layers == ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
    assert sum(p.layer_weights) == pytest.approx(1.0)
    assert p.gram_norm == "paper"  # the paper's per-layer normalisation: each layer's loss is E_l
    r = nst.stylize(_photo(), _painting(), config="gatys", steps=10, model=paper_model, progress=False)
    assert r.history["total"][-1] < r.history["total"][0]
    assert r.config["style_layers"] == list(p.style_layers)


def test_gatys_style_term_is_the_papers_weighted_sum_of_E_l(paper_model):
    """With the gatys preset, the style term is beta * sum_l w_l * E_l, E_l computed by hand from raw Gram
    matrices as in the paper (float64)."""
    photo, painting = _photo().double(), _painting(32, 40).double()  # one size: the paper compares equal M_l
    model = paper_model.double()
    try:
        p = nst.PRESETS["gatys"]
        objective = nst.build_objective(model, photo, [painting], p)
        with torch.no_grad():
            _, parts = objective(photo)
            fx, fa = model(photo, list(p.style_layers)), model(painting, list(p.style_layers))
        expected = 0.0
        for name, w in zip(p.style_layers, p.layer_weights):
            _, n_l, h, wd = fx[name].shape
            g = fx[name][0].flatten(1) @ fx[name][0].flatten(1).T
            a = fa[name][0].flatten(1) @ fa[name][0].flatten(1).T
            e_l = ((g - a) ** 2).sum() / (4 * n_l**2 * (h * wd) ** 2)
            expected += w * e_l.item()
        assert parts["style"] == pytest.approx(p.style_weight * expected, rel=1e-6)
    finally:
        model.float()


def test_yiq_round_trip():
    img = torch.rand(1, 3, 5, 7)
    assert torch.allclose(color.yiq_to_rgb(color.rgb_to_yiq(img)), img, atol=1e-5)
    grey = torch.full((1, 3, 2, 2), 0.4)
    assert torch.allclose(color.rgb_to_yiq(grey)[:, 1:], torch.zeros(1, 2, 2, 2), atol=1e-6)


def test_histogram_matching_gives_the_style_the_contents_colour_statistics():
    photo, painting = _photo(), _painting()
    matched = color.match_histogram(painting, photo)
    (mp, cp), (mm, cm) = color.color_stats(photo), color.color_stats(matched)
    assert torch.allclose(mm, mp, atol=0.02)
    assert torch.allclose(cm, cp, atol=0.01)
    assert not torch.allclose(color.color_stats(painting)[0], mp, atol=0.1)  # it did change something


def test_luminance_matching_and_recombination():
    photo, painting = _photo(), _painting()
    grey = color.match_luminance(painting, photo)
    assert torch.allclose(grey[:, 0], grey[:, 1]) and torch.allclose(grey[:, 1], grey[:, 2])
    lp, lg = color.luminance(photo), color.luminance(grey)
    assert lg.mean().item() == pytest.approx(lp.mean().item(), abs=0.01)
    assert lg.std().item() == pytest.approx(lp.std().item(), rel=0.05)
    result = color.grey(lp.flip(-1))  # a grey "transfer result" of the photo's size
    out = color.recombine_luminance(result, photo)
    assert torch.allclose(color.rgb_to_yiq(out)[:, 1:], color.rgb_to_yiq(photo)[:, 1:], atol=0.02)
    assert torch.allclose(color.luminance(out), lp.flip(-1), atol=0.02)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["luminance", "histogram"])
def test_colour_preservation_keeps_the_photos_colours(model, mode):
    photo, painting = _photo(), _painting()
    kw = dict(steps=30, model=model, progress=False, style_weight=1e7)
    plain = nst.stylize(photo, painting, **kw).image
    kept = nst.stylize(photo, painting, preserve_color=mode, **kw).image
    target = color.color_stats(photo)[0]
    dist = lambda img: (color.color_stats(img)[0] - target).norm().item()  # noqa: E731
    assert dist(kept) < 0.5 * dist(plain)
    assert dist(kept) < 0.06


@pytest.mark.slow
def test_tv_weight_lowers_total_variation(model):
    kw = dict(steps=30, model=model, progress=False, init="noise", style_weight=1e6)
    rough = nst.stylize(_photo(), _painting(), **kw)
    smooth = nst.stylize(_photo(), _painting(), tv_weight=10.0, **kw)
    assert nst.tv_loss(smooth.image) < 0.5 * nst.tv_loss(rough.image)
    assert smooth.losses["tv"] > 0 and rough.losses["tv"] == 0


def test_style_scale_resizes_the_style_relative_to_the_output():
    photo = _photo(32, 40)
    for scale, long_side in [(0.5, 20), (1.0, 40), (2.0, 80)]:
        run = nst.prepare.start_run(_painting(64, 64), nst.make_config("seed", style_scale=scale), device="cpu")
        assert max(run.load_images(photo, None).styles[0].shape[-2:]) == long_side


@pytest.mark.slow
def test_multiscale_plan_ends_at_full_size(model):
    photo, painting = _photo(48, 64), _painting(48, 64)
    r = nst.stylize(photo, painting, multiscale=True, steps=12, model=model, progress=False)
    assert r.config["plan"] == [(64, 12)]  # too small to go coarser than 64 px
    r = nst.stylize(photo, painting, size=256, multiscale=True, steps=12, model=model, progress=False)
    assert r.config["plan"] == [(64, 12), (128, 4), (256, 2)]
    assert r.image.shape == (1, 3, 192, 256) and r.evaluations == 18


@pytest.mark.slow
def test_spatial_control_puts_each_style_in_its_region(model, tmp_path):
    red = torch.zeros(1, 3, 32, 32)
    red[:, 0] = 0.9
    red[..., ::4, :] = 0.3
    blue = torch.zeros(1, 3, 32, 32)
    blue[:, 2] = 0.9
    blue[..., :, ::4] = 0.3
    mask = torch.zeros(1, 3, 32, 48)
    mask[..., :24] = 1.0  # left half: the first style
    grey = torch.full((1, 3, 32, 48), 0.5)
    r = nst.stylize(
        grey,
        [red, blue],
        mask=mask,
        steps=100,
        model=model,
        progress=False,
        content_weight=0,
        style_weight=1e3,
        init="noise",
    )
    left, right = r.image[..., :20], r.image[..., 28:]
    assert left[:, 0].mean() > right[:, 0].mean() + 0.15  # red on the left
    assert right[:, 2].mean() > left[:, 2].mean() + 0.15  # blue on the right
    assert r.config["mask"] is True
    with pytest.raises(nst.NSTError, match="two style images"):
        nst.stylize(grey, [red], mask=mask, steps=1, model=model, progress=False)
