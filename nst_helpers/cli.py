"""The command line: ``python -m nst_helpers CONTENT STYLE [STYLE ...] -o OUT``.

Every problem with the input is found before the long work starts and reported as one line on
stderr (exit status 2); inputs (images, mask, weights file) are never overwritten, and an existing
output only with ``--force``. Ctrl-C saves the best picture so far and exits with 130. The
algorithm's options are made from ``StyleConfig``'s fields, so each is written once, in ``config.py``.
"""

import argparse
import json
import signal
import sys
import time
import warnings
from dataclasses import fields

from .errors import NSTError

PROG = "python -m nst_helpers"
EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_TERMINATED = 2, 130, 143


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not usage + error
        raise NSTError(f"{message} (see {PROG} --help)")


def _config_options(parser, config_class):
    """One option per ``StyleConfig`` field that has a ``help``: ``--style-weight`` for ``style_weight``.
    Values are passed on as text and checked by the configuration itself."""
    group = parser.add_argument_group("algorithm (defaults come from --preset)")
    for f in fields(config_class):
        if not f.metadata:
            continue
        meta, flag = f.metadata, "--" + f.name.replace("_", "-")
        kind = meta["kind"]
        if kind == "flag":
            group.add_argument(flag, action="store_true", default=None, help=meta["help"])
        elif kind == "list":
            group.add_argument(flag, nargs="+", metavar=meta.get("metavar"), help=meta["help"])
        elif "choices" in meta:
            group.add_argument(flag, choices=meta["choices"], help=meta["help"])
        else:
            group.add_argument(flag, metavar=meta.get("metavar"), help=meta["help"])


def build_parser():
    from .checks import MAX_SIZE, MAX_STEPS, MAX_WEIGHT, MIN_SIZE
    from .config import PRESETS, StyleConfig, describe_presets
    from .images import EXAMPLES

    p = _Parser(
        prog=PROG,
        description="Neural style transfer (Gatys et al.): paint CONTENT in the style of one or more STYLE images. "
                    "With no images it paints the bundled cat photo in the style of The Starry Night.",
        epilog="presets:\n" + describe_presets() + "\n\nbundled examples (usable as image names): "
               + ", ".join(EXAMPLES)
               + f"\n\nlimits: sizes {MIN_SIZE}..{MAX_SIZE} px (style images too, after --style-scale), at most "
                 f"{MAX_STEPS} steps, weights 0..{MAX_WEIGHT:g}; a run that would not fit in the free memory is "
                 f"refused before it starts.\nexit status: 0 done, 2 bad input (one line on stderr, nothing "
                 f"written), 130 interrupted by Ctrl-C (the best picture so far is saved), 143 terminated.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("images", nargs="*", metavar="IMAGE", help="CONTENT then one or more STYLE images "
                   "(paths or bundled example names)")
    p.add_argument("-o", "--output", default="stylized.png", help="output image (.png, .jpg, or another format "
                   "Pillow writes; default %(default)s)")
    p.add_argument("--force", action="store_true", help="replace OUTPUT (and --report) if they exist")
    p.add_argument("--preset", default="seed", choices=sorted(PRESETS), help="configuration (default %(default)s)")
    p.add_argument("--mask", metavar="IMAGE", help="with two styles: white areas get the first, black the second")
    p.add_argument("--weights", help="VGG19 weights: a .pth file or 'random' (default: $NST_VGG19_WEIGHTS, "
                   "else torchvision's, downloaded once)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps (default auto)")
    p.add_argument("--report", metavar="FILE.json", help="write timings and final losses as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress bar or log lines")
    _config_options(p, StyleConfig)
    return p


def _overrides(args):
    from .config import OPTIONS

    return {name: getattr(args, name) for name in OPTIONS if getattr(args, name, None) is not None}


def run(argv=None):
    """Parse ``argv``, stylise, save; returns the exit status."""
    from . import files
    from .config import make_config
    from .devices import resolve_device
    from .images import DEFAULT_CONTENT, DEFAULT_STYLES, image_format, save_image, source_path
    from .memory import peak_memory_mb
    from .objective import PARTS
    from .transfer import stylize
    from .weights import weights_file

    args = build_parser().parse_args(argv)
    config = make_config(args.preset, **_overrides(args))
    images = args.images or [DEFAULT_CONTENT, *DEFAULT_STYLES]
    if len(images) < 2:
        raise NSTError("give a content image and at least one style image (or no images for the bundled example)")
    content, styles = images[0], images[1:]
    config.blend_for(len(styles))
    if args.mask is not None and len(styles) != 2:
        raise NSTError(f"--mask splits the picture between two style images, but {len(styles)} were given")
    files.as_path(args.output, "output")
    image_format(args.output)
    inputs = [source_path(name, "input image") for name in images]
    if args.mask:
        inputs.append(source_path(args.mask, "mask image"))
    inputs.append(weights_file(args.weights))
    output = files.check_output(args.output, inputs, args.force, "output")
    report = None
    if args.report:
        report = files.as_path(args.report, "report")
        if files.same_file(report, output):
            raise NSTError("--report and --output name the same file: choose two names")
        if report.suffix.lower() in (".pth", ".pt") or image_format_or_none(report):
            raise NSTError(f"--report {str(report)[:80]!r} looks like an image or weights file: end its name in .json")
        files.check_output(report, inputs, args.force, "report")
    device = resolve_device(args.device)

    start = time.perf_counter()
    result = stylize(content, styles, config, mask=args.mask, weights=args.weights, device=device,
                     progress=not args.quiet)
    save_image(result.image, output, overwrite=True, protect=inputs)
    interrupted = result.stopped == "interrupted"
    if interrupted:
        print(f"nst_helpers: interrupted after {result.evaluations} steps: saved the best picture so far to "
              f"{output}", file=sys.stderr)
    elif not args.quiet:
        print(f"saved {output} ({result.evaluations} steps, {result.seconds:.1f} s)")
    if report is not None:
        losses = result.losses
        data = {
            "output": str(output), "content": str(content), "styles": [str(s) for s in styles],
            "seconds": result.seconds, "wall_seconds": time.perf_counter() - start,
            "evaluations": result.evaluations, "size": result.config["output_size"],
            "peak_memory_mb": peak_memory_mb(result.config["device"]),
            "device": result.config["device"], "stopped": result.stopped,
            "losses": {k: losses.get(k) for k in PARTS},
            "config": result.config,
        }
        files.check_output(report, inputs, True, "report")
        files.write_text(report, json.dumps(data, indent=2, default=str))
    if interrupted:
        return EXIT_TERMINATED if _terminated else EXIT_INTERRUPTED
    return 0


def image_format_or_none(path):
    from .images import writable_formats

    return writable_formats().get(path.suffix.lower())


_terminated = False


def _on_sigterm(signum, frame):
    """SIGTERM ends a run like Ctrl-C: the best picture is saved and temporary files are removed."""
    global _terminated
    _terminated = True
    raise KeyboardInterrupt


def _one_line_warning(message, category, filename, lineno, file=None, line=None):
    text = " ".join(str(message).split())
    print(f"nst_helpers: warning: {text}", file=sys.stderr if file is None else file)


def main(argv=None):
    """The command line's entry point: returns the exit status and never prints a traceback for bad input."""
    try:
        signal.signal(signal.SIGTERM, _on_sigterm)
    except (ValueError, OSError):  # not the main thread
        pass
    warnings.showwarning = _one_line_warning
    try:
        return run(argv)
    except NSTError as err:
        print(f"nst_helpers: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("nst_helpers: interrupted before the optimisation started; nothing was written", file=sys.stderr)
        return EXIT_TERMINATED if _terminated else EXIT_INTERRUPTED
    except MemoryError:
        print("nst_helpers: error: out of memory: use a smaller --size (or --multiscale)", file=sys.stderr)
        return EXIT_BAD_INPUT
