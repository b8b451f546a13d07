"""The helpers the notebooks teach with: the exercise checks and the figures (known answers)."""

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
import torch  # noqa: E402

import nst_helpers as nst  # noqa: E402
from nst_helpers import course, plotting  # noqa: E402


def test_check_exercise_waits_for_a_placeholder(capsys):
    assert course.check_exercise("content loss", None, torch.ones(2)) is False
    assert "not written yet" in capsys.readouterr().out


def test_check_exercise_accepts_a_right_answer_and_refuses_a_wrong_one(capsys):
    f, p = torch.arange(4.0), torch.zeros(4)
    assert course.check_exercise("content loss", ((f - p) ** 2).mean(), nst.content_loss(f, p)) is True
    assert "correct" in capsys.readouterr().out
    with pytest.raises(AssertionError, match="differs .* by up to 1.75"):
        course.check_exercise("content loss", ((f - p) ** 2).mean() / 2, nst.content_loss(f, p))
    with pytest.raises(AssertionError, match="shape"):
        course.check_exercise("gram", torch.ones(2, 2), torch.ones(1, 2, 2))


def test_gram_heatmaps_share_one_colour_scale_and_order():
    a = torch.diag(torch.tensor([1.0, 4.0, 2.0]))
    b = torch.diag(torch.tensor([10.0, 40.0, 20.0]))
    assert plotting.gram_order([a, b]).tolist() == [1, 2, 0]  # most active channel first
    fig = nst.show_grams([a, b], ["a", "b"], difference=True)
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert images[0].get_clim() == images[1].get_clim()  # one scale for both Gram matrices
    diff = images[2].get_array()
    assert diff[0, 0] == pytest.approx((40 - 4) / 40)  # (second - first) / the largest entry, reordered
    assert images[2].get_clim() == (-1, 1)


def test_gram_heatmaps_refuse_what_they_cannot_compare():
    with pytest.raises(ValueError, match="one layer"):
        nst.show_grams([torch.eye(3), torch.eye(4)], ["a", "b"])
    with pytest.raises(ValueError, match="exactly two"):
        nst.show_grams([torch.eye(3)] * 3, ["a", "b", "c"], difference=True)


def test_feature_maps_show_the_most_active_channels():
    f = torch.zeros(1, 5, 4, 4)
    f[0, 3] = 2.0
    f[0, 1] = 1.0
    fig = nst.show_feature_maps({"conv1_1": f}, channels=2)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[0].startswith("conv1_1 ch 3") and titles[1].startswith("conv1_1 ch 1")


def test_receptive_fields_are_drawn_at_their_size():
    fig = nst.show_receptive_fields(torch.rand(1, 3, 40, 60), ["conv1_1", "conv5_1"])
    squares = [p for p in fig.axes[0].patches if p.get_label().startswith("conv")]
    assert [p.get_width() for p in squares] == [nst.receptive_field("conv1_1"), nst.receptive_field("conv5_1")]
    assert fig.axes[0].get_xlim()[1] - fig.axes[0].get_xlim()[0] >= nst.receptive_field("conv5_1")


def test_method_diagram_names_both_losses_and_the_gradient():
    fig = nst.method_diagram()
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    assert "content" in texts and "style" in texts and "gradient" in texts and "VGG19" in texts


def test_the_worked_answers_of_the_write_it_yourself_cells_are_right():
    """The answers the notebooks reveal (notebooks 2, 3, 4, 7), typed as a student would, pass the checks (notebooks
    8 and 9: the tests below)."""
    gen = torch.Generator().manual_seed(0)
    f, p = torch.rand(1, 4, 3, 5, generator=gen), torch.rand(1, 4, 3, 5, generator=gen)
    assert course.check_exercise("content loss", ((f - p) ** 2).mean(), nst.content_loss(f, p))
    flat = f.flatten(2)
    assert course.check_exercise("Gram matrix", flat @ flat.transpose(1, 2) / f[0].numel(), nst.gram_matrix(f))
    flat_x, flat_a, n = f.flatten(2), p.flatten(2), f[0].numel()
    g, a = flat_x @ flat_x.transpose(1, 2) / n, flat_a @ flat_a.transpose(1, 2) / n
    assert course.check_exercise(
        "style loss", ((g - a) ** 2).mean(), nst.style_loss(nst.gram_matrix(f), nst.gram_matrix(p))
    )
    x = torch.rand(2, 3, 6, 7, generator=gen)
    tv = ((x[..., 1:, :] - x[..., :-1, :]) ** 2).mean() + ((x[..., :, 1:] - x[..., :, :-1]) ** 2).mean()
    assert course.check_exercise("total variation", tv, nst.tv_loss(x))

    def sqrtm(s, power):
        e, v = torch.linalg.eigh(s)
        return v @ torch.diag(e.clamp_min(1e-10) ** power) @ v.T

    painting, photo = nst.load_image("starry_night", size=48), nst.load_image("chelsea", size=48)
    (mu_a, s_a), (mu_p, s_p) = (tuple(t.double() for t in nst.color_stats(im)) for im in (painting, photo))
    flat = painting[0].reshape(3, -1).double()
    out = sqrtm(s_p, 0.5) @ sqrtm(s_a, -0.5) @ (flat - mu_a.view(3, 1)) + mu_p.view(3, 1)
    assert course.check_exercise(
        "colour matching",
        out.reshape(painting.shape).float().clamp(0, 1),
        nst.match_histogram(painting, photo),
        atol=1e-3,
    )


def test_the_worked_answer_for_the_feature_extractor_is_right():
    """Notebook 2: normalise, then VGG19's layers in order up to the one asked for."""

    def my_features(model, picture, name):
        x = model.normalize(picture)
        for module in model.features[: nst.layer_index(name) + 1]:
            x = module(x)
        return x

    model = nst.load_vgg19("random")
    photo = nst.load_image("chelsea", size=48)
    with torch.no_grad():
        for name in ("conv2_2", "relu3_1", "conv4_2"):
            assert course.check_exercise(
                "feature extractor", my_features(model, photo, name), model(photo, [name])[name]
            )


def test_the_worked_answer_for_one_training_step_is_right():
    """Notebook 8: the same weights after one step as the package's loop (the notebook's check, at a tiny size)."""
    from nst_helpers import feedforward as ff

    model = nst.load_vgg19("random")
    painting = nst.load_image("starry_night", size=32)
    config = nst.make_config(ff.training_config(), precision="float32")

    def my_training_step(net, optimizer, objective, photos):
        optimizer.zero_grad()
        total, parts = ff.objective_loss(objective, net(photos), photos)
        total.backward()
        optimizer.step()
        return total

    def one_step(step):
        torch.manual_seed(1)
        trial = ff.make_network("small").train()
        batch = ff.PhotoCrops(ff.bundled_photos(), crop=32, seed=1).batch(2)
        objective = nst.build_objective(model, batch[:1], [painting], config)
        returned = step(trial, torch.optim.Adam(trial.parameters(), lr=2e-3), objective, batch)
        return returned, torch.cat([p.detach().flatten() for p in trial.parameters()])

    def do_nothing(net, optimizer, objective, photos):
        return torch.tensor(0.0)

    _, expected = one_step(my_training_step)
    yours, weights = one_step(my_training_step)
    assert yours is not None and course.check_exercise("one training step", weights, expected)
    _, unchanged = one_step(do_nothing)
    with pytest.raises(AssertionError, match="differs"):
        course.check_exercise("one training step", unchanged, expected)


def test_the_worked_answers_for_warping_and_the_occlusion_mask_are_right():
    """Notebook 9: the warp and the mask by hand, as the answers write them, on the bundled clip."""
    from torch.nn import functional as F

    from nst_helpers import video as V

    def my_warp(picture, flow):
        h, w = picture.shape[-2:]
        ys, xs = torch.meshgrid(
            torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij"
        )
        grid = torch.stack([2 * (xs + flow[0, 0]) / (w - 1) - 1, 2 * (ys + flow[0, 1]) / (h - 1) - 1], dim=-1)
        return F.grid_sample(picture, grid[None], mode="bilinear", padding_mode="border", align_corners=True)

    def my_occlusion_mask(backward, forward):
        f_tilde, inside = V.warp(forward, backward)
        consistent = (backward + f_tilde).pow(2).sum(1) <= 0.01 * (backward.pow(2).sum(1) + f_tilde.pow(2).sum(1)) + 0.5
        gx = F.pad(backward[..., :, 1:] - backward[..., :, :-1], (0, 1, 0, 0)).pow(2).sum(1)
        gy = F.pad(backward[..., 1:, :] - backward[..., :-1, :], (0, 0, 0, 1)).pow(2).sum(1)
        boundary = gx + gy > 0.01 * backward.pow(2).sum(1) + 0.002
        return (consistent & ~boundary).float()[:, None] * inside

    clip = V.read_clip("camera_move", size=64, max_frames=3)
    b = V.estimate_flow(clip.frame(2), clip.frame(1))
    f = V.estimate_flow(clip.frame(1), clip.frame(2))
    assert course.check_exercise("warp", my_warp(clip.frame(1), b), V.warp(clip.frame(1), b)[0], atol=1e-5)
    assert course.check_exercise("occlusion mask", my_occlusion_mask(b, f), V.occlusion_mask(b, f))
