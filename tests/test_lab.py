import time

import pytest
import torch

import nst_helpers as nst
from nst_helpers.lab import Lab, LiveSession, beta_sweep


def _wait_for(predicate, timeout=30.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def test_live_session_applies_new_weights_while_running(model, tiny_images):
    updates = []
    session = LiveSession(tiny_images["content"], [tiny_images["style0"], tiny_images["style1"]], model, size=32,
                          preview_every=2, on_update=updates.append)
    session.start(steps=100000)
    try:
        assert _wait_for(lambda: len(updates) >= 2)
        session.set_weights(style_weight=123.0, content_weight=4.0, blend=[1, 3])
        assert _wait_for(lambda: any(u.weights_version == 1 and u.running for u in updates))
        assert session.weights == {"content_weight": 4.0, "style_weight": 123.0, "tv_weight": 0.0,
                                   "blend": [0.25, 0.75]}
        assert session.running  # no restart was needed
        with pytest.raises(nst.NSTError, match="finite"):
            session.set_weights(style_weight=float("nan"))
    finally:
        assert session.stop(timeout=10)
    assert not session.running
    assert updates[-1].running is False
    steps_after_stop = session.step
    time.sleep(0.2)
    assert session.step == steps_after_stop  # Stop really stopped


def test_live_session_warm_starts_and_resets(model, tiny_images):
    session = LiveSession(tiny_images["content"], tiny_images["style0"], model, size=32)
    session.start(steps=6)
    session.wait(30)
    assert session.step == 6 and not torch.equal(session.image, session.content)
    first = session.image.clone()
    session.set_weights(style_weight=1e6)  # not running: applied at once
    assert session.objective.style_weight == 1e6
    session.start(steps=4)
    session.wait(30)
    assert session.step == 10 and len(session.history["total"]) == 10
    assert not torch.equal(session.image, first)
    session.reset()
    assert session.step == 0 and torch.equal(session.image, session.content)


def test_beta_sweep_returns_one_image_per_value(model, tiny_images):
    betas = [1e2, 1e5, 1e8]
    sweep = beta_sweep(tiny_images["content"], tiny_images["style0"], model, betas, size=32, steps=30, progress=False)
    assert sweep.style_weights == betas
    assert len(sweep.images) == 3 and all(im.shape == (1, 3, 27, 32) for im in sweep.images)
    # A larger beta buys a lower (unweighted) style loss at the price of a higher content loss.
    style_unweighted = [loss["style"] / b for loss, b in zip(sweep.losses, betas)]
    content = [loss["content"] for loss in sweep.losses]
    assert style_unweighted[0] > style_unweighted[2]
    assert content[0] < content[2]


def test_beta_sweep_images_match_separate_objectives(model, tiny_images):
    sweep = beta_sweep(tiny_images["content"], tiny_images["style0"], model, [1e3, 1e6], size=24, steps=5,
                       progress=False)
    for image, beta, loss in zip(sweep.images, sweep.style_weights, sweep.losses):
        obj = nst.StyleTransferLoss(model, nst.load_image(tiny_images["content"], 24),
                                    [nst.load_image(tiny_images["style0"], 24)], ["conv_4"],
                                    ["conv_1", "conv_2", "conv_3", "conv_4", "conv_5"], 1.0, beta)
        assert obj(image)[1]["total"] == pytest.approx(loss["total"], rel=1e-4)


def test_lab_sliders_drive_the_session(model, tiny_images):
    lab = Lab(tiny_images["content"], [tiny_images["style0"], tiny_images["style1"]], model, size=32, steps=20,
              sweep_values=[1e3, 1e7], sweep_steps=5, auto_run=False)
    lab.beta.value = 1e7
    lab.alpha.value = 10.0
    lab.blend[0].value = 0.0
    assert lab.session.objective.style_weight == pytest.approx(1e7)
    assert lab.session.objective.content_weight == pytest.approx(10.0)
    assert lab.session.objective.blend == [0.0, 1.0]
    assert "1.00e+06" in lab.ratio.value
    before = lab.preview.value
    lab.run()
    lab.session.wait(60)
    assert lab.updates > 0 and lab.preview.value != before
    assert lab.progress.value == 20
    assert bytes(lab.plot.value).startswith(b"\x89PNG") and lab.plot.layout.display is None
    lab.size.value = 48  # a new size rebuilds the session at that size
    assert lab.session.content.shape[-1] == 48
    sweep = lab.run_sweep()
    assert len(sweep.images) == 2 and lab.sweep_slider.options == ("1e+03", "1e+07")
    shown = lab.preview.value
    lab.sweep_slider.value = "1e+03"
    assert lab.preview.value != shown
    lab.reset()
    assert lab.session.step == 0 and lab.plot.layout.display == "none"


def test_lab_slider_moved_while_idle_runs_from_the_current_picture(model, tiny_images):
    lab = Lab(tiny_images["content"], tiny_images["style0"], model, size=32, steps=10)
    before = lab.preview.value
    lab.beta.value = 1e8
    assert _wait_for(lambda: lab.session.step == 10 and not lab.session.running)
    assert lab.preview.value != before and lab.session.objective.style_weight == pytest.approx(1e8)
