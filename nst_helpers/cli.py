"""The command line: ``python -m nst_helpers CONTENT STYLE [STYLE ...] -o OUT``, two commands for the
real-time networks of notebook 8 (``feedforward.py``) and one for clips (notebook 9, ``video.py``)::

    python -m nst_helpers train STYLE [--images DIR] -o network.pt
    python -m nst_helpers apply network.pt PHOTO [PHOTO ...] -o OUT
    python -m nst_helpers video CLIP STYLE [STYLE ...] -o OUT.mp4
    python -m nst_helpers demo -o outputs/demo.png      # make demo: what the course can do here, in a minute
    python -m nst_helpers sound CONTENT STYLE -o OUT.wav       (notebook 12, ``sound/``)

The commands are argparse sub-commands (``stylize``, ``train``, ``apply``, ``video``, ``sound``, ``demo``),
sharing their
common options through parent parsers; ``stylize`` is the default, so ``python -m nst_helpers
CONTENT STYLE`` stylises (a content image file called ``train`` is still reachable as ``./train``).

Every problem with the input is found before the long work starts and reported as one line on
stderr (exit status 2; ``main`` prints it, made one printable line by ``errors.one_line``, and turns
running out of memory into such a line too); inputs (images, mask, weights file) are never overwritten,
and an existing output only with ``--force``. Ctrl-C saves the best picture so far and exits with 130
(143 for SIGTERM): the first signal stops the run, later ones wait until it has saved what it had (a
save is never cut short), and the last line says what is on disk. ``exit_status`` decides every exit
status. The algorithm's options are made from the configurations' fields (``StyleConfig``, ``TrainConfig``,
``VideoConfig``, ``SoundConfig``), so each is written once, beside the field.
"""

import argparse
import json
import signal
import sys
import time
import warnings
from dataclasses import fields

from .errors import NSTError, is_out_of_memory, one_line

PROG = "python -m nst_helpers"
EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_TERMINATED = 2, 130, 143


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not usage + error
        raise NSTError(f"{message} (see {PROG} --help)")


def _config_options(
    parser, config_class, only=None, title="algorithm (defaults come from --preset)", exclude=(), defaults=None
):
    """One option per field of a configuration dataclass (``StyleConfig``, ``TrainConfig``, ``VideoConfig``)
    that has a ``help``: ``--style-weight`` for ``style_weight`` (``only``: just these fields; ``exclude``:
    not these). ``defaults``: a configuration whose values the help shows. Values are passed on as text and
    checked by the configuration itself; an option not given is None, so the configuration's own default
    (or the preset's) applies."""
    group = parser.add_argument_group(title)
    for f in fields(config_class):
        if not f.metadata or (only is not None and f.name not in only) or f.name in exclude:
            continue
        meta, flag = f.metadata, "--" + f.name.replace("_", "-")
        text = meta["help"]
        if defaults is not None and getattr(defaults, f.name) is not None:
            value = getattr(defaults, f.name)
            text += f" (default {value:g})" if isinstance(value, float) else f" (default {value})"
        kind = meta["kind"]
        if kind == "flag":
            group.add_argument(flag, action=argparse.BooleanOptionalAction, default=None, help=text)
        elif kind == "list":
            group.add_argument(flag, nargs="+", metavar=meta.get("metavar"), help=text)
        elif "choices" in meta:
            group.add_argument(flag, choices=meta["choices"], help=text)
        else:
            group.add_argument(flag, metavar=meta.get("metavar"), help=text)


def _given(args, names):
    """The options of ``names`` that were given on the command line (the rest are None)."""
    return {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}


def _parents():
    """The options every command shares, written once: (run options, VGG19 options)."""
    run = argparse.ArgumentParser(add_help=False)
    run.add_argument("--force", action="store_true", help="replace outputs (and --report) that exist")
    run.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps (default auto)")
    run.add_argument("--quiet", action="store_true", help="no progress bar, log or summary line")
    vgg = argparse.ArgumentParser(add_help=False)
    vgg.add_argument(
        "--weights",
        help="VGG19 weights: a .pth file or 'random' (default: $NST_VGG19_WEIGHTS, "
        "else torchvision's, downloaded once)",
    )
    return run, vgg


def build_parser():
    """The command line: one sub-command each for stylise (the default), train, apply and video."""
    parser = _Parser(prog=PROG, description="Neural style transfer (Gatys et al.) and its applications.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    parents = _parents()
    for add in (_add_stylize, _add_train, _add_apply, _add_video, _add_sound, _add_demo):
        add(commands, parents)
    return parser


def _add_stylize(commands, parents):
    from .checks import MAX_SIZE, MAX_STEPS, MAX_WEIGHT, MIN_SIZE
    from .config import PRESETS, StyleConfig, describe_presets
    from .images import EXAMPLES

    p = commands.add_parser(
        "stylize",
        prog=PROG,
        parents=parents,
        help="paint CONTENT in the style of STYLE (the default command)",
        description="Neural style transfer (Gatys et al.): paint CONTENT in the style of one or more STYLE images. "
        "With no images it paints the bundled cat photo in the style of The Starry Night.\n"
        f"Real-time networks: '{PROG} train --help' and '{PROG} apply --help'; clips: "
        f"'{PROG} video --help'.",
        epilog="presets:\n"
        + describe_presets()
        + "\n\nbundled examples (usable as image names): "
        + ", ".join(EXAMPLES)
        + f"\n\nlimits: sizes {MIN_SIZE}..{MAX_SIZE} px (style images too, after --style-scale), at most "
        f"{MAX_STEPS} steps, weights 0..{MAX_WEIGHT:g}; a run that would not fit in the free memory is "
        f"refused before it starts.\nexit status: 0 done, 2 bad input (one line on stderr, nothing "
        f"written), 130 interrupted by Ctrl-C (the best picture so far is saved), 143 terminated.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.set_defaults(handler=run_stylize)
    p.add_argument(
        "images",
        nargs="*",
        metavar="IMAGE",
        help="CONTENT then one or more STYLE images (paths or bundled example names)",
    )
    p.add_argument(
        "-o",
        "--output",
        default="stylized.png",
        help="output image (.png, .jpg, or another format Pillow writes; default %(default)s)",
    )
    p.add_argument("--preset", default="seed", choices=sorted(PRESETS), help="configuration (default %(default)s)")
    p.add_argument("--mask", metavar="IMAGE", help="with two styles: white areas get the first, black the second")
    p.add_argument("--report", metavar="FILE.json", help="write timings and final losses as JSON")
    _config_options(p, StyleConfig)


def _overrides(args):
    from .config import OPTIONS

    return _given(args, OPTIONS)


COMMANDS = ("stylize", "train", "apply", "video", "sound", "demo")


def run(argv=None):
    """Parse ``argv``, then stylise, train, apply or paint a clip; returns the exit status. Without a
    command name first, the command is ``stylize``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS:
        argv = ["stylize", *argv]
    args = build_parser().parse_args(argv)
    return exit_status(args.handler(args))


def exit_status(stopped):
    """The exit status of a command that ended with ``stopped`` (None: done; "interrupted": Ctrl-C or
    SIGTERM, which saved what it had). Bad input (``NSTError``) is 2, decided in ``main``."""
    if stopped == "interrupted":
        return EXIT_TERMINATED if _terminated else EXIT_INTERRUPTED
    return 0


def run_stylize(args):
    """``python -m nst_helpers CONTENT STYLE ...``: stylise and save; returns how the run stopped."""
    from . import files
    from .config import make_config
    from .devices import resolve_device
    from .images import DEFAULT_CONTENT, DEFAULT_STYLES, image_format, save_image, source_path
    from .memory import peak_memory_mb
    from .objective import PARTS
    from .transfer import stylize
    from .weights import weights_file

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
    report = _report_path(args.report, output, inputs, args.force)
    device = resolve_device(args.device)

    start = time.perf_counter()
    result = stylize(
        content, styles, config, mask=args.mask, weights=args.weights, device=device, progress=not args.quiet
    )
    save_image(result.image, output, overwrite=True, protect=inputs)
    interrupted = result.stopped == "interrupted"
    if interrupted:
        print(
            f"nst_helpers: interrupted after {result.evaluations} steps: saved the best picture so far to {output}",
            file=sys.stderr,
        )
    elif not args.quiet:
        print(f"saved {output} ({result.evaluations} steps, {result.seconds:.1f} s)")
    if report is not None:
        losses = result.losses
        data = {
            "output": str(output),
            "content": str(content),
            "styles": [str(s) for s in styles],
            "seconds": result.seconds,
            "wall_seconds": time.perf_counter() - start,
            "evaluations": result.evaluations,
            "size": result.config["output_size"],
            "peak_memory_mb": peak_memory_mb(result.config["device"]),
            "device": result.config["device"],
            "stopped": result.stopped,
            "losses": {k: losses.get(k) for k in PARTS},
            "network": result.config["network"]["description"],
            "config": result.config,
        }
        _write_report(report, inputs, data)
    return result.stopped if interrupted else None


#: The configuration fields that define a network's training loss (the rest are about optimising pixels).
TRAIN_FIELDS = (
    "content_layers",
    "style_layers",
    "layer_weights",
    "content_weight",
    "style_weight",
    "tv_weight",
    "gram_norm",
    "pooling",
    "style_scale",
)
NETWORK_SUFFIXES = (".pt", ".pth")


def _add_train(commands, parents):
    from .arbitrary import DECODER_PRESETS, DecoderConfig
    from .config import StyleConfig
    from .feedforward import NETWORK_SIZES, TRAIN_PRESETS, TrainConfig

    default, decoder = TRAIN_PRESETS["default"], DECODER_PRESETS["default"]
    p = commands.add_parser(
        "train",
        parents=parents,
        help="train a real-time network for one painting (notebook 8)",
        description="Train a network that paints any photo in the style of STYLE in one pass (Johnson et al. "
        "2016), with the course's content, style and TV losses. Without --images it trains on the "
        "bundled photos.",
        epilog="network sizes: "
        + ", ".join(f"{k} (width {w}, {d} residual blocks)" for k, (w, d) in NETWORK_SIZES.items())
        + f"\nloss: the seed preset's objective with style weight {default.style_weight:g}, half the seed's (a "
        "network that paints every photo keeps content and style in better balance with it), unless the "
        "loss options change it."
        f"\n--arbitrary: a decoder for AdaIN (Huang and Belongie 2017) trained on photos alone; its defaults: "
        f"layer {decoder.layer}, width {decoder.width}, {decoder.steps} steps of {decoder.batch_size} crops of "
        f"{decoder.crop} px, lr {decoder.lr:g}, style weight {decoder.style_weight:g} (with --styles)."
        "\nThe network file is written every --checkpoint-every steps and at the end; Ctrl-C stops "
        "training and keeps it usable (exit status 130)."
        "\nSeveral processes: torchrun --nproc_per_node N -m nst_helpers train ... (DistributedDataParallel: "
        "gloo on CPUs, NCCL on GPUs; each process its own crops, only the first writes).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.set_defaults(handler=run_train)
    p.add_argument(
        "style",
        nargs="?",
        metavar="STYLE",
        help="the painting (a path or a bundled example name); none with --arbitrary",
    )
    p.add_argument("--images", metavar="DIR", help="a folder of training photos (default: the bundled ones)")
    p.add_argument(
        "--arbitrary",
        action="store_true",
        help="train a decoder for AdaIN instead (notebook 11): it paints any painting given to apply --style",
    )
    p.add_argument(
        "--styles", metavar="DIR", help="with --arbitrary: paintings to fine-tune with AdaIN's losses (default: none)"
    )
    p.add_argument("-o", "--output", default="network.pt", help="the network file to write (.pt; default %(default)s)")
    p.add_argument(
        "--preview-dir", metavar="DIR", help="save a preview of a held-out photo there every --preview-every steps"
    )
    # TrainConfig's style_weight is the default objective's beta: the loss group's --style-weight sets it
    _config_options(
        p,
        TrainConfig,
        exclude=("style_weight",),
        defaults=default,
        title="training (TrainConfig; defaults from its 'default' preset)",
    )
    _config_options(p, StyleConfig, only=TRAIN_FIELDS, title="loss (the course's objective)")
    _config_options(
        p,
        DecoderConfig,
        only=("layer", "feature_weight", "colour_jitter"),
        defaults=DECODER_PRESETS["default"],
        title="arbitrary style (train --arbitrary; DecoderConfig, whose other fields are the options above)",
    )


def _network_output(path, inputs, force):
    from . import files

    out = files.as_path(path, "network file")
    if out.suffix.lower() not in NETWORK_SUFFIXES:
        raise NSTError(f"network file {str(out)[:80]!r} should end in .pt: choose a name like network.pt")
    return files.check_output(out, inputs, force, "network file")


def run_train(args):
    """``python -m nst_helpers train STYLE [--images DIR] -o network.pt``; returns how training stopped."""
    from . import files
    from .devices import resolve_device
    from .feedforward import (
        TRAIN_OPTIONS,
        apply_network,
        bundled_photos,
        make_train_config,
        train_network,
        training_config,
    )
    from .images import image_files, save_image, source_path
    from .weights import weights_file

    if args.arbitrary:
        return run_train_arbitrary(args)
    if args.styles or args.layer or args.feature_weight or args.colour_jitter:
        raise NSTError("--styles, --layer, --feature-weight and --colour-jitter are for train --arbitrary")
    if args.style is None:
        raise NSTError("give the painting to train for (STYLE), or --arbitrary to train a decoder for any painting")
    training = make_train_config("default", **_given(args, TRAIN_OPTIONS))
    device = resolve_device(args.device)
    config = training_config(None, device, training, **_given(args, TRAIN_FIELDS))
    photos = image_files(args.images, "training photos folder") if args.images else bundled_photos()
    style = source_path(args.style, "style image")
    inputs = [style, *photos, weights_file(args.weights)]
    output = _network_output(args.output, inputs, args.force)
    preview_dir = None
    if args.preview_dir:
        preview_dir = files.as_path(args.preview_dir, "preview folder")
        if not files.is_dir(preview_dir, "preview folder"):
            raise NSTError(f"preview folder {str(preview_dir)[:80]!r} does not exist: create it first")
    preview_photo = bundled_photos(held_out=True)[0]

    def preview(step, network, history):  # painted at the style size, the size the strokes are made for
        picture = apply_network(network, preview_photo, size=training.style_size or training.crop)
        save_image(picture, files.free_path(preview_dir / f"preview_{step:06d}.png"), overwrite=False)

    result = train_network(
        style,
        photos,
        config,
        training,
        weights=args.weights,
        device=device,
        checkpoint=output,
        preview=preview if preview_dir else None,
        progress=not args.quiet,
    )
    if result.stopped == "interrupted":
        return result.stopped
    if not args.quiet and _is_main_process():
        print(f"saved {output} ({result.steps} steps, {result.seconds:.0f} s)")
    return None


def _is_main_process():
    """False in the processes torchrun starts besides the first (they train but neither write nor print)."""
    import os

    return os.environ.get("RANK", "0").strip() in ("", "0")


def run_train_arbitrary(args):
    """``python -m nst_helpers train --arbitrary [--images DIR] [--styles DIR] -o decoder.pt``."""
    from .arbitrary import DECODER_OPTIONS, make_decoder_config, train_decoder
    from .arbitrary.training import style_files
    from .devices import resolve_device
    from .images import image_files
    from .photos import bundled_photos
    from .weights import weights_file

    if args.style is not None:
        raise NSTError(
            f"train --arbitrary learns no one painting: drop {args.style[:40]!r}, or give paintings to fine-tune "
            "with as --styles DIR"
        )
    if args.preview_dir:
        raise NSTError("--preview-dir is for the real-time network; a decoder is judged by 'make benchmark'")
    given = _given(args, DECODER_OPTIONS)
    unused = [name for name in ("network", "depth", "style_size", *TRAIN_FIELDS) if name != "style_weight"]
    for name in unused:
        if getattr(args, name, None) is not None:
            raise NSTError(f"--{name.replace('_', '-')} is not an option of train --arbitrary (see train --help)")
    training = make_decoder_config("default", **given)
    device = resolve_device(args.device)
    photos = image_files(args.images, "training photos folder") if args.images else bundled_photos()
    paintings = style_files(args.styles) if args.styles else []
    inputs = [*photos, *paintings, weights_file(args.weights)]
    output = _network_output(args.output, inputs, args.force)
    result = train_decoder(
        photos,
        paintings or None,
        training,
        weights=args.weights,
        device=device,
        checkpoint=output,
        progress=not args.quiet,
    )
    if result.stopped == "interrupted":
        return result.stopped
    if not args.quiet and _is_main_process():
        psnr = result.history.get("psnr", [0])[-50:]
        print(
            f"saved {output} ({result.steps} steps, {result.seconds:.0f} s; training crops rebuilt at "
            f"{sum(psnr) / len(psnr):.1f} dB PSNR)"
        )
    return None


def _add_apply(commands, parents):
    from .color import MODES

    p = commands.add_parser(
        "apply",
        parents=parents,
        help="paint photos with a trained network, or with a decoder in the style of any painting",
        description="Paint photos with a network trained by 'train' (its own painting), or with a decoder "
        "trained by 'train --arbitrary' in the style of any painting (--style; AdaIN): one forward pass per "
        "photo. One PHOTO and an OUTPUT image name writes one picture; a folder or several photos write "
        "OUTPUT/NAME.png.",
        epilog="exit status: 0 done, 2 bad input (one line on stderr, nothing written).",
    )
    p.set_defaults(handler=run_apply)
    p.add_argument("network", metavar="NETWORK", help="a network or decoder file written by train (.pt)")
    p.add_argument("photos", nargs="+", metavar="PHOTO", help="photos (paths or bundled example names) or a folder")
    p.add_argument("-o", "--output", required=True, help="an image name (one photo) or a folder")
    p.add_argument("--size", metavar="PX", help="long side in px (or HxW) to paint at (default: the photo's own)")
    p.add_argument("--report", metavar="FILE.json", help="write the milliseconds per picture as JSON")
    group = p.add_argument_group("decoders (train --arbitrary)")
    group.add_argument(
        "--style", nargs="+", metavar="PAINTING", help="the painting(s): paths or bundled names; several are blended"
    )
    group.add_argument("--alpha", metavar="A", help="0..1: how far to move to the painting's statistics (default 1)")
    group.add_argument("--blend", nargs="+", metavar="W", help="one weight per painting (default equal)")
    group.add_argument("--style-size", metavar="PX", help="the paintings' long side (default: the picture's)")
    group.add_argument("--preserve-color", choices=MODES, help="keep the photo's colours")
    group.add_argument(
        "--other-weights",
        action="store_true",
        help="paint even with VGG19 weights other than those the decoder was trained for (wrong pictures)",
    )


DECODER_ONLY = ("style", "alpha", "blend", "style_size", "preserve_color", "weights")


def run_apply(args):
    """``python -m nst_helpers apply network.pt PHOTO [PHOTO ...] -o OUT``."""
    from . import files
    from .arbitrary import file_kind
    from .checks import check_size
    from .devices import resolve_device
    from .feedforward import apply_network, apply_to_folder, load_network, plan_photos
    from .images import image_files, image_format, save_image, source_path

    size = check_size(args.size)
    network_path = files.as_path(args.network, "network file")
    if file_kind(network_path) == "decoder":
        return run_apply_decoder(args, network_path, size)
    wrong = [name for name in DECODER_ONLY if getattr(args, name) is not None] + (
        ["other_weights"] if args.other_weights else []
    )
    if wrong:
        raise NSTError(
            f"{str(args.network)[:80]!r} is a real-time network, trained for one painting: "
            f"--{wrong[0].replace('_', '-')} is for decoders (train --arbitrary)"
        )
    device = resolve_device(args.device)
    single = len(args.photos) == 1 and not files.is_dir(files.as_path(args.photos[0], "photo"), "photo")
    if single:
        photo = source_path(args.photos[0], "photo")
        image_format(args.output)
        output = files.check_output(args.output, [photo, network_path], args.force, "output")
        report = _report_path(args.report, output, [photo, network_path], args.force)
        network = load_network(network_path, device)
        plan_photos(network, [photo], size)  # the photo read to its end, its size and memory: before painting
        start = time.perf_counter()
        picture = apply_network(network, photo, size=size)
        seconds = time.perf_counter() - start
        save_image(picture, output, overwrite=True, protect=[photo, network_path])
        if not args.quiet:
            print(f"saved {output} ({picture.shape[-1]}x{picture.shape[-2]} px in {seconds * 1000:.0f} ms)")
        if report is not None:
            _write_report(report, [photo, network_path], _apply_report("network", [output], [seconds], picture))
        return None
    photos = []
    for name in args.photos:
        path = files.as_path(name, "photo")
        photos.extend(
            image_files(path, "photos folder") if files.is_dir(path, "photo") else [source_path(name, "photo")]
        )
    out_dir = files.as_path(args.output, "output folder")
    if out_dir.suffix.lower() in (".png", ".jpg", ".jpeg") and not files.is_dir(out_dir, "output folder"):
        raise NSTError(
            f"{len(photos)} photos need an output folder, not the image name {str(out_dir)[:80]!r}: give a folder name"
        )
    report = _report_path(args.report, out_dir, [*photos, network_path], args.force)
    network = load_network(network_path, device)
    start = time.perf_counter()
    written = apply_to_folder(
        network, photos, out_dir, size=size, overwrite=args.force, progress=not args.quiet, protect=[network_path]
    )
    if not args.quiet:
        print(
            f"saved {len(written)} pictures in {out_dir} ({(time.perf_counter() - start) / len(written):.2f} s "
            f"per picture, reading and writing included)"
        )
    if report is not None:
        per = (time.perf_counter() - start) / len(written)
        _write_report(report, [*photos, network_path], _apply_report("network", written, [per] * len(written)))
    return None


def _apply_report(kind, outputs, seconds, picture=None):
    """``apply --report``: the pictures written and the milliseconds each took (painting only, or for a
    folder reading and writing included), with the threads and load they were measured under."""
    import os

    import torch

    data = {
        "kind": kind,
        "outputs": [str(o) for o in outputs],
        "ms_per_picture": [1000 * s for s in seconds],
        "mean_ms": 1000 * sum(seconds) / max(1, len(seconds)),
        "threads": torch.get_num_threads(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }
    if picture is not None:
        data["size"] = list(picture.shape[-2:])
    return data


def run_apply_decoder(args, decoder_path, size):
    """``apply decoder.pt PHOTO [PHOTO ...] --style PAINTING [...] -o OUT``: AdaIN in one pass per photo."""
    from . import files
    from .arbitrary import check_encoder, load_decoder, paint
    from .checks import MAX_SIZE, check_number, check_size
    from .color import check_mode
    from .devices import resolve_device
    from .images import check_target, image_files, image_format, probe_image, save_image, source_path
    from .losses import normalize_blend
    from .vgg import load_vgg19
    from .weights import weights_file

    if not args.style:
        raise NSTError(
            f"{str(args.network)[:80]!r} is a decoder for any painting: say which with --style PAINTING "
            "(a path or a bundled name)"
        )
    styles = [source_path(s, "style image") for s in args.style]
    alpha = 1.0 if args.alpha is None else check_number(args.alpha, "alpha", minimum=0, maximum=1)
    blend = normalize_blend(None if args.blend is None else args.blend, len(styles))
    style_size = check_size(args.style_size, "style size")
    check_mode(args.preserve_color)
    photos = []
    for name in args.photos:
        path = files.as_path(name, "photo")
        photos.extend(
            image_files(path, "photos folder") if files.is_dir(path, "photo") else [source_path(name, "photo")]
        )
    inputs = [*photos, *styles, decoder_path, weights_file(args.weights)]
    single = len(photos) == 1 and not files.is_dir(files.as_path(args.photos[0], "photo"), "photo")
    if single:
        image_format(args.output)
        outputs = [files.check_output(args.output, inputs, args.force, "output")]
        out_dir = None
    else:
        out_dir = files.as_path(args.output, "output folder")
        if files.exists(out_dir, "output folder") and not files.is_dir(out_dir, "output folder"):
            raise NSTError(f"output folder {str(out_dir)[:80]!r} is a file: give a folder name")
        outputs = [out_dir / (p.stem + ".png") for p in photos]
        if len(set(outputs)) != len(outputs):
            raise NSTError("two photos have the same name and would be saved as one picture: rename one")
        if files.exists(out_dir, "output folder"):
            for out in outputs:
                files.check_output(out, inputs, args.force, "output")
        else:
            files.check_output(out_dir, inputs, what="output folder")  # a folder can be made there
            for out in outputs:
                files.check_not_input(out, inputs, "output")
    report = _report_path(args.report, outputs[0] if single else out_dir, inputs, args.force)
    for path in styles:  # every painting and photo read to its end before VGG19 is loaded
        probe_image(path, "style image")
    for path in photos:  # each one's size too, so no picture is written before a bad photo is found
        info = probe_image(path, "photo")
        wanted = size if size is not None or max(info.width, info.height) <= MAX_SIZE else MAX_SIZE
        check_target(info.width, info.height, wanted, f"photo {str(path)[:80]!r}", option="size (--size)")
    device = resolve_device(args.device)
    decoder = load_decoder(decoder_path, device)
    model = load_vgg19(args.weights, device=device, progress=not args.quiet)
    check_encoder(decoder, model, force=args.other_weights)
    if out_dir is not None and not files.exists(out_dir, "output folder"):
        try:
            out_dir.mkdir()
        except OSError as err:
            raise NSTError(f"cannot create output folder {str(out_dir)[:80]!r} ({err.strerror})") from None
    settings = dict(alpha=alpha, blend=blend, size=size, style_size=style_size, preserve_color=args.preserve_color)
    times, picture = [], None
    for photo, out in zip(photos, outputs):
        start = time.perf_counter()
        picture = paint(decoder, model, photo, styles, **settings)
        times.append(time.perf_counter() - start)
        save_image(picture, out, overwrite=True, protect=inputs)
    if not args.quiet:
        where = outputs[0] if single else out_dir
        print(f"saved {where} ({len(photos)} picture(s), {1000 * sum(times) / len(times):.0f} ms each in one pass)")
    if report is not None:
        data = _apply_report("decoder", outputs, times, picture)
        data.update(styles=[str(s) for s in styles], alpha=alpha, blend=blend, decoder=str(decoder_path))
        _write_report(report, inputs, data)
    return None


def _write_report(report, inputs, data):
    """Write a command's ``--report`` JSON (its path already checked by ``_report_path``), never over an input."""
    from . import files

    files.check_output(report, inputs, True, "report")
    files.write_text(report, json.dumps(data, indent=2, default=str))


def _report_path(name, output, inputs, force):
    """The checked ``--report`` path (None without one): a new .json-like name, not the output or an input."""
    from . import files

    if not name:
        return None
    report = files.as_path(name, "report")
    if files.same_file(report, output):
        raise NSTError("--report and --output name the same file: choose two names")
    from .video import WRITE_SUFFIXES

    if report.suffix.lower() in (*NETWORK_SUFFIXES, *WRITE_SUFFIXES) or image_format_or_none(report):
        raise NSTError(
            f"--report {str(report)[:80]!r} looks like an image, video or weights file: end its name in .json"
        )
    files.check_output(report, inputs, force, "report")
    return report


def _add_video(commands, parents):
    from .checks import MAX_SIZE, MIN_SIZE
    from .config import PRESETS, StyleConfig
    from .video import DEFAULT_TOL, EXAMPLE_CLIP, MAX_FRAMES, VideoConfig

    p = commands.add_parser(
        "video",
        parents=parents,
        help="paint a clip, kept steady with optical flow (notebook 9)",
        description="Paint every frame of CLIP in the style of STYLE, kept steady from frame to frame with optical "
        f"flow (Ruder et al. 2016). CLIP: a video file (MP4, AVI, MOV), an animated GIF, a folder of "
        f"frames, or '{EXAMPLE_CLIP}' (the bundled clip: a camera move over the cat photo).",
        epilog="methods: independent (each frame on its own: flickers), warm (each frame starts from the previous "
        "picture moved by the optical flow), temporal (warm plus the temporal loss; the default), network (a "
        "network trained by 'train' paints each frame in one pass: 'video CLIP --network NET.pt'; only --size, "
        "--max-frames, --flow and the run options apply)."
        f"\nlimits: frames {MIN_SIZE}..{MAX_SIZE} px, at most {MAX_FRAMES} frames."
        "\nexit status: 0 done, 2 bad input (one line on stderr, nothing written), 130 interrupted by "
        "Ctrl-C (the frames painted so far are saved).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.set_defaults(handler=run_video)
    p.add_argument("clip", metavar="CLIP", help="a video file, animated GIF, folder of frames or " + EXAMPLE_CLIP)
    p.add_argument(
        "styles",
        nargs="*",
        metavar="STYLE",
        help="one or more style images (paths or bundled names); none with --network",
    )
    p.add_argument(
        "--network",
        metavar="NET.pt",
        help="paint every frame with this real-time network (from train; --method network): one pass per frame",
    )
    p.add_argument(
        "-o",
        "--output",
        default="stylized.gif",
        help="the clip to write: .mp4, .mov, .avi, .gif, or a folder name for PNG frames (default %(default)s)",
    )
    p.add_argument("--fps", help="frames per second of the output (default: the clip's)")
    p.add_argument("--preset", default="seed", choices=sorted(PRESETS), help="configuration (default %(default)s)")
    p.add_argument(
        "--report", metavar="FILE.json", help="write seconds and steps per frame, losses and the warping error as JSON"
    )
    # --tol is StyleConfig's option below: it sets both the frames' configuration and VideoConfig.tol
    _config_options(p, VideoConfig, exclude=("tol",), defaults=VideoConfig(), title="video (VideoConfig)")
    _config_options(
        p,
        StyleConfig,
        title=f"algorithm, per frame (defaults come from --preset; --steps is each "
        f"frame's budget; --tol is {DEFAULT_TOL:g} unless given, 0 to use every step)",
    )


def run_video(args):
    """``python -m nst_helpers video CLIP STYLE ... -o OUT``; returns how the run stopped."""
    from . import files
    from .checks import check_number
    from .config import make_config
    from .devices import default_size, resolve_device
    from .images import probe_images, source_path
    from .video import (
        EXAMPLE_CLIP,
        VIDEO_OPTIONS,
        check_clip_output,
        make_video_config,
        read_clip,
        stylize_video,
        video_format,
    )
    from .video.paint import check_clip_memory
    from .weights import weights_file

    if args.network is not None or args.method == "network":
        return run_video_network(args)
    if not args.styles:
        raise NSTError("give a STYLE image after the clip (or a trained network with --network NET.pt)")
    config = make_config(args.preset, **_overrides(args))
    config.blend_for(len(args.styles))
    video = make_video_config(None, **_given(args, VIDEO_OPTIONS))
    if args.fps is not None:
        check_number(args.fps, "fps", above=0, maximum=1000)
    video_format(args.output)
    clip_path = files.as_path(args.clip, "clip")
    probe_images(args.styles, "style image")  # every painting read to its end before the clip is
    inputs = [source_path(name, "style image") for name in args.styles] + [weights_file(args.weights)]
    inputs = [i for i in inputs if i is not None]
    if not (args.clip == EXAMPLE_CLIP and not files.exists(clip_path, "clip")):
        inputs.append(clip_path)
    output = files.as_path(args.output, "output")
    report = _report_path(args.report, output, inputs, args.force)
    device = resolve_device(args.device)
    # before the clip is read: the output (not an input, writable, at --fps), the frames' size and the memory
    check_clip_output(output, 0, inputs, args.force, fps=args.fps)
    size = config.size or default_size(device)
    check_clip_memory(args.clip, size, video.max_frames, config, device, len(args.styles))
    # the clip is read (and checked) before VGG19 is loaded, then every name the run will write
    clip = read_clip(args.clip, size=size, max_frames=video.max_frames, fps=args.fps)
    check_clip_output(output, len(clip), inputs, args.force, fps=clip.fps)
    result = stylize_video(
        clip, args.styles, config, video, weights=args.weights, device=device, progress=not args.quiet
    )
    interrupted = result.stopped == "interrupted"
    if len(result.steps):
        result.save(output, overwrite=args.force)
    if interrupted:
        print(
            f"nst_helpers: interrupted after {len(result.steps)} of {len(clip)} frames"
            + (f": saved them to {output}" if len(result.steps) else "; nothing was written"),
            file=sys.stderr,
        )
    elif not args.quiet:
        print(f"saved {output}: {result.summary()}")
    if report is not None and len(result.steps):
        data = {
            "output": str(output),
            "clip": str(args.clip),
            "styles": [str(s) for s in args.styles],
            "frames": len(result.steps),
            "fps": result.fps,
            "method": result.method,
            "seconds_per_frame": result.seconds,
            "steps_per_frame": result.steps,
            "flow_seconds": result.flow_seconds,
            "style_loss_per_frame": result.style_losses,
            "warping_error": result.warping_error,
            "warping_error_flow": result.flow_source,
            "stopped": result.stopped,
            "config": result.config,
        }
        _write_report(report, inputs, data)
    return result.stopped if interrupted else None


def run_video_network(args):
    """``python -m nst_helpers video CLIP --network NET.pt -o OUT``: a real-time network, frame by frame."""
    from . import files
    from .checks import check_number, check_size
    from .devices import resolve_device
    from .feedforward import load_network
    from .video import EXAMPLE_CLIP, VIDEO_OPTIONS, check_clip_output, make_video_config, read_clip, video_format
    from .video.network import DEFAULT_BATCH, check_network_memory, paint_with_network

    if args.network is None:
        raise NSTError("--method network paints with a trained network: give it with --network NET.pt")
    if args.styles:
        raise NSTError("a network paints in the style it was trained on: leave out STYLE (or leave out --network)")
    if args.method not in (None, "network"):
        raise NSTError(f"--network paints every frame with the network: leave out --method {args.method}")
    given = _overrides(args)
    extra = [k for k in given if k != "size"] + [k for k in _given(args, VIDEO_OPTIONS) if k == "temporal_weight"]
    if args.preset != "seed" or extra:
        what = "--preset" if args.preset != "seed" else "--" + extra[0].replace("_", "-")
        raise NSTError(f"{what} is for the optimisation methods: a network's frames take only --size and --max-frames")
    video = make_video_config(None, **{**_given(args, VIDEO_OPTIONS), "method": "network"})
    if args.fps is not None:
        check_number(args.fps, "fps", above=0, maximum=1000)
    video_format(args.output)
    network_path = files.as_path(args.network, "network file")
    clip_path = files.as_path(args.clip, "clip")
    inputs = [network_path]
    if not (args.clip == EXAMPLE_CLIP and not files.exists(clip_path, "clip")):
        inputs.append(clip_path)
    output = files.as_path(args.output, "output")
    report = _report_path(args.report, output, inputs, args.force)
    device = resolve_device(args.device)
    check_clip_output(output, 0, inputs, args.force, fps=args.fps)
    network = load_network(network_path, device)  # a missing, damaged or foreign file: one line
    size = check_size(given.get("size"))
    check_network_memory(args.clip, size, video.max_frames, network, DEFAULT_BATCH, device)
    clip = read_clip(args.clip, size=size, max_frames=video.max_frames, fps=args.fps)
    check_clip_output(output, len(clip), inputs, args.force, fps=clip.fps)
    result = paint_with_network(clip, network, flow=video.flow, progress=not args.quiet)
    if len(result.steps):
        result.inputs = tuple(inputs)
        result.save(output, overwrite=args.force)
    if result.stopped == "interrupted":
        print(f"nst_helpers: interrupted after {len(result.steps)} of {len(clip)} frames", file=sys.stderr)
        return result.stopped
    if not args.quiet:
        print(f"saved {output}: {result.summary()}")
    if report is not None:
        data = {
            "output": str(output),
            "clip": str(args.clip),
            "network": str(network_path),
            "frames": len(result.steps),
            "fps": result.fps,
            "method": result.method,
            "frames_per_second": result.frames_per_second,
            "seconds_per_frame": result.seconds,
            "warping_error": result.warping_error,
            "warping_error_flow": result.flow_source,
            "config": result.config,
        }
        _write_report(report, inputs, data)
    return None


#: The demo's large picture: the fastest route to a good 512 px picture that benchmarks/RESULTS.md found on a
#: 2-core CPU (one scale, stopped by ``tol``, VGG19 in bfloat16 where the machine has it natively).
DEMO_TOL = 0.005


def _add_demo(commands, parents):
    from .config import PRESETS
    from .devices import CPU_SIZE

    p = commands.add_parser(
        "demo",
        parents=parents,
        help="the bundled example at the seed's size and at 512 px, side by side (make demo)",
        description="What the course makes on this machine in about a minute: the bundled cat photo in the style of "
        f"The Starry Night, by the seed configuration at {CPU_SIZE} px ({PRESETS['seed'].steps} steps) and "
        f"at 512 px by one scale stopped at tol {DEMO_TOL:g} (bfloat16 where the machine has it "
        "natively), side by side in one picture. The last line says what was made, how, and how long "
        "it took.",
    )
    p.set_defaults(handler=run_demo)
    p.add_argument("-o", "--output", default="demo.png", help="the side-by-side picture (default %(default)s)")
    p.add_argument("--size", default="512", help="long side of the large picture in px (default %(default)s)")
    p.add_argument(
        "--seed-size",
        default=str(CPU_SIZE),
        metavar="PX",
        help="long side of the seed's picture in px (default %(default)s, the seed's CPU size)",
    )
    p.add_argument(
        "--steps",
        default=str(PRESETS["seed"].steps),
        help="step budget of each picture (default %(default)s, the seed's)",
    )
    p.add_argument("--report", metavar="FILE.json", help="write both runs' sizes, steps, seconds and losses as JSON")


def _demo_panel(image, label, height):
    """A picture enlarged (nearest neighbour, so small pictures show their pixels) to about ``height`` px,
    with a one-line label under it."""
    from PIL import Image, ImageDraw, ImageFont

    from .images import to_pil

    picture = to_pil(image)
    factor = max(1, round(height / picture.height))
    picture = picture.resize((picture.width * factor, picture.height * factor), Image.Resampling.NEAREST)
    try:
        font = ImageFont.load_default(size=max(11, min(18, picture.width // 30)))
    except TypeError:  # Pillow before 10.1: the small bitmap font
        font = ImageFont.load_default()
    line = font.getbbox("Ag")[3] + 8
    panel = Image.new("RGB", (picture.width, picture.height + line), "white")
    panel.paste(picture, (0, 0))
    ImageDraw.Draw(panel).text((4, picture.height + 3), label, fill="black", font=font)
    return panel


def run_demo(args):
    """``python -m nst_helpers demo -o outputs/demo.png`` (``make demo``); returns how it stopped."""
    from PIL import Image

    from . import files
    from .checks import check_number, check_size
    from .devices import bfloat16_is_fast, resolve_device
    from .images import DEFAULT_CONTENT, DEFAULT_STYLES, image_format, pil_to_tensor, save_image, source_path
    from .objective import PARTS
    from .transfer import stylize
    from .vgg import load_vgg19
    from .weights import weights_file

    big_size, seed_size = check_size(args.size, "size"), check_size(args.seed_size, "seed size")
    if isinstance(big_size, tuple) or isinstance(seed_size, tuple):
        raise NSTError("the demo's sizes are long sides: one number each")
    steps = check_number(args.steps, "steps", minimum=1, integer=True)
    files.as_path(args.output, "output")
    image_format(args.output)
    inputs = [source_path(name, "input image") for name in (DEFAULT_CONTENT, *DEFAULT_STYLES)]
    inputs.append(weights_file(args.weights))
    inputs = [i for i in inputs if i is not None]
    output = files.check_output(args.output, inputs, args.force, "output")
    report = _report_path(args.report, output, inputs, args.force)
    device = resolve_device(args.device)
    precision = "bfloat16" if bfloat16_is_fast(device) else "float32"

    start = time.perf_counter()
    model = load_vgg19(args.weights, device=device, progress=not args.quiet)
    # (label under the picture, how the last line says it was made, the run's options)
    runs = [
        ("seed", "the seed configuration", dict(size=seed_size, steps=steps)),
        (
            f"one scale, tol {DEMO_TOL:g}, {precision}",
            f"one scale stopped at tol {DEMO_TOL:g} in {precision}",
            dict(size=big_size, steps=steps, tol=DEMO_TOL, precision=precision),
        ),
    ]
    results = []
    for label, how, options in runs:
        result = stylize(None, None, "seed", model=model, progress=not args.quiet, log_every=0, **options)
        results.append((label, how, result))
        if result.stopped == "interrupted":
            break
    height = max(r.image.shape[-2] for _, _, r in results)
    # the labels say what and how; how long is the last line's (it depends on the machine and its load)
    panels = [
        _demo_panel(r.image, f"{label}: {r.image.shape[-1]}x{r.image.shape[-2]} px, {r.evaluations} steps", height)
        for label, _, r in results
    ]
    gap = 8
    sheet = Image.new(
        "RGB", (sum(p.width for p in panels) + gap * (len(panels) - 1), max(p.height for p in panels)), "white"
    )
    x = 0
    for panel in panels:
        sheet.paste(panel, (x, 0))
        x += panel.width + gap
    save_image(pil_to_tensor(sheet), output, overwrite=True, protect=inputs)
    total = time.perf_counter() - start
    interrupted = results[-1][2].stopped == "interrupted"
    made = [
        f"at {r.image.shape[-1]}x{r.image.shape[-2]} px by {how} ({r.evaluations} steps, {r.seconds:.0f} s)"
        for _, how, r in results
    ]
    if interrupted:
        print(f"nst_helpers: interrupted: saved what was painted so far to {output}", file=sys.stderr)
    elif not args.quiet:
        print(
            f"demo: {output}: the bundled cat photo in the style of The Starry Night, {' and '.join(made)}; "
            f"{total:.0f} s in all on {device.type} (VGG19 weights: {model.source})"
        )
    if report is not None:
        data = {
            "output": str(output),
            "device": str(device),
            "weights": model.source,
            "wall_seconds": total,
            "pictures": [
                {
                    "how": how,
                    "size": list(r.image.shape[-2:]),
                    "evaluations": r.evaluations,
                    "seconds": r.seconds,
                    "stopped": r.stopped,
                    "losses": {k: r.losses.get(k) for k in PARTS},
                    "config": r.config,
                }
                for _, how, r in results
            ],
        }
        _write_report(report, inputs, data)
    return "interrupted" if interrupted else None


def _add_sound(commands, parents):
    from .sound import MAX_SECONDS, MIN_SECONDS, SILENCE_DB, SOUNDS, SoundConfig

    p = commands.add_parser(
        "sound",
        parents=parents[:1],
        help="give a sound the texture of another (notebook 12)",
        description="Style transfer for sound (Ulyanov and Lebedev 2016): the log-spectrogram of CONTENT is "
        "optimised with L-BFGS so that a random 1-D convolutional network sees the content's "
        "activations and the Gram matrices of STYLE; Griffin-Lim then recovers a waveform. No "
        "pretrained weights. CONTENT and STYLE: .wav files or bundled sounds ("
        + ", ".join(SOUNDS)
        + "; synthesised by the package, 5 s each).",
        epilog=f"input: WAV files of integer PCM (8-, 16-, 24- or 32-bit; floating-point WAV is refused: convert "
        f"it, e.g. sox IN.wav -b 16 OUT.wav), any channel count (mixed to mono), any sample rate (resampled "
        f"to --sample-rate), {MIN_SECONDS:g} to {MAX_SECONDS:g} s long, not silent (loudest sample above "
        f"{SILENCE_DB:g} dBFS).\noutput: 16-bit PCM mono WAV at --sample-rate, as long as CONTENT, its peak "
        f"at most -0.1 dBFS.\nexit status: 0 done, 2 bad input (one line on stderr, nothing written), 130 "
        f"interrupted by Ctrl-C (the best spectrogram so far is turned into sound and saved).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.set_defaults(handler=run_sound)
    p.add_argument("content", metavar="CONTENT", help="the sound to keep (a .wav path or a bundled sound)")
    p.add_argument("style", metavar="STYLE", help="the sound whose texture to take (a .wav path or a bundled sound)")
    p.add_argument("-o", "--output", default="stylized.wav", help="the .wav file to write (default %(default)s)")
    p.add_argument(
        "--report",
        metavar="FILE.json",
        help="write seconds, steps, style distances, spectral convergence and loudness as JSON",
    )
    _config_options(p, SoundConfig, title="algorithm (SoundConfig)")


def run_sound(args):
    """``python -m nst_helpers sound CONTENT STYLE -o OUT.wav``; returns how the run stopped."""
    from . import files
    from .devices import resolve_device
    from .sound import SOUND_OPTIONS, load_audio, make_sound_config, stylize_sound
    from .sound.audio import sound_source

    config = make_sound_config(**{k: getattr(args, k) for k in SOUND_OPTIONS if getattr(args, k, None) is not None})
    output = files.as_path(args.output, "output")
    if output.suffix.lower() != ".wav":
        raise NSTError(f"output {str(output)[:80]!r} should end in .wav: sound is written as 16-bit PCM WAV")
    if args.report and files.as_path(args.report, "report").suffix.lower() == ".wav":
        raise NSTError(f"--report {str(args.report)[:80]!r} looks like a sound file: end its name in .json")
    inputs = [sound_source(args.content, "content sound"), sound_source(args.style, "style sound")]
    inputs = [path for path in inputs if path is not None]
    output = files.check_output(output, inputs, args.force, "output")
    report = _report_path(args.report, output, inputs, args.force)
    device = resolve_device(args.device)
    # both sounds are read and checked (length, silence, format) before the network is made
    content = load_audio(args.content, config.sample_rate, "content sound")
    style = load_audio(args.style, config.sample_rate, "style sound")
    start = time.perf_counter()
    result = stylize_sound(content, style, config, device=device, progress=not args.quiet)
    result.save(output, overwrite=True, protect=inputs)
    interrupted = result.stopped == "interrupted"
    if interrupted:
        print(
            f"nst_helpers: interrupted after {result.evaluations} steps: saved the best result so far to {output}",
            file=sys.stderr,
        )
    elif not args.quiet:
        print(f"saved {output}: {result.summary()}")
    if report is not None:
        m = result.measures
        data = {
            "output": str(output),
            "content": str(args.content),
            "style": str(args.style),
            "seconds": result.seconds,
            "griffin_lim_seconds": result.griffin_lim_seconds,
            "wall_seconds": time.perf_counter() - start,
            "steps": result.evaluations,
            "stopped": result.stopped,
            "losses": {k: v[-1] if v else None for k, v in result.history.items()},
            "style_distance": m["style_distance"],
            "spectral_convergence": result.spectral_convergence,
            "mean_spectrum_distance": m["mean_spectrum_distance"],
            "rms_db": m["rms_db"],
            "clipped": m["clipped"],
            "sample_rate": result.sample_rate,
            "duration_seconds": len(result.waveform) / result.sample_rate,
            "config": result.config,
        }
        _write_report(report, inputs, data)
    return result.stopped if interrupted else None


def image_format_or_none(path):
    from .images import writable_formats

    return writable_formats().get(path.suffix.lower())


_terminated = False
_stopping = False


def _on_signal(signum, frame):
    """Ctrl-C and SIGTERM: the first stops the run like Ctrl-C (it saves what it has and exits with 130, or
    143 for SIGTERM); later ones, while the run is stopping, are let go: the save in progress finishes."""
    global _terminated, _stopping
    if signum == getattr(signal, "SIGTERM", None):
        _terminated = True
    if _stopping:
        return
    _stopping = True
    raise KeyboardInterrupt


_on_sigterm = _on_signal


def _one_line_warning(message, category, filename, lineno, file=None, line=None):
    print(f"nst_helpers: warning: {one_line(message)}", file=sys.stderr if file is None else file)


def _on_disk():
    """What this run wrote (``files.written``), for the last line of an interrupted run."""
    from . import files

    paths = list(files.written)
    if not paths:
        return "nothing was written"
    if len(paths) == 1:
        return f"{paths[0]} was saved before it stopped"
    return f"{len(paths)} files were saved before it stopped (the last: {paths[-1]})"


def main(argv=None):
    """The command line's entry point: returns the exit status and never prints a traceback for bad input.

    Every message goes through ``errors.one_line``; running out of memory anywhere (``MemoryError``, torch's
    allocator errors) is one line too. Ctrl-C and SIGTERM are handled by ``_on_signal`` while it runs."""
    global _terminated, _stopping
    from . import files

    _terminated = _stopping = False
    files.written.clear()
    previous = {}
    for name in ("SIGINT", "SIGTERM"):
        try:
            signum = getattr(signal, name)
            previous[signum] = signal.signal(signum, _on_signal)
        except (AttributeError, ValueError, OSError):  # not the main thread
            pass
    old_warning = warnings.showwarning
    warnings.showwarning = _one_line_warning
    try:
        return run(argv)
    except NSTError as err:
        print(f"nst_helpers: error: {one_line(err)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(f"nst_helpers: interrupted; {_on_disk()}", file=sys.stderr)
        return exit_status("interrupted")
    except (MemoryError, RuntimeError) as err:
        if not is_out_of_memory(err):
            raise
        print(
            f"nst_helpers: error: out of memory: this machine has too little free memory for this run "
            f"({_on_disk()}): use a smaller --size (or --multiscale, or fewer --max-frames)",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    finally:
        warnings.showwarning = old_warning
        for signum, handler in previous.items():
            try:
                signal.signal(signum, signal.SIG_DFL if handler is None else handler)
            except (ValueError, OSError):
                pass
