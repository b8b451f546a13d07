"""The laboratory in a real browser: JupyterLab on loopback, notebook 6 in headless Chromium.

Runs every cell in fast mode, moves the style-weight slider, and checks that the preview changes and
that no cell shows an error. Needs Debian's Chromium (``/usr/bin/chromium``) and the Python
``playwright`` package; without them it is skipped, unless ``NST_REQUIRE_BROWSER=1`` (as in CI),
where it fails. The screenshot goes to ``$NST_SCREENSHOT_DIR`` (default: the test's temporary folder).
``NST_BROWSER_FAST=0`` runs the notebook at its CPU defaults instead of fast mode (set
``NST_VGG19_WEIGHTS`` too), to look at the laboratory as a student sees it.
"""

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # notebooks and the browser: run by make test and CI

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = "06_interactive_alpha_beta.ipynb"
CHROMIUM = os.environ.get("NST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update", "--disable-dev-shm-usage"]


def _missing():
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    return None


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def jupyterlab(tmp_path):
    """A JupyterLab server on loopback serving a copy of notebook 6; shut down whatever happens."""
    missing = _missing()
    if missing:
        if os.environ.get("NST_REQUIRE_BROWSER") == "1":
            pytest.fail(missing)
        pytest.skip(missing)
    work = tmp_path / "lab"
    work.mkdir()
    shutil.copy(ROOT / "notebooks" / NOTEBOOK, work / NOTEBOOK)
    port, token = _free_port(), secrets.token_hex(16)
    fast = os.environ.get("NST_BROWSER_FAST", "1")  # 0: the notebook's CPU defaults (minutes, real weights)
    env = {**os.environ, "NST_FAST": fast, "MPLBACKEND": "Agg", "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces")}
    log = open(tmp_path / "jupyterlab.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={work}", "--LabApp.expose_app_in_browser=True",
         "--LabApp.news_url=", "--ServerApp.port_retries=0", "--allow-root"],
        cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("JupyterLab did not start:\n" + (tmp_path / "jupyterlab.log").read_text()[-3000:])
                time.sleep(0.5)
        yield f"http://127.0.0.1:{port}", token
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        log.close()


def _preview_src(page):
    return page.evaluate("""() => {
        const imgs = [...document.querySelectorAll('.jp-OutputArea .widget-image')];
        return imgs.length ? imgs[0].src : null;
    }""")


def test_lab_sliders_move_the_preview_in_jupyterlab(jupyterlab, tmp_path):
    from playwright.sync_api import sync_playwright

    url, token = jupyterlab
    shots = Path(os.environ.get("NST_SCREENSHOT_DIR", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{url}/lab/tree/{NOTEBOOK}?token={token}&reset", timeout=90_000)
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
            page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
                                   " && window.jupyterapp.shell.currentWidget.sessionContext"
                                   " && window.jupyterapp.shell.currentWidget.sessionContext.session"
                                   " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel",
                                   timeout=90_000)
            page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
            # Done when every code cell has an execution count and the kernel is idle.
            page.wait_for_function("""() => {
                const nb = window.jupyterapp.shell.currentWidget;
                const cells = nb.content.widgets.filter(c => c.model.type === 'code');
                return nb.sessionContext.session.kernel.status === 'idle'
                    && cells.every(c => c.model.executionCount !== null);
            }""", timeout=240_000, polling=500)
            page.wait_for_selector(".jp-OutputArea .widget-image", timeout=60_000)
            text = page.inner_text(".jp-Notebook")
            assert "Traceback" not in text, text[-3000:]  # IPython prints one for every error
            before = _preview_src(page)
            page.screenshot(path=str(shots / "lab_before.png"), full_page=False)

            # Move the style-weight slider by typing into its readout, as a user can.
            readout = page.locator(".widget-hslider", has=page.locator(".widget-label", has_text="style β")) \
                .locator(".widget-readout")
            readout.click()
            page.keyboard.press("Control+A")
            page.keyboard.type("1e7")
            page.keyboard.press("Enter")
            page.wait_for_function(f"""() => {{
                const imgs = [...document.querySelectorAll('.jp-OutputArea .widget-image')];
                return imgs.length && imgs[0].src !== {before!r};
            }}""", timeout=60_000)
            page.wait_for_function("""() => [...document.querySelectorAll('.jp-OutputArea .widget-html-content')]
                .some(e => e.textContent.includes('finished'))""", timeout=60_000)  # a completed run says so
            # The loss plot appears once the run has a history (the second image of the laboratory).
            page.wait_for_function("""() => {
                const imgs = [...document.querySelectorAll('.jp-OutputArea .widget-image')];
                return imgs.length > 1 && imgs[1].naturalWidth > 0 && imgs[1].offsetParent !== null;
            }""", timeout=60_000)
            after = _preview_src(page)
            assert after != before
            page.locator(".jp-OutputArea .widget-image").first.scroll_into_view_if_needed()
            page.screenshot(path=str(shots / "lab_after.png"), full_page=False)
            text = page.inner_text(".jp-Notebook")
            assert "Traceback" not in text
        finally:
            browser.close()
