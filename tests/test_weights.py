import os
import urllib.error

import pytest
import torch

import nst_helpers as nst
from nst_helpers import weights as W


@pytest.fixture
def random_state():
    return W.random_state_dict()


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """No real cache, no env var, and a download that fails as it does offline."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.delenv(W.ENV_VAR, raising=False)
    W._cache.clear()

    def offline(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", offline)
    yield
    W._cache.clear()


def _same(a, b):
    return all(torch.equal(a[k], b[k]) for k in W.EXPECTED_SHAPES)


def test_random_weights_are_seeded_and_announced(capfd):
    a, source = W.load_state_dict("random")
    assert source == "random"
    assert "randomly initialised" in capfd.readouterr().err
    assert _same(a, W.random_state_dict())


@pytest.mark.parametrize("layout", ["features-prefixed", "bare", "full-float16"])
def test_local_file_layouts(tmp_path, random_state, layout):
    if layout == "features-prefixed":
        state = {f"features.{k}": v for k, v in random_state.items()}
    elif layout == "bare":
        state = dict(random_state)
    else:
        state = {f"features.{k}": v.half() for k, v in random_state.items()}
        state["classifier.0.weight"] = torch.zeros(4, 4)
    path = tmp_path / "w.pth"
    torch.save(state, path)
    loaded, source = W.load_state_dict(str(path))
    assert source == str(path)
    assert all(v.dtype == torch.float32 for v in loaded.values())
    expected = {k: v.half().float() for k, v in random_state.items()} if layout == "full-float16" else random_state
    assert _same(loaded, expected)


def test_resolution_order(tmp_path, monkeypatch, random_state):
    env_file, arg_file = tmp_path / "env.pth", tmp_path / "arg.pth"
    torch.save(random_state, env_file)
    torch.save({k: v + 1 for k, v in random_state.items()}, arg_file)
    monkeypatch.setenv(W.ENV_VAR, str(env_file))
    assert W.load_state_dict(str(arg_file))[1] == str(arg_file)  # the argument beats the variable
    assert W.load_state_dict(None)[1] == str(env_file)  # then the variable
    monkeypatch.setenv(W.ENV_VAR, "random")
    assert W.load_state_dict(None)[1] == "random"
    monkeypatch.delenv(W.ENV_VAR)
    with pytest.raises(nst.NSTError, match="connect to the internet once.*NST_VGG19_WEIGHTS"):
        W.load_state_dict(None)  # then torchvision's, which needs a download here


def test_features_only_cache_is_made_from_the_full_file_and_used_after(random_state):
    full = W.cache_dir() / "vgg19-dcbb9e9d.pth"
    full.parent.mkdir(parents=True)
    state = {f"features.{k}": v for k, v in random_state.items()}
    state["classifier.6.weight"] = torch.zeros(1000, 8)
    torch.save(state, full)
    loaded, source = W.load_state_dict(None)
    assert source == "torchvision"
    assert _same(loaded, random_state)
    assert W.features_cache_path().is_file()
    assert not full.exists()  # the 548 MB file is not kept twice
    assert set(torch.load(W.features_cache_path(), weights_only=True)) == set(W.EXPECTED_SHAPES)
    W._cache.clear()
    assert _same(W.load_state_dict(None)[0], random_state)  # now read from the features-only copy


def test_download_is_used_and_cached(monkeypatch, random_state):
    calls = []

    def fake_download(url, progress=True, **kwargs):
        calls.append((url, progress))
        return {f"features.{k}": v for k, v in random_state.items()}

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", fake_download)
    assert _same(W.load_state_dict(None)[0], random_state)
    assert calls and calls[0][0].endswith("vgg19-dcbb9e9d.pth") and calls[0][1] is True
    assert W.features_cache_path().is_file()


@pytest.mark.parametrize(
    "content, message",
    [
        (b"this is not a weights file", "not a PyTorch weights file"),
        ("tensor", "does not hold a state dict"),
        ("wrong-shape", "has shape"),
        ("missing", "tensors are missing"),
    ],
)
def test_wrong_files_get_clear_errors(tmp_path, random_state, content, message):
    path = tmp_path / "bad.pth"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content == "tensor":
        torch.save(torch.zeros(3), path)
    elif content == "wrong-shape":
        state = dict(random_state)
        state["0.weight"] = torch.zeros(64, 3, 5, 5)
        torch.save(state, path)
    else:
        torch.save({"0.weight": random_state["0.weight"]}, path)
    with pytest.raises(nst.NSTError, match=message):
        W.load_state_dict(str(path))


def test_missing_file_says_where_the_path_came_from(tmp_path):
    with pytest.raises(nst.NSTError, match="not found.*--weights or NST_VGG19_WEIGHTS"):
        W.load_state_dict(str(tmp_path / "nope.pth"))


def test_standin_weights_load_when_present():
    path = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "weights", "vgg19_standin.pth")
    if not os.path.exists(path):
        pytest.skip("no ../shared/weights/vgg19_standin.pth beside this checkout")
    model = nst.load_vgg19(path, device="cpu")
    assert model.source.endswith("vgg19_standin.pth")


def test_the_written_out_url_is_torchvisions():
    from torchvision.models import VGG19_Weights

    assert W.TORCHVISION_URL == VGG19_Weights.IMAGENET1K_V1.url
