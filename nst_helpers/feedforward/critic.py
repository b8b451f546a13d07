"""An adversarial critic for the real-time network: a patch discriminator (the GAN step of issue 31).

A Gram matrix is a statistic chosen by hand: which features occur together, averaged over the whole
picture. A *patch discriminator* learns its own test instead. It is a small convolutional network that
looks at every patch of a picture (its receptive field, here 30 px) and gives each a score: high for
"this patch comes from the painting", low for "this patch comes from the network's output" (Li and
Wand 2016, Markovian GANs; Isola et al. 2017, PatchGAN). The two are trained in turn:

* the critic D: minimise BCE(D(painting patches), 1) + BCE(D(output), 0), the painting's patches
  against the network's current output (detached);
* the network: its objective plus ``adversarial_weight`` x BCE(D(output), 1), the non-saturating
  generator loss of Goodfellow et al. (2014): push its output towards what D takes for painting.

Everything here works on pictures in [0, 1]; ``Critic`` holds D, its Adam and the painting, and is what
``training.Training`` calls when ``TrainConfig.adversarial_weight`` > 0.
"""

import random

import torch
from torch import nn
from torch.nn import functional as F

from ..errors import NSTError

#: The critic's Adam learning rate and betas (Radford et al. 2016's 0.5 first moment, as most GANs use).
CRITIC_LR, CRITIC_BETAS = 2e-4, (0.5, 0.999)


class PatchDiscriminator(nn.Module):
    """Bx3xHxW pictures in [0, 1] -> Bx1xhxw logits, one per patch (h, w about H/4, W/4).

    Three 4x4 convolutions (two of stride 2) with leaky ReLUs and instance normalisation, then a 3x3
    convolution to one channel: each logit sees a 30x30 px patch. ``width``: channels of the first layer."""

    def __init__(self, width=32):
        super().__init__()
        w = int(width)
        if not 1 <= w <= 256:
            raise NSTError(f"critic width must be from 1 to 256, not {width!r}")
        self.width = w
        self.body = nn.Sequential(
            nn.Conv2d(3, w, 4, 2, 1),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(w, 2 * w, 4, 2, 1),
            nn.InstanceNorm2d(2 * w, affine=True),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(2 * w, 4 * w, 4, 1, 1),
            nn.InstanceNorm2d(4 * w, affine=True),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(4 * w, 1, 3, 1, 1),
        )

    def forward(self, x):
        return self.body(2 * x - 1)


def critic_loss(discriminator, real, fake):
    """D's loss: every patch of ``real`` scored as painting (1), every patch of ``fake`` as output (0)."""
    real_logits, fake_logits = discriminator(real), discriminator(fake.detach())
    return F.binary_cross_entropy_with_logits(
        real_logits, torch.ones_like(real_logits)
    ) + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))


def generator_loss(discriminator, fake):
    """The network's adversarial loss: -log D(fake) per patch, averaged (non-saturating)."""
    logits = discriminator(fake)
    return F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))


def painting_patches(painting, side, count, rng):
    """``count`` random squares of ``side`` px from ``painting`` (1x3xHxW; a side larger than the painting's
    short side is cut to it), randomly mirrored: the critic's real examples."""
    h, w = painting.shape[-2:]
    side = min(side, h, w)
    out = []
    for _ in range(count):
        top, left = rng.randint(0, h - side), rng.randint(0, w - side)
        patch = painting[..., top : top + side, left : left + side]
        out.append(patch.flip(-1) if rng.random() < 0.5 else patch)
    return torch.cat(out)


class Critic:
    """A patch discriminator trained against a network's output, with its own Adam.

    ``loss(output)`` is the network's adversarial loss (with gradients to the network, none to D);
    ``update(output)`` is one step of D on the painting's patches against ``output`` (detached) and
    returns D's loss."""

    def __init__(self, painting, side, width=32, lr=CRITIC_LR, seed=0):
        self.painting = painting.detach()
        self.side = int(side)
        self.rng = random.Random(seed + 7919)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed + 7919)
            self.discriminator = PatchDiscriminator(width).to(painting.device)
        self.optimizer = torch.optim.Adam(self.discriminator.parameters(), lr=lr, betas=CRITIC_BETAS)

    def loss(self, output):
        self.discriminator.requires_grad_(False)
        try:
            return generator_loss(self.discriminator, output)
        finally:
            self.discriminator.requires_grad_(True)

    def update(self, output):
        real = painting_patches(self.painting, self.side, output.shape[0], self.rng)
        fake = output.detach()
        if fake.shape[-1] > real.shape[-1] or fake.shape[-2] > real.shape[-2]:  # the painting is smaller
            fake = fake[..., : real.shape[-2], : real.shape[-1]]
        self.optimizer.zero_grad(set_to_none=True)
        loss = critic_loss(self.discriminator, real, fake.float())
        loss.backward()
        self.optimizer.step()
        return float(loss.detach())
