"""The performance table: ``python -m benchmarks.run`` (or ``make benchmark``).

Runs the tutorial's algorithm (``tutorial_baseline.py``) and ``nst_helpers`` side by side, each
measurement in a fresh process, on the same images, sizes, weights and objective, and writes
``benchmarks/RESULTS.md``. Weights: ``--weights PATH``, else ``$NST_VGG19_WEIGHTS``, else the stand-in
at ``../shared/weights/vgg19_standin.pth`` when it exists.
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
STANDIN = ROOT.parent / "shared" / "weights" / "vgg19_standin.pth"


def child(task, weights, env=None, **options):
    cmd = [sys.executable, "-m", "benchmarks.worker", task, "--weights", str(weights), "--t0", repr(time.time())]
    for key, value in options.items():
        cmd += [f"--{key}", str(value)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env={**os.environ, **(env or {})})
    if proc.returncode != 0:
        raise SystemExit(f"benchmark step {task} {options} failed:\n{proc.stderr[-2000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"  {task} {options}: {result}", flush=True)
    return result


def features_cache(weights, folder):
    """A TORCH_HOME whose cache holds a features-only copy made from ``weights`` (as after a first download)."""
    from nst_helpers import weights as W

    os.environ["TORCH_HOME"] = str(folder)
    path = W.features_cache_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(W.read_weights_file(weights), path)
    del os.environ["TORCH_HOME"]
    return {"TORCH_HOME": str(folder), "NST_VGG19_WEIGHTS": ""}


def highres(args):
    """Coarse-to-fine at ``--highres`` px (the bundled photo, aspect kept) through the command line."""
    out = ROOT / "benchmarks" / "results" / f"multiscale_{args.highres}.jpg"
    report_file = ROOT / "benchmarks" / "results" / f"multiscale_{args.highres}.json"
    start = time.time()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "nst_helpers",
            "chelsea",
            "starry_night",
            "--size",
            str(args.highres),
            "--multiscale",
            "--quiet",
            "--force",
            "--weights",
            str(args.weights),
            "-o",
            str(out),
            "--report",
            str(report_file),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise SystemExit(f"high-resolution run failed:\n{proc.stderr[-2000:]}")
    data = json.loads(report_file.read_text())
    result = {
        "size": data["size"],
        "wall_seconds": time.time() - start,
        "optimize_seconds": data["seconds"],
        "evaluations": data["evaluations"],
        "peak_rss_mb": data["peak_memory_mb"],
        "plan": data["config"]["plan"],
    }
    print(f"  highres: {result}", flush=True)
    return result


def browser(args):
    """The laboratory in Chromium at notebook 6's CPU defaults (the browser test with NST_BROWSER_FAST=0):
    Run-to-preview and release-to-preview latency in JupyterLab and in Notebook 7; screenshots kept."""
    shots = ROOT / "benchmarks" / "results" / "lab"
    shots.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "NST_BROWSER_FAST": "0",
        "NST_VGG19_WEIGHTS": str(args.weights),
        "NST_SCREENSHOT_DIR": str(shots),
        "NST_REQUIRE_BROWSER": "1",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/browser"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise SystemExit(f"the browser measurement failed:\n{proc.stdout[-3000:]}")
    result = {p.name.split("_")[0]: json.loads(p.read_text()) for p in sorted(shots.glob("*_latency.json"))}
    for value in result.values():
        value["date"] = datetime.date.today().isoformat()
    print(f"  browser: {result}", flush=True)
    return result


def notebooks(args):
    """Each course notebook run top to bottom at its CPU defaults with nbclient (one at a time, fresh
    kernel, the benchmark's weights): seconds per notebook."""
    import nbformat
    from nbclient import NotebookClient

    env_before = os.environ.get("NST_VGG19_WEIGHTS")
    os.environ["NST_VGG19_WEIGHTS"] = str(args.weights)
    os.environ.pop("NST_FAST", None)
    result = {}
    try:
        for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
            if args.notebooks and not any(path.name.startswith(n) for n in args.notebooks):
                continue
            nb = nbformat.read(path, as_version=4)
            start = time.perf_counter()
            NotebookClient(
                nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
            ).execute()
            result[path.stem] = {"seconds": time.perf_counter() - start, "date": datetime.date.today().isoformat()}
            if args.keep_executed:  # to look at what a student sees
                Path(args.keep_executed).mkdir(parents=True, exist_ok=True)
                nbformat.write(nb, Path(args.keep_executed) / path.name)
            print(f"  notebook {path.stem}: {result[path.stem]['seconds']:.1f} s", flush=True)
    finally:
        if env_before is None:
            os.environ.pop("NST_VGG19_WEIGHTS", None)
        else:
            os.environ["NST_VGG19_WEIGHTS"] = env_before
    return result


def _measure_in_child(module, args, what):
    """``benchmarks.<module>.measure(weights, out_dir=benchmarks/results)`` in a fresh process, dated."""
    code = (
        f"import json, sys; from pathlib import Path; from benchmarks.{module} import measure; "
        "print(json.dumps(measure(sys.argv[1], out_dir=Path('benchmarks/results'))))"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(args.weights)], cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"the {what} measurement failed:\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["date"] = datetime.date.today().isoformat()
    print(f"  {module}: done", flush=True)
    return result


def feedforward(args):
    """The real-time network (``benchmarks/feedforward.py``): training, quality on held-out photos against
    300 L-BFGS steps, and apply times."""
    return _measure_in_child("feedforward", args, "feed-forward")


def arbitrary(args):
    """Arbitrary style in one pass (``benchmarks/arbitrary.py``): a decoder trained on photos alone, judged
    on paintings it never saw against 300 L-BFGS steps, reconstruction PSNR, one-pass times."""
    return _measure_in_child("arbitrary", args, "arbitrary-style")


def convergence(args):
    """The stopping rule ``tol`` replayed on full runs (``benchmarks/convergence.py``): steps saved, objective
    and pixels against 300 steps."""
    return _measure_in_child("convergence", args, "convergence")


def curves(args):
    """Objective against seconds at 128, 256 and 512 px for the tutorial, one scale and coarse-to-fine
    (``benchmarks/curves.py``), drawn in ``results/curves.png``."""
    return _measure_in_child("curves", args, "convergence curves")


def video(args):
    """The three ways to paint a clip (``benchmarks/video.py``): stability, style, time."""
    return _measure_in_child("video", args, "video")


def realtime(args):
    """The real-time network with a patch critic and with a temporal term (``benchmarks/realtime.py``): held-out
    photos against L-BFGS, and the bundled clip's warping error and frames per second."""
    return _measure_in_child("realtime", args, "real-time video")


def sound(args):
    """Style transfer for sound (``benchmarks/sound.py``): a 5 s clip at the defaults, style distances, Griffin-Lim."""
    return _measure_in_child("sound", args, "sound")


def paper(args):
    """The paper's normalised network (``benchmarks/paper.py``): its cost, the invariance that defines it, the
    layers' shares of the style loss."""
    return _measure_in_child("paper", args, "normalised network")


def balance(args):
    """Balancing several styles (``benchmarks/balance.py``): how far each rule is from the blend, and its cost."""
    return _measure_in_child("balance", args, "balance")


def statistics(args):
    """What is style? (``benchmarks/style_statistics.py``): four statistics in three networks on four pairs, two
    seeds, each picture judged in the networks it was not optimised in."""
    return _measure_in_child("style_statistics", args, "style statistics")


MEASURES = {
    "highres": highres,
    "browser": browser,
    "notebooks": notebooks,
    "feedforward": feedforward,
    "arbitrary": arbitrary,
    "video": video,
    "convergence": convergence,
    "curves": curves,
    "sound": sound,
    "paper": paper,
    "balance": balance,
    "realtime": realtime,
    "statistics": statistics,
}


def machine():
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads)"
    )


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--weights", default=os.environ.get("NST_VGG19_WEIGHTS") or (str(STANDIN) if STANDIN.exists() else None)
    )
    p.add_argument("--sizes", type=int, nargs="+", default=[128, 256, 512])
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "RESULTS.md"))
    p.add_argument("--highres", type=int, default=1024, help="long side of the coarse-to-fine run (0: skip)")
    p.add_argument(
        "--only",
        choices=["all", *MEASURES],
        default="all",
        help="measure only one part (the function of that name in this file says what it measures: the "
        "high-resolution run, the laboratory in Chromium, the notebooks' run times, the real-time network, the "
        "decoder for arbitrary style, the three ways to paint a clip, the stopping rule tol, objective against time, "
        "sound, the paper's normalised network, balancing several styles, the real-time network with a critic and "
        "on video, notebook 10's statistics), and update results/latest.json",
    )
    p.add_argument(
        "--notebooks",
        nargs="*",
        default=[],
        help="with --only notebooks: the notebooks to time, by number prefix (default: all)",
    )
    p.add_argument("--keep-executed", metavar="DIR", help="with --only notebooks: save the executed notebooks there")
    p.add_argument("--from-json", help="rewrite the report from a saved results/latest.json without measuring")
    args = p.parse_args(argv)
    if args.from_json or args.only in MEASURES:
        saved = Path(args.from_json or ROOT / "benchmarks" / "results" / "latest.json")
        r = json.loads(saved.read_text())
        r["sizes"] = {int(k): v for k, v in r["sizes"].items()}
        if args.only in MEASURES:
            new = MEASURES[args.only](args)
            r[args.only] = {**r.get(args.only, {}), **new} if args.only == "notebooks" else new
            saved.write_text(json.dumps(r, indent=2))
        Path(args.out).write_text(report(r, args))
        print(f"wrote {args.out}")
        return
    if not args.weights:
        raise SystemExit("no weights: pass --weights PATH or set NST_VGG19_WEIGHTS")
    out_dir = ROOT / "benchmarks" / "results"
    out_dir.mkdir(exist_ok=True)
    r = {
        "machine": machine(),
        "date": datetime.date.today().isoformat(),
        "weights": Path(args.weights).name,
        "sizes": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        r["load_file"] = child("load", args.weights)
        r["load_cache"] = child("load", "cache", env=features_cache(args.weights, tmp))
    for size in args.sizes:
        row = {"floor": child("floor", args.weights, size=size, repeats=10 if size < 512 else 4)}
        for impl in ["baseline", "nst"] + (["multiscale"] if size >= 512 else []):
            row[impl] = child(
                "transfer", args.weights, impl=impl, size=size, steps=args.steps, save=out_dir / f"{impl}_{size}.png"
            )
        r["sizes"][size] = row
    r["latency"] = child("latency", args.weights, size=128, repeats=10)
    if args.highres:
        r["highres"] = highres(args)
    r["browser"] = browser(args)
    r["feedforward"] = feedforward(args)
    r["arbitrary"] = arbitrary(args)
    r["video"] = video(args)
    r["convergence"] = convergence(args)
    r["curves"] = curves(args)
    r["sound"] = sound(args)
    r["paper"] = paper(args)
    r["balance"] = balance(args)
    r["statistics"] = statistics(args)
    r["notebooks"] = notebooks(args)
    (out_dir / "latest.json").write_text(json.dumps(r, indent=2))
    Path(args.out).write_text(report(r, args))
    print(f"wrote {args.out}")


def report(r, args):
    s = r["sizes"]
    lines = [
        "# Performance: nst_helpers against the PyTorch tutorial's algorithm",
        "",
        f"Measured on {r['date']} on {r['machine']}, with `{r['weights']}`, by `python -m benchmarks.run` "
        f"(`make benchmark`). Square images (the seed's), {args.steps} steps, seed configuration; each figure "
        "from its own process. *objective*: the seed's objective of the saved 8-bit picture, computed the "
        "same way for both (lower is better). *wall*: the whole process (start, imports, model load, run). "
        "With a VGG19-shaped network whose weights are not ImageNet's (README, *The paper's network*), the "
        "timings are those of VGG19 (same layers and shapes), but the objective values are only comparable "
        "within this table.",
        "",
        "| size | implementation | wall s | load s | optimise s | steps | s / step | objective | peak MB |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for size, row in s.items():
        for impl in ("baseline", "nst", "multiscale"):
            if impl not in row:
                continue
            x = row[impl]
            name = {"baseline": "tutorial (baseline)", "nst": "nst_helpers", "multiscale": "nst_helpers --multiscale"}[
                impl
            ]
            lines.append(
                f"| {size} | {name} | {x['wall_seconds']:.1f} | {x['load_seconds']:.2f} | "
                f"{x['optimize_seconds']:.1f} | {x['evaluations']} | {x['seconds_per_evaluation']:.4f} | "
                f"{x['objective']:.5f} | {x['peak_rss_mb']:.0f} |"
            )
    lines += [
        "",
        "Floors, per step: the bare VGG19 truncated after conv_5, forward and backward (channels-last, as the "
        "package runs it on a CPU, and NCHW), and the same plus the seed's five Gram matrices.",
        "",
        "The Gram matrices are computed with the one-product backward (`gram_matrix(fast=True)`, what the "
        "objective uses) and, for comparison, with autograd's two products (`fast=False`).",
        "",
        "| size | bare network s | bare network NCHW s | network + Gram matrices s | same, plain Gram s |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for size, row in s.items():
        f = row["floor"]
        plain = f.get("with_plain_grams_seconds")
        lines.append(
            f"| {size} | {f['forward_backward_seconds']:.4f} | {f['nchw_seconds']:.4f} | "
            f"{f['with_grams_seconds']:.4f} | {'-' if plain is None else format(plain, '.4f')} |"
        )
    lines += [
        "",
        "## Targets",
        "",
        "Where the time goes at 128 px (torch profiler, one `stylize` run): the convolutions about half, "
        "the Gram matrices' products about a quarter, ReLU backward and pooling most of the rest, the "
        "L-BFGS bookkeeping a few percent. The Gram matrices are part of the objective, so the network "
        "plus the Gram matrices is the floor this objective can reach.",
        "",
    ]

    def check(ok):
        return "met" if ok else "**not met**"

    if 128 in s:
        b, n = s[128]["baseline"], s[128]["nst"]
        ratio = n["wall_seconds"] / b["wall_seconds"]
        lines.append(
            f"1. 128 px, {args.steps} steps: wall time {ratio:.2f}x the baseline's (target <= 0.75), objective "
            f"{n['objective']:.5f} against {b['objective']:.5f} (target: same or better): "
            f"{check(ratio <= 0.75 and n['objective'] <= b['objective'] * 1.001)}."
        )
    ratios = {
        z: s[z]["nst"]["seconds_per_evaluation"] / s[z]["floor"]["forward_backward_seconds"]
        for z in (128, 256)
        if z in s
    }
    if ratios:
        gram_ratios = {z: s[z]["nst"]["seconds_per_evaluation"] / s[z]["floor"]["with_grams_seconds"] for z in ratios}
        lines.append(
            f"2. Seconds per step against the bare network's forward+backward: "
            f"{', '.join(f'{q:.2f}x at {z} px' for z, q in ratios.items())} (target <= 1.2): "
            f"{check(all(q <= 1.2 for q in ratios.values()))}. Against the network plus the Gram "
            f"matrices the objective needs: {', '.join(f'{q:.2f}x at {z} px' for z, q in gram_ratios.items())}."
        )
    if 512 in s:
        b, m = s[512]["baseline"], s[512]["multiscale"]
        ratio = m["wall_seconds"] / b["wall_seconds"]
        lines.append(
            f"3. 512 px by coarse-to-fine: {ratio:.2f}x the baseline's wall time (target <= 0.33), objective "
            f"{m['objective']:.5f} against {b['objective']:.5f} (target: no worse): "
            f"{check(ratio <= 1 / 3 and m['objective'] <= b['objective'] * 1.001)}."
        )
        n = s[512]["nst"]
        if b["objective"] > 10 * n["objective"]:
            lines.append(
                f"   The baseline diverged at 512 px (its picture, `results/baseline_512.png`, is noise): "
                f"clamping the image inside the L-BFGS closure, the tutorial's known failure. Against "
                f"nst_helpers' own single-scale 512 px run, coarse-to-fine took "
                f"{m['wall_seconds'] / n['wall_seconds']:.2f}x the time for an objective "
                f"{m['objective'] / n['objective'] - 1:+.1%} from it ({m['objective']:.5f} against "
                f"{n['objective']:.5f})."
            )
    lc = r["load_cache"]["load_seconds"]
    mem = ""
    ok4 = lc <= 1.0
    if 512 in s:
        nb, bb = s[512]["nst"]["peak_rss_mb"], s[512]["baseline"]["peak_rss_mb"]
        mem = f"; peak memory at 512 px {nb:.0f} MB against the baseline's {bb:.0f} MB (target: no higher)"
        ok4 = ok4 and nb <= bb
    lines.append(
        f"4. Weights from the features-only cache load in {lc:.2f} s (target <= 1 s; from the weights file: "
        f"{r['load_file']['load_seconds']:.2f} s){mem}: {check(ok4)}."
    )
    lf, lcache = r["load_file"], r["load_cache"]
    lines += [
        "",
        f"Model loading, in a fresh process after `import torch`: from the weights file {lf['load_seconds']:.2f} s "
        f"and {lf['load_rss_mb']:.0f} MB, from the features-only cache {lcache['load_seconds']:.2f} s and "
        f"{lcache['load_rss_mb']:.0f} MB (memory-mapped). The baseline builds the whole VGG19 first: its load "
        "column above.",
    ]
    if r.get("highres"):
        h = r["highres"]
        lines += [
            "",
            f"High resolution: the bundled photo at {h['size'][1]}x{h['size'][0]} px by coarse-to-fine "
            f"(`--multiscale`, plan {h['plan']}) took {h['wall_seconds']:.0f} s as a whole command "
            f"({h['optimize_seconds']:.0f} s optimising, {h['evaluations']} steps) and {h['peak_rss_mb']:.0f} MB "
            "at its peak.",
        ]
    lat = r["latency"]
    lines += [
        "",
        f"Laboratory (live mode, 128 px): the first preview made with new weights appears "
        f"{lat['median_seconds']:.2f} s after a slider change (median of {lat['repeats']}, worst "
        f"{lat['max_seconds']:.2f} s; target <= 1 s): {check(lat['max_seconds'] <= 1.0)}.",
        "",
    ]
    names = {"lab": "JupyterLab (file browser open)", "notebook": "Notebook 7"}
    if r.get("browser"):
        when = next(iter(r["browser"].values())).get("date", r["date"])
        lines += [
            f"In a real browser (measured {when} with `{r['weights']}`; headless Chromium at 1024x768, notebook 6 "
            "at its CPU defaults, 128 px, 300 steps per run; `tests/browser`, screenshots in `results/lab/`): "
            "time from a click on Run, and "
            "from a key released on the α slider while idle (auto-run), to the next preview on screen.",
            "",
            "| interface | Run to preview s | release to preview s (each try) |",
            "| --- | ---: | --- |",
        ]
        for key, b in r["browser"].items():
            lines.append(
                f"| {names.get(key, key)} | {b['run_click_to_preview_s']:.2f} | "
                f"{', '.join(f'{x:.2f}' for x in b['release_to_preview_s'])} |"
            )
        lines.append("")
    if r.get("feedforward"):
        lines += feedforward_report(r["feedforward"], check)
    if r.get("convergence"):
        lines += convergence_report(r["convergence"])
    if r.get("curves"):
        lines += curves_report(r["curves"], check)
    if r.get("video"):
        lines += video_report(r["video"], check)
    if r.get("arbitrary"):
        lines += arbitrary_report(r["arbitrary"], check)
    if r.get("sound"):
        lines += sound_report(r["sound"], check)
    if r.get("paper"):
        lines += paper_report(r["paper"], check)
    if r.get("balance"):
        lines += balance_report(r["balance"], check)
    if r.get("realtime"):
        lines += realtime_report(r["realtime"], check)
    if r.get("statistics"):
        lines += statistics_report(r["statistics"])
    if r.get("notebooks"):
        lines += [
            f"Notebooks run top to bottom at their CPU defaults (nbclient, a fresh kernel each, one at a time, "
            f"`{r['weights']}`; `--only notebooks`):",
            "",
            "| notebook | seconds | measured |",
            "| --- | ---: | --- |",
        ]
        for name, n in sorted(r["notebooks"].items()):
            lines.append(f"| {name} | {n['seconds']:.0f} | {n['date']} |")
        slowest = max(r["notebooks"].items(), key=lambda kv: kv[1]["seconds"])
        lines += [
            "",
            f"Budget: every notebook within 300 s at its CPU defaults (slowest: {slowest[0]}, "
            f"{slowest[1]['seconds']:.0f} s): {check(slowest[1]['seconds'] <= 300)}.",
            "",
        ]
    return "\n".join(lines)


def feedforward_report(f, check):
    d = f["defaults"]
    reached = f.get("target_reached_at")
    lines = [
        "## Real-time style: the feed-forward network (notebook 8)",
        "",
        f"Measured {f['date']} with `{Path(f['weights']).name}` (`--only feedforward`): the notebook's default network "
        f"({f['network']}) trained on the bundled photos for {f['train_steps']} steps (batch {d['batch_size']}, "
        f"{d['crop']} px crops, the painting at {d.get('style_size', d['crop'])} px, Adam lr {d['lr']:g}, "
        f"VGG19 in {f.get('precision', 'float32')}"
        + (
            "; the seed's layers with alpha {:g}, beta {:g}: `ff.training_config()`".format(*f["weights_alpha_beta"])
            if f.get("weights_alpha_beta")
            else ""
        )
        + ") in "
        f"{f['train_seconds']:.0f} s on this CPU"
        + (
            f" (a training step takes {f['step_seconds']['float32']:.3f} s with VGG19 in float32 and "
            f"{f['step_seconds']['bfloat16']:.3f} s in bfloat16: "
            f"{f['step_seconds']['float32'] / f['step_seconds']['bfloat16']:.2f}x faster)"
            if f.get("step_seconds")
            else ""
        )
        + ". Judged on the "
        f"held-out photos at {f['size']} px with the seed objective (8-bit pictures), against the seed's 300 "
        f"L-BFGS steps on the same photo:",
        "",
        "| photo | L-BFGS content | L-BFGS style | L-BFGS s | network content | network style | network ms | "
        "content ratio (<= 2) | style ratio (<= 2) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, p in f["photos"].items():
        a, b = p["lbfgs"], p["network"]
        cr, sr = b["content"] / a["content"], b["style"] / a["style"]
        lines.append(
            f"| {name} | {a['content']:.4g} | {a['style']:.3g} | {a['seconds']:.1f} | {b['content']:.4g} | "
            f"{b['style']:.3g} | {1000 * b['seconds']:.0f} | {cr:.2f} {check(cr <= 2)} | {sr:.2f} {check(sr <= 2)} |"
        )
    lines.append("")
    if reached:
        lines.append(
            f"Quality target (every held-out photo within 2x on both losses) first met at step {reached['step']}, "
            f"after {reached['train_seconds']:.0f} s of training (target <= 600 s): "
            f"{check(reached['train_seconds'] <= 600)}."
        )
        rows = f["judged"]
        steady = next((i for i in range(len(rows)) if all(r["meets_target"] for r in rows[i:])), None)
        if steady is None:
            lines.append("Not met at the last judged step.")
        else:
            content, style = (
                max(r[n][k] for r in rows[steady:] for n in f["photos"]) for k in ("content_ratio", "style_ratio")
            )
            lines.append(
                f"Met at every judged step from step {rows[steady]['step']} on (the largest ratios from "
                f"there: content {content:.2f}, style {style:.2f})."
            )
        lines.append(f"Judged every {f.get('every', 100)} steps:")
    else:
        lines.append(
            "Quality target (every held-out photo within 2x on both losses) not met at any judged step: "
            f"{check(False)}. Judged every {f.get('every', 100)} steps:"
        )
    lines += [
        "",
        "| step | training s | " + " | ".join(f"{n} content / style ratio" for n in f["photos"]) + " |",
        "| ---: | ---: | " + " | ".join("---" for _ in f["photos"]) + " |",
    ]
    for row in f["judged"]:
        lines.append(
            f"| {row['step']} | {row['train_seconds']:.0f} | "
            + " | ".join(f"{row[n]['content_ratio']:.2f} / {row[n]['style_ratio']:.2f}" for n in f["photos"])
            + " |"
        )
    a256 = f["apply"]["256"]["ms"]
    lines += [
        "",
        "Applying the trained network to one picture (median of repeats after a warm-up, `torch.inference_mode`, "
        "the bundled cat photo with its aspect ratio):",
        "",
        "| long side | picture | ms |",
        "| ---: | --- | ---: |",
    ]
    for px, a in f["apply"].items():
        lines.append(f"| {px} | {a['shape'][1]}x{a['shape'][0]} | {a['ms']:.0f} |")
    lines += [
        "",
        f"256 px in {a256:.0f} ms (target <= 100 ms): {check(a256 <= 100)}. Johnson et al.'s full-size network "
        f"(`--network full`) takes {f['apply_full_256']['ms']:.0f} ms at 256 px here. On a GPU (not measured: no "
        "device lent to this task; an estimate) training is typically 20-50x faster per step, which is what makes "
        "COCO-scale training (tens of thousands of steps at 256 px) practical.",
        "",
        "![held-out photos: optimisation against the network](results/feedforward.png)",
        "",
    ]
    return lines


#: What the pictures of a dated ``--only arbitrary`` run look like, written by whoever looked at them.
ARBITRARY_LOOKED = {
    "2026-11-30": (
        "What the pictures show (looked at for this run, the VGG19-shaped network whose weights are not "
        "ImageNet's): one pass gives each photo the painting's palette and soft, blotchy strokes a few pixels "
        "wide (the cat blue-green under The Starry Night, orange under The Scream, patched with the mosaic's "
        "colours), but none of the painting's structures: no swirls, no leading between cells, and the cat's "
        "fur and edges smeared. L-BFGS keeps the photo's lines sharp and covers it in a fine high-frequency "
        "texture. The paper's example pictures (Huang and Belongie 2017) show crisp strokes at the painting's "
        "scale: their decoder learned from 80,000 photos and 80,000 paintings on a GPU; this one, "
        "five minutes on a CPU on eight photos, rebuilds a held-out photo at 16 to 19 dB PSNR (soft, and "
        "the coffee cup's rim ghosted), and that blur is the ceiling of every stylised picture it paints. "
        "The relu4_1 decoder, after the same 300 steps, still paints a flat grey: the deeper layer's larger "
        "strokes need a longer training than a laptop's minutes."
    ),
}


def arbitrary_report(a, check):
    d = a["defaults"]
    a256 = a["apply"]["256"]["ms"]
    load = ", ".join(f"{x:.1f}" for x in a["load_before"])
    lines = [
        "## Arbitrary style in one pass: AdaIN with a decoder trained on photos alone (notebook 11)",
        "",
        f"Measured {a['date']} with `{Path(a['weights']).name}` (`--only arbitrary`; {a['threads']} torch threads, "
        f"load average {load} at the start): the default decoder ({a['decoder']}, encoder VGG19 up to "
        f"{d['layer']}) trained on the bundled photos alone for {a['train_steps']} steps ({d['batch_size']} crops "
        f"of {d['crop']} px, Adam lr {d['lr']:g}, pixel + {d['feature_weight']:g} x feature loss) in "
        f"{a['train_seconds']:.0f} s (target <= 600 s: {check(a['train_seconds'] <= 600)}; "
        f"{a['step_seconds']:.3f} s a step). It rebuilds the held-out photos (alpha 0, 256 px) at "
        + ", ".join(f"{k} {v:.1f} dB" for k, v in a["psnr"].items())
        + " PSNR.",
        "",
        f"Judged as notebook 8's network, with the seed objective at {a['size']} px on the held-out photos, against "
        "the seed's 300 L-BFGS steps on the same photo and painting; the decoder saw none of the paintings "
        "(`mosaic` is a stained-glass pattern drawn by the benchmark):",
        "",
        "| painting / photo | L-BFGS content | L-BFGS style | L-BFGS s | AdaIN content | AdaIN style | AdaIN ms | "
        "content ratio | style ratio |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, r in a["judged"].items():
        x, y = r["lbfgs"], r["adain"]
        lines.append(
            f"| {name} | {x['content']:.4g} | {x['style']:.3g} | {x['seconds']:.1f} | {y['content']:.4g} | "
            f"{y['style']:.3g} | {1000 * y['seconds']:.0f} | {r['content_ratio']:.2f} | {r['style_ratio']:.2f} |"
        )
    lines += [
        "",
        "One pass (`arbitrary.paint`: the photo and the painting encoded, AdaIN, decoded; median after a warm-up):",
        "",
        "| long side | picture | ms |",
        "| ---: | --- | ---: |",
    ]
    for px, r in a["apply"].items():
        lines.append(f"| {px} | {r['shape'][1]}x{r['shape'][0]} | {r['ms']:.0f} |")
    lines += [
        "",
        f"256 px in {a256:.0f} ms (target <= 100 ms): {check(a256 <= 100)}.",
        "",
        "The encoder's layer, each decoder trained for the same short run:",
        "",
        "| layer | parameters | steps | s | s a step | held-out PSNR |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for layer, r in a["layers"].items():
        lines.append(
            f"| {layer} | {r['parameters']:,} | {r['steps']} | {r['seconds']:.0f} | {r['step_seconds']:.3f} | "
            + ", ".join(f"{k} {v:.1f} dB" for k, v in r["psnr"].items())
            + " |"
        )
    cr = [r["content_ratio"] for r in a["judged"].values()]
    sr = [r["style_ratio"] for r in a["judged"].values()]
    lines += [
        "",
        f"Against 300 L-BFGS steps, one pass keeps the content within {min(cr):.2f}x to {max(cr):.2f}x of "
        f"L-BFGS's loss and reaches a style loss {min(sr):.0f}x to {max(sr):.0f}x higher, in about a "
        "three-hundredth of the time. The seed objective is what L-BFGS minimises and the decoder never sees, "
        "so the ratios measure how far one pass is from the optimum of that objective, not which picture a person "
        "prefers.",
    ]
    if a["date"] in ARBITRARY_LOOKED:
        lines += ["", ARBITRARY_LOOKED[a["date"]]]
    else:
        lines += ["", "The pictures of this run have not been described here: look at them below."]
    lines += [
        "",
        "![paintings never seen: optimisation against one AdaIN pass](results/arbitrary.png)",
        "",
        "![held-out photos decoded, and the two encoder layers](results/arbitrary_decoder.png)",
        "",
    ]
    return lines


def curves_report(c, check):
    lines = [
        "## Objective against time",
        "",
        f"Measured {c['date']} with `{Path(c['weights']).name}` (`--only curves`): the seed objective of the "
        "8-bit picture against the seconds since the call began (model loaded), every 5 steps, for the "
        f"tutorial's algorithm, nst_helpers at one scale and coarse-to-fine, {c['steps']} steps, square "
        'pictures, each nst_helpers run also with `precision="bfloat16"` (VGG19\'s passes in 16-bit; the '
        "judging is always float32). A coarse-to-fine picture is judged resized to the full size.",
        "",
        "![objective against seconds](results/curves.png)",
        "",
        "| px | single scale, 300 steps | +2 % reached by: tutorial s | single scale s | coarse-to-fine s | "
        "single scale, bfloat16 s | coarse-to-fine, bfloat16 s | bfloat16 after 300 steps |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]

    def first(points, level):
        return next((f"{s:.1f}" for s, v in points if v <= level), "never")

    for size, curves in c["sizes"].items():
        target = curves["single scale"][-1][1]
        cells = " | ".join(first(points, 1.02 * target) for points in curves.values())
        bf16 = curves.get("single scale, bfloat16", [(0, float("nan"))])[-1][1]
        lines.append(f"| {size} | {target:.5f} | {cells} | {bf16 / target - 1:+.2%} |")
    big = c["sizes"].get("512")
    if big:
        level = 1.02 * big["single scale"][-1][1]
        best = min((s for name in big if name != "tutorial" for s, v in big[name] if v <= level), default=None)
        lines += [
            "",
            f"512 px within 2 % of the single-scale 300-step objective in <= 15 s: "
            f"{check(best is not None and best <= 15)} (first reached after "
            f"{'never' if best is None else format(best, '.0f') + ' s'}).",
        ]
    bound = c.get("bound", {}).get("512")
    if bound:

        def reach(r):
            if r["steps"] is None:
                return f"not within {bound['steps']} steps"
            return f"{r['steps']} steps, {r['seconds']:.1f} s ({r['per_step']:.2f} s a step)"

        fastest = min(
            (bound[p]["seconds"] for p in ("float32", "bfloat16") if bound[p]["seconds"] is not None), default=None
        )
        lines += [
            "",
            f"The bound on warm starts: started from the {bound['from']} final picture (resized, its time not "
            f"counted), 512 px L-BFGS comes within 2 % after {reach(bound['float32'])} in float32 and "
            f"{reach(bound['bfloat16'])} in bfloat16. A coarse-to-fine plan pays at least that at full size"
            + (
                f", so on this CPU no plan of L-BFGS on the pixels reaches the 15 s target ({fastest:.1f} s > 15 s)."
                if fastest is None or fastest > 15
                else "."
            ),
        ]
    return lines + [""]


def convergence_report(c):
    lines = [
        "## When is a picture done? The stopping rule `tol`",
        "",
        f"Measured {c['date']} with `{Path(c['weights']).name}` (`--only convergence`): the seed's {c['steps']} "
        f"steps on each content/style pair (square pictures), the rule `tol` (stop once the best objective "
        f"improved by less than `tol`, relative, over the last {c['window']} steps) replayed on each run's "
        "history (checked against a real run with `tol`). *objective*: the seed objective of the returned 8-bit "
        "picture over that of the full run's; *pixels*: mean and 99th percentile of |difference| from the full "
        "run's picture, in 0..255 levels.",
        "",
        "| pair | px | full run s | " + " | ".join(f"tol {t}: steps / objective / pixels" for t in c["tols"]) + " |",
        "| --- | ---: | ---: | " + " | ".join("---" for _ in c["tols"]) + " |",
    ]
    for run in c["runs"]:
        cells = [
            f"{x['steps']} / {x['objective_ratio']:.3f} / {x['pixel_mean']:.1f}, {x['pixel_p99']:.0f}"
            for x in (run["tols"][t] for t in c["tols"])
        ]
        lines.append(
            f"| {run['content']} / {run['style'].replace('_', ' ')} | {run['size']} | {run['seconds']:.1f} | "
            + " | ".join(cells)
            + " |"
        )
    lines += [
        "",
        "Mean over the runs: "
        + "; ".join(
            f"tol {t}: {sum(r['tols'][t]['steps'] for r in c['runs']) / len(c['runs']):.0f} steps, objective "
            f"+{(sum(r['tols'][t]['objective_ratio'] for r in c['runs']) / len(c['runs']) - 1):.1%}, pixels "
            f"{sum(r['tols'][t]['pixel_mean'] for r in c['runs']) / len(c['runs']):.1f}"
            for t in c["tols"]
        )
        + ".",
        "",
    ]
    return lines


def video_report(v, check):
    m = v["methods"]
    a, b, c = m["independent"], m["warm"], m["temporal"]
    names = {"independent": "(a) independent", "warm": "(b) warm start", "temporal": "(c) warm start + temporal loss"}
    lines = [
        "## Video with temporal coherence (notebook 9)",
        "",
        f"Measured {v['date']} with `{Path(v['weights']).name}` (`--only video`): the bundled clip `camera_move` "
        f"({v['frames']} frames, {v['size'][1]}x{v['size'][0]} px) in the style of {v['style'].replace('_', ' ')}, "
        f"seed configuration, at most {v['steps']} L-BFGS steps per frame, each frame stopped once the objective "
        f"improves by less than {v['tol']:g} over 20 steps; temporal weight {v['temporal_weight']:g}. The methods "
        "use OpenCV's DIS flow; they are judged with the clip's true flow and occlusions. Warping error: mean "
        "|S_t - w(S_t-1)| over the reliable pixels (the content frames themselves: "
        f"{v['content_warping_error']:.4f}, the resampling floor).",
        "",
        "| method | warping error | style loss (mean per frame) | s / frame | steps / frame | steps after frame 1 |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for key, x in m.items():
        lines.append(
            f"| {names[key]} | {x['warping_error']:.4f} | {x['style_loss']:.4g} | "
            f"{x['seconds_per_frame']:.2f} | {x['steps_per_frame']:.0f} | {x['steps_after_first']:.0f} |"
        )
    wr, sr, tr = (
        c["warping_error"] / a["warping_error"],
        c["style_loss"] / a["style_loss"],
        c["seconds_per_frame"] / a["seconds_per_frame"],
    )
    worst = max(x / y for x, y in zip(c["style_losses"], a["style_losses"]))
    lines += [
        "",
        f"Targets, (c) against (a): warping error {wr:.2f}x (target <= 0.3): {check(wr <= 0.3)}; style loss "
        f"{sr:.2f}x (target <= 1.3; worst single frame {worst:.2f}x): {check(sr <= 1.3)}; seconds per frame "
        f"{tr:.2f}x (target <= 1.5): {check(tr <= 1.5)}. Warm starts need {c['steps_after_first']:.0f} steps per "
        f"frame after the first, against {a['steps_after_first']:.0f} from the photo (the optical flow adds "
        f"{c['flow_seconds'] / c['frames']:.2f} s per frame, included in neither column; the warm start alone, "
        f"(b), gives a warping error of {b['warping_error'] / a['warping_error']:.2f}x).",
        "",
        "Warping error per frame pair: "
        + "; ".join(
            f"{names[k].split(' ')[0]} " + ", ".join(f"{e:.3f}" for e in x["warping_errors"]) for k, x in m.items()
        ),
        "",
        "![frames 5 and 6 of each method, and what changed beyond the motion](results/video.png)",
        "",
        "The painted clips: [independent](results/video_independent.gif), [warm start](results/video_warm.gif), "
        "[warm start + temporal loss](results/video_temporal.gif).",
        "",
    ]
    return lines


def sound_report(s, check):
    d, m, c = s["style_distance"], s["mean_spectrum_distance"], s["config"]
    ratio = d["content"] / d["result"]
    load = s["load_average"]
    lines = [
        "## Sound (notebook 12)",
        "",
        f"Measured {s['date']} (`--only sound`; no VGG19): the bundled `{s['content']}` in the style of the "
        f"bundled `{s['style']}`, {s['seconds_of_audio']:g} s each at {c['sample_rate']} Hz, `SoundConfig`'s "
        f"defaults ({c['filters']} random filters x {c['kernel']} frames on a {c['n_fft']}-sample STFT with hop "
        f"{c['hop']}, offset {c['offset']}, alpha {c['content_weight']:g}, beta {c['style_weight']:g}, "
        f"{s['steps']} L-BFGS steps, {c['griffin_lim_iterations']} rounds of Griffin-Lim with momentum "
        f"{c['momentum']:g}), torch with {s['threads']} threads, after a warm-up call. The machine is shared: "
        f"its load average (1, 5, 15 min) was "
        f"{load[0]:.1f}, {load[1]:.1f}, {load[2]:.1f} before and {load[3]:.1f}, {load[4]:.1f}, {load[5]:.1f} "
        "after, on 2 cores, so the seconds are those of a busy machine.",
        "",
        "| part | seconds |",
        "| --- | ---: |",
        f"| the whole call (`stylize_sound`) | {s['wall_seconds']:.1f} |",
        f"| optimisation, {s['steps']} steps ({s['seconds_per_step']:.2f} s a step) | {s['optimize_seconds']:.1f} |",
        f"| Griffin-Lim | {s['griffin_lim_seconds']:.1f} |",
    ]
    one = s.get("one_thread")
    if one:
        lines += [
            f"| the whole call with one torch thread | {one['wall_seconds']:.1f} |",
            f"| optimisation with one thread | {one['optimize_seconds']:.1f} |",
            f"| Griffin-Lim with one thread | {one['griffin_lim_seconds']:.1f} |",
        ]
    best = min(s["wall_seconds"], one["wall_seconds"]) if one else s["wall_seconds"]
    lines += [
        "",
        f"A {s['seconds_of_audio']:g} s clip at the defaults within 60 s: {check(s['wall_seconds'] <= 60)} "
        f"with {s['threads']} threads"
        + (f", {check(one['wall_seconds'] <= 60)} with one" if one else "")
        + f" (best {best:.0f} s).",
        "",
    ]
    lines += [
        "Style distance to the rain (the unweighted style loss: mean squared difference of the random "
        "network's Gram matrices):",
        "",
        "| spectrogram | style distance |",
        "| --- | ---: |",
        f"| content (melody) | {d['content']:.3g} |",
        f"| optimised | {d['optimised']:.3g} |",
        f"| heard (the result's waveform, analysed again) | {d['result']:.3g} |",
        f"| the rain's two halves, against each other | {d.get('style_itself', float('nan')):.3g} |",
        "",
        f"The heard result is {ratio:.0f}x closer to the rain than the melody is (target: much closer): "
        f"{check(ratio >= 5)}. Time-averaged log-spectrum, RMS distance to the rain's: melody "
        f"{m['content']:.3f}, result {m['result']:.3f}. Loudness (RMS): "
        + ", ".join(f"{k} {v:.1f} dBFS" for k, v in s["rms_db"].items())
        + "; samples at full scale: "
        + ", ".join(f"{k} {v:.2%}" for k, v in s["clipped"].items())
        + ".",
        "",
        f"Griffin-Lim's spectral convergence (|| |STFT(y)| - target || / || target ||): "
        f"{s['known_signal']['spectral_convergence']:.3f} on a known signal (the melody's own magnitude; "
        f"{s['known_signal']['without_momentum']:.3f} without momentum; {s['known_signal']['rounds']} rounds in "
        f"{s['known_signal']['seconds']:.1f} s), {s['spectral_convergence']:.3f} on the optimised spectrogram, "
        "where it levels off: that part of the optimised magnitude is not the spectrogram of any waveform.",
        "",
        "![content, style, optimised and heard spectrograms](results/sound.png)",
        "",
        "The result: [results/sound_melody_rain.wav](results/sound_melody_rain.wav).",
        "",
    ]
    return lines


def paper_report(n, check):
    t, d, load = n["seconds"], n["picture_difference"], n["load_average"]
    layers = list(n["shares"]["raw"])
    lines = [
        "## The paper's normalised network (notebook 7)",
        "",
        f"Measured {n['date']} with `{n['weights']}` (`--only paper`), torch with {n['threads']} threads; load "
        f"average (1, 5, 15 min) {load[0]:.1f}, {load[1]:.1f}, {load[2]:.1f} before and {load[3]:.1f}, "
        f"{load[4]:.1f}, {load[5]:.1f} after, on 2 cores. The network: {n['network']}.",
        "",
        f"Loading VGG19 with `normalize=True`: {t['first']:.1f} s the first time (one pass over "
        f"{n['calibration']}), {t['disk']:.1f} s from the disk cache, {t['memory']:.1f} s from memory, against "
        f"{t['raw']:.1f} s for the raw network (the weights already read). {n['rare_total']} of {n['filters']} "
        f"filters fire too rarely on the photos to be measured by their mean ({n['never_fired']} never fire) and are "
        f"divided by 1/100 of their input's size instead: " + ", ".join(f"{k} {v}" for k, v in n["rare"].items()) + ".",
        "",
        f"The `gatys` preset ({n['size']} px, {n['steps']} steps, the bundled cat and The Starry Night) with the "
        f"weights and with a copy whose filters are rescaled by factors between {n['factors'][0]:g} and "
        f"{n['factors'][1]:g} (the same network up to one factor per channel); mean difference of the two pictures "
        "in levels of 255, and the same for a copy that differs only by float32 rounding:",
        "",
        "| network | rescaled copy | float32 rounding only |",
        "| --- | ---: | ---: |",
        f"| raw (the preset's objective, `normalize_network=False`) | {d['raw']['rescaled']:.1f} | "
        f"{d['raw']['rounded']:.1f} |",
        f"| normalised (the `gatys` preset) | {d['normalized']['rescaled']:.1f} | {d['normalized']['rounded']:.1f} |",
        "",
        f"Same picture from the rescaled copy on the normalised network (target <= 3 levels): "
        f"{check(d['normalized']['rescaled'] <= 3)}. On the normalised network the rescaled copy moves the picture "
        f"{d['normalized']['rescaled'] / max(d['normalized']['rounded'], 1e-9):.1f} times as much as float32 rounding "
        f"alone does; on the raw network {d['raw']['rescaled'] / max(d['raw']['rounded'], 1e-9):.0f} times. Sixty "
        "L-BFGS steps amplify any change, on the normalised network more than on the raw one (its floor is "
        "higher).",
        "",
        "Each style layer's share of the preset's style loss (sum of w_l E_l) between the photo and the painting "
        "at 128 px, average pooling:",
        "",
        "| network | " + " | ".join(layers) + " |",
        "| --- | " + " | ".join("---:" for _ in layers) + " |",
        "| raw | " + " | ".join(f"{n['shares']['raw'][k]:.1%}" for k in layers) + " |",
        "| normalised | " + " | ".join(f"{n['shares']['normalized'][k]:.1%}" for k in layers) + " |",
        "",
    ]
    return lines


def balance_report(b, check):
    rows, load = b["rows"], b["load_average"]
    rules = list(dict.fromkeys(r["rule"] for r in rows))
    blends = list(dict.fromkeys(tuple(r["blend"]) for r in rows))
    pairs = list(dict.fromkeys(tuple(r["pair"]) for r in rows))
    lines = [
        "## Balancing several styles (notebook 7)",
        "",
        f"Measured {b['date']} with `{b['weights']}` (`--only balance`), torch with {b['threads']} threads; load "
        f"average {load[0]:.1f}, {load[1]:.1f}, {load[2]:.1f} before and {load[3]:.1f}, {load[4]:.1f}, "
        f"{load[5]:.1f} after, on 2 cores. The bundled `{b['content']}` at {b['size']} px, the seed configuration "
        f"stopped at tol {b['tol']:g}, {len(pairs)} pairs of style images ("
        + "; ".join(f"{x} + {y}" for x, y in pairs)
        + ") in blends "
        + ", ".join(f"({x:g}, {y:g})" for x, y in blends)
        + ". A style's share: what the blend removed of its loss, relative to what a run with that style alone "
        "removed, as a fraction of the two styles' sum (`benchmarks/balance.py`). The gap: |share of the first "
        "style - its blend weight|, in points of share.",
        "",
        "| rule | mean gap | largest gap | mean seconds | mean steps |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    summary = {}
    for rule in rules:
        mine = [r for r in rows if r["rule"] == rule]
        gaps = [r["gap"] for r in mine]
        summary[rule] = sum(gaps) / len(gaps)
        lines.append(
            f"| {rule} | {100 * summary[rule]:.1f} | {100 * max(gaps):.1f} | "
            f"{sum(r['seconds'] for r in mine) / len(mine):.1f} | {sum(r['steps'] for r in mine) / len(mine):.0f} |"
        )
    lines += ["", "Each run: the first style's share (the blend asks for its first weight).", ""]
    lines += [
        "| pair | blend | " + " | ".join(rules) + " |",
        "| --- | --- | " + " | ".join("---:" for _ in rules) + " |",
    ]
    for pair in pairs:
        for blend in blends:
            cells = []
            for rule in rules:
                r = next(
                    r for r in rows if tuple(r["pair"]) == pair and tuple(r["blend"]) == blend and r["rule"] == rule
                )
                cells.append(f"{r['share']:.2f}")
            lines.append(f"| {pair[0]} + {pair[1]} | ({blend[0]:g}, {blend[1]:g}) | " + " | ".join(cells) + " |")
    best = min(summary, key=summary.get)
    lines += [
        "",
        f"Closest to the blend on average: {best} (mean gap {100 * summary[best]:.1f} points).",
        "",
        "![the first pair under every rule and blend](results/balance.png)",
        "",
    ]
    return lines


def realtime_report(x, check):
    n, t, load = x["networks"], x["training"], x["load_average"]
    from benchmarks.realtime import label, style_lost

    chosen = x["temporal_choice"]
    names = {key: label(key, row, chosen) for key, row in n.items()}
    lines = [
        "## Real-time style with a critic, and on video (notebooks 8 and 9, issue 31)",
        "",
        f"Measured {x['date']} with `{Path(x['weights']).name}` (`--only realtime`; a VGG19-shaped network whose "
        f"weights are not ImageNet's): {len(n)} networks ({n['gram']['network']}) trained alike on the bundled photos "
        f"in the style of {x['style'].replace('_', ' ')} ({t['steps']} steps of {t['batch_size']} crops of "
        f"{t['crop']} px, the painting at {t['style_size']} px, the same seed"
        + (" but for (a')" if "gram_seed" in n else "")
        + "): (a) the course's "
        "objective"
        + (
            f" (and (a') the same from seed {n['gram_seed']['seed']}, which shows how far chance alone moves a "
            "plain network)"
            if "gram_seed" in n
            else ""
        )
        + ", (b) "
        f"plus a patch discriminator's adversarial loss with weight {x['adversarial_weight']:g}, (c) plus the "
        "temporal loss on pairs of crops related by synthetic motion, with weights "
        + ", ".join(f"{w:g}" for w in x["temporal_weights"])
        + ". "
        f"Torch with {x['threads']} thread(s); the machine's load average (1, 5, 15 min) was "
        f"{load[0]:.1f}, {load[1]:.1f}, {load[2]:.1f} before and {load[3]:.1f}, {load[4]:.1f}, {load[5]:.1f} after, "
        "on 2 cores: the seconds and frames per second are those of that machine.",
        "",
        f"Held-out photos at {x['size']} px, against the seed's 300 L-BFGS steps ({x['lbfgs_source']}), seed "
        "objective on the saved 8-bit pictures:",
        "",
        "| network | training s | "
        + " | ".join(f"{stem} content / style ratio" for stem in x["lbfgs"])
        + " | clip: warping error | clip: style loss | 256 px frames/s float32 | 256 px frames/s auto |",
        "| --- | ---: | " + " | ".join("---:" for _ in x["lbfgs"]) + " | ---: | ---: | ---: | ---: |",
    ]
    for key, row in n.items():
        ratios = " | ".join(
            f"{row['photos'][s]['content_ratio']:.2f} / {row['photos'][s]['style_ratio']:.2f}" for s in x["lbfgs"]
        )
        c, f = row["clip_128"], row["clip_256"]
        lines.append(
            f"| {names[key]} | {row['train_seconds']:.0f} | {ratios} | {c['warping_error']:.4f} | "
            f"{c['style_loss']:.4g} | {f['float32']['frames_per_second']:.1f} | "
            f"{f['auto']['frames_per_second']:.1f} ({f['auto']['precision']}) |"
        )
    a, b, c = n["gram"], n["critic"], n[chosen]

    def worst(row, key):
        return max(p[key] for p in row["photos"].values())

    held = worst(c, "style_ratio") / worst(a, "style_ratio")

    wins = worst(b, "style_ratio") < worst(a, "style_ratio") and worst(b, "content_ratio") <= worst(a, "content_ratio")
    wr = c["clip_128"]["warping_error"] / a["clip_128"]["warping_error"]
    sr = c["clip_128"]["style_loss"] / a["clip_128"]["style_loss"]
    fps = c["clip_256"]["auto"]["frames_per_second"]
    lines += [
        "",
        f"The critic against the Gram-only network: worst style ratio {worst(b, 'style_ratio'):.2f} against "
        f"{worst(a, 'style_ratio'):.2f}, worst content ratio {worst(b, 'content_ratio'):.2f} against "
        f"{worst(a, 'content_ratio'):.2f}, training {b['train_seconds'] / a['train_seconds']:.2f}x the time: "
        + ("it wins on both" if wins else "it does not win, so it stays off by default")
        + ".",
        "",
        f"The temporal term against (a) on the clip (`camera_move`, {x['clip']['frames']} frames at "
        f"{x['clip']['size_128'][1]}x{x['clip']['size_128'][0]} px, the clip's true flow): the target is a warping "
        f"error at most {x['warping_target']:g}x (a)'s at the same style, taken as a style loss on the clip and a "
        f"worst held-out style ratio both within {x['style_kept']:g}x of (a)'s. Warping error and style lost "
        "(the larger of those two ratios) for each weight: "
        + ", ".join(
            f"{r['temporal_weight']:g}: {r['clip_128']['warping_error'] / a['clip_128']['warping_error']:.2f}x and "
            f"{style_lost(r, a):.2f}x"
            for k, r in n.items()
            if k.startswith("temporal_")
        )
        + f". Of the weights that reach the warping target, {c['temporal_weight']:g} loses the least style: "
        f"warping error {wr:.2f}x, style loss on the clip {sr:.2f}x, worst held-out style ratio {held:.2f}x: "
        f"{check(wr <= x['warping_target'] and sr <= x['style_kept'] and held <= x['style_kept'])}. At "
        f"{x['clip_256'][1]}x{x['clip_256'][0]} px it paints {fps:.1f} frames per second in "
        f"{c['clip_256']['auto']['precision']} ({c['clip_256']['float32']['frames_per_second']:.1f} in float32; "
        f"target >= 20): {check(fps >= 20)}. "
        f"The content frames' own warping error (the resampling floor): {x['content_warping_error']:.4f}.",
        "",
    ]
    if "gram_seed" in n:
        s2 = n["gram_seed"]
        lines += [
            f"Chance alone: (a') differs from (a) only in its seed; its warping error is "
            f"{s2['clip_128']['warping_error'] / a['clip_128']['warping_error']:.2f}x (a)'s and its style lost "
            f"{style_lost(s2, a):.2f}x (worst held-out style ratio {worst(s2, 'style_ratio'):.2f} against "
            f"{worst(a, 'style_ratio'):.2f}). Differences between networks smaller than these are within what a "
            "second seed would move.",
            "",
        ]
    if "chosen_seed" in n and "gram_seed" in n:
        c2, a2 = n["chosen_seed"], n["gram_seed"]
        wr2 = c2["clip_128"]["warping_error"] / a2["clip_128"]["warping_error"]
        lost2 = style_lost(c2, a2)
        lines += [
            f"The chosen weight once more from seed {c2['seed']} ((c')), against the plain network from that seed "
            f"((a')): warping error {wr2:.2f}x (target {x['warping_target']:g}x: "
            f"{check(wr2 <= x['warping_target'])}), style lost {lost2:.2f}x (target {x['style_kept']:g}x: "
            f"{check(lost2 <= x['style_kept'])}). A seed moves a network along the trade between steadiness and "
            "style (as (a') against (a) shows): the target holds for this weight from the first seed, and "
            + (
                "from the second too."
                if wr2 <= x["warping_target"] and lost2 <= x["style_kept"]
                else "not from the second."
            ),
            "",
        ]
    fa = [r["clip_256"]["auto"]["frames_per_second"] for r in n.values()]
    f32 = [r["clip_256"]["float32"]["frames_per_second"] for r in n.values()]
    lines += [
        "All the networks have one architecture, so their frames per second differ only by the machine's moment: "
        f"{min(fa):.1f} to {max(fa):.1f} in {c['clip_256']['auto']['precision']}, {min(f32):.1f} to "
        f"{max(f32):.1f} in float32.",
        "",
    ]
    if x.get("chapter9"):
        lines += [
            f"Beside chapter 9's optimisation methods on the same clip at {x['chapter9_size'][1]}x"
            f"{x['chapter9_size'][0]} px (`--only video`, results/latest.json; their seconds per frame under that "
            "run's load):",
            "",
            "| method | warping error | style loss | s / frame |",
            "| --- | ---: | ---: | ---: |",
        ]
        for key, m in x["chapter9"].items():
            lines.append(f"| {key} | {m['warping_error']:.4f} | {m['style_loss']:.4g} | {m['seconds_per_frame']:.2f} |")
        for key, row in n.items():
            per = 1 / row["clip_256"]["auto"]["frames_per_second"]
            lines.append(
                f"| network {names[key]} | {row['clip_128']['warping_error']:.4f} | "
                f"{row['clip_128']['style_loss']:.4g} | {per:.3f} (at 256 px) |"
            )
        lines.append("")
    lines += [
        "![held-out photos: each network](results/realtime.png)",
        "",
        "![frames 5 and 6 of each network's clip, and what changed beyond the motion](results/realtime_video.png)",
        "",
        "The painted clips: "
        + ", ".join(f"[{names[k]}](results/realtime_{k}.gif)" for k in n if k != "chosen_seed")
        + ".",
        "",
    ]
    return lines


def statistics_report(s):
    load = s["load_average"]
    names = {"vgg19": "VGG19, loaded weights", "vgg19_random": "VGG19, random weights", "shallow": "shallow, random"}
    pairs = ", ".join(f"{Path(c).stem} / {Path(p).stem}" for c, p in s["pairs"])
    lines = [
        "## What is style? Statistics and networks judged fairly (notebook 10)",
        "",
        f"Measured {s['date']} (`--only statistics`; VGG19's loaded weights from "
        f"`{Path(s['weights'].strip(chr(39))).name}`): "
        f"{len(s['pairs'])} photo / painting pairs ({pairs}) at {s['size']} px, seeds "
        f"{', '.join(map(str, s['seeds']))}; each objective calibrated (both terms 1 at the start, style weighted "
        f"{s['ratio']:g} times content), L-BFGS from the photo until tol {s['tol']:g} or {s['steps']} steps; torch "
        f"with {s['threads']} threads, load average (1, 5, 15 min) {load[0]:.1f}, {load[1]:.1f}, {load[2]:.1f} "
        f"before and {load[3]:.1f}, {load[4]:.1f}, {load[5]:.1f} after ({s['wall_seconds'] / 60:.0f} min in all).",
        "",
        "*Style distance*: a picture's distance to the painting relative to the photo's (1: as far as the photo, "
        "0: as near as the painting), under each statistic, averaged over the networks the picture was **not** "
        "optimised in (*fair*); *self*: its own statistic in its own network. *Content kept*: 1 - its content "
        "distance to the photo (relu4_2) over the painting's, in the other networks. *Spread*: the seed-to-seed "
        "standard deviation of the fair distance (0 where nothing is random: the loaded VGG19 with the Gram, "
        "mean/std or patch statistic, started from the photo). *vs Gram/VGG19*: the mean paired difference of the "
        "fair distance from the Gram statistic in VGG19 (+- its standard error over pairs and seeds); **bold** "
        "where it is more than twice that, more than twice the seed-to-seed spread of a difference and at least "
        "0.005: larger than the noise. A picture's own network is left out of its judges, so rows of different "
        "networks are judged by different pairs of networks: compare statistics within a network first.",
        "",
        f"| statistic | network | s (to tol or {s['steps']} steps) | steps | converged | content kept | self | fair "
        "| by Gram | by mean/std | by sliced W. | by patch | spread | vs Gram/VGG19 |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for c in s["cells"]:
        j = c["by_judge"]
        vs = f"{c['vs_reference']:+.3f} +- {c['vs_reference_se']:.3f}"
        lines.append(
            f"| {c['statistic']} | {names.get(c['network'], c['network'])} | {c['seconds']:.1f} | {c['steps']:.0f} "
            f"| {c['converged']}/{c['runs']} | {c['content_kept']:.2f} | {c['self_style']:.3f} | {c['fair_style']:.3f} "
            f"| {j['gram']:.3f} "
            f"| {j['mean_std']:.3f} | {j['sliced_wasserstein']:.3f} | {j['patch']:.3f} | {c['seed_spread']:.3f} "
            f"| {'**' + vs + '**' if c['beyond_noise'] else vs} |"
        )
    lines += [
        "",
        "![the first pair under every statistic and network](results/statistics.png)",
        "",
    ]
    return lines


if __name__ == "__main__":
    main()
