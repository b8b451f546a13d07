"""The command line: ``python -m nst_helpers CONTENT STYLE [STYLE ...] -o OUT``.

Every problem with the input is found before the long work starts and reported as one line on
stderr (exit status 2); inputs are never overwritten, and an existing output only with ``--force``.
"""

import argparse
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

from . import color
from .errors import NSTError
from .images import DEFAULT_CONTENT, DEFAULT_STYLES, EXAMPLES, example_path, save_image
from .optimize import OPTIMIZERS
from .transfer import INITS, PRESETS, describe_presets, stylize

PROG = "python -m nst_helpers"


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not usage + error
        raise NSTError(f"{message} (see {PROG} --help)")


def _number(kind, minimum=None, positive=False):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a valid {kind.__name__}") from None
        if isinstance(value, float) and not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
        if minimum is not None and value < minimum:
            raise argparse.ArgumentTypeError(f"{text!r} must be at least {minimum}")
        if positive and value <= 0:
            raise argparse.ArgumentTypeError(f"{text!r} must be greater than 0")
        return value

    parse.__name__ = kind.__name__
    return parse


def _size(text):
    parts = text.lower().split("x")
    if len(parts) == 2:
        h, w = (_number(int, minimum=1)(p) for p in parts)
        return (h, w)
    return _number(int, minimum=1)(text)


def build_parser():
    p = _Parser(
        prog=PROG,
        description="Neural style transfer (Gatys et al.): paint CONTENT in the style of one or more STYLE images. "
                    "With no images it paints the bundled cat photo in the style of The Starry Night.",
        epilog="presets:\n" + describe_presets() + "\n\nbundled examples (usable as image names): "
               + ", ".join(EXAMPLES),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("images", nargs="*", metavar="IMAGE", help="CONTENT then one or more STYLE images "
                   "(paths or bundled example names)")
    p.add_argument("-o", "--output", default="stylized.png", help="output image (.png or .jpg; default %(default)s)")
    p.add_argument("--force", action="store_true", help="replace OUTPUT (and --report) if they exist")
    p.add_argument("--blend", nargs="+", type=_number(float, minimum=0), metavar="W",
                   help="one weight per style image (normalised to sum 1)")
    p.add_argument("--preset", default="seed", choices=sorted(PRESETS), help="configuration (default %(default)s)")
    p.add_argument("--size", type=_size, help="long side in px, or HxW (default 128 on CPU, 512 on GPU)")
    p.add_argument("--steps", type=_number(int, minimum=1), help="evaluations of the objective (preset: 300)")
    p.add_argument("--content-weight", type=_number(float, minimum=0), metavar="ALPHA")
    p.add_argument("--style-weight", type=_number(float, minimum=0), metavar="BETA")
    p.add_argument("--tv-weight", type=_number(float, minimum=0), help="total-variation weight (smoothness)")
    p.add_argument("--style-scale", type=_number(float, positive=True), default=1.0,
                   help="style image size relative to the output: <1 finer strokes, >1 coarser (default 1)")
    p.add_argument("--preserve-color", choices=color.MODES, help="keep the content's colours")
    p.add_argument("--balance-styles", action="store_true", help="normalise each style's loss by its scale")
    p.add_argument("--multiscale", action="store_true", help="coarse-to-fine: optimise small, then refine")
    p.add_argument("--mask", metavar="IMAGE", help="with two styles: white areas get the first, black the second")
    p.add_argument("--pooling", choices=("max", "avg"), help="VGG pooling (the paper recommends avg)")
    p.add_argument("--init", choices=INITS, help="start from the content image or from noise")
    p.add_argument("--optimizer", choices=OPTIMIZERS)
    p.add_argument("--weights", help="VGG19 weights: a .pth file or 'random' (default: $NST_VGG19_WEIGHTS, "
                   "else torchvision's, downloaded once)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or mps (default auto)")
    p.add_argument("--seed", type=_number(int), default=0)
    p.add_argument("--report", metavar="FILE.json", help="write timings and final losses as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress bar or log lines")
    return p


def _same_file(a, b):
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


def _can_write(folder):
    """Whether a file can be created in ``folder`` (tried for real: permission bits do not tell root)."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def _check_output(path, inputs, force, what):
    folder = path.parent if str(path.parent) else Path(".")
    for src in inputs:
        if _same_file(path, src):
            raise NSTError(f"{what} {str(path)!r} is one of the input images: choose another name (inputs are never overwritten)")
    if not folder.is_dir():
        raise NSTError(f"{what} folder {str(folder)!r} does not exist: create it or choose another path")
    if not _can_write(folder):
        raise NSTError(f"cannot write in {what} folder {str(folder)!r}: choose a folder you can write to")
    if path.is_dir():
        raise NSTError(f"{what} {str(path)!r} is a folder: give a file name")
    if path.exists() and not force:
        raise NSTError(f"{what} {str(path)!r} already exists: pass --force to replace it, or choose another name")


def _input_paths(images):
    paths = []
    for name in images:
        path = Path(name)
        if not path.exists() and name in EXAMPLES:
            path = example_path(name)
        paths.append(path)
    return paths


def run(argv=None):
    """Parse ``argv``, stylise, save; returns the exit status."""
    args = build_parser().parse_args(argv)
    images = args.images or [DEFAULT_CONTENT, *DEFAULT_STYLES]
    if len(images) < 2:
        raise NSTError("give a content image and at least one style image (or no images for the bundled example)")
    content, styles = images[0], images[1:]
    if args.blend is not None and len(args.blend) != len(styles):
        raise NSTError(f"--blend has {len(args.blend)} weights for {len(styles)} style images: give one per style image")
    output = Path(args.output)
    if output.suffix.lower() not in Image.registered_extensions():
        raise NSTError(f"cannot tell the image format of {str(output)!r}: end the name in .png or .jpg")
    if args.mask is not None and len(styles) != 2:
        raise NSTError(f"--mask splits the picture between two style images, but {len(styles)} were given")
    inputs = _input_paths(images) + ([Path(args.mask)] if args.mask else [])
    _check_output(output, inputs, args.force, "output")
    report = Path(args.report) if args.report else None
    if report is not None:
        if _same_file(report, output):
            raise NSTError("--report and --output name the same file: choose two names")
        _check_output(report, inputs, args.force, "report")

    start = time.perf_counter()
    result = stylize(content, styles, preset=args.preset, blend=args.blend, size=args.size, steps=args.steps,
                     content_weight=args.content_weight, style_weight=args.style_weight, tv_weight=args.tv_weight,
                     style_scale=args.style_scale, preserve_color=args.preserve_color,
                     balance_styles=args.balance_styles, multiscale=args.multiscale, mask=args.mask,
                     pooling=args.pooling,
                     init=args.init, optimizer=args.optimizer, weights=args.weights, device=args.device,
                     seed=args.seed, progress=not args.quiet)
    save_image(result.image, output)
    if result.stopped == "interrupted":
        print(f"interrupted after {result.evaluations} steps: saved the best image so far to {output}", file=sys.stderr)
    elif not args.quiet:
        print(f"saved {output} ({result.evaluations} steps, {result.seconds:.1f} s)")
    if report is not None:
        losses = result.losses
        data = {
            "output": str(output), "content": str(content), "styles": [str(s) for s in styles],
            "seconds": result.seconds, "wall_seconds": time.perf_counter() - start,
            "evaluations": result.evaluations, "size": list(result.config["size"]),
            "peak_memory_mb": _peak_memory_mb(result.config["device"]),
            "device": result.config["device"], "stopped": result.stopped,
            "losses": {k: losses.get(k) for k in ("content", "style", "tv", "total")},
            "config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in result.config.items()},
        }
        tmp = report.with_name(f".{report.name}.tmp")
        tmp.write_text(json.dumps(data, indent=2, default=str))
        os.replace(tmp, report)
    return 0


def _peak_memory_mb(device):
    """Peak memory of this run: the GPU's allocator on CUDA, the process's resident size otherwise."""
    import torch

    if device.startswith("cuda"):
        return torch.cuda.max_memory_allocated() / 2**20
    try:
        import resource
    except ImportError:  # Windows
        return None
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (2**20 if sys.platform == "darwin" else 2**10)


def main(argv=None):
    try:
        return run(argv)
    except NSTError as err:
        print(f"nst_helpers: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("nst_helpers: interrupted before the optimisation started; nothing was written", file=sys.stderr)
        return 130
