import pytest
import torch
from torch import nn
from torchvision.models import vgg19

import nst_helpers as nst


def test_layer_names_map_both_ways():
    pairs = {
        "conv_1": "conv1_1",
        "conv_2": "conv1_2",
        "conv_3": "conv2_1",
        "conv_4": "conv2_2",
        "conv_5": "conv3_1",
        "conv_10": "conv4_2",
        "conv_16": "conv5_4",
        "relu_10": "relu4_2",
        "pool_2": "pool1",
        "pool_4": "pool2",
        "pool_8": "pool3",
        "pool_12": "pool4",
        "pool_16": "pool5",
    }
    for tutorial, paper in pairs.items():
        assert nst.paper_name(tutorial) == paper
        assert nst.tutorial_name(paper) == tutorial
        assert nst.layer_index(tutorial) == nst.layer_index(paper)
    assert nst.layer_index("conv1_1") == 0
    assert nst.layer_index("conv4_2") == 21
    assert nst.layer_index("relu5_1") == 29
    assert nst.layer_index("pool5") == 36


@pytest.mark.slow
def test_layer_table_matches_torchvision():
    features = vgg19(weights=None).features
    assert len(nst.LAYERS) == len(features) == 37
    kinds = {"conv": nn.Conv2d, "relu": nn.ReLU, "pool": nn.MaxPool2d}
    for row in nst.LAYERS:
        assert isinstance(features[row.index], kinds[row.kind])
        if row.kind == "conv":
            assert features[row.index].out_channels == row.channels


def test_unknown_layer_name_says_what_to_use():
    with pytest.raises(nst.NSTError, match="conv1_1"):
        nst.layer_index("conv6_1")


def test_extractor_shapes(model):
    out = model(torch.rand(1, 3, 64, 48), ["conv1_1", "conv_5", "relu4_2", "pool5"])
    assert out["conv1_1"].shape == (1, 64, 64, 48)
    assert out["conv_5"].shape == (1, 256, 16, 12)
    assert out["relu4_2"].shape == (1, 512, 8, 6)
    assert out["pool5"].shape == (1, 512, 2, 1)


def test_extractor_returns_untouched_conv_outputs(model):
    img = torch.rand(1, 3, 32, 32)
    out = model(img, ["conv_1", "relu_1", "conv_2", "conv_4"])
    by_hand = model.features[0](model.normalize(img))
    assert torch.equal(out["conv_1"], by_hand)
    assert (out["conv_1"] < 0).any()  # an in-place ReLU would have zeroed these
    assert torch.equal(out["relu_1"], by_hand.clamp_min(0))
    assert (out["conv_4"] < 0).any()


def test_extractor_stops_after_deepest_requested_layer(model):
    # ReLUs run as torch.nn.functional.relu (not through their modules), so hooks see the convolutions
    # and poolings: exactly those up to conv_4 must have run, in order, and nothing after.
    called = []
    hooks = [
        m.register_forward_hook(lambda m, i, o, k=k: called.append(k))
        for k, m in enumerate(model.features)
        if not isinstance(m, torch.nn.ReLU)
    ]
    try:
        out = model(torch.rand(1, 3, 32, 32), ["conv_4", "relu_3"])
    finally:
        for h in hooks:
            h.remove()
    assert called == [0, 2, 4, 5, 7] and nst.layer_index("conv_4") == 7
    assert set(out) == {"conv_4", "relu_3"} and (out["relu_3"] >= 0).all()


def test_normalisation_is_inside_the_model(model):
    mean = torch.tensor(nst.IMAGENET_MEAN).view(1, 3, 1, 1).expand(1, 3, 4, 4)
    assert torch.allclose(model.normalize(mean), torch.zeros(1, 3, 4, 4), atol=1e-6)
    x = torch.rand(1, 3, 4, 4)
    assert torch.allclose(model.normalize.inverse(model.normalize(x)), x, atol=1e-6)


def test_model_is_frozen_and_in_eval_mode(model):
    assert not any(p.requires_grad for p in model.parameters())
    assert not model.training


def test_avg_pooling_option():
    m = nst.load_vgg19("random", device="cpu", pooling="avg")
    assert isinstance(m.features[4], nn.AvgPool2d)
    with pytest.raises(nst.NSTError, match="pooling"):
        nst.load_vgg19("random", device="cpu", pooling="median")


def test_gradients_flow_to_the_image(model):
    img = torch.rand(1, 3, 32, 32, requires_grad=True)
    out = model(img, ["conv_4"])["conv_4"]
    out.pow(2).mean().backward()
    assert img.grad is not None and img.grad.abs().sum() > 0


def test_receptive_fields_by_hand_and_by_gradient():
    from nst_helpers.layers import receptive_field

    # by hand: a 3x3 convolution adds 2 positions of its input grid, a 2x2 pooling 1
    assert [
        receptive_field(n) for n in ("conv1_1", "conv1_2", "pool1", "conv2_1", "conv3_1", "conv4_2", "conv5_1", "pool5")
    ] == [3, 5, 6, 10, 24, 84, 156, 268]
    assert receptive_field("conv_4") == receptive_field("conv2_2") == 14  # the seed's content layer
    # by gradient: the pixels that one position of the layer depends on (average pooling routes to all)
    model = nst.load_vgg19("random", pooling="avg")
    for layer in ("conv1_2", "conv2_1", "conv3_1"):
        x = torch.rand(1, 3, 96, 96, requires_grad=True)
        f = model(x, [layer])[layer]
        f[0, :, f.shape[-2] // 2, f.shape[-1] // 2].sum().backward()
        touched = x.grad.abs().sum((0, 1)) > 0
        cols, rows = touched.any(0).nonzero().flatten(), touched.any(1).nonzero().flatten()
        assert cols.max() - cols.min() + 1 == receptive_field(layer) == rows.max() - rows.min() + 1
