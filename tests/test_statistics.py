"""The style statistics (``nst_helpers.statistics``, ``StyleConfig.style_loss``) and notebook 10's networks and
judge (``nst_helpers.style_stats``): values by hand, gradient checks, invariances, the objective with every
statistic (blends, balance), the shallow network's interface and the cross-evaluation's bookkeeping."""

import json
import math

import pytest
import torch

import nst_helpers as nst
from nst_helpers import style_stats as S
from nst_helpers.objective import build_objective
from nst_helpers.statistics import STYLE_LOSSES, directions, make_statistic, mean_std, nearest_patches, patches


def _row(values, h=1):
    t = torch.tensor(values, dtype=torch.float64)
    return t.view(1, 1, h, -1)


def test_gram_statistic_is_the_seeds_style_loss():
    torch.manual_seed(0)
    a, b = torch.rand(1, 4, 5, 6), torch.rand(1, 4, 7, 3)
    stat = make_statistic("gram", "hw")
    assert stat.loss(a, stat.target(b)).item() == pytest.approx(
        nst.style_loss(nst.gram_matrix(a, "hw"), nst.gram_matrix(b, "hw")).item()
    )


def test_mean_std_by_hand():
    # channel 0: (1, 2) -> mean 1.5, variance 0.25; channel 1: (3, 5) -> mean 4, variance 1
    f = torch.tensor([[1.0, 2.0], [3.0, 5.0]], dtype=torch.float64).view(1, 2, 1, 2)
    g = torch.tensor([[0.0, 0.0], [4.0, 4.0]], dtype=torch.float64).view(1, 2, 1, 2)  # means 0, 4; no spread
    mean, std = mean_std(f)
    assert mean[0].tolist() == [1.5, 4.0]
    assert std[0].tolist() == pytest.approx([math.sqrt(0.25 + 1e-5), math.sqrt(1 + 1e-5)])
    stat = make_statistic("mean_std")
    e = math.sqrt(1e-5)
    by_hand = (1.5**2 + 0) / 2 + ((math.sqrt(0.25 + 1e-5) - e) ** 2 + (math.sqrt(1 + 1e-5) - e) ** 2) / 2
    assert stat.loss(f, stat.target(g)).item() == pytest.approx(by_hand, rel=1e-12)


def test_sliced_wasserstein_by_hand_in_one_channel():
    # one channel: the only direction is +-1, and the loss is the mean squared difference of the sorted values
    stat = make_statistic("sliced_wasserstein", seed=3)
    x, painting = _row([3.0, 1.0, 2.0]), _row([0.0, 10.0, 5.0])
    assert stat.loss(x, stat.target(painting)).item() == pytest.approx((1 + 9 + 49) / 3)  # (1,2,3) vs (0,5,10)
    # five positions against three: the painting's sorted values (0..4) resampled to (0, 2, 4)
    assert stat.loss(x, stat.target(_row([4.0, 0.0, 3.0, 1.0, 2.0]))).item() == pytest.approx((1 + 0 + 1) / 3)


def test_sliced_wasserstein_sees_the_distribution_not_the_layout_and_not_only_two_moments():
    torch.manual_seed(0)
    f = torch.rand(1, 6, 8, 8, dtype=torch.float64)
    shuffled = f.flatten(2)[:, :, torch.randperm(64)].view(1, 6, 8, 8)
    for name in STYLE_LOSSES[:3]:  # positions shuffled together: the same distribution, every statistic 0
        stat = make_statistic(name)
        assert stat.loss(shuffled, stat.target(f)).item() == pytest.approx(0, abs=1e-12)
    # two one-channel distributions with equal mean and std: uniform +-sqrt(3) against a coin +-1
    uniform = _row(torch.linspace(-math.sqrt(3), math.sqrt(3), 1000).tolist())
    uniform = (uniform - uniform.mean()) / uniform.std(unbiased=False)
    coin = _row([-1.0, 1.0] * 500)
    assert make_statistic("mean_std").loss(uniform, make_statistic("mean_std").target(coin)).item() < 1e-12
    swd = make_statistic("sliced_wasserstein")
    assert swd.loss(uniform, swd.target(coin)).item() > 0.05


def test_directions_are_unit_and_repeatable():
    d = directions(5, seed=1)
    assert d.shape == (5, 5) and torch.allclose(d.norm(dim=0), torch.ones(5, dtype=torch.float64))
    assert torch.equal(d, directions(5, seed=1)) and not torch.equal(d, directions(5, seed=2))


def test_patch_matches_by_normalised_cross_correlation_by_hand():
    p = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]
    picture = torch.tensor(p).view(1, 1, 3, 3)
    # the painting's second patch is 2p (correlation 1); its first is nearer in distance but less correlated
    painting = torch.tensor([[1.0, 2, 4, 6], [4, 8, 10, 12], [7, 14, 16, 18]]).view(1, 1, 3, 4)
    theirs = patches(painting)
    assert theirs.shape == (1, 2, 9)
    mine = patches(picture)
    assert (mine - theirs[:, :1]).pow(2).sum() < (mine - theirs[:, 1:]).pow(2).sum()
    assert nearest_patches(mine, theirs).tolist() == [[1]]
    stat = make_statistic("patch")
    assert stat.loss(picture, stat.target(painting)).item() == pytest.approx(285 / 9)  # mse(p, 2p) = sum p^2 / 9


def test_patch_keeps_at_most_max_patches_and_refuses_tiny_layers():
    stat = make_statistic("patch")
    stat.max_patches = 10
    assert stat.target(torch.rand(1, 2, 20, 20)).shape == (1, 10, 18)
    with pytest.raises(nst.NSTError, match="3x3"):
        patches(torch.rand(1, 2, 2, 5))


@pytest.mark.parametrize("name", STYLE_LOSSES)
def test_every_statistic_passes_gradcheck(name):
    torch.manual_seed(1)
    x = torch.rand(1, 3, 5, 6, dtype=torch.float64, requires_grad=True)
    stat = make_statistic(name, seed=2)
    target = stat.target(torch.rand(1, 3, 6, 5, dtype=torch.float64))
    assert torch.autograd.gradcheck(lambda t: stat.loss(t, target), (x,))


def test_statistics_reject_bad_input():
    with pytest.raises(nst.NSTError, match="style loss"):
        make_statistic("histogram")
    with pytest.raises(nst.NSTError, match="B x C x H x W"):
        make_statistic("mean_std").loss(torch.ones(3, 4), None)
    with pytest.raises(nst.NSTError, match="style loss"):
        nst.make_config(style_loss="moments")
    with pytest.raises(nst.NSTError, match="style loss"):
        nst.make_config(style_loss=3)


@pytest.fixture(scope="module")
def shallow():
    """A small random shallow network: VGG19's interface at a fraction of its cost."""
    return S.ShallowMultiScale(filters=16, seed=0)


@pytest.mark.parametrize("name", STYLE_LOSSES)
def test_objective_with_every_statistic_blends_and_balances(shallow, name):
    model = shallow
    torch.manual_seed(0)
    content = torch.rand(1, 3, 32, 32)
    styles = [torch.rand(1, 3, 32, 32), torch.rand(1, 3, 40, 24)]
    layers = ("relu2_1", "relu3_1")
    config = nst.make_config(style_loss=name, style_layers=layers, content_layers=("relu3_1",), blend=(3, 1))
    objective = build_objective(model, content, styles, config)
    expected = None if name == "gram" else name  # the Gram statistic keeps the seed's own path (masks, caching)
    assert all(
        getattr(term.statistic, "name", None) == expected for group in objective.style_terms for _, term in group
    )
    raw = objective.losses(content)
    per_style = [v.item() for v in raw["per_style"]]
    assert raw["style"].item() == pytest.approx(0.75 * per_style[0] + 0.25 * per_style[1], rel=1e-5)
    # each style alone gives its own term
    alone = build_objective(model, content, styles[:1], nst.make_config(config, blend=None))
    assert alone.losses(content)["style"].item() == pytest.approx(per_style[0], rel=1e-5)
    # balanced: each style holds its blend weight's share of the style loss at the content image
    balanced = build_objective(model, content, styles, nst.make_config(config, balance_styles=True))
    factors = balanced.style_factors()
    shares = [f * v for f, v in zip(factors, per_style)]
    assert shares[0] / sum(shares) == pytest.approx(0.75, rel=1e-4)
    total, parts = objective(content.clone().requires_grad_(True))
    assert math.isfinite(parts["total"]) and parts["style"] > 0


def test_a_mask_needs_the_gram_statistic(model):
    content = torch.rand(1, 3, 32, 32)
    mask = torch.ones(1, 1, 32, 32)
    config = nst.make_config(style_loss="mean_std", style_layers=("relu1_1",))
    with pytest.raises(nst.NSTError, match="mask"):
        build_objective(model, content, [content, content], config, masks=[mask, 1 - mask])


def test_stylize_and_the_command_line_take_the_style_loss(tiny_images, tmp_path, model):
    result = nst.stylize(
        tiny_images["content"],
        tiny_images["style0"],
        model=model,
        size=32,
        steps=3,
        style_loss="mean_std",
        progress=False,
    )
    assert result.config["style_loss"] == "mean_std"
    from nst_helpers.cli import main

    report = tmp_path / "r.json"
    args = [str(tiny_images["content"]), str(tiny_images["style0"]), "-o", str(tmp_path / "o.png"), "--size", "32"]
    args += ["--steps", "2", "--weights", "random", "--quiet", "--report", str(report)]
    assert main([*args, "--style-loss", "sliced_wasserstein", "--style-layers", "relu2_1", "relu3_1"]) == 0
    assert json.loads(report.read_text())["config"]["style_loss"] == "sliced_wasserstein"


# ------------------------------------------------------------------------------------------------ networks


def test_shallow_network_answers_vgg_layer_names_on_vgg_grids():
    net = S.ShallowMultiScale(filters=8, seed=0)
    image = torch.rand(1, 3, 64, 48)
    feats = net(image, ["relu1_1", "conv2_2", "relu3_1", "relu4_2", "relu5_1"])
    for name, f in feats.items():
        d = nst.layer_info(name).downsample
        assert f.shape == (1, 8, 64 // d, 48 // d), name
        assert (f >= 0).all()  # after the ReLU
    assert feats["relu4_2"] is net(image, ["relu4_1"])["relu4_1"] or torch.equal(
        feats["relu4_2"], net(image, ["relu4_1"])["relu4_1"]
    )
    again = S.ShallowMultiScale(filters=8, seed=0)(image, ["relu2_1"])["relu2_1"]
    other = S.ShallowMultiScale(filters=8, seed=1)(image, ["relu2_1"])["relu2_1"]
    assert torch.equal(again, feats["conv2_2"]) and not torch.equal(other, again)
    with pytest.raises(nst.NSTError, match="pooling"):
        S.ShallowMultiScale(pooling="median")
    with pytest.raises(nst.NSTError, match="network"):
        S.load_network("alexnet")


def test_stylize_runs_unchanged_on_the_shallow_network(tiny_images):
    net = S.load_network("shallow", seed=3)
    result = nst.stylize(tiny_images["content"], tiny_images["style0"], model=net, size=32, steps=3, progress=False)
    assert result.image.shape == (1, 3, 27, 32) and result.evaluations == 3
    with pytest.raises(nst.NSTError, match="pooling"):  # checked against the configuration like VGG19
        nst.stylize(tiny_images["content"], tiny_images["style0"], model=net, size=32, steps=1, pooling="avg")


@pytest.mark.slow
def test_random_vgg19_is_seeded():
    a, b, again = S.random_vgg19(seed=3), S.random_vgg19(seed=4), S.random_vgg19(seed=3)
    assert not torch.equal(a.features[0].weight, b.features[0].weight)
    assert torch.equal(a.features[0].weight, again.features[0].weight)


# --------------------------------------------------------------------------------------------------- judge


def test_calibration_puts_both_terms_on_one_scale(shallow):
    model = shallow
    torch.manual_seed(0)
    content, style = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    for name in STYLE_LOSSES:
        config = S.judge.statistic_config(name, style_layers=("relu2_1", "relu3_1"), layer_weights=(0.5, 0.5))
        config = S.calibrate(model, content, [style], config, ratio=7.0)
        objective = build_objective(model, content, [style], config)
        with torch.no_grad():
            assert objective(content)[1]["style"] == pytest.approx(7.0, rel=1e-4)
            assert objective(style)[1]["content"] == pytest.approx(1.0, rel=1e-4)
    with pytest.raises(nst.NSTError, match="calibrate"):
        S.calibrate(model, content, [content], config)


def test_cross_evaluation_scores_the_photo_and_the_painting_as_the_ends_of_the_scale(shallow):
    model = S.ShallowMultiScale(filters=8, seed=1)  # a second network: the judge's bookkeeping is what is tested
    torch.manual_seed(0)
    photo, painting = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    pictures = {("gram", "vgg19", 0): photo, ("mean_std", "shallow", 0): painting}
    rows = S.cross_evaluate(pictures, photo, painting, {"vgg19": model, "shallow": shallow}, seed=0)
    assert len(rows) == 2 * 2 * len(STYLE_LOSSES)
    for r in rows:
        if r["picture"][0] == "gram":  # the photo: as far as the photo, content all kept
            assert r["style"] == pytest.approx(1.0) and r["content"] == 0
        else:  # the painting: distance 0 (up to the std's eps), content as far as the painting's
            assert r["style"] == pytest.approx(0, abs=1e-6) and r["content"] == pytest.approx(1.0)
    table = S.judge_table(rows)
    photo_row = table[("gram", "vgg19", 0)]
    assert photo_row["fair_style"] == pytest.approx(1.0) and photo_row["content_kept"] == pytest.approx(1.0)
    assert set(photo_row["by_judge"]) == set(STYLE_LOSSES) and photo_row["self_style"] == pytest.approx(1.0)


def test_the_fair_score_leaves_out_the_pictures_own_network():
    rows = [
        {
            "picture": ("gram", "a"),
            "statistic": "gram",
            "network": "a",
            "judge_statistic": s,
            "judge_network": n,
            "style": {"a": 0.1, "b": 0.7}[n] + {"gram": 0, "patch": 0.2}[s],
            "content": {"a": 0.3, "b": 0.5}[n],
        }
        for n in ("a", "b")
        for s in ("gram", "patch")
    ]
    out = S.judge_table(rows)[("gram", "a")]
    assert out["fair_style"] == pytest.approx((0.7 + 0.9) / 2)  # network b only
    assert out["self_style"] == pytest.approx(0.1) and out["content_kept"] == pytest.approx(0.5)
    assert out["by_judge"] == pytest.approx({"gram": 0.7, "patch": 0.9})
    with pytest.raises(nst.NSTError, match="own network"):
        S.judge_table([r for r in rows if r["judge_network"] == "a"])
