"""Measures every slide of the course's decks in headless Chromium (used by test_course_build.py; also a tool).

For each deck and viewport: every slide is shown (all its fragments), then measured after MathJax and the
deck's fit step: the content's bottom against the slide's (less its foot), anything wider than the slide,
code cut horizontally, the arrows, slide number or fast-mode line covering content, the body type's size
on the screen, and whether the slide had to be scaled down to fit. Console errors, uncaught exceptions and
files that failed to load are collected too.

    python tests/browser/slide_check.py build/slides [--size 1280x720 ...] [--shots /tmp/slides_shots] [--deck 03]
"""

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from test_lab_browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

SIZES = ((1280, 720), (1024, 768))

MEASURE = """() => {
  const s = nstReveal.getCurrentSlide();
  const box = s.querySelector(':scope > .nst-fit') || s;
  const sr = s.getBoundingClientRect();
  const scale = sr.width / 1280;
  const foot = 46 * scale;
  const vh = window.innerHeight, vw = window.innerWidth;
  const br = box.getBoundingClientRect();
  const content = Array.from(box.querySelectorAll(
    'p, li, pre, img, table, h1, h2, h3, h4, .MJXc-display, .MathJax_Display, .nst-tqdm, figure, .jp-RenderedText'))
    .filter(e => e.offsetParent !== null && getComputedStyle(e).visibility !== 'hidden');
  const rects = content.map(e => [e, e.getBoundingClientRect()]).filter(([e, r]) => r.width > 0 && r.height > 0);
  let bottom = br.top;
  for (const [e, r] of rects) bottom = Math.max(bottom, r.bottom);
  const wide = rects.filter(([e, r]) => r.right > sr.right + 1 || r.left < sr.left - 1)
    .map(([e, r]) => e.tagName + ' ' + (e.textContent || '').slice(0, 50));
  const cut = Array.from(box.querySelectorAll('pre')).filter(p => p.scrollWidth > p.clientWidth + 1)
    .map(p => p.textContent.slice(0, 60));
  const chrome = ['.controls', '.slide-number', '.nst-fast-line'].map(q => document.querySelector('.reveal ' + q))
    .filter(e => e && getComputedStyle(e).display !== 'none' && getComputedStyle(e).visibility !== 'hidden')
    .map(e => [e.className.split(' ')[0], e.getBoundingClientRect()]);
  const covered = [];
  for (const [name, c] of chrome) {
    for (const [e, r] of rects) {
      if (r.left < c.right && r.right > c.left && r.top < c.bottom && r.bottom > c.top)
        covered.push(name + ' covers ' + e.tagName + ' ' + (e.textContent || '').slice(0, 40));
    }
  }
  const para = box.querySelector('.jp-RenderedHTMLCommon p:not([class]), .jp-RenderedHTMLCommon li');  // the prose
  const bodyPx = para ? parseFloat(getComputedStyle(para).fontSize) * scale : null;
  const heading = box.querySelector('h1, h2, h3, .nst-continued');
  return {
    title: heading ? heading.textContent.trim().slice(0, 70) : '',
    overflowPx: Math.round(bottom - (sr.bottom - foot)),
    beyondViewport: Math.round(Math.max(bottom - vh, 0, sr.right - vw)),
    scale: s.getAttribute('data-nst-scale'), wide, cut, covered, bodyPx,
    code: box.querySelectorAll('.jp-InputArea-editor').length,
  };
}"""


def check_deck(page, url, width, height, shots=None, prefix=""):
    """Every slide of the deck at ``url``: a list of measurements (dicts) and a list of errors."""
    errors = []
    page.on("console", lambda m: errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: errors.append(f"failed to load {r.url}"))
    page.set_viewport_size({"width": width, "height": height})
    page.goto(url)
    page.wait_for_function("window.nstReveal && window.nstReveal.isReady()", timeout=60000)
    indices = page.evaluate("""() => nstReveal.getSlides().map(s => {
        const i = nstReveal.getIndices(s); return [i.h, i.v || 0, s.querySelectorAll('.fragment').length - 1]; })""")
    results = []
    for n, (h, v, f) in enumerate(indices):
        before = page.evaluate("window.nstFitted || 0")
        page.evaluate(f"nstReveal.slide({h}, {v}, {f})")
        page.wait_for_function(f"(window.nstFitted || 0) > {before} || {n} === 0", timeout=30000)
        page.wait_for_function("!window.MathJax || !MathJax.Hub || MathJax.Hub.queue.pending === 0", timeout=30000)
        page.wait_for_timeout(60)
        m = page.evaluate(MEASURE)
        m.update(slide=n + 1, h=h, v=v)
        results.append(m)
        if shots is not None:
            page.screenshot(path=str(Path(shots) / f"{prefix}{n + 1:02d}.png"))
    return results, errors


def problems(results):
    """The measurements that break the rules: too tall (after the fit step), wider than the slide, code cut,
    chrome over content, scaled below 85 %."""
    found = []
    for m in results:
        where = f"slide {m['slide']} ({m['title'][:40]!r})"
        if m["overflowPx"] > 2 or m["beyondViewport"] > 2:
            found.append(f"{where}: {m['overflowPx']} px too tall")
        if m["wide"]:
            found.append(f"{where}: wider than the slide: {m['wide'][:2]}")
        if m["cut"]:
            found.append(f"{where}: code cut: {m['cut'][:2]}")
        if m["covered"]:
            found.append(f"{where}: {m['covered'][:2]}")
        if m["scale"] and float(m["scale"]) < 0.85:
            found.append(f"{where}: scaled to {m['scale']} to fit")
    return found


def main(argv=None):
    from playwright.sync_api import sync_playwright

    p = argparse.ArgumentParser()
    p.add_argument("slides", type=Path)
    p.add_argument("--size", nargs="*", default=[f"{w}x{h}" for w, h in SIZES])
    p.add_argument("--deck", nargs="*", default=[])
    p.add_argument("--shots", type=Path)
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    decks = sorted(args.slides.resolve().glob("*.slides.html"))
    if args.deck:
        decks = [d for d in decks if any(d.name.startswith(x) for x in args.deck)]
    report, bad = {}, 0
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        for size in args.size:
            w, h = map(int, size.split("x"))
            for deck in decks:
                page = browser.new_page()
                shots = None
                if args.shots:
                    shots = args.shots
                    shots.mkdir(parents=True, exist_ok=True)
                results, errors = check_deck(page, deck.as_uri(), w, h, shots, f"{deck.name[:2]}_{size}_")
                page.close()
                found = problems(results)
                scaled = [m["slide"] for m in results if m["scale"]]
                body = sorted({round(m["bodyPx"], 1) for m in results if m["bodyPx"]})
                print(
                    f"{deck.name} at {size}: {len(results)} slides, {len(found)} problems, scaled {scaled}, "
                    f"body px {body[:3]}, {len(errors)} errors"
                )
                for line in found + errors[:10]:
                    print("   ", line)
                bad += len(found) + len(errors)
                report[f"{deck.name} {size}"] = {"results": results, "errors": errors}
        browser.close()
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
