"""``make slides`` and ``make book``: the whole course executed in fast mode, built as reveal.js decks and as a
Jupyter Book, then opened from disk in headless Chromium with no network: the first slide shows the
notebook's title, a book page shows a rendered equation (MathJax typeset it) and a figure (an image that
loaded). Screenshots go to ``$NST_SCREENSHOT_DIR`` when it is set.

Needs Chromium and playwright (as the laboratory's browser test), npm (once, for reveal.js) and the
``course`` extra; without them it is skipped, unless ``NST_REQUIRE_BROWSER=1`` (as in CI).
"""

import os
import shutil
import sys
from pathlib import Path

import pytest

from test_lab_browser import CHROMIUM, CHROMIUM_ARGS, _missing

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))


def _require(condition, why):
    if not condition:
        if os.environ.get("NST_REQUIRE_BROWSER") == "1":
            pytest.fail(why)
        pytest.skip(why)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    _require(_missing() is None, _missing() or "")
    _require(shutil.which("npm") is not None or (ROOT / ".cache" / "course-assets" / "node_modules").is_dir(),
             "npm is needed once to fetch reveal.js")
    _require(shutil.which("jupyter-book", path=str(Path(sys.executable).parent)) is not None,
             "the course extra is not installed (pip install -e '.[course]')")
    import build_course

    out = tmp_path_factory.mktemp("course")
    with pytest.MonkeyPatch.context() as mp:  # module-scoped: the function-scoped monkeypatch is not available
        mp.setenv("NST_FAST", "1")
        assert build_course.main(["both", "--out", str(out)]) == 0
    return out


def _page(pw, url, width=1280, height=800):
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    page = browser.new_page(viewport={"width": width, "height": height})
    external = []
    page.on("request", lambda r: external.append(r.url) if r.url.startswith("http") else None)
    page.goto(url)
    return browser, page, external


def _shot(page, name):
    folder = os.environ.get("NST_SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / name))


def test_every_notebook_has_a_deck_and_a_page(built):
    from nst_helpers import course

    for name, _ in course.NOTEBOOKS:
        stem = name[:-len(".ipynb")]
        assert (built / "slides" / f"{stem}.slides.html").is_file()
        assert (built / "book" / "_build" / "html" / f"{stem}.html").is_file()
    # the decks carry their own scripts: nothing is loaded from the internet
    deck = (built / "slides" / "05_style_transfer_lbfgs.slides.html").read_text()
    assert "unpkg.com" not in deck and "cdnjs" not in deck and "assets/reveal.js/dist/reveal.js" in deck


def test_first_slide_shows_the_title_offline(built):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser, page, external = _page(pw, (built / "slides" / "05_style_transfer_lbfgs.slides.html").as_uri(),
                                        1024, 768)
        try:
            page.wait_for_selector(".reveal.ready", timeout=30000)  # reveal.js initialised (loaded from disk)
            present = page.locator("section.present").first
            assert "style transfer with l-bfgs" in present.inner_text().lower()
            assert page.evaluate("document.querySelectorAll('.slides > section').length") > 5
            _shot(page, "slides_first.png")
            for _ in range(3):  # to "L-BFGS in a few lines": equations typeset by the local MathJax 2
                page.keyboard.press("ArrowRight")
                page.wait_for_timeout(300)
            page.wait_for_function("document.querySelectorAll('section.present .MathJax_CHTML').length > 3",
                                   timeout=30000)
            page.wait_for_timeout(1000)  # the slide transition
            _shot(page, "slides_equations.png")
        finally:
            browser.close()
    assert all("colab.research.google.com" in u for u in external), external  # only the badge is remote


def test_book_page_renders_an_equation_and_a_figure(built):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser, page, external = _page(pw, (built / "book" / "_build" / "html" / "05_style_transfer_lbfgs.html").as_uri())
        try:
            # every equation of the page typeset by the local MathJax 3
            page.wait_for_function("document.querySelectorAll('mjx-container').length > 10", timeout=30000)
            page.wait_for_timeout(500)
            assert page.evaluate("document.querySelectorAll('mjx-container').length") == page.evaluate(
                "document.querySelectorAll('.math').length")
            loaded = page.evaluate("""Array.from(document.querySelectorAll('img'))
                .filter(i => i.complete && i.naturalWidth > 100 && !i.src.includes('colab')).length""")
            assert loaded >= 3  # the diagram, snapshots, curves
            page.locator("mjx-container[display=true]").nth(1).scroll_into_view_if_needed()
            _shot(page, "book_equation.png")
        finally:
            browser.close()
    assert all("colab.research.google.com" in u for u in external), external
