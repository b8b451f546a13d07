"""The PyTorch tutorial's neural style transfer algorithm, re-implemented here as the benchmark's baseline.

It follows the tutorial's structure, not the package's: a full ``vgg19()`` is built and its
``features`` kept; an ``nn.Sequential`` is assembled from a normalisation module and the VGG layers
(ReLUs made out-of-place), with a content-loss module inserted after ``conv_4`` and style-loss
modules after ``conv_1`` ... ``conv_5``, and everything after the last loss module dropped. The Gram
matrix divides by a*b*c*d. L-BFGS runs with default settings, the image is clamped to [0, 1] *inside*
the closure, and steps are counted in closure calls with the tutorial's ``while run <= num_steps``
loop (so it does a few more than ``num_steps``). Content weight 1, style weight 1e5 (the seed's).
"""

import time

import torch
from torch import nn
from torch.nn import functional as F
from torchvision.models import vgg19

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
CONTENT_LAYERS = ("conv_4",)
STYLE_LAYERS = ("conv_1", "conv_2", "conv_3", "conv_4", "conv_5")


def load_cnn(weights_path):
    """The tutorial's way to get the network: the whole VGG19 is built, then its ``features`` kept."""
    cnn = vgg19()
    state = torch.load(weights_path, map_location="cpu", weights_only=True)
    features = {
        k[len("features.") :] if k.startswith("features.") else k: v.float()
        for k, v in state.items()
        if not k.startswith("classifier.")
    }
    cnn.features.load_state_dict(features)
    return cnn.features.eval()


def gram(x):
    a, b, c, d = x.size()
    f = x.view(a * b, c * d)
    return torch.mm(f, f.t()).div(a * b * c * d)


class ContentLoss(nn.Module):
    def __init__(self, target):
        super().__init__()
        self.target = target.detach()
        self.loss = torch.zeros(())

    def forward(self, x):
        self.loss = F.mse_loss(x, self.target)
        return x


class StyleLoss(nn.Module):
    def __init__(self, target_feature):
        super().__init__()
        self.target = gram(target_feature).detach()
        self.loss = torch.zeros(())

    def forward(self, x):
        self.loss = F.mse_loss(gram(x), self.target)
        return x


class Normalize(nn.Module):
    def __init__(self):
        super().__init__()
        self.mean = torch.tensor(MEAN).view(-1, 1, 1)
        self.std = torch.tensor(STD).view(-1, 1, 1)

    def forward(self, img):
        return (img - self.mean) / self.std


def build_model(cnn, style_img, content_img):
    model = nn.Sequential(Normalize())
    content_losses, style_losses = [], []
    i = 0
    for layer in cnn.children():
        if isinstance(layer, nn.Conv2d):
            i += 1
            name = f"conv_{i}"
        elif isinstance(layer, nn.ReLU):
            name = f"relu_{i}"
            layer = nn.ReLU(inplace=False)
        elif isinstance(layer, nn.MaxPool2d):
            name = f"pool_{i}"
        else:
            raise RuntimeError(f"unexpected layer {layer.__class__.__name__}")
        model.add_module(name, layer)
        if name in CONTENT_LAYERS:
            loss = ContentLoss(model(content_img).detach())
            model.add_module(f"content_loss_{i}", loss)
            content_losses.append(loss)
        if name in STYLE_LAYERS:
            loss = StyleLoss(model(style_img).detach())
            model.add_module(f"style_loss_{i}", loss)
            style_losses.append(loss)
    for last in range(len(model) - 1, -1, -1):
        if isinstance(model[last], (ContentLoss, StyleLoss)):
            break
    return model[: last + 1], style_losses, content_losses


def run_style_transfer(cnn, content_img, style_img, num_steps=300, style_weight=1e5, content_weight=1.0, snapshot=None):
    """Returns (image, evaluations, seconds of optimisation). ``snapshot(evaluations, image)``, if given,
    is called after every evaluation (the benchmark's convergence curves; not part of the tutorial)."""
    model, style_losses, content_losses = build_model(cnn, style_img, content_img)
    input_img = content_img.clone()
    input_img.requires_grad_(True)
    model.eval()
    model.requires_grad_(False)
    optimizer = torch.optim.LBFGS([input_img])
    run = [0]
    start = time.perf_counter()
    while run[0] <= num_steps:

        def closure():
            with torch.no_grad():
                input_img.clamp_(0, 1)
            optimizer.zero_grad()
            model(input_img)
            style_score = sum(sl.loss for sl in style_losses) * style_weight
            content_score = sum(cl.loss for cl in content_losses) * content_weight
            loss = style_score + content_score
            loss.backward()
            run[0] += 1
            if snapshot is not None:
                snapshot(run[0], input_img.detach())
            return style_score + content_score

        optimizer.step(closure)
    with torch.no_grad():
        input_img.clamp_(0, 1)
    return input_img.detach(), run[0], time.perf_counter() - start
