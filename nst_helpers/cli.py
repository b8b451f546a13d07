"""The command line: ``python -m nst_helpers CONTENT STYLE [STYLE ...] -o OUT``, two commands for the
real-time networks of notebook 8 (``feedforward.py``) and one for clips (notebook 9, ``video.py``)::

    python -m nst_helpers train STYLE [--images DIR] -o network.pt
    python -m nst_helpers apply network.pt PHOTO [PHOTO ...] -o OUT
    python -m nst_helpers video CLIP STYLE [STYLE ...] -o OUT.mp4

The commands are argparse sub-commands (``stylize``, ``train``, ``apply``, ``video``), sharing their
common options through parent parsers; ``stylize`` is the default, so ``python -m nst_helpers
CONTENT STYLE`` stylises (a content image file called ``train`` is still reachable as ``./train``).

Every problem with the input is found before the long work starts and reported as one line on
stderr (exit status 2; ``main`` prints it, made one printable line by ``errors.one_line``, and turns
running out of memory into such a line too); inputs (images, mask, weights file) are never overwritten,
and an existing output only with ``--force``. Ctrl-C saves the best picture so far and exits with 130
(143 for SIGTERM): the first signal stops the run, later ones wait until it has saved what it had (a
save is never cut short), and the last line says what is on disk. ``exit_status`` decides every exit status. The algorithm's options are made from ``StyleConfig``'s
fields, so each is written once, in ``config.py``.
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


def _config_options(parser, config_class, only=None, title="algorithm (defaults come from --preset)"):
    """One option per ``StyleConfig`` field that has a ``help``: ``--style-weight`` for ``style_weight``
    (``only``: just these fields). Values are passed on as text and checked by the configuration itself."""
    group = parser.add_argument_group(title)
    for f in fields(config_class):
        if not f.metadata or (only is not None and f.name not in only):
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


def _parents():
    """The options every command shares, written once: (run options, VGG19 options)."""
    run = argparse.ArgumentParser(add_help=False)
    run.add_argument("--force", action="store_true", help="replace outputs (and --report) that exist")
    run.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps (default auto)")
    run.add_argument("--quiet", action="store_true", help="no progress bar, log or summary line")
    vgg = argparse.ArgumentParser(add_help=False)
    vgg.add_argument("--weights", help="VGG19 weights: a .pth file or 'random' (default: $NST_VGG19_WEIGHTS, "
                     "else torchvision's, downloaded once)")
    return run, vgg


def build_parser():
    """The command line: one sub-command each for stylise (the default), train, apply and video."""
    parser = _Parser(prog=PROG, description="Neural style transfer (Gatys et al.) and its applications.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    parents = _parents()
    for add in (_add_stylize, _add_train, _add_apply, _add_video):
        add(commands, parents)
    return parser


def _add_stylize(commands, parents):
    from .checks import MAX_SIZE, MAX_STEPS, MAX_WEIGHT, MIN_SIZE
    from .config import PRESETS, StyleConfig, describe_presets
    from .images import EXAMPLES

    p = commands.add_parser(
        "stylize", prog=PROG, parents=parents, help="paint CONTENT in the style of STYLE (the default command)",
        description="Neural style transfer (Gatys et al.): paint CONTENT in the style of one or more STYLE images. "
                    "With no images it paints the bundled cat photo in the style of The Starry Night.\n"
                    f"Real-time networks: '{PROG} train --help' and '{PROG} apply --help'; clips: "
                    f"'{PROG} video --help'.",
        epilog="presets:\n" + describe_presets() + "\n\nbundled examples (usable as image names): "
               + ", ".join(EXAMPLES)
               + f"\n\nlimits: sizes {MIN_SIZE}..{MAX_SIZE} px (style images too, after --style-scale), at most "
                 f"{MAX_STEPS} steps, weights 0..{MAX_WEIGHT:g}; a run that would not fit in the free memory is "
                 f"refused before it starts.\nexit status: 0 done, 2 bad input (one line on stderr, nothing "
                 f"written), 130 interrupted by Ctrl-C (the best picture so far is saved), 143 terminated.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.set_defaults(handler=run_stylize)
    p.add_argument("images", nargs="*", metavar="IMAGE", help="CONTENT then one or more STYLE images "
                   "(paths or bundled example names)")
    p.add_argument("-o", "--output", default="stylized.png", help="output image (.png, .jpg, or another format "
                   "Pillow writes; default %(default)s)")
    p.add_argument("--preset", default="seed", choices=sorted(PRESETS), help="configuration (default %(default)s)")
    p.add_argument("--mask", metavar="IMAGE", help="with two styles: white areas get the first, black the second")
    p.add_argument("--report", metavar="FILE.json", help="write timings and final losses as JSON")
    _config_options(p, StyleConfig)


def _overrides(args):
    from .config import OPTIONS

    return {name: getattr(args, name) for name in OPTIONS if getattr(args, name, None) is not None}


COMMANDS = ("stylize", "train", "apply", "video")


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
    return result.stopped if interrupted else None


#: The configuration fields that define a network's training loss (the rest are about optimising pixels).
TRAIN_FIELDS = ("content_layers", "style_layers", "layer_weights", "content_weight", "style_weight", "tv_weight",
                "gram_norm", "pooling", "style_scale")
NETWORK_SUFFIXES = (".pt", ".pth")


def _add_train(commands, parents):
    from .config import StyleConfig
    from .devices import PRECISIONS
    from .feedforward import NETWORK_SIZES, TRAINING_DEFAULTS as D, TRAINING_STYLE_WEIGHT

    p = commands.add_parser(
        "train", parents=parents, help="train a real-time network for one painting (notebook 8)",
        description="Train a network that paints any photo in the style of STYLE in one pass (Johnson et al. "
                    "2016), with the course's content, style and TV losses. Without --images it trains on the "
                    "bundled photos.",
        epilog="network sizes: " + ", ".join(f"{k} (width {w}, {d} residual blocks)"
                                            for k, (w, d) in NETWORK_SIZES.items())
               + f"\nloss: the seed preset's objective with style weight {TRAINING_STYLE_WEIGHT:g}, half the seed's (a "
                 "network that paints every photo keeps content and style in better balance with it), unless the "
                 "loss options change it."
                 "\nThe network file is written every --checkpoint-every steps and at the end; Ctrl-C stops "
                 "training and keeps it usable (exit status 130).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.set_defaults(handler=run_train)
    p.add_argument("style", metavar="STYLE", help="the painting (a path or a bundled example name)")
    p.add_argument("--images", metavar="DIR", help="a folder of training photos (default: the bundled ones)")
    p.add_argument("-o", "--output", default="network.pt", help="the network file to write (.pt; default %(default)s)")
    p.add_argument("--network", default=D["network"], choices=sorted(NETWORK_SIZES),
                   help="network size (default %(default)s)")
    p.add_argument("--width", help="channels of the first layer (overrides --network)")
    p.add_argument("--depth", help="residual blocks (overrides --network)")
    p.add_argument("--steps", default=str(D["steps"]), help="Adam steps (default %(default)s)")
    p.add_argument("--batch-size", default=str(D["batch_size"]), help="crops per step (default %(default)s)")
    p.add_argument("--crop", default=str(D["crop"]), help="side of the square training crops in px (default "
                   "%(default)s)")
    p.add_argument("--style-size", default=str(D["style_size"]), metavar="PX",
                   help="long side of the painting in px: strokes are learned at the scale of pictures this "
                        "size (default %(default)s)")
    p.add_argument("--lr", default=f"{D['lr']:g}", help="Adam's learning rate (default %(default)s)")
    p.add_argument("--precision", default="auto", choices=("auto", *PRECISIONS),
                   help="arithmetic of VGG19's passes; auto: bfloat16 where the CPU or GPU has it natively "
                        "(default %(default)s)")
    p.add_argument("--seed", default="0", help="random seed for crops and initial weights (default %(default)s)")
    p.add_argument("--checkpoint-every", default="100", metavar="N", help="write OUTPUT every N steps "
                   "(default %(default)s)")
    p.add_argument("--preview-dir", metavar="DIR", help="save a preview of a held-out photo there every "
                   "--preview-every steps")
    p.add_argument("--preview-every", default="100", metavar="N", help="(default %(default)s)")
    _config_options(p, StyleConfig, only=TRAIN_FIELDS, title="loss (the course's objective)")


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
    from .feedforward import (apply_network, bundled_photos, check_side, train_network, training_config,
                              training_precision)
    from .images import image_files, save_image, source_path
    from .weights import weights_file

    loss = {k: getattr(args, k) for k in TRAIN_FIELDS if getattr(args, k) is not None}
    device = resolve_device(args.device)
    config = training_config(None, device, precision=training_precision(args.precision, device), **loss)
    photos = image_files(args.images, "training photos folder") if args.images else bundled_photos()
    style = source_path(args.style, "style image")
    inputs = [style, *photos, weights_file(args.weights)]
    output = _network_output(args.output, inputs, args.force)
    preview_dir = None
    if args.preview_dir:
        preview_dir = files.as_path(args.preview_dir, "preview folder")
        if not files.is_dir(preview_dir, "preview folder"):
            raise NSTError(f"preview folder {str(preview_dir)[:80]!r} does not exist: create it first")
    # the previews are painted at the style size
    style_size = check_side(args.style_size, "style size", "the painting's long side, like 128")
    preview_photo = bundled_photos(held_out=True)[0]

    def preview(step, network, history):
        picture = apply_network(network, preview_photo, size=style_size)
        save_image(picture, files.free_path(preview_dir / f"preview_{step:06d}.png"), overwrite=False)

    # width, depth, steps, ... are checked by train_network and the network, as for a Python caller
    result = train_network(style, photos, config, network=args.network, width=args.width, depth=args.depth,
                           steps=args.steps, batch_size=args.batch_size, crop=args.crop, style_size=style_size,
                           lr=args.lr,
                           weights=args.weights, device=device, seed=args.seed, checkpoint=output, checkpoint_every=args.checkpoint_every,
                           preview=preview if preview_dir else None, preview_every=args.preview_every,
                           progress=not args.quiet)
    if result.stopped == "interrupted":
        return result.stopped
    if not args.quiet:
        print(f"saved {output} ({result.steps} steps, {result.seconds:.0f} s)")
    return None


def _add_apply(commands, parents):
    p = commands.add_parser(
        "apply", parents=parents[:1], help="paint photos with a trained network",
        description="Paint photos with a network trained by 'train': one forward pass per photo. One PHOTO and "
                    "an OUTPUT image name writes one picture; a folder or several photos write OUTPUT/NAME.png.",
        epilog="exit status: 0 done, 2 bad input (one line on stderr, nothing written).",
    )
    p.set_defaults(handler=run_apply)
    p.add_argument("network", metavar="NETWORK", help="a network file written by train (.pt)")
    p.add_argument("photos", nargs="+", metavar="PHOTO", help="photos (paths or bundled example names) or a folder")
    p.add_argument("-o", "--output", required=True, help="an image name (one photo) or a folder")
    p.add_argument("--size", metavar="PX", help="long side in px (or HxW) to paint at (default: the photo's own)")


def run_apply(args):
    """``python -m nst_helpers apply network.pt PHOTO [PHOTO ...] -o OUT``."""
    from . import files
    from .checks import check_size
    from .devices import resolve_device
    from .feedforward import apply_network, apply_to_folder, load_network, plan_photos
    from .images import image_files, image_format, save_image, source_path

    size = check_size(args.size)
    network_path = files.as_path(args.network, "network file")
    device = resolve_device(args.device)
    single = len(args.photos) == 1 and not files.is_dir(files.as_path(args.photos[0], "photo"), "photo")
    if single:
        photo = source_path(args.photos[0], "photo")
        image_format(args.output)
        output = files.check_output(args.output, [photo, network_path], args.force, "output")
        network = load_network(network_path, device)
        plan_photos(network, [photo], size)  # the photo read to its end, its size and memory: before painting
        start = time.perf_counter()
        picture = apply_network(network, photo, size=size)
        seconds = time.perf_counter() - start
        save_image(picture, output, overwrite=True, protect=[photo, network_path])
        if not args.quiet:
            print(f"saved {output} ({picture.shape[-1]}x{picture.shape[-2]} px in {seconds * 1000:.0f} ms)")
        return None
    photos = []
    for name in args.photos:
        path = files.as_path(name, "photo")
        photos.extend(image_files(path, "photos folder") if files.is_dir(path, "photo") else
                      [source_path(name, "photo")])
    out_dir = files.as_path(args.output, "output folder")
    if out_dir.suffix.lower() in (".png", ".jpg", ".jpeg") and not files.is_dir(out_dir, "output folder"):
        raise NSTError(f"{len(photos)} photos need an output folder, not the image name {str(out_dir)[:80]!r}: "
                       f"give a folder name")
    network = load_network(network_path, device)
    start = time.perf_counter()
    written = apply_to_folder(network, photos, out_dir, size=size, overwrite=args.force, progress=not args.quiet,
                              protect=[network_path])
    if not args.quiet:
        print(f"saved {len(written)} pictures in {out_dir} ({(time.perf_counter() - start) / len(written):.2f} s "
              f"per picture, reading and writing included)")
    return None


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
        raise NSTError(f"--report {str(report)[:80]!r} looks like an image, video or weights file: end its name in "
                       f".json")
    files.check_output(report, inputs, force, "report")
    return report


def _add_video(commands, parents):
    from .checks import MAX_SIZE, MIN_SIZE
    from .config import PRESETS, StyleConfig
    from .video import (DEFAULT_MAX_FRAMES, DEFAULT_TEMPORAL_WEIGHT, DEFAULT_TOL, EXAMPLE_CLIP, FLOW_METHODS,
                        MAX_FRAMES, METHODS)

    p = commands.add_parser(
        "video", parents=parents, help="paint a clip, kept steady with optical flow (notebook 9)",
        description="Paint every frame of CLIP in the style of STYLE, kept steady from frame to frame with optical "
                    f"flow (Ruder et al. 2016). CLIP: a video file (MP4, AVI, MOV), an animated GIF, a folder of "
                    f"frames, or '{EXAMPLE_CLIP}' (the bundled clip: a camera move over the cat photo).",
        epilog="methods: independent (each frame on its own: flickers), warm (each frame starts from the previous "
               "picture moved by the optical flow), temporal (warm plus the temporal loss; the default)."
               f"\nlimits: frames {MIN_SIZE}..{MAX_SIZE} px, at most {MAX_FRAMES} frames."
               "\nexit status: 0 done, 2 bad input (one line on stderr, nothing written), 130 interrupted by "
               "Ctrl-C (the frames painted so far are saved).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.set_defaults(handler=run_video)
    p.add_argument("clip", metavar="CLIP", help="a video file, animated GIF, folder of frames or " + EXAMPLE_CLIP)
    p.add_argument("styles", nargs="+", metavar="STYLE", help="one or more style images (paths or bundled names)")
    p.add_argument("-o", "--output", default="stylized.gif", help="the clip to write: .mp4, .mov, .avi, .gif, or a "
                   "folder name for PNG frames (default %(default)s)")
    p.add_argument("--method", default="temporal", choices=METHODS, help="(default %(default)s)")
    p.add_argument("--temporal-weight", metavar="LAMBDA", default=f"{DEFAULT_TEMPORAL_WEIGHT:g}",
                   help="weight of the temporal loss (method temporal; default %(default)s)")
    p.add_argument("--flow", default="dis", choices=FLOW_METHODS, help="optical flow (OpenCV; default %(default)s)")
    p.add_argument("--max-frames", metavar="N", default=str(DEFAULT_MAX_FRAMES), help="read at most N frames "
                   "(default %(default)s)")
    p.add_argument("--fps", help="frames per second of the output (default: the clip's)")
    p.add_argument("--preset", default="seed", choices=sorted(PRESETS), help="configuration (default %(default)s)")
    p.add_argument("--report", metavar="FILE.json", help="write seconds and steps per frame, losses and the "
                   "warping error as JSON")
    _config_options(p, StyleConfig, title=f"algorithm, per frame (defaults come from --preset; --steps is each "
                                          f"frame's budget; --tol is {DEFAULT_TOL:g} unless given, 0 to use every step)")


def run_video(args):
    """``python -m nst_helpers video CLIP STYLE ... -o OUT``; returns how the run stopped."""
    from . import files
    from .config import make_config
    from .checks import check_number, check_weight
    from .devices import default_size, resolve_device
    from .images import probe_images, source_path
    from .video import EXAMPLE_CLIP, check_clip_output, read_clip, stylize_video, video_format
    from .video.paint import check_clip_memory
    from .weights import weights_file

    config = make_config(args.preset, **_overrides(args))
    config.blend_for(len(args.styles))
    check_weight(args.temporal_weight, "temporal weight")
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
    check_clip_memory(args.clip, size, args.max_frames, config, device, len(args.styles))
    # the clip is read (and checked) before VGG19 is loaded, then every name the run will write
    clip = read_clip(args.clip, size=size, max_frames=args.max_frames, fps=args.fps)
    check_clip_output(output, len(clip), inputs, args.force, fps=clip.fps)
    result = stylize_video(clip, args.styles, config, method=args.method, temporal_weight=args.temporal_weight,
                           tol=args.tol, flow=args.flow, max_frames=args.max_frames, weights=args.weights, device=device,
                           progress=not args.quiet)
    interrupted = result.stopped == "interrupted"
    if len(result.steps):
        result.save(output, overwrite=args.force)
    if interrupted:
        print(f"nst_helpers: interrupted after {len(result.steps)} of {len(clip)} frames" +
              (f": saved them to {output}" if len(result.steps) else "; nothing was written"), file=sys.stderr)
    elif not args.quiet:
        print(f"saved {output}: {result.summary()}")
    if report is not None and len(result.steps):
        data = {"output": str(output), "clip": str(args.clip), "styles": [str(s) for s in args.styles],
                "frames": len(result.steps), "fps": result.fps, "method": result.method,
                "seconds_per_frame": result.seconds, "steps_per_frame": result.steps,
                "flow_seconds": result.flow_seconds, "style_loss_per_frame": result.style_losses,
                "warping_error": result.warping_error, "warping_error_flow": result.flow_source,
                "stopped": result.stopped, "config": result.config}
        files.check_output(report, inputs, True, "report")
        files.write_text(report, json.dumps(data, indent=2, default=str))
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
        print(f"nst_helpers: error: out of memory: this machine has too little free memory for this run "
              f"({_on_disk()}): use a smaller --size (or --multiscale, or fewer --max-frames)", file=sys.stderr)
        return EXIT_BAD_INPUT
    finally:
        warnings.showwarning = old_warning
        for signum, handler in previous.items():
            try:
                signal.signal(signum, signal.SIG_DFL if handler is None else handler)
            except (ValueError, OSError):
                pass
