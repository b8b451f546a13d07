"""The laboratory: one worker per session, commands through a queue, independent sweep pictures."""

import threading

import pytest
import torch

import nst_helpers as nst
from nst_helpers.lab import Lab, LiveSession, beta_sweep


def _two_styles(tiny_images):
    return [tiny_images["style0"], tiny_images["style1"]]


def _gate(session):
    """Hold the worker inside its next preview until ``release`` is set: races become deterministic."""
    entered, release = threading.Event(), threading.Event()
    updates = []

    def on_update(update):
        updates.append(update)
        if update.state == "running" and not entered.is_set():
            entered.set()
            assert release.wait(30)

    session.on_update = on_update
    return entered, release, updates


def test_weights_sent_while_running_are_applied_from_the_next_step(model, tiny_images):
    session = LiveSession(tiny_images["content"], _two_styles(tiny_images), model, size=32, preview_every=2)
    entered, release, updates = _gate(session)
    try:
        session.run(30)
        assert entered.wait(30)  # the worker is inside the run, held at step 2
        session.set_weights(style_weight=123.0, content_weight=4.0, blend=[1, 3])
        release.set()
        assert session.sync(60)
        assert session.weights == {"content_weight": 4.0, "style_weight": 123.0, "tv_weight": 0.0,
                                   "blend": [0.25, 0.75]}
        assert session.weight_changes == [2]  # took effect after the second step
        assert session.step == 30 and updates[-1].state == "finished"  # the run went on to its end
        assert [u.run_step for u in updates if u.state == "running"] == sorted(
            u.run_step for u in updates if u.state == "running")
        with pytest.raises(nst.NSTError, match="finite"):
            session.set_weights(style_weight=float("nan"))
    finally:
        session.close()
    assert not session.alive


def test_a_command_sent_as_a_run_ends_is_not_lost(model, tiny_images):
    # The first version checked "running" and then acted: a slider moved as the thread exited was lost.
    session = LiveSession(tiny_images["content"], tiny_images["style0"], model, size=32)
    session.run(3)
    session.set_weights(style_weight=5e3)  # arrives during, or just after, the run: either way it is applied
    assert session.sync(60)
    assert session.objective.style_weight == 5e3 and session.step == 3 and session.weights_version == 1
    session.close()


def test_stop_ends_the_run_and_nothing_runs_after(model, tiny_images):
    session = LiveSession(tiny_images["content"], tiny_images["style0"], model, size=32, preview_every=1)
    entered, release, updates = _gate(session)
    session.run(100000)
    assert entered.wait(30)
    session.stop(wait=False)
    release.set()
    assert session.sync(60)
    steps = session.step
    assert 1 <= steps < 100 and updates[-1].state == "stopped" and session.state == "stopped"
    assert session.sync(10) and session.step == steps  # nothing ran after the stop
    session.close()


def test_reset_and_warm_start(model, tiny_images):
    session = LiveSession(tiny_images["content"], tiny_images["style0"], model, size=32)
    session.run(6)
    assert session.sync(60)
    assert session.step == 6 and not torch.equal(session.image, session.content)
    first = session.image.clone()
    session.run(4)  # carries on from the current picture
    assert session.sync(60)
    assert session.step == 10 and len(session.history["total"]) == 10 and not torch.equal(session.image, first)
    assert session.history["style_loss"][0] == pytest.approx(session.history["style"][0] / 1e5)
    session.reset()
    assert session.step == 0 and torch.equal(session.image, session.content) and session.history["total"] == []
    session.close()


def test_one_worker_per_session_even_with_a_second_sweep(model, tiny_images):
    session = LiveSession(tiny_images["content"], tiny_images["style0"], model, size=24)
    reports = []
    session.on_update = reports.append
    session.sweep([1e3, 1e6], steps=3)
    session.sweep([1e4], steps=3)  # queued behind the first, never beside it
    assert session.sync(60)
    sweeps = [u.sweep for u in reports if isinstance(u.sweep, nst.lab.SweepResult)]
    assert [s.style_weights for s in sweeps] == [[1e3, 1e6], [1e4]]
    assert sum(t.name.startswith(f"nst-live-{session.id}") for t in threading.enumerate()) == 1
    session.close()
    assert all(not t.name.startswith(f"nst-live-{session.id}") for t in threading.enumerate())


def test_sweep_pictures_equal_separate_runs(model, tiny_images):
    betas = [1e3, 1e7]
    sweep = beta_sweep(tiny_images["content"], tiny_images["style0"], model, betas, size=24, steps=8, progress=False)
    assert sweep.style_weights == betas and not sweep.cancelled
    for image, beta, loss in zip(sweep.images, betas, sweep.losses):
        alone = nst.stylize(tiny_images["content"], tiny_images["style0"], model=model, size=24, steps=8,
                            style_weight=beta, progress=False)
        assert torch.allclose(image, alone.image, atol=1e-6)
        assert loss["total"] == pytest.approx(alone.losses["total"], rel=1e-6)
    # a larger beta buys a lower (unweighted) style loss at the price of a higher content loss
    assert sweep.losses[0]["style"] / betas[0] > sweep.losses[1]["style"] / betas[1]
    assert sweep.losses[0]["content"] < sweep.losses[1]["content"]


def test_a_sweep_can_be_cancelled(model, tiny_images):
    calls = []
    sweep = beta_sweep(tiny_images["content"], tiny_images["style0"], model, [1e3, 1e4, 1e5], size=24, steps=3,
                       progress=False, on_picture=lambda i, image, losses: calls.append(i),
                       should_stop=lambda: len(calls) >= 1)
    assert sweep.cancelled and len(sweep.images) == 1 and sweep.style_weights == [1e3]


def test_lab_sliders_drive_the_session(model, tiny_images):
    lab = Lab(tiny_images["content"], _two_styles(tiny_images), model, size=32, steps=20,
              sweep_values=[1e3, 1e7], sweep_steps=5, auto_run=False)
    lab.beta.value = 1e7
    lab.alpha.value = 10.0
    lab.blend[0].value = 0.0
    assert lab.session.sync(30)
    assert lab.session.objective.style_weight == pytest.approx(1e7)
    assert lab.session.objective.content_weight == pytest.approx(10.0)
    assert lab.session.objective.blend == [0.0, 1.0]
    assert "1.00e+06" in lab.ratio.value
    before = lab.preview.value
    lab.run()
    assert lab.session.sync(60)
    assert lab.updates > 0 and lab.preview.value != before
    assert lab.progress.value == 20 == lab.progress.max and "finished" in lab.status.value
    assert bytes(lab.plot.value).startswith(b"\x89PNG") and lab.plot.layout.display is None
    old = lab.session
    lab.size.value = 48  # a new size replaces the session (and its worker) at that size
    assert lab.session.content.shape[-1] == 48 and not old.alive
    updates = lab.updates
    lab._on_update(nst.lab.Update(old.id, "running", 99, 1, 2, {}, old.image, 0))  # a late report of the old one
    assert lab.updates == updates
    sweep = lab.run_sweep(wait=True, timeout=60)
    assert len(sweep.images) == 2 and lab.sweep_slider.options == ("1e+03", "1e+07")
    shown = lab.preview.value
    lab.sweep_slider.value = "1e+03"
    assert lab.preview.value != shown
    lab.reset()
    assert lab.session.sync(30)
    assert lab.session.step == 0 and lab.plot.layout.display == "none"
    lab.session.close()


def test_lab_slider_released_while_idle_runs_from_the_current_picture(model, tiny_images):
    lab = Lab(tiny_images["content"], tiny_images["style0"], model, size=32, steps=10)
    before = lab.preview.value
    lab.beta.value = 1e8
    assert lab.session.sync(60)
    assert lab.session.step == 10 and lab.session.state == "finished"
    assert lab.preview.value != before and lab.session.objective.style_weight == pytest.approx(1e8)
    assert lab.beta.continuous_update is False  # a drag sends one value, on release
    lab.session.close()
