"""Photos to train on: the bundled training photos, the held-out ones, and random crops of a set of photos.

Both trained applications use them: the real-time networks (``feedforward``, notebook 8) and the
decoders of arbitrary style (``arbitrary``, notebook 11). ``PhotoCrops`` draws random square crops at
random scales; a distributed run gives each process its own crops (``distributed.shard``).
"""

import math
import os
import random
import warnings
from pathlib import Path

import torch
from torch import nn

from . import files
from .checks import MAX_SIZE, MIN_SIZE, check_number
from .errors import NSTError
from .images import EXAMPLES_DIR, example_path, image_files, open_image, pil_to_tensor, resize

#: The bundled training photos (public domain or CC0; ``examples/SOURCES.md``).
TRAINING_PHOTOS = EXAMPLES_DIR / "photos"
#: Bundled examples that are not in the training photos, for judging a network on photos it never saw.
HELD_OUT_PHOTOS = ("chelsea", "coffee")


def bundled_photos(held_out=False):
    """The bundled training photos, or (``held_out=True``) the bundled photos kept out of training."""
    if held_out:
        return [example_path(name) for name in HELD_OUT_PHOTOS]
    return image_files(TRAINING_PHOTOS, "bundled photos folder")


def check_training_photos(photos, crop, zoom=2.0):
    """The training photos that can be used, checked before training starts (each read to its end by
    ``images.probe_image``). A missing photo is an error; photos that cannot be read or are too narrow for
    the crops are left out with one warning line that names them; none usable is an ``NSTError`` (and no
    warning comes before it)."""
    from .images import probe_image

    usable, problems = [], []
    for path in photos:
        files.input_file(
            path,
            "training photo",
            missing="check the list of training photos",
            folder="give image files (or the folder as photos=)",
        )
        try:
            info = probe_image(path, "training photo")
            problem = PhotoCrops.problem(info.width, info.height, crop, zoom)
            if problem:
                raise NSTError(f"training photo {Path(path).name!r} {problem}")
        except NSTError as err:
            problems.append(str(err))
            continue
        usable.append(path)
    if not usable:
        first = problems[0] if problems else "none given"
        raise NSTError(
            f"none of the {len(photos)} training photos could be read or used ({first}): give JPEG or "
            f"PNG photos at least {crop} px on their short side"
        )
    if problems:
        warnings.warn(
            f"skipping {len(problems)} of {len(photos)} training photos: "
            + "; ".join(problems[:3])
            + ("; ..." if len(problems) > 3 else ""),
            RuntimeWarning,
            stacklevel=3,
        )
    return usable


class PhotoCrops:
    """Random square crops of a set of photos, randomly flipped, as Bx3xSxS batches in [0, 1].

    Each photo is decoded once (on first use) at a long side of ``zoom * crop`` (at least one crop
    on its short side) and kept; a crop is a random square of side between ``crop`` and the short
    side, shrunk to ``crop``: the network sees photos at scales from the whole photo to ``zoom``
    times closer. A folder of more than ``max_cached`` photos is decoded as it goes. Photos that
    cannot be used are skipped with a warning; none usable is an ``NSTError``.
    """

    @staticmethod
    def problem(width, height, crop, zoom=2.0):
        """Why a ``width`` x ``height`` photo cannot give ``crop`` px crops, or None."""
        long_side = max(round(zoom * crop), math.ceil(crop * max(width, height) / min(width, height)))
        if long_side > MAX_SIZE:
            return f"({width}x{height}) is too narrow for {crop} px crops"
        return None

    def __init__(self, photos, crop=128, seed=0, max_cached=500, zoom=2.0):
        self.crop = int(check_number(crop, "crop size", minimum=MIN_SIZE, maximum=MAX_SIZE, integer=True))
        self.zoom = check_number(zoom, "zoom", minimum=1, maximum=8)
        self.paths = list(photos)
        if not self.paths:
            raise NSTError("no training photos given: give a folder of photos")
        self.rng = random.Random(seed)
        self.max_cached = max_cached
        self._cache = {}
        self._bad = set()

    def _photo(self, path):
        if path in self._cache:
            return self._cache[path]
        try:
            img = open_image(path, "training photo", size=round(self.zoom * self.crop))
            # long side zoom * crop, unless that leaves the short side under one crop
            long_side = max(round(self.zoom * self.crop), math.ceil(self.crop * max(img.size) / min(img.size)))
            if long_side > MAX_SIZE:
                raise NSTError(
                    f"training photo {path.name!r} ({img.width}x{img.height}) is too narrow for {self.crop} px crops"
                )
            t = pil_to_tensor(resize(img, long_side))
        except NSTError as err:
            if path not in self._bad:
                self._bad.add(path)
                warnings.warn(f"skipping a training photo: {err}", RuntimeWarning, stacklevel=3)
            return None
        if len(self._cache) < self.max_cached:
            self._cache[path] = t
        return t

    def sample(self):
        """One crop: a random photo, a random square of side between crop and the short side, shrunk to crop."""
        for _ in range(len(self.paths) * 3):
            photo = self._photo(self.rng.choice(self.paths))
            if photo is not None:
                break
        else:
            raise NSTError(f"none of the {len(self.paths)} training photos could be read: give JPEG or PNG photos")
        _, _, h, w = photo.shape
        side = self.rng.randint(self.crop, min(h, w))
        top, left = self.rng.randint(0, h - side), self.rng.randint(0, w - side)
        patch = photo[..., top : top + side, left : left + side]
        if side != self.crop:
            patch = nn.functional.interpolate(
                patch, size=(self.crop, self.crop), mode="bilinear", align_corners=False, antialias=True
            ).clamp(0, 1)
        if self.rng.random() < 0.5:
            patch = patch.flip(-1)
        return patch

    def batch(self, size, device="cpu"):
        return torch.cat([self.sample() for _ in range(size)]).to(device)


def photo_files(photos):
    """The training photos: None for the bundled ones, a folder, or a list of image files."""
    if photos is None:
        return bundled_photos()
    if isinstance(photos, (str, os.PathLike)):
        return image_files(photos, "training photos folder")
    return [files.as_path(p, "training photo") for p in photos]
