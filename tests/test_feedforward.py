"""The real-time network of notebook 8: shapes, training, saving, applying, the command line, bad files."""

import hashlib

import numpy as np
import pytest
import torch
from PIL import Image

import nst_helpers as nst
from nst_helpers import feedforward as ff
from nst_helpers.cli import main
from nst_helpers.errors import NSTError

TINY = dict(network="small", width=4, depth=1, crop=32, style_size=32, batch_size=2, progress=False)


@pytest.fixture
def photos(tmp_path, photo_folder):
    """A folder of four small 'photos' (gradients and stripes) and a 'painting'."""
    folder = photo_folder
    rng = np.random.default_rng(1)
    style = (rng.random((48, 48, 3)) * 255).astype(np.uint8)
    style[:, ::6] = (250, 210, 30)
    Image.fromarray(style).save(tmp_path / "painting.png")
    return folder


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("shape", [(1, 3, 32, 32), (2, 3, 37, 50), (1, 3, 17, 16), (1, 3, 5, 9)])
def test_the_network_keeps_the_size_and_the_range(shape):
    torch.manual_seed(0)
    net = ff.TransformNet(width=4, depth=2).eval()
    x = torch.rand(shape)
    with torch.no_grad():
        y = net(x * 50 - 20)  # even far out-of-range input stays a picture
    assert y.shape == shape
    assert float(y.min()) >= 0 and float(y.max()) <= 1


def test_the_sizes_are_johnsons_layout():
    full = ff.make_network("full")
    assert (full.width, full.depth) == (32, 5)
    convs = [m for m in full.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.kernel_size[0] for c in convs][:3] == [9, 3, 3] and convs[-1].kernel_size == (9, 9)
    assert [c.stride[0] for c in convs][:3] == [1, 2, 2]
    assert not any(isinstance(m, torch.nn.ConvTranspose2d) for m in full.modules())  # upsample + conv
    assert sum(isinstance(m, torch.nn.ReflectionPad2d) for m in full.modules()) == len(convs)
    assert len([m for m in full.modules() if isinstance(m, torch.nn.InstanceNorm2d)]) == len(convs) - 1
    with pytest.raises(NSTError, match="network size"):
        ff.make_network("huge")
    with pytest.raises(NSTError, match="network width"):
        ff.TransformNet(width=0)


def test_the_batch_objective_of_one_photo_is_stylizes_objective(model):
    """objective_loss with a batch of one photo is exactly the objective stylize builds for that photo."""
    config = ff.training_config(tv_weight=2.0)
    torch.manual_seed(0)
    photo, painting, picture = torch.rand(1, 3, 40, 40), torch.rand(1, 3, 40, 40), torch.rand(1, 3, 40, 40)
    reference = nst.build_objective(model, photo, [painting], config)
    other = nst.build_objective(model, torch.rand(1, 3, 40, 40), [painting], config)
    _, expected = reference(picture)
    _, got = ff.objective_loss(other, picture, photo)
    for key in ("content", "style", "tv", "total"):
        assert got[key] == pytest.approx(expected[key], rel=1e-5)


def test_the_default_training_objective_is_the_seeds_with_half_its_style_weight(model, photos, tmp_path):
    seed, config = nst.PRESETS["seed"], ff.training_config(device="cpu")
    assert config.style_weight == 5e4 == seed.style_weight / 2
    for name in (
        "content_layers",
        "style_layers",
        "layer_weights",
        "content_weight",
        "tv_weight",
        "gram_norm",
        "pooling",
        "style_scale",
    ):
        assert getattr(config, name) == getattr(seed, name), name
    assert ff.training_config(seed).style_weight == 1e5  # a given config is kept as it is
    assert ff.training_config(style_weight=3e4).style_weight == 3e4
    result = ff.train_network(tmp_path / "painting.png", photos, model=model, steps=1, **TINY)
    assert result.meta["config"]["style_weight"] == 5e4
    net = tmp_path / "net.pt"
    assert main(["train", str(tmp_path / "painting.png"), "--images", str(photos), "-o", str(net), *TRAIN_FAST]) == 0
    assert nst.load_network(net).meta["config"]["style_weight"] == 5e4


def test_the_batch_loss_is_the_mean_of_the_photos_losses(model):
    config = ff.training_config()
    torch.manual_seed(1)
    photos, pictures, painting = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32), torch.rand(1, 3, 32, 32)
    objective = nst.build_objective(model, photos[:1], [painting], config)
    _, both = ff.objective_loss(objective, pictures, photos)
    each = [ff.objective_loss(objective, pictures[i : i + 1], photos[i : i + 1])[1]["total"] for i in range(2)]
    assert both["total"] == pytest.approx(sum(each) / 2, rel=1e-4)


@pytest.mark.slow
def test_training_lowers_the_objective_on_photos_it_never_saw(model, photos, tmp_path):
    config = ff.training_config()
    held_out = torch.cat(
        [
            nst.load_image(photos / "photo3.png", size=(32, 32)),
            nst.load_image(photos / "photo1.png", size=(32, 32)).flip(-2),
        ]
    )
    painting = tmp_path / "painting.png"
    objective = nst.build_objective(model, held_out[:1], [nst.load_image(painting, size=32)], config)

    def loss(net):
        with torch.no_grad():
            return ff.objective_loss(objective, net.eval()(held_out), held_out)[1]["total"]

    torch.manual_seed(0)
    start = loss(ff.TransformNet(4, 1))
    result = ff.train_network(
        painting, [photos / f"photo{i}.png" for i in range(3)], config, model=model, steps=80, lr=3e-3, **TINY
    )
    assert result.steps == 80 and result.stopped is None and len(result.history["total"]) == 80
    assert loss(result.network) < 0.8 * start
    assert np.mean(result.history["total"][-10:]) < np.mean(result.history["total"][:10])


def test_save_load_gives_identical_output_and_metadata(model, photos, tmp_path):
    result = ff.train_network(tmp_path / "painting.png", photos, model=model, steps=3, **TINY)
    path = result.save(tmp_path / "net.pt")
    data = torch.load(path, weights_only=True)  # plain tensors and values: no code runs on load
    assert data["meta"]["format"] == ff.FILE_FORMAT and data["meta"]["steps"] == 3
    loaded = nst.load_network(path)
    assert loaded.meta["style"] == "painting" and loaded.meta["config"]["style_layers"][0] == "conv_1"
    x = torch.rand(1, 3, 40, 52)
    with torch.no_grad():
        assert torch.equal(loaded(x), result.network(x))
    assert "painting" in ff.describe_network(loaded)
    before = _digest(path)
    with pytest.raises(NSTError, match="exists"):
        result.save(path)
    assert _digest(path) == before


def test_the_style_target_is_the_painting_at_style_size_not_at_the_crop_size(model, photos, tmp_path, monkeypatch):
    built = []
    real = ff.training.build_objective

    def spy(model, content, styles, config):
        built.append(styles[0].shape[-2:])
        return real(model, content, styles, config)

    monkeypatch.setattr(ff.training, "build_objective", spy)
    painting = tmp_path / "painting.png"  # 48x48
    result = ff.train_network(painting, photos, model=model, steps=1, **{**TINY, "style_size": 40})
    assert built[-1] == (40, 40) and result.meta["style_size"] == 40 and result.meta["crop"] == 32
    ff.train_network(
        painting, photos, ff.training_config(style_scale=1.5), model=model, steps=1, **{**TINY, "style_size": None}
    )
    assert built[-1] == (48, 48)  # style_size None: the crop's size, times the style scale


def test_the_command_line_trains_with_the_apis_configuration(photos, tmp_path):
    """The train command's defaults are ``TRAIN_PRESETS["default"]``, and the network it trains is the one
    ``train_network`` trains with the same options, weight for weight."""
    from nst_helpers.cli import build_parser

    parser = build_parser()
    args = parser.parse_args(["train", "starry_night"])
    given = {k: getattr(args, k) for k in ff.TRAIN_OPTIONS if getattr(args, k, None) is not None}
    assert given == {} and ff.make_train_config(**given) == ff.TRAIN_PRESETS["default"]  # defaults: the preset's
    options = {a.dest for a in parser._subparsers._group_actions[0].choices["train"]._actions}
    assert set(ff.TRAIN_OPTIONS) - {"style_weight"} <= options  # one option per TrainConfig field
    args = parser.parse_args(["train", "starry_night", "--steps", "7", "--crop", "48"])
    assert ff.make_train_config(**{k: getattr(args, k) for k in ("steps", "crop")}).steps == 7
    painting = tmp_path / "painting.png"
    assert main(["train", str(painting), "--images", str(photos), "-o", str(tmp_path / "cli.pt"), *TRAIN_FAST]) == 0
    cli = nst.load_network(tmp_path / "cli.pt")
    api = ff.train_network(
        painting, photos, weights="random", device="cpu", width=4, depth=1, crop=32, steps=3, progress=False
    )
    assert {**cli.meta, "seconds": 0} == {**api.meta, "seconds": 0}
    assert cli.meta["steps"] == 3 and cli.meta["config"] == ff.training_config(device="cpu").to_dict()
    for key, value in api.network.state_dict().items():
        assert torch.allclose(cli.state_dict()[key], value, atol=1e-6), key


def test_training_continues_from_a_loaded_network(model, photos, tmp_path):
    first = ff.train_network(tmp_path / "painting.png", photos, model=model, steps=2, **TINY)
    path = first.save(tmp_path / "net.pt")
    more = ff.train_network(
        tmp_path / "painting.png", photos, model=model, steps=3, **{**TINY, "network": nst.load_network(path)}
    )
    assert more.meta["steps"] == 5 and more.network.width == 4


def test_ctrl_c_leaves_a_usable_checkpoint(model, photos, tmp_path):
    checkpoint = tmp_path / "ckpt.pt"

    def preview(step, net, history):
        if step == 4:
            raise KeyboardInterrupt

    result = ff.train_network(
        tmp_path / "painting.png",
        photos,
        model=model,
        steps=50,
        checkpoint=checkpoint,
        checkpoint_every=2,
        preview=preview,
        preview_every=1,
        **TINY,
    )
    assert result.stopped == "interrupted" and result.steps == 4
    net = nst.load_network(checkpoint)
    assert net.meta["steps"] == 4
    assert not list(tmp_path.glob("*.tmp*")) and not list(tmp_path.glob(".*"))


def test_previews_see_the_network_in_eval_mode_every_n_steps(model, photos, tmp_path):
    seen = []
    ff.train_network(
        tmp_path / "painting.png",
        photos,
        model=model,
        steps=5,
        preview_every=2,
        preview=lambda step, net, history: seen.append((step, net.training, len(history["total"]))),
        **TINY,
    )
    assert seen == [(2, False, 2), (4, False, 4), (5, False, 5)]


def test_apply_to_a_folder_writes_each_photo_and_never_replaces(photos, tmp_path):
    net = ff.TransformNet(4, 1)
    out = tmp_path / "painted"
    written = nst.apply_to_folder(net, photos, out, size=32, progress=False)
    assert sorted(p.name for p in written) == [f"photo{i}.png" for i in range(4)]
    assert Image.open(written[0]).size == (32, 24)
    mine = out / "photo2.png"
    mine.write_bytes(b"mine")
    with pytest.raises(NSTError, match="exists"):
        nst.apply_to_folder(net, photos, out, progress=False)
    assert mine.read_bytes() == b"mine"
    with pytest.raises(NSTError, match="a run reads|this run reads"):
        nst.apply_to_folder(net, photos, photos, suffix=".png", overwrite=True, progress=False)


def test_a_picture_needs_no_multiple_of_four(photos):
    net = ff.TransformNet(4, 1)
    assert nst.apply_network(net, photos / "photo0.png", size=(33, 45)).shape == (1, 3, 33, 45)
    with pytest.raises(NSTError, match="TransformNet"):
        nst.apply_network("net.pt", photos / "photo0.png")


def _torch_file(path, obj):
    torch.save(obj, path)
    return path


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda d: d / "missing.pt", "not found"),
        (lambda d: d, "is a folder"),
        (lambda d: (d / "notes.pt").write_text("hello") and d / "notes.pt", "not a style network file"),
        (lambda d: (d / "empty.pt").write_bytes(b"") or d / "empty.pt", "not a style network file"),
        (lambda d: _torch_file(d / "vgg.pt", {"features.0.weight": torch.zeros(2)}), "looks like VGG19 weights"),
        (lambda d: _torch_file(d / "list.pt", [1, 2, 3]), "not a style network written by nst_helpers"),
        (
            lambda d: _torch_file(d / "v9.pt", {"meta": {"format": ff.FILE_FORMAT, "version": 9}, "state_dict": {}}),
            "file version 9",
        ),
        (
            lambda d: _torch_file(
                d / "nostate.pt", {"meta": {"format": ff.FILE_FORMAT, "version": 1}, "state_dict": 5}
            ),
            "no network weights",
        ),
        (
            lambda d: _torch_file(
                d / "shape.pt",
                {
                    "meta": {"format": ff.FILE_FORMAT, "version": 1, "width": 8, "depth": 1},
                    "state_dict": ff.TransformNet(4, 1).state_dict(),
                },
            ),
            "does not match",
        ),
        (
            lambda d: _torch_file(
                d / "width.pt",
                {
                    "meta": {"format": ff.FILE_FORMAT, "version": 1, "width": "x", "depth": 1},
                    "state_dict": ff.TransformNet(4, 1).state_dict(),
                },
            ),
            "damaged metadata field 'width'",
        ),
    ],
)
def test_bad_network_files_get_one_line(tmp_path, make, message):
    path = make(tmp_path)
    with pytest.raises(NSTError, match=message) as err:
        nst.load_network(path)
    assert "\n" not in str(err.value)


def test_a_network_with_nan_weights_is_refused(tmp_path):
    net = ff.TransformNet(4, 1)
    with torch.no_grad():
        next(net.parameters()).fill_(float("nan"))
    path = nst.save_network(net, tmp_path / "nan.pt")
    with pytest.raises(NSTError, match="NaN"):
        nst.load_network(path)


def test_a_truncated_network_file_is_refused(tmp_path):
    path = nst.save_network(ff.TransformNet(4, 1), tmp_path / "net.pt")
    path.write_bytes(path.read_bytes()[:500])
    with pytest.raises(NSTError, match="not a style network file"):
        nst.load_network(path)


def test_training_photo_folders_are_checked(tmp_path, model):
    (tmp_path / "empty").mkdir()
    (tmp_path / "file.png").write_bytes(b"x")
    for folder, message in [
        (tmp_path / "nowhere", "not found"),
        (tmp_path / "empty", "holds no images"),
        (tmp_path / "file.png", "not a folder"),
    ]:
        with pytest.raises(NSTError, match=message):
            ff.train_network("starry_night", folder, model=model, steps=1, **TINY)
    odd = tmp_path / "odd"
    odd.mkdir()
    Image.new("RGB", (3000, 20), (9, 9, 9)).save(odd / "sliver.png")  # too narrow for any crop
    Image.new("RGB", (1, 1), (200, 9, 9)).save(odd / "dot.png")  # tiny: under 16 px, no picture
    Image.new("RGB", (40, 30), (9, 200, 9)).save(odd / "small.png")  # small: enlarged
    with pytest.warns(RuntimeWarning, match="skipping 2 of 3 training photos: .*too narrow") as record:
        result = ff.train_network("starry_night", odd, model=model, steps=2, **TINY)
    assert result.steps == 2 and len([w for w in record if "training photo" in str(w.message)]) == 1
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "a.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(NSTError, match="could be read"):  # checked before training: no warning comes first
        ff.train_network("starry_night", bad, model=model, steps=1, **TINY)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"steps": 0}, "steps"),
        ({"batch_size": 0}, "batch size"),
        ({"crop": 8}, "crop size"),
        ({"crop": "32x48"}, "one number"),
        ({"lr": -1}, "learning rate"),
        ({"lr": float("nan")}, "learning rate"),
        ({"config": {"style_weight": -1}}, "style weight"),
        ({"crop": 16, "style_size": 16, "config": "gatys"}, "too small"),
        ({"crop": 4096, "batch_size": 64}, "memory"),
        ({"crop": None}, "crop size"),
        ({"style_size": 4}, "style size"),
        ({"style_size": "40x60"}, "one number"),
        ({"style_size": "big"}, "style size"),
        ({"style_size": [1]}, "style size"),
        ({"style_size": 4096, "config": {"style_scale": 8}}, "lower the style size or the style scale"),
    ],
)
def test_bad_training_arguments(model, photos, kwargs, message):
    args = {**TINY, **kwargs}
    with pytest.raises(NSTError, match=message):
        ff.train_network("starry_night", photos, model=model, **args)


def test_the_bundled_photos_are_separate_from_the_held_out_ones():
    train, held_out = ff.bundled_photos(), ff.bundled_photos(held_out=True)
    assert len(train) >= 6 and len(held_out) == 2
    assert not {p.stem for p in train} & {p.stem for p in held_out}
    sources = (ff.TRAINING_PHOTOS.parent / "SOURCES.md").read_text()
    for path in train + held_out:
        assert f"`{path.relative_to(ff.TRAINING_PHOTOS.parent)}`" in sources
        assert hashlib.sha256(path.read_bytes()).hexdigest() in sources
        assert max(Image.open(path).size) <= 1024


# ----------------------------------------------------------------------------------- command line

TRAIN_FAST = ["--weights", "random", "--width", "4", "--depth", "1", "--crop", "32", "--steps", "3", "--quiet"]


@pytest.mark.slow
def test_train_then_apply_from_the_command_line(photos, tmp_path, capsys):
    net = tmp_path / "van.pt"
    previews = tmp_path / "previews"
    previews.mkdir()
    assert (
        main(
            [
                "train",
                str(tmp_path / "painting.png"),
                "--images",
                str(photos),
                "-o",
                str(net),
                "--preview-dir",
                str(previews),
                "--preview-every",
                "2",
                "--style-weight",
                "2e5",
                "--tv-weight",
                "3",
                "--precision",
                "float32",
                "--style-size",
                "40",
                *TRAIN_FAST,
            ]
        )
        == 0
    )
    loaded = nst.load_network(net)
    assert loaded.meta["style_size"] == 40 and loaded.meta["crop"] == 32
    assert loaded.meta["steps"] == 3 and loaded.meta["config"]["style_weight"] == 2e5
    assert loaded.meta["config"]["precision"] == "float32"
    assert loaded.meta["config"]["tv_weight"] == 3.0 and loaded.meta["photos"] == 4
    assert sorted(p.name for p in previews.iterdir()) == ["preview_000002.png", "preview_000003.png"]
    assert max(Image.open(previews / "preview_000003.png").size) == 40  # painted at the style size
    out = tmp_path / "one.jpg"
    assert main(["apply", str(net), str(photos / "photo0.png"), "-o", str(out), "--size", "40"]) == 0
    assert Image.open(out).size == (40, 30)
    assert "ms" in capsys.readouterr().out
    assert main(["apply", str(net), str(photos), "chelsea", "-o", str(tmp_path / "many"), "--quiet"]) == 0
    assert len(list((tmp_path / "many").iterdir())) == 5
    # the original command still works beside the new ones
    assert (
        main(
            [
                str(photos / "photo0.png"),
                "starry_night",
                "-o",
                str(tmp_path / "gatys.png"),
                "--weights",
                "random",
                "--size",
                "32",
                "--steps",
                "2",
                "--quiet",
            ]
        )
        == 0
    )


def test_train_on_the_bundled_photos(tmp_path):
    assert main(["train", "the_scream", "-o", str(tmp_path / "scream.pt"), *TRAIN_FAST]) == 0
    assert nst.load_network(tmp_path / "scream.pt").meta["photos"] == len(ff.bundled_photos())


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "starry_night", "-o", "{tmp}/net.png"], "should end in .pt"),
        (["train", "starry_night", "-o", "{tmp}/mine.pt"], "exists"),
        (["train", "starry_night", "--images", "{tmp}/nowhere", "-o", "{tmp}/n.pt"], "not found"),
        (["train", "nowhere.jpg", "-o", "{tmp}/n.pt"], "not found"),
        (["train", "starry_night", "-o", "{tmp}/n.pt", "--batch-size", "0"], "batch size"),
        (["train", "starry_night", "-o", "{tmp}/n.pt", "--steps", "ten"], "steps"),
        (["train", "starry_night", "-o", "{tmp}/n.pt", "--width", "-3"], "width"),
        (["train", "starry_night", "-o", "{tmp}/n.pt", "--style-weight", "inf"], "style weight"),
        (["train", "starry_night", "-o", "{tmp}/n.pt", "--style-size", "64x64"], "one number"),
        (["train", "starry_night", "-o", "{tmp}/n.pt", "--style-size", "0"], "style size"),
        (["train", "starry_night", "-o", "{tmp}/n.pt", "--preview-dir", "{tmp}/nowhere"], "does not exist"),
        (
            [
                "train",
                "starry_night",
                "-o",
                "{tmp}/photos/photo0.png.pt",
                "--images",
                "{tmp}/photos",
                "--steps",
                "1",
                "--seed",
                "x",
            ],
            "seed",
        ),
        (["train"], "give the painting to train for"),
        (["apply", "{tmp}/mine.pt", "chelsea", "-o", "{tmp}/o.png"], "not a style network file"),
        (["apply", "{tmp}/none.pt", "chelsea", "-o", "{tmp}/o.png"], "not found"),
        (["apply", "{tmp}/photos/photo0.png", "chelsea", "-o", "{tmp}/o.png"], "not a style network file"),
        (["apply", "{tmp}/net.pt", "chelsea", "-o", "{tmp}/o.txt"], "cannot save a picture"),
        (["apply", "{tmp}/net.pt", "chelsea", "-o", "{tmp}/mine.png"], "exists"),
        (
            ["apply", "{tmp}/net.pt", "{tmp}/photos/photo0.png", "-o", "{tmp}/photos/photo0.png", "--force"],
            "this run reads",
        ),
        (["apply", "{tmp}/net.pt", "{tmp}/photos", "-o", "{tmp}/out.png"], "output folder"),
        (["apply", "{tmp}/net.pt", "{tmp}/photos", "-o", "{tmp}/photos", "--force"], "inputs"),
        (["apply", "{tmp}/net.pt", "{tmp}/photos/photo0.png", "{tmp}/photos/photo0.png", "-o", "{tmp}/d"], "both"),
        (["apply", "{tmp}/net.pt", "chelsea", "-o", "{tmp}/o.png", "--size", "3"], "size"),
        (["apply", "{tmp}/net.pt", "chelsea", "-o", "{tmp}/o.png", "--device", "tpu"], "device"),
        (["apply", "{tmp}/net.pt", "nowhere.jpg", "-o", "{tmp}/o.png"], "not found"),
    ],
)
def test_bad_command_lines_get_one_line_and_write_nothing(photos, tmp_path, capsys, args, message):
    nst.save_network(ff.TransformNet(4, 1), tmp_path / "net.pt")
    (tmp_path / "mine.pt").write_bytes(b"my precious file")
    (tmp_path / "mine.png").write_bytes(b"my precious picture")
    before = {p: _digest(p) for p in tmp_path.rglob("*") if p.is_file()}
    assert main([a.replace("{tmp}", str(tmp_path)) for a in args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err
    after = {p: _digest(p) for p in tmp_path.rglob("*") if p.is_file()}
    assert after == before


def test_training_runs_vgg19_in_bfloat16_only_where_it_is_native(model, photos, tmp_path, monkeypatch):
    monkeypatch.setattr(ff.training, "bfloat16_is_fast", lambda device: True)
    assert ff.training_config(device="cpu").precision == "bfloat16"
    assert ff.training_config(nst.PRESETS["seed"], device="cpu").precision == "float32"  # a given config is kept
    result = ff.train_network(tmp_path / "painting.png", photos, model=model, steps=2, **TINY)
    assert result.meta["config"]["precision"] == "bfloat16"
    monkeypatch.setattr(ff.training, "bfloat16_is_fast", lambda device: False)
    assert ff.training_config(device="cpu").precision == "float32"
    result = ff.train_network(tmp_path / "painting.png", photos, model=model, steps=2, **TINY)
    assert result.meta["config"]["precision"] == "float32"
    with pytest.raises(NSTError, match="unknown precision 'half': use one of auto, float32, bfloat16"):
        ff.training_precision("half", "cpu")
