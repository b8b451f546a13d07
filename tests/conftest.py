import os

import numpy as np
import pytest
import torch
from PIL import Image

import nst_helpers as nst

torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))


@pytest.fixture(scope="session")
def model():
    """A seeded, randomly initialised VGG19 on the CPU (no downloads in tests)."""
    return nst.load_vgg19("random", device="cpu")


@pytest.fixture
def tiny_images(tmp_path):
    """A 48x40 content photo and two 40x40 'paintings' written as files, as a user would have them."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:40, 0:48]
    content = np.stack([x * 5, y * 6, (x + y) * 3], axis=-1).clip(0, 255).astype(np.uint8)
    paths = {"content": tmp_path / "content.png"}
    Image.fromarray(content).save(paths["content"])
    for i in range(2):
        style = (rng.random((40, 40, 3)) * 255).astype(np.uint8)
        style[:, :: 4 + i] = (255, 200 * i, 0)
        paths[f"style{i}"] = tmp_path / f"style{i}.png"
        Image.fromarray(style).save(paths[f"style{i}"])
    return paths


@pytest.fixture
def make_photos(tmp_path):
    """``make_photos(count)``: a folder ``tmp_path/photos`` of ``count`` small 'photos' (64x48 gradients and
    stripes, ``photo0.png`` ...), for training."""

    def make(count):
        folder = tmp_path / "photos"
        folder.mkdir()
        y, x = np.mgrid[0:48, 0:64]
        for i in range(count):
            arr = np.stack([(x * (3 + i)) % 256, (y * 5 + 40 * i) % 256, ((x + y) * (2 + i)) % 256], -1)
            Image.fromarray(arr.astype(np.uint8)).save(folder / f"photo{i}.png")
        return folder

    return make


@pytest.fixture
def photo_folder(make_photos):
    """A folder ``tmp_path/photos`` of four small 'photos', for training."""
    return make_photos(4)
