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
    """The answers the notebooks reveal (notebooks 2, 3, 4, 7), typed as a student would, pass the checks."""
    gen = torch.Generator().manual_seed(0)
    f, p = torch.rand(1, 4, 3, 5, generator=gen), torch.rand(1, 4, 3, 5, generator=gen)
    assert course.check_exercise("content loss", ((f - p) ** 2).mean(), nst.content_loss(f, p))
    flat = f.flatten(2)
    assert course.check_exercise("Gram matrix", flat @ flat.transpose(1, 2) / f[0].numel(), nst.gram_matrix(f))
    flat_x, flat_a, n = f.flatten(2), p.flatten(2), f[0].numel()
    g, a = flat_x @ flat_x.transpose(1, 2) / n, flat_a @ flat_a.transpose(1, 2) / n
    assert course.check_exercise("style loss", ((g - a) ** 2).mean(),
                                 nst.style_loss(nst.gram_matrix(f), nst.gram_matrix(p)))
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
    assert course.check_exercise("colour matching", out.reshape(painting.shape).float().clamp(0, 1),
                                 nst.match_histogram(painting, photo), atol=1e-3)
