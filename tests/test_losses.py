import math

import pytest
import torch

import nst_helpers as nst
from nst_helpers.objective import build_objective


def test_gram_matrix_by_hand():
    # One image, two channels over a 1x2 grid: rows of F are (1, 2) and (3, 4).
    f = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).view(1, 2, 1, 2)
    raw = torch.tensor([[5.0, 11.0], [11.0, 25.0]])
    assert torch.allclose(nst.gram_matrix(f, "none")[0], raw)
    assert torch.allclose(nst.gram_matrix(f)[0], raw / 4)  # the seed divides by C*H*W = 2*1*2
    assert torch.allclose(nst.gram_matrix(f, "hw")[0], raw / 2)


def test_gram_is_symmetric_and_batched():
    f = torch.randn(3, 5, 4, 6)
    g = nst.gram_matrix(f)
    assert g.shape == (3, 5, 5)
    assert torch.allclose(g, g.transpose(1, 2))
    assert torch.allclose(g[1], nst.gram_matrix(f[1:2])[0])


@pytest.mark.parametrize("layout", [torch.contiguous_format, torch.channels_last])
def test_fast_gram_equals_the_plain_form_in_value_and_gradient(layout):
    torch.manual_seed(0)
    f = torch.randn(2, 6, 5, 7, dtype=torch.float64).to(memory_format=layout)
    upstream = torch.randn(2, 6, 6, dtype=torch.float64)
    grads = []
    for fast in (False, True):
        x = f.clone().requires_grad_(True)
        g = nst.gram_matrix(x, "chw", fast=fast)
        (g * upstream).sum().backward()
        grads.append((g.detach(), x.grad))
    assert torch.allclose(grads[0][0], grads[1][0], rtol=1e-12, atol=1e-14)
    assert torch.allclose(grads[0][1], grads[1][1], rtol=1e-12, atol=1e-14)
    # by hand: d/dF sum(U * F F^T / n) = (U + U^T) F / n
    flat = f.reshape(2, 6, 35)
    by_hand = ((upstream + upstream.transpose(1, 2)) @ flat / (6 * 5 * 7)).reshape(f.shape)
    assert torch.allclose(grads[1][1], by_hand, rtol=1e-12)
    x = f.clone().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda t: nst.gram_matrix(t, fast=True), (x,))


def test_fast_gram_works_inside_a_callers_autocast():
    """Under torch.autocast the product runs in bfloat16 and its gradient comes back in that type;
    the backward still returns the activations' own type, close to the plain form's gradient."""
    torch.manual_seed(0)
    x = torch.rand(1, 4, 6, 6, requires_grad=True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        gram = nst.gram_matrix(x, fast=True)
    assert gram.dtype == torch.bfloat16
    gram.float().pow(2).sum().backward()
    fast = x.grad.clone()
    x.grad = None
    nst.gram_matrix(x).pow(2).sum().backward()
    assert fast.dtype == torch.float32
    assert torch.allclose(fast, x.grad, rtol=0.03, atol=1e-4)


def test_gram_rejects_bad_input():
    with pytest.raises(nst.NSTError, match="B x C x H x W"):
        nst.gram_matrix(torch.ones(2, 3))
    with pytest.raises(nst.NSTError, match="normalisation"):
        nst.gram_matrix(torch.ones(1, 2, 2, 2), "bogus")


def test_content_and_style_loss_by_hand():
    a = torch.tensor([1.0, 2.0, 3.0, 4.0]).view(1, 1, 2, 2)
    b = torch.tensor([1.0, 0.0, 3.0, 8.0]).view(1, 1, 2, 2)
    assert nst.content_loss(a, b).item() == pytest.approx((0 + 4 + 0 + 16) / 4)
    ga, gb = torch.tensor([[[2.0, 1.0], [1.0, 2.0]]]), torch.tensor([[[0.0, 1.0], [1.0, 4.0]]])
    assert nst.style_loss(ga, gb).item() == pytest.approx((4 + 0 + 0 + 4) / 4)


def test_tv_loss_by_hand():
    img = torch.tensor([[0.0, 1.0], [2.0, 4.0]]).view(1, 1, 2, 2)
    # down: (2-0, 4-1) -> (4 + 9) / 2; across: (1-0, 4-2) -> (1 + 4) / 2
    assert nst.tv_loss(img).item() == pytest.approx(6.5 + 2.5)
    assert nst.tv_loss(torch.full((1, 3, 5, 5), 0.3)).item() == 0


def test_losses_pass_gradcheck():
    torch.manual_seed(0)
    x = torch.randn(1, 3, 4, 5, dtype=torch.float64, requires_grad=True)
    target = torch.randn(1, 3, 4, 5, dtype=torch.float64)
    target_gram = nst.gram_matrix(torch.randn(1, 3, 4, 5, dtype=torch.float64))
    assert torch.autograd.gradcheck(lambda t: nst.content_loss(t, target), (x,))
    assert torch.autograd.gradcheck(lambda t: nst.style_loss(nst.gram_matrix(t), target_gram), (x,))
    assert torch.autograd.gradcheck(nst.tv_loss, (x,))
    x_last = torch.randn(1, 3, 4, 5, dtype=torch.float64).to(memory_format=torch.channels_last).requires_grad_(True)
    assert not x_last.is_contiguous()
    assert torch.autograd.gradcheck(lambda t: nst.style_loss(nst.gram_matrix(t), target_gram), (x_last,))
    assert torch.allclose(nst.gram_matrix(x_last), nst.gram_matrix(x_last.contiguous()))


def test_normalize_blend():
    assert nst.normalize_blend([7, 3], 2) == pytest.approx([0.7, 0.3])
    assert nst.normalize_blend([2, 2, 4], 3) == pytest.approx([0.25, 0.25, 0.5])
    assert nst.normalize_blend(None, 4) == pytest.approx([0.25] * 4)
    assert nst.normalize_blend([1e308, 1e308], 2) == pytest.approx([0.5, 0.5])  # the sum would overflow
    for bad, msg in (
        ([1, -1], "at least 0"),
        ([0, 0], "all zero"),
        ([1], "2 style images"),
        ([float("nan"), 1], "finite"),
        (["x", 1], "number"),
        ([1e300 * 1e10, 1], "finite"),
        ("0.5", "list"),
        (3, "list"),
    ):
        with pytest.raises(nst.NSTError, match=msg):
            nst.normalize_blend(bad, 2)


def test_blend_equals_weighted_sum_of_style_losses_up_to_a_constant(model):
    torch.manual_seed(1)
    styles = [torch.rand(1, 3, 32, 32), torch.rand(1, 3, 40, 24)]
    layers = ["conv_1", "conv_3"]
    blend = [0.7, 0.3]
    config = nst.make_config(content_layers=(), style_layers=layers, content_weight=0, style_weight=1)
    content = torch.rand(1, 3, 32, 32)
    obj = build_objective(model, content, styles, nst.make_config(config, blend=blend))
    single = [build_objective(model, content, [s], config) for s in styles]

    def blended_gram_loss(img):  # the loss against one blended Gram target per layer
        feats = model(img, layers)
        total = 0.0
        for i, n in enumerate(layers):
            target = sum(b * o.style_terms[0][i][1].target for b, o in zip(blend, single))
            total = total + nst.style_loss(nst.gram_matrix(feats[n]), target)
        return total.item()

    diffs = []
    for seed in range(3):
        torch.manual_seed(seed + 10)
        img = torch.rand(1, 3, 32, 32)
        total, parts = obj(img)
        per_style = [o(img)[1]["style"] for o in single]
        assert total.item() == pytest.approx(sum(b * s for b, s in zip(blend, per_style)), rel=1e-5)
        assert parts["style_per_image"] == pytest.approx(per_style, rel=1e-5)
        diffs.append(total.item() - blended_gram_loss(img))
    assert diffs[0] > 0
    assert diffs == pytest.approx([diffs[0]] * 3, rel=1e-4)


def test_objective_weights_are_checked_when_set(model):
    obj = build_objective(
        model,
        torch.rand(1, 3, 16, 16),
        [torch.rand(1, 3, 16, 16)],
        nst.make_config(content_layers=["conv_2"], style_layers=["conv_1"]),
    )
    obj.style_weight = 10
    assert obj.style_weight == 10.0
    for attr in ("content_weight", "style_weight", "tv_weight"):
        with pytest.raises(nst.NSTError, match="finite"):
            setattr(obj, attr, float("nan"))
        with pytest.raises(nst.NSTError, match="at least 0"):
            setattr(obj, attr, -1)
        with pytest.raises(nst.NSTError, match="at most"):
            setattr(obj, attr, 1e300)


def test_balanced_styles_share_the_loss_as_the_blend_says(model):
    torch.manual_seed(0)
    loud = torch.rand(1, 3, 32, 32)  # high-contrast noise: far from the photo
    quiet = 0.5 + 0.05 * torch.rand(1, 3, 32, 32)  # nearly flat grey: close to it
    y, x = torch.meshgrid(torch.linspace(0.3, 0.7, 32), torch.linspace(0.3, 0.7, 32), indexing="ij")
    photo = torch.stack([x, y, (x + y) / 2]).unsqueeze(0)
    layers = ["conv_1", "conv_2"]

    def shares(balance, blend):
        config = nst.make_config(
            content_layers=(),
            style_layers=layers,
            content_weight=0,
            style_weight=1,
            blend=blend,
            balance_styles=balance,
        )
        obj = build_objective(model, photo, [loud, quiet], config)
        total, parts = obj(photo)
        weighted = [f * p for f, p in zip(obj.style_factors(), parts["style_per_image"])]
        assert sum(weighted) == pytest.approx(total.item(), rel=1e-5)
        return [w / sum(weighted) for w in weighted]

    assert max(shares(False, [1, 1])) > 0.9  # unbalanced, the loud style dominates
    assert shares(True, [1, 1]) == pytest.approx([0.5, 0.5], abs=1e-4)
    assert shares(True, [3, 1]) == pytest.approx([0.75, 0.25], abs=1e-4)


def test_progress_shares_by_hand():
    from nst_helpers.objective import progress_shares

    # progress 1 - 5/10 = 0.5 and 1 - 3/4 = 0.25: shares 2/3 and 1/3
    assert progress_shares([5.0, 3.0], [10.0, 4.0], [0.5, 0.5]) == pytest.approx([2 / 3, 1 / 3])
    # the same for losses in any unit: a ratio of each style's own losses
    assert progress_shares([5e6, 3e-3], [1e7, 4e-3], [0.5, 0.5]) == pytest.approx([2 / 3, 1 / 3])
    assert progress_shares([10.0, 4.0], [10.0, 4.0], [0.7, 0.3]) == [0.7, 0.3]  # no progress yet: the blend
    assert progress_shares([12.0, 2.0], [10.0, 4.0], [0.5, 0.5]) == pytest.approx([0.0, 1.0])  # worse counts 0
    assert progress_shares([5.0, 3.0], [10.0, 4.0], [1.0, 0.0]) == pytest.approx([1.0, 0.0])  # a style left out


def test_dynamic_balance_update_by_hand():
    from nst_helpers.objective import DynamicBalance

    rule = DynamicBalance([10.0, 4.0], every=1, rate=0.5)
    rule.observe([5.0, 3.0], [0.5, 0.5])  # shares 2/3, 1/3 against 1/2, 1/2
    up, down = math.sqrt(0.5 / (1 / 3)), math.sqrt(0.5 / (2 / 3))  # the lagging style pulls harder
    mean = (math.log(up) + math.log(down)) / 2  # the factors keep a geometric mean of 1
    assert rule.multipliers == pytest.approx([math.exp(math.log(down) - mean), math.exp(math.log(up) - mean)])
    assert rule.multipliers[0] * rule.multipliers[1] == pytest.approx(1.0)
    scaled = DynamicBalance([10.0 * 7e5, 4.0 * 7e5], every=1, rate=0.5)  # the same losses in another unit
    scaled.observe([5.0 * 7e5, 3.0 * 7e5], [0.5, 0.5])
    assert scaled.multipliers == pytest.approx(rule.multipliers)
    slow = DynamicBalance([10.0, 4.0], every=3)
    slow.observe([5.0, 3.0], [0.5, 0.5])
    slow.observe([5.0, 3.0], [0.5, 0.5])
    assert slow.multipliers == [1.0, 1.0]  # only every third evaluation changes them
    stuck = DynamicBalance([10.0, 4.0], every=1, max_change=2.0, limit=3.0)
    for _ in range(10):
        stuck.observe([5.0, 4.0], [0.5, 0.5])  # the second style never moves: its factor grows, within limits
    assert stuck.multipliers[1] == pytest.approx(3.0) and stuck.multipliers[0] == pytest.approx(1 / 3)


@pytest.mark.parametrize("given, rule", [(True, "static"), (False, "none"), ("dynamic", "dynamic"), ("none", "none")])
def test_balance_styles_accepts_rules_and_the_old_flags(given, rule):
    assert nst.make_config(balance_styles=given).balance_styles == rule


def test_dynamic_balancing_pulls_the_lagging_style_harder(model):
    """In a run, the style behind its share of the progress gets the larger factor, the other a smaller one,
    and the factors keep a geometric mean of 1 (weighted by the blend)."""
    from nst_helpers.objective import progress_shares

    torch.manual_seed(0)
    loud = torch.rand(1, 3, 32, 32)  # noise: hard to reach from a smooth photo
    quiet = 0.5 + 0.1 * torch.rand(1, 3, 32, 32)
    y, x = torch.meshgrid(torch.linspace(0.3, 0.7, 32), torch.linspace(0.3, 0.7, 32), indexing="ij")
    photo = torch.stack([x, y, (x + y) / 2]).unsqueeze(0)
    config = nst.make_config(
        style_layers=["conv_1", "conv_3"], blend=[0.7, 0.3], balance_styles="dynamic", steps=30, style_weight=1e3
    )
    objective = build_objective(model, photo, [loud, quiet], config)
    start = list(objective.style_scales)
    result = nst.optimize_image(objective, photo, config, progress=False, log_every=0)
    with torch.no_grad():
        losses = [v.item() for v in objective.losses(result.image)["per_style"]]
    shares = progress_shares(losses, start, [0.7, 0.3])
    m = objective.balancer.multipliers
    assert objective.balancer.evaluations >= 30
    assert shares[0] < 0.7  # the noise lags behind its share ...
    assert m[0] > 1 > m[1]  # ... so it pulls harder
    assert 0.7 * math.log(m[0]) + 0.3 * math.log(m[1]) == pytest.approx(0.0, abs=1e-9)
    static = balance_factors_for(objective)
    assert objective.style_factors() == pytest.approx([f * k for f, k in zip(static, m)])


def balance_factors_for(objective):
    from nst_helpers.objective import balance_factors

    return balance_factors(objective.blend, objective.style_scales)
