"""``make course`` (slides and book): the whole course in fast mode, built as reveal.js decks and as a Jupyter Book,
then opened from disk in headless Chromium with no network.

Slides: every slide of every deck is measured at 1280x720 and 1024x768 (``slide_check.py``): none taller than
its slide, none wider, no code line cut, the arrows and banners over no content, no console error, body text
at least 28 px on the 1280x720 screen; every deck prints (``?print-pdf``) to a PDF with one page per slide;
the laboratory's slide shows its recorded run and where it runs live. Book: a page renders its equations
(MathJax typeset them) and figures, and chapter 6 (widgets) logs no script error and loads every local file.
Screenshots go to ``$NST_SCREENSHOT_DIR`` when it is set.

The notebooks are executed once: an executed notebook in ``build/executed`` whose stamp still matches (same
source, package, fast mode; see ``build_course.build_stamp``) is reused, as ``make`` does, so after a ``make
slides`` in fast mode this test only builds and measures (a few minutes); otherwise it executes them first.

Needs Chromium and playwright (as the laboratory's browser test), npm (once, for reveal.js) and the ``course``
extra; without them it is skipped, unless ``NST_REQUIRE_BROWSER=1`` (as in CI).
"""

import json
import os
import re
import shutil
import sys
import time
from html import unescape
from pathlib import Path

import pytest
from test_lab_browser import CHROMIUM, CHROMIUM_ARGS, _missing

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import slide_check  # noqa: E402


def _require(condition, why):
    if not condition:
        if os.environ.get("NST_REQUIRE_BROWSER") == "1":
            pytest.fail(why)
        pytest.skip(why)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    _require(_missing() is None, _missing() or "")
    _require(
        shutil.which("npm") is not None or (ROOT / ".cache" / "course-assets" / "node_modules").is_dir(),
        "npm is needed once to fetch reveal.js",
    )
    _require(
        shutil.which("jupyter-book", path=str(Path(sys.executable).parent)) is not None,
        "the course extra is not installed (pip install -e '.[course]')",
    )
    import build_course

    out = tmp_path_factory.mktemp("course")
    executed = ROOT / "build" / "executed"
    if executed.is_dir():  # reused where their stamps match (fast mode, same sources), executed again where not
        (out / "executed").mkdir()
        for nb in executed.glob("*.ipynb"):
            shutil.copy(nb, out / "executed" / nb.name)
    start = time.perf_counter()
    with pytest.MonkeyPatch.context() as mp:  # module-scoped: the function-scoped monkeypatch is not available
        mp.setenv("NST_FAST", "1")
        assert build_course.main(["both", "--out", str(out)]) == 0
    print(f"course built in {time.perf_counter() - start:.0f} s")
    return out


def _browser(pw):
    return pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


def _page(browser, url, width=1280, height=800):
    page = browser.new_page(viewport={"width": width, "height": height})
    external = []
    page.on("request", lambda r: external.append(r.url) if r.url.startswith("http") else None)
    page.goto(url)
    return page, external


def _shot(page, name):
    folder = os.environ.get("NST_SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / name))


def _decks(built):
    return sorted((built / "slides").glob("*.slides.html"))


def test_every_notebook_has_a_deck_and_a_page(built):
    from nst_helpers import course

    for name, _ in course.NOTEBOOKS:
        stem = name[: -len(".ipynb")]
        assert (built / "slides" / f"{stem}.slides.html").is_file()
        assert (built / "book" / "_build" / "html" / f"{stem}.html").is_file()
    # the decks carry their own scripts and pictures: nothing is loaded from the internet
    for deck in _decks(built):
        html = deck.read_text()
        assert "unpkg.com" not in html and "cdnjs" not in html and "colab-badge.svg" not in html
        assert "assets/reveal.js/dist/reveal.js" in html and "In&nbsp;[" not in html
    index = (built / "slides" / "index.html").read_text()
    assert "<style>" in index and index.count(".slides.html'") == len(course.NOTEBOOKS)


def test_each_deck_is_titled_and_says_it_was_built_in_fast_mode(built):
    import nbformat

    for deck in _decks(built):
        nb = nbformat.read(built / "executed" / deck.name.replace(".slides.html", ".ipynb"), as_version=4)
        title = next(
            re.search(r"^# (.+)$", c.source, re.M).group(1)
            for c in nb.cells
            if c.cell_type == "markdown" and re.search(r"^# ", c.source, re.M)
        )
        html = deck.read_text()
        assert unescape(re.search(r"<title>(.*?)</title>", html).group(1)) == title
        assert 'class="nst-fast-line"' in html and "the pictures show that the code runs, not what it paints" in html


def test_first_slide_shows_the_title_offline(built):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = _browser(pw)
        page, external = _page(browser, (built / "slides" / "05_style_transfer_lbfgs.slides.html").as_uri(), 1024, 768)
        try:
            page.wait_for_function("window.nstReveal && window.nstReveal.isReady()", timeout=30000)
            present = page.locator("section.present").first
            assert "style transfer with l-bfgs" in present.inner_text().lower()
            assert "built in fast mode" in present.inner_text()
            _shot(page, "slides_first.png")
            # "L-BFGS in a few lines", two slides on: equations typeset by the local MathJax 2
            page.evaluate("""() => { const s = Array.from(document.querySelectorAll('.slides section'))
                .find(x => !x.querySelector('section') && /L-BFGS in a few lines/.test(x.textContent));
                const i = nstReveal.getIndices(s); nstReveal.slide(i.h, i.v || 0); }""")
            page.wait_for_function(
                "document.querySelectorAll('section.present .MathJax_CHTML').length > 3", timeout=30000
            )
            page.wait_for_timeout(500)
            _shot(page, "slides_equations.png")
        finally:
            browser.close()
    assert not external, external  # not even the Colab badge: the decks link to Colab in text


def test_every_slide_fits_at_both_sizes(built):
    """Every slide of every deck measured in Chromium at 1280x720 and 1024x768 (see slide_check.py)."""
    from playwright.sync_api import sync_playwright

    found, counts, scaled, body = [], {}, [], []
    with sync_playwright() as pw:
        browser = _browser(pw)
        try:
            for width, height in slide_check.SIZES:
                for deck in _decks(built):
                    page = browser.new_page()
                    results, errors = slide_check.check_deck(page, deck.as_uri(), width, height)
                    page.close()
                    where = f"{deck.name} at {width}x{height}"
                    found += [f"{where}: {p}" for p in slide_check.problems(results)]
                    found += [f"{where}: {e}" for e in errors]
                    counts.setdefault(deck.name, set()).add(len(results))
                    scaled += [f"{where} slide {m['slide']}: {m['scale']}" for m in results if m["scale"]]
                    if (width, height) == (1280, 720):
                        body += [m["bodyPx"] for m in results if m["bodyPx"]]
        finally:
            browser.close()
    stats = json.loads((built / "slides" / "decks.json").read_text())
    print(f"{sum(s['slides'] for s in stats)} slides in {len(stats)} decks; scaled to fit: {scaled or 'none'}")
    assert not found, "\n".join(found[:40])
    assert all(len(n) == 1 for n in counts.values()), counts  # the same slides at both sizes
    assert {s["file"]: s["slides"] for s in stats} == {k: n.pop() for k, n in counts.items()}
    assert max(body) >= 28 and sorted(body)[len(body) // 2] >= 28  # the body text, on the 1280x720 screen


def test_the_laboratory_slide_shows_a_recorded_run_and_where_it_runs_live(built):
    from playwright.sync_api import sync_playwright

    from nst_helpers import course

    with sync_playwright() as pw:
        browser = _browser(pw)
        deck = built / "slides" / "06_interactive_alpha_beta.slides.html"
        page, external = _page(browser, deck.as_uri(), 1280, 720)
        try:
            page.wait_for_function("window.nstReveal && window.nstReveal.isReady()", timeout=30000)
            page.evaluate("""() => { const s = document.querySelector('.nst-lab-recording').closest('section');
                const i = nstReveal.getIndices(s); nstReveal.slide(i.h, i.v || 0); }""")
            page.wait_for_timeout(300)
            slide = page.locator("section.present .nst-lab-recording")
            assert slide.is_visible()
            assert slide.locator(f"a[href='{course.colab_url('06_interactive_alpha_beta.ipynb')}']").count() == 1
            frames = page.evaluate("""() => Array.from(document.querySelectorAll('section.present img'))
                .filter(i => i.src.startsWith('data:image/gif') && i.complete && i.naturalWidth > 0).length""")
            assert frames == 1
            assert page.locator("section.present .jupyter-widgets, section.present button").count() == 0
            _shot(page, "slides_lab_recording.png")
        finally:
            browser.close()
    assert not external, external


def test_every_deck_prints_one_page_per_slide(built):
    from playwright.sync_api import sync_playwright

    stats = {s["file"]: s["slides"] for s in json.loads((built / "slides" / "decks.json").read_text())}
    with sync_playwright() as pw:
        browser = _browser(pw)
        try:
            for deck in _decks(built):
                page, _ = _page(browser, deck.as_uri() + "?print-pdf", 1280, 720)
                page.wait_for_function("window.nstPrintReady === true", timeout=60000)
                pdf = page.pdf(prefer_css_page_size=True, print_background=True)
                pages = len(re.findall(rb"/Type\s*/Page\b", pdf))
                page.close()
                assert pages == stats[deck.name], (deck.name, pages, stats[deck.name])
        finally:
            browser.close()


def test_book_page_renders_an_equation_and_a_figure(built):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = _browser(pw)
        page, external = _page(browser, (built / "book" / "_build" / "html" / "05_style_transfer_lbfgs.html").as_uri())
        try:
            # every equation of the page typeset by the local MathJax 3
            page.wait_for_function("document.querySelectorAll('mjx-container').length > 10", timeout=30000)
            page.wait_for_timeout(500)
            assert page.evaluate("document.querySelectorAll('mjx-container').length") == page.evaluate(
                "document.querySelectorAll('.math').length"
            )
            loaded = page.evaluate("""Array.from(document.querySelectorAll('img'))
                .filter(i => i.complete && i.naturalWidth > 100 && !i.src.includes('colab')).length""")
            assert loaded >= 3  # the diagram, snapshots, curves
            page.locator("mjx-container[display=true]").nth(1).scroll_into_view_if_needed()
            _shot(page, "book_equation.png")
        finally:
            browser.close()
    assert all("colab.research.google.com" in u for u in external), external


@pytest.mark.parametrize("chapter", ["06_interactive_alpha_beta", "03_gram_matrices"])
def test_book_pages_log_no_script_error(built, chapter):
    """Chapter 6 shows the laboratory's widgets (the widget renderer, its icon fonts, its MathJax 2 calls on a
    MathJax 3 page); chapter 3 stands for the rest. Only the remote Colab badge may fail, offline."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = _browser(pw)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        errors = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
        page.on("requestfailed", lambda r: errors.append(f"failed: {r.url}") if "colab" not in r.url else None)
        try:
            page.goto((built / "book" / "_build" / "html" / f"{chapter}.html").as_uri())
            page.wait_for_function("document.querySelectorAll('mjx-container').length > 0", timeout=30000)
            page.wait_for_timeout(3000)  # the widgets render
            broken = page.evaluate("""Array.from(document.images)
                .filter(i => i.complete && i.naturalWidth === 0 && !i.src.includes('colab'))
                .map(i => i.src.slice(0, 80))""")
            if chapter.startswith("06"):
                assert page.locator(".jupyter-widgets").count() > 5
                page.locator(".nst-lab").first.scroll_into_view_if_needed()
                _shot(page, "book_lab.png")
        finally:
            browser.close()
    offline = "Failed to load resource: net::ERR_NAME_NOT_RESOLVED"  # the Colab badge, with no network
    assert [e for e in errors if e != offline] == [] and broken == []
