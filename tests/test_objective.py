"""The objective is the taught functions composed, and it equals the PyTorch tutorial's."""

import pytest
import torch
from torch import nn
from torch.nn import functional as F

import nst_helpers as nst
from nst_helpers.objective import ContentTerm, Objective, StyleTerm, balance_factors, build_objective


def _tutorial_objective(content, style, content_weight, style_weight):
    """An independent re-implementation of the PyTorch tutorial's objective: a Sequential of
    normalisation + VGG19 layers with loss modules after conv_4 (content) and conv_1..conv_5 (style),
    Gram = F F^T / (a*b*c*d), MSE losses; random torchvision weights seeded as nst's "random"."""
    from torchvision.models import vgg19

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        cnn = vgg19(weights=None).features.eval()

    def gram(x):
        a, b, c, d = x.size()
        f = x.view(a * b, c * d)
        return torch.mm(f, f.t()).div(a * b * c * d)

    mean = torch.tensor([0.485, 0.456, 0.406]).view(-1, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(-1, 1, 1)
    layers, i = [], 0
    for layer in cnn.children():
        if isinstance(layer, nn.Conv2d):
            i += 1
            name = f"conv_{i}"
        elif isinstance(layer, nn.ReLU):
            name, layer = f"relu_{i}", nn.ReLU(inplace=False)
        else:
            name = f"pool_{i}"
        layers.append((name, layer))
        if name == "conv_5":
            break

    def features(x):
        x, out = (x - mean) / std, {}
        for name, layer in layers:
            x = layer(x)
            out[name] = x
        return out

    with torch.no_grad():
        content_target = features(content)["conv_4"]
        style_feats = features(style)
        style_targets = {f"conv_{k}": gram(style_feats[f"conv_{k}"]) for k in range(1, 6)}

    def objective(image):
        feats = features(image)
        style_score = sum(F.mse_loss(gram(feats[n]), t) for n, t in style_targets.items())
        content_score = F.mse_loss(feats["conv_4"], content_target)
        return style_weight * style_score + content_weight * content_score

    return objective


@pytest.mark.slow
def test_the_seed_objective_equals_the_tutorials(model):
    torch.manual_seed(3)
    content, style, image = torch.rand(1, 3, 40, 48), torch.rand(1, 3, 44, 36), torch.rand(1, 3, 40, 48)
    ours = build_objective(model, content, [style], nst.PRESETS["seed"])
    theirs = _tutorial_objective(content, style, 1.0, 1e5)
    with torch.no_grad():
        a, b = ours(image)[0].item(), theirs(image).item()
    assert a == pytest.approx(b, rel=1e-5)
    assert a > 0


def test_terms_call_the_taught_functions(model):
    torch.manual_seed(4)
    content, style, image = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    config = nst.make_config(
        content_layers=["conv_2"],
        style_layers=["conv_1", "conv_3"],
        layer_weights=[2, 0.5],
        content_weight=3,
        style_weight=7,
        tv_weight=11,
    )
    objective = build_objective(model, content, [style], config)
    with torch.no_grad():
        fc, fs, fx = (model(t, ["conv_1", "conv_2", "conv_3"]) for t in (content, style, image))
        expected_content = nst.content_loss(fx["conv_2"], fc["conv_2"])
        expected_style = sum(
            w * nst.style_loss(nst.gram_matrix(fx[n]), nst.gram_matrix(fs[n]))
            for n, w in (("conv_1", 2.0), ("conv_3", 0.5))
        )
        total, parts = objective(image)
    assert parts["unweighted"]["content"] == pytest.approx(expected_content.item(), rel=1e-5)
    assert parts["unweighted"]["style"] == pytest.approx(expected_style.item(), rel=1e-5)
    assert parts["unweighted"]["tv"] == pytest.approx(nst.tv_loss(image).item(), rel=1e-6)
    expected = 3 * expected_content + 7 * expected_style + 11 * nst.tv_loss(image)
    assert total.item() == pytest.approx(expected.item(), rel=1e-5)
    assert parts["total"] == pytest.approx(parts["content"] + parts["style"] + parts["tv"], rel=1e-6)


def test_objective_gradient_matches_finite_differences(model):
    torch.manual_seed(5)
    content, style = torch.rand(1, 3, 16, 16, dtype=torch.float64), torch.rand(1, 3, 16, 16, dtype=torch.float64)
    m64 = nst.load_vgg19("random", device="cpu").double()
    m64.channels_last = False
    m64.features.to(memory_format=torch.contiguous_format)
    config = nst.make_config(content_layers=["conv_2"], style_layers=["conv_1", "conv_2"], tv_weight=0.5)
    objective = build_objective(m64, content, [style], config)
    x = torch.rand(1, 3, 16, 16, dtype=torch.float64, requires_grad=True)
    objective(x)[0].backward()
    direction = torch.randn_like(x)
    eps = 1e-6
    with torch.no_grad():
        plus, minus = objective(x + eps * direction)[0], objective(x - eps * direction)[0]
    numeric = ((plus - minus) / (2 * eps)).item()
    assert (x.grad * direction).sum().item() == pytest.approx(numeric, rel=1e-5)


def test_empty_content_layers_mean_no_content_term(model):
    content, style = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    objective = build_objective(model, content, [style], nst.make_config(content_layers=[]))
    assert objective.content_terms == []
    total, parts = objective(torch.rand(1, 3, 32, 32))
    assert parts["content"] == 0.0 and parts["style"] > 0


def test_masked_terms_and_balance_factors():
    assert balance_factors([0.5, 0.5], [4.0, 1.0]) == pytest.approx([0.3125, 1.25])
    # with the factors, each style's share of the loss where the scales were measured is its blend weight
    blend, scales = [0.7, 0.2, 0.1], [4.0, 1.0, 1e-3]
    shares = [f * s for f, s in zip(balance_factors(blend, scales), scales)]
    assert [x / sum(shares) for x in shares] == pytest.approx(blend)
    f = torch.rand(1, 4, 6, 6)
    everywhere = StyleTerm("conv_1", torch.zeros(1, 4, 4), mask=torch.ones(1, 1, 6, 6))
    assert torch.allclose(everywhere.gram({"conv_1": f}), nst.gram_matrix(f), rtol=1e-5)


def test_objective_from_terms_by_hand(model):
    content = torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        target = model(content, ["conv_1"])["conv_1"]
    objective = Objective(model, content_terms=[ContentTerm("conv_1", target)], content_weight=2.0)
    total, parts = objective(content)
    assert total.item() == 0.0 and parts["style_per_image"] == []


def test_bfloat16_objective_is_float32s_within_a_percent(model, recwarn):
    """precision bfloat16 runs VGG19 in 16-bit: the value and the gradient stay those of float32
    (value within 1 %, gradient pointing the same way), and the activations reach the losses as float32."""
    torch.manual_seed(3)
    content, style = torch.rand(1, 3, 64, 64), torch.rand(1, 3, 64, 64)
    x = (0.7 * content + 0.3 * torch.rand(1, 3, 64, 64)).requires_grad_(True)
    values, grads = {}, {}
    for precision in ("float32", "bfloat16"):
        objective = build_objective(model, content, [style], nst.make_config(precision=precision))
        assert objective.precision == precision
        assert all(f.dtype == torch.float32 for f in objective.features(x).values())
        x.grad = None
        total, _ = objective(x)
        total.backward()
        values[precision], grads[precision] = total.item(), x.grad.clone()
    assert values["bfloat16"] != values["float32"]  # the 16-bit pass did run
    assert values["bfloat16"] == pytest.approx(values["float32"], rel=0.01)
    assert F.cosine_similarity(grads["bfloat16"].flatten(), grads["float32"].flatten(), dim=0) > 0.99


def test_bfloat16_warns_where_it_would_be_slow(model, monkeypatch):
    import nst_helpers.objective as objective_module

    monkeypatch.setattr(objective_module, "bfloat16_is_fast", lambda device: False)
    content = torch.rand(1, 3, 32, 32)
    with pytest.warns(RuntimeWarning, match="slower than float32: use precision float32"):
        build_objective(model, content, [content], nst.make_config(precision="bfloat16"))
    with pytest.raises(nst.NSTError, match="unknown precision 'float16': use one of float32, bfloat16"):
        nst.make_config(precision="float16")
