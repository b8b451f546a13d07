"""The laboratory: one worker per session, commands taken in order (weights coalesced), independent sweep pictures."""

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
        assert session.weights == {
            "content_weight": 4.0,
            "style_weight": 123.0,
            "tv_weight": 0.0,
            "blend": [0.25, 0.75],
        }
        assert session.weight_changes == [2]  # took effect after the second step
        assert session.step == 30 and updates[-1].state == "finished"  # the run went on to its end
        assert [u.run_step for u in updates if u.state == "running"] == sorted(
            u.run_step for u in updates if u.state == "running"
        )
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


def test_a_burst_of_weights_while_running_leaves_no_backlog(model, tiny_images):
    # The first protocol queued every slider value: 50 values were 50 restarts of L-BFGS, one after another.
    session = LiveSession(tiny_images["content"], tiny_images["style0"], model, size=32, preview_every=2)
    entered, release, updates = _gate(session)
    try:
        session.run(20)
        assert entered.wait(30)  # held at step 2
        for i in range(50):
            session.set_weights(
                style_weight=1e3 * (i + 1), content_weight=2.0 if i == 0 else None, tv_weight=1e-3 if i == 25 else None
            )
        release.set()
        assert session.sync(60)
        assert session.weights_version == 1 and session.weight_changes == [2]  # one change, the latest values
        assert session.weights["style_weight"] == 5e4 and session.weights["content_weight"] == 2.0
        assert session.weights["tv_weight"] == 1e-3  # values sent in the burst are not lost either
        assert session.step == 20 and updates[-1].state == "finished" and updates[-1].weights_version == 1
    finally:
        session.close()


def test_a_sweep_keeps_its_weights_and_a_stop_ends_what_was_sent_before_it(model, tiny_images):
    session = LiveSession(tiny_images["content"], tiny_images["style0"], model, size=24, preview_every=1)
    entered, release = threading.Event(), threading.Event()
    reports = []

    def on_update(update):
        reports.append(update)
        if update.state == "sweeping" and update.run_step >= 1 and not entered.is_set():
            entered.set()
            assert release.wait(30)

    session.on_update = on_update
    try:
        session.sweep([1e3, 1e5], steps=3)
        assert entered.wait(30)
        session.set_weights(content_weight=7.0)  # waits: both pictures use alpha = 1
        release.set()
        assert session.sync(60)
        sweep = reports[-2].sweep  # the last report is the weights', after the sweep
        assert not sweep.cancelled and len(sweep.images) == 2
        assert all(loss["content_loss"] == pytest.approx(loss["content"]) for loss in sweep.losses)
        assert session.weights["content_weight"] == 7.0 and session.weight_changes == [0]

        entered.clear(), release.clear()
        session.sweep([1e3, 1e5], steps=3)
        assert entered.wait(30)
        session.set_weights(style_weight=5.0)
        session.run(3)
        session.stop(wait=False)  # cancels the sweep; the run sent before it ends at once too
        release.set()
        assert session.sync(60)
        cancelled = [u.sweep for u in reports if isinstance(u.sweep, nst.SweepResult)][-1]
        assert cancelled.cancelled and cancelled.images == []
        assert session.weights["style_weight"] == 5.0 and session.step == 0 and session.state == "stopped"
    finally:
        session.close()


def test_close_releases_a_sync_that_waits_and_refuses_later_commands(model, tiny_images):
    session = LiveSession(tiny_images["content"], tiny_images["style0"], model, size=32, preview_every=1)
    entered, release, _ = _gate(session)
    synced = []
    waiter = threading.Thread(target=lambda: synced.append(session.sync(30)))
    try:
        session.run(100000)
        assert entered.wait(30)
        waiter.start()
        assert not session.close(timeout=0.05)  # the worker is held: not ended yet
        with pytest.raises(nst.NSTError, match="closed"):
            session.run(3)  # after close: refused, not silently dropped
        with pytest.raises(nst.NSTError, match="closed"):
            session.set_weights(style_weight=1.0)
        assert synced == []
    finally:
        release.set()
    waiter.join(30)
    assert synced == [True] and session.close(30) and not session.alive and session.state == "closed"
    assert session.sync(1) and session.step < 100


@pytest.mark.parametrize("bad", [10**7, 0, -1, "x", 1.5, True, float("nan")])
def test_steps_are_checked_at_the_call_and_the_session_stays_usable(model, tiny_images, bad):
    with pytest.raises(nst.NSTError, match="preview_every") as err:
        LiveSession(tiny_images["content"], tiny_images["style0"], model, size=24, preview_every=bad)
    assert "\n" not in str(err.value)
    session = LiveSession(tiny_images["content"], tiny_images["style0"], model, size=24)
    try:
        for send in (
            session.run,
            lambda steps: session.sweep([1e3], steps),
            lambda steps: session.set_weights(style_weight=1e3, run_steps=steps),
        ):
            with pytest.raises(nst.NSTError, match="steps") as err:
                send(bad)
            assert "\n" not in str(err.value)
        assert session.sync(10) and session.weights_version == 0 and session.state == "idle"
        session.run(2)
        assert session.sync(60) and session.step == 2 and session.state == "finished"
    finally:
        session.close()


def test_the_first_versions_aliases_are_gone():
    assert not hasattr(LiveSession, "start") and not hasattr(LiveSession, "wait")


def test_one_worker_per_session_even_with_a_second_sweep(model, tiny_images):
    session = LiveSession(tiny_images["content"], tiny_images["style0"], model, size=24)
    reports = []
    session.on_update = reports.append
    session.sweep([1e3, 1e6], steps=3)
    session.sweep([1e4], steps=3)  # queued behind the first, never beside it
    assert session.sync(60)
    sweeps = [u.sweep for u in reports if isinstance(u.sweep, nst.SweepResult)]
    assert [s.style_weights for s in sweeps] == [[1e3, 1e6], [1e4]]
    assert sum(t.name.startswith(f"nst-live-{session.id}") for t in threading.enumerate()) == 1
    session.close()
    assert all(not t.name.startswith(f"nst-live-{session.id}") for t in threading.enumerate())


def test_sweep_pictures_equal_separate_runs(model, tiny_images):
    betas = [1e3, 1e7]
    sweep = beta_sweep(tiny_images["content"], tiny_images["style0"], model, betas, size=24, steps=8, progress=False)
    assert sweep.style_weights == betas and not sweep.cancelled
    for image, beta, loss in zip(sweep.images, betas, sweep.losses):
        alone = nst.stylize(
            tiny_images["content"],
            tiny_images["style0"],
            model=model,
            size=24,
            steps=8,
            style_weight=beta,
            progress=False,
        )
        assert torch.allclose(image, alone.image, atol=1e-6)
        assert loss["total"] == pytest.approx(alone.losses["total"], rel=1e-6)
    # a larger beta buys a lower (unweighted) style loss at the price of a higher content loss
    assert sweep.losses[0]["style"] / betas[0] > sweep.losses[1]["style"] / betas[1]
    assert sweep.losses[0]["content"] < sweep.losses[1]["content"]


def test_a_sweep_can_be_cancelled(model, tiny_images):
    calls = []
    sweep = beta_sweep(
        tiny_images["content"],
        tiny_images["style0"],
        model,
        [1e3, 1e4, 1e5],
        size=24,
        steps=3,
        progress=False,
        on_picture=lambda i, image, losses: calls.append(i),
        should_stop=lambda: len(calls) >= 1,
    )
    assert sweep.cancelled and len(sweep.images) == 1 and sweep.style_weights == [1e3]


@pytest.mark.slow
def test_lab_sliders_drive_the_session(model, tiny_images):
    lab = Lab(
        tiny_images["content"],
        _two_styles(tiny_images),
        model,
        size=32,
        steps=20,
        sweep_values=[1e3, 1e7],
        sweep_steps=5,
        auto_run=False,
    )
    lab.beta.value = 1e7
    lab.alpha.value = 10.0
    lab.blend[0].value = 1.0  # two styles: one slider, all the way to the second
    assert lab.session.sync(30)
    assert lab.session.objective.style_weight == pytest.approx(1e7)
    assert lab.session.objective.content_weight == pytest.approx(10.0)
    assert lab.session.objective.blend == [0.0, 1.0]
    assert "β/α = 1e6" in lab.ratio.value and "style1 100 %" in lab.mix.value and "style0 0 %" in lab.mix.value
    before = lab.preview.value
    lab.run()
    assert lab.session.sync(60)
    assert lab.updates > 0 and lab.preview.value != before
    assert lab.progress.value == 20 == lab.progress.max and "finished" in lab.state.value
    assert bytes(lab.plot.value).startswith(b"\x89PNG") and lab.plot.layout.display is None
    old = lab.session
    lab.size.value = 48  # a new size replaces the session (and its worker) at that size
    assert lab.session.content.shape[-1] == 48 and not old.alive
    updates = lab.updates
    lab._on_update(nst.lab.live.Update(old.id, "running", 99, 1, 2, {}, old.image, 0))  # a late report of the old one
    assert lab.updates == updates
    sweep = lab.run_sweep(wait=True, timeout=60)
    assert len(sweep.images) == 2 and lab.sweep_slider.options == ("1e3", "1e7")
    shown = lab.preview.value
    lab.sweep_slider.value = "1e3"
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


# -- what the laboratory shows ---------------------------------------------------------------------


def test_one_number_format_and_readable_names():
    from nst_helpers.lab.display import fmt, mix_text, progress_text, style_label, sweep_values_around

    assert [fmt(x) for x in (1e5, 31622.7766, 1.0, 0.5, 123.456, 1e-4, 3.2e-4, 0.0, 1500.0)] == [
        "1e5",
        "3.16e4",
        "1",
        "0.5",
        "123",
        "1e-4",
        "3.2e-4",
        "0",
        "1.5e3",
    ]
    assert style_label("starry_night") == "Starry Night" and style_label("the_scream") == "The Scream"
    assert style_label("/photos/my_dog.jpg") == "my dog" and style_label(torch.zeros(1, 3, 8, 8), 1) == "style 2"
    # shares after normalisation: 1.0 and 0.5 is a 2/3 : 1/3 mix, and the text says so
    assert mix_text(["Starry Night", "The Scream"], [1.0, 0.5]) == "Starry Night 67 % · The Scream 33 %"
    assert progress_text(120, 300, 10.0) == "120 / 300 steps · 12 steps/s · 15 s left"
    assert progress_text(0, 300, 0.0) == "0 / 300 steps"
    assert sweep_values_around(1e5) == pytest.approx([1e3, 1e4, 1e5, 1e6, 1e7])


def test_tv_slider_left_end_reads_off_and_means_off(model, tiny_images):
    lab = Lab(tiny_images["content"], tiny_images["style0"], model, size=32, steps=10, auto_run=False)
    try:
        assert lab.tv_readout.value == "off" and lab.session.objective.tv_weight == 0.0
        lab.tv.value = 0.1
        assert lab.session.sync(30)
        assert lab.tv_readout.value == "0.1" and lab.session.objective.tv_weight == pytest.approx(0.1)
        lab.tv.value = 10.0**lab.tv.min
        assert lab.session.sync(30)
        assert lab.tv_readout.value == "off" and lab.session.objective.tv_weight == 0.0
        assert lab.blend == [] and lab.mix.value == ""  # one style: nothing to mix
    finally:
        lab.close()


def test_three_styles_show_their_effective_shares(model, tiny_images):
    styles = [tiny_images["style0"], tiny_images["style1"], tiny_images["style0"]]
    lab = Lab(tiny_images["content"], styles, model, size=32, steps=10, auto_run=False)
    try:
        lab.blend[0].value, lab.blend[1].value, lab.blend[2].value = 1.0, 0.5, 0.5
        assert lab.session.sync(30)
        assert lab.session.objective.blend == pytest.approx([0.5, 0.25, 0.25])
        assert "style0 50 %" in lab.mix.value and "style1 25 %" in lab.mix.value
    finally:
        lab.close()


@pytest.mark.slow
def test_progress_never_exceeds_its_maximum_and_the_plot_moves_during_a_run(model, tiny_images):
    lab = Lab(
        tiny_images["content"],
        tiny_images["style0"],
        model,
        size=32,
        steps=40,
        preview_every=2,
        auto_run=True,
        plot_every=0.0,
    )
    seen, plots_while_running = [], []
    lab.progress.observe(lambda change: seen.append((lab.progress.value, lab.progress.max)), names=["value", "max"])
    lab.plot.observe(lambda change: plots_while_running.append(lab.session.state == "running"), names="value")
    try:
        lab.run()
        lab.steps.value = 10
        lab.beta.value = 1e7  # released while running: restarts the count with 10 steps (a smaller maximum)
        assert lab.session.sync(60)
        assert seen and all(v <= m for v, m in seen)
        assert lab.progress.value == lab.progress.max == 10 and "finished" in lab.state.value
        assert any(plots_while_running)
        assert "steps/s" in lab.progress_info.value and "β = 1e7" in lab.losses.value
        assert lab.session.weight_changes and "live picture" in lab.caption.value
    finally:
        lab.close()


@pytest.mark.slow
def test_reset_and_a_new_size_clear_numbers_plot_and_sweep(model, tiny_images):
    lab = Lab(
        tiny_images["content"],
        tiny_images["style0"],
        model,
        size=32,
        steps=5,
        sweep_steps=2,
        sweep_decades=(-1, 1),
        auto_run=False,
    )
    try:
        lab.run()
        assert lab.session.sync(60)
        lab.run_sweep(wait=True, timeout=60)
        assert lab.sweep is not None and len(lab.strip.children) == 2 and lab.plot.layout.display is None
        assert "sweep picture" in lab.caption.value
        lab.reset()
        assert lab.session.sync(30)
        assert lab.sweep is None and lab.strip.children == () and lab.sweep_slider.disabled
        assert lab.plot.layout.display == "none" and lab.losses.value == "" and lab.progress.value == 0
        assert "the photo" in lab.caption.value
        lab.run_sweep(wait=True, timeout=60)
        lab.size.value = 48
        assert lab.sweep is None and lab.strip.children == () and "the photo" in lab.caption.value
    finally:
        lab.close()


def test_sweep_is_around_the_current_beta_shows_progress_disables_run_and_can_be_cancelled(model, tiny_images):
    lab = Lab(
        tiny_images["content"],
        tiny_images["style0"],
        model,
        size=32,
        steps=5,
        sweep_steps=30,
        preview_every=1,
        auto_run=False,
    )
    entered, release = threading.Event(), threading.Event()
    states = []
    show = lab._on_update

    def gated(update):
        show(update)
        if update.state == "sweeping":
            states.append(
                (
                    update.run_step,
                    update.run_steps,
                    lab.run_button.disabled,
                    lab.sweep_button.disabled,
                    lab.stop_button.disabled,
                )
            )
            if update.run_step >= 2 and not entered.is_set():
                entered.set()
                assert release.wait(30)

    lab.session.on_update = gated
    try:
        lab.alpha.value, lab.beta.value = 3.0, 1e4
        assert lab.session.sync(30)
        assert "β = 100 … 1e6" in lab.sweep_plan.value
        lab.run_sweep()
        assert entered.wait(60)
        lab.stop()  # cancels the sweep
        release.set()
        assert lab.session.sync(60)
        assert lab.sweep.cancelled and lab.sweep.style_weights == [] and "stopped" in lab.state.value
        assert states[-1][:2] == (2, 150)  # progress across all five pictures
        assert all(run and sweep and not stop for _, _, run, sweep, stop in states)  # Run and Sweep off; Stop on
        assert not lab.run_button.disabled and not lab.sweep_button.disabled and lab.stop_button.disabled
        lab.sweep_steps = 2
        sweep = lab.run_sweep(wait=True, timeout=60)
        assert sweep.style_weights == pytest.approx([1e2, 1e3, 1e4, 1e5, 1e6])
        assert lab.session.objective.content_weight == 3.0  # the sweep used the current alpha
        assert sweep.losses[0]["content_loss"] == pytest.approx(sweep.losses[0]["content"] / 3.0)
        assert sweep.losses[0]["style_loss"] > sweep.losses[-1]["style_loss"]
    finally:
        lab.close()


def test_save_writes_the_shown_picture_and_never_replaces_a_file(model, tiny_images, tmp_path):
    from PIL import Image

    lab = Lab(tiny_images["content"], tiny_images["style0"], model, size=32, steps=3, auto_run=False)
    try:
        lab.run()
        assert lab.session.sync(60)
        mine = tmp_path / "mine.png"
        mine.write_bytes(b"a user's file")
        saved = lab.save(mine)
        assert saved == tmp_path / "mine-2.png" and mine.read_bytes() == b"a user's file"
        assert Image.open(saved).size == tuple(lab.shown.shape[-1:-3:-1])
        assert lab.save(mine) == tmp_path / "mine-3.png"
        with pytest.raises(nst.NSTError):
            lab.save(tmp_path / "no" / "folder.png")
        lab.save_path.value = str(tmp_path / "no" / "folder.png")
        lab._save_clicked()
        assert "does not exist" in lab.saved.value
        before = tiny_images["content"].read_bytes()
        assert lab.save(tiny_images["content"]) == tmp_path / "content-2.png"  # the photo's name: the next free one
        assert tiny_images["content"].read_bytes() == before
        assert not list(tmp_path.glob(".*.part"))
    finally:
        lab.close()


def test_the_lab_says_when_the_kernel_is_busy_with_another_cell(model, tiny_images, monkeypatch):
    from IPython.core.events import EventManager, available_events

    class Shell:
        events = EventManager(None, available_events)

    import IPython

    monkeypatch.setattr(IPython, "get_ipython", lambda: Shell)
    lab = Lab(tiny_images["content"], tiny_images["style0"], model, size=32, steps=3, auto_run=False)
    try:
        assert lab.busy.value == ""
        Shell.events.trigger("pre_run_cell", None)
        assert "running another cell" in lab.busy.value
        Shell.events.trigger("post_run_cell", None)
        assert lab.busy.value == ""
    finally:
        lab.close()
    Shell.events.trigger("pre_run_cell", None)
    assert lab.busy.value == ""  # a closed laboratory stops listening


def test_the_ipywidgets_under_test_is_the_one_asked_for():
    # make test runs this file twice: with the ipywidgets 8 of .venv, and with 7.x (what Colab ships)
    import os

    import ipywidgets

    wanted = os.environ.get("NST_EXPECT_IPYWIDGETS")
    major = int(ipywidgets.__version__.split(".")[0])
    assert major == int(wanted) if wanted else major >= 7


def test_the_requirements_admit_what_colab_ships():
    # Colab's install cell must not replace Colab's own packages: pip upgrades only what a requirement
    # refuses, so every lower bound must admit what Colab ships. ipywidgets 7.7.1 is Colab's pin since
    # 2022 (googlecolab/colabtools#3020: 8.x widgets did not show); the rest are a 2024 runtime's
    # versions (newer runtimes satisfy lower bounds all the more).
    from pathlib import Path

    try:
        import tomllib  # Python 3.11+
    except ModuleNotFoundError:  # Python 3.9, 3.10: the same parser, installed by the dev extra
        import tomli as tomllib
    from packaging.requirements import Requirement

    colab = {
        "torch": "2.5.1",
        "torchvision": "0.20.1",
        "pillow": "11.0.0",
        "numpy": "1.26.4",
        "matplotlib": "3.8.0",
        "ipywidgets": "7.7.1",
        "tqdm": "4.66.6",
        "opencv-python-headless": "4.10.0.84",
    }
    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"]
    for line in project["dependencies"]:
        req = Requirement(line)
        assert req.specifier.contains(colab[req.name.lower()]), (
            f"{line} would replace Colab's {colab[req.name.lower()]}"
        )


def test_an_error_in_the_interface_never_takes_the_session_down(model, tiny_images, capsys):
    calls = []

    def broken(update):
        calls.append(update.state)
        raise AttributeError("a bug in the interface")

    session = LiveSession(tiny_images["content"], tiny_images["style0"], model, size=32, on_update=broken)
    session.run(3)
    assert session.sync(60)
    assert session.alive and session.step == 3 and "finished" in calls
    assert "on_update failed" in capsys.readouterr().err
    session.close()


def test_a_new_sweep_after_a_shown_and_a_cancelled_one(model, tiny_images):
    lab = Lab(
        tiny_images["content"],
        tiny_images["style0"],
        model,
        size=32,
        steps=5,
        sweep_steps=2,
        sweep_decades=(-1, 1),
        auto_run=False,
    )
    try:
        lab.run_sweep(wait=True, timeout=60)
        assert "sweep picture 1 / 2" in lab.caption.value or "sweep picture 2 / 2" in lab.caption.value
        lab.session.stop(wait=False)
        lab.run_sweep()  # the caption must not point at the sweep just cleared
        lab.stop()
        assert lab.session.sync(60)
        sweep = lab.run_sweep(wait=True, timeout=60)
        assert len(sweep.images) == 2 and lab.session.alive and "finished" in lab.state.value
    finally:
        lab.close()
