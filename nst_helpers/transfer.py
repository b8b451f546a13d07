"""Style transfer: ``stylize``, the one function that makes a stylised picture.

It takes a ``StyleConfig`` (``config.py``; by default the ``seed`` preset, the course's original
configuration), sets the run up as every entry point does (``prepare.py``: device, images, sizes,
memory, VGG19), with its own steps in between (the mask, the multiscale plan), and runs
``optimize_image`` on the objective ``build_objective`` makes of it, once, or coarse-to-fine over a
``multiscale_plan``.
"""

from dataclasses import dataclass, field

from torch.nn import functional as F

from . import color
from .checks import MIN_SIZE
from .config import make_config
from .errors import NSTError, memory_errors
from .images import DEFAULT_CONTENT, load_image, source_path
from .layers import min_image_side
from .objective import build_objective
from .optimize import OptimizationResult, initial_image, optimize_image
from .prepare import start_run
from .vgg import describe_vgg
from .weights import weights_file


@dataclass
class StyleResult(OptimizationResult):
    """``OptimizationResult`` plus the configuration that made it (``config``, a plain dict) and the
    files the run read (``inputs``), which ``save`` refuses to overwrite."""

    config: dict = field(default_factory=dict)
    inputs: tuple = ()

    def save(self, path, overwrite=True):
        from .images import save_image

        return save_image(self.image, path, overwrite=overwrite, protect=self.inputs)


def multiscale_plan(size, steps, levels=3, min_size=64):
    """Sizes and steps for coarse-to-fine: each level halves the long side, down to ``min_size``.

    The coarsest level gets all ``steps`` (it is cheap and makes the picture), each finer level but the
    last a third of them, and the full-size level a sixth: the picture is made small and refined large.
    """
    sizes = [int(size)]
    while len(sizes) < levels and sizes[0] // 2 >= min_size:
        sizes.insert(0, sizes[0] // 2)
    if len(sizes) == 1:
        return [(sizes[0], steps)]
    plan = [(s, steps if i == 0 else max(1, steps // 3)) for i, s in enumerate(sizes[:-1])]
    return plan + [(sizes[-1], max(1, steps // 6))]


def _plan(config, content_t):
    """The (size, steps) levels of a run, each checked against the layers' smallest image side."""
    h, w = content_t.shape[-2:]
    if config.multiscale is True:
        plan = multiscale_plan(max(h, w), config.steps, min_size=max(64, 2 * min_image_side(_layers(config))))
    elif config.multiscale:
        plan = list(config.multiscale)
    else:
        plan = [(max(h, w), config.steps)]
    for level_size, _ in plan:
        short = round(min(h, w) * level_size / max(h, w))
        if short < min_image_side(_layers(config)):
            raise NSTError(
                f"multiscale level {level_size} px makes the picture {short} px on its short side, too "
                f"small for the layers (at least {min_image_side(_layers(config))} px): start larger"
            )
    return plan


def _layers(config):
    return config.content_layers + config.style_layers


def input_files(images):
    """The files among the images given (paths and bundled names), for ``StyleResult.inputs``."""
    out = []
    for image in images:
        if isinstance(image, str) or hasattr(image, "__fspath__"):
            try:
                out.append(source_path(image))
            except NSTError:
                pass
    return tuple(out)


@memory_errors("style transfer", "use a smaller size (or multiscale for large pictures)")
def stylize(
    content=None,
    styles=None,
    config="seed",
    *,
    model=None,
    weights=None,
    device="auto",
    mask=None,
    callback=None,
    callback_every=50,
    should_stop=None,
    progress=True,
    log_every=50,
    **overrides,
):
    """Paint ``content`` in the style of ``styles``; returns a ``StyleResult``.

    content, styles: paths, bundled example names (``nst.EXAMPLES``), PIL images or tensors; one style
    or a list. Without them, the bundled cat photo in the style of The Starry Night.
    config: a preset name (``"seed"``, the default, or ``"gatys"``) or a ``StyleConfig``; any field
    of it may be overridden by keyword (``style_weight=1e6``, ``steps=100``, ``size=256``, ...; see
    ``StyleConfig``). model: a loaded ``load_vgg19`` network, else ``weights`` (a path, ``"random"``
    or None, see ``weights.py``) is loaded on ``device`` (``"auto"``: cuda, mps, cpu).
    mask: with exactly two style images, an image whose white part gets the first style and black
    part the second (grey blends them). callback(step, parts, image) every ``callback_every`` steps;
    return False to stop. ``should_stop()`` is asked before every step.
    """
    config = make_config(config, **overrides)
    content = DEFAULT_CONTENT if content is None else content
    run = start_run(styles, config, model=model, device=device)  # arguments: nothing is read yet
    if mask is not None and len(run.sources) != 2:
        raise NSTError(f"a mask splits the picture between two style images, but {len(run.sources)} were given")
    run.load_images(content, run.load_size(content))
    plan = _plan(config, run.content)
    run.check_memory(steps=plan[-1][1])
    dev, content_t, style_ts = run.device, run.content, run.styles
    masks = None
    if mask is not None:
        m = load_image(mask, size=tuple(content_t.shape[-2:]), device=dev, what="mask image").mean(1, keepdim=True)
        masks = [m, 1 - m]
    original_content = content_t
    if config.preserve_color == "histogram":
        style_ts = [color.match_histogram(s, content_t) for s in style_ts]
    elif config.preserve_color == "luminance":
        style_ts = [color.match_luminance(s, content_t) for s in style_ts]
        content_t = color.grey(color.luminance(content_t))
    model = run.load_model(weights).model

    text, network = describe_vgg(model)
    report = dict(
        config.to_dict(),
        device=str(dev),
        weights=model.source,
        network=dict(network, description=text),
        plan=plan,
        mask=mask is not None,
        output_size=list(content_t.shape[-2:]),
    )
    image, history, evaluations, seconds, stopped, result = None, None, 0, 0.0, None, None
    for level, (level_size, level_steps) in enumerate(plan):
        last = level == len(plan) - 1
        c_level, s_level = content_t, style_ts
        if not last:  # a smaller copy of every image, styles keeping their size relative to the content
            scale = level_size / max(content_t.shape[-2:])
            c_level = load_image(content_t, size=level_size, device=dev)
            s_level = [
                load_image(s, size=max(MIN_SIZE, round(max(s.shape[-2:]) * scale)), device=dev) for s in style_ts
            ]
        objective = build_objective(model, c_level, s_level, config, masks)
        if image is None:
            start = initial_image(config.init, c_level, config.random_seed)
        else:
            start = F.interpolate(image, size=c_level.shape[-2:], mode="bilinear", align_corners=False).clamp(0, 1)
        desc = "style transfer" if len(plan) == 1 else f"style transfer {tuple(c_level.shape[-2:])}"
        result = optimize_image(
            objective,
            start,
            config,
            steps=level_steps,
            callback=callback,
            callback_every=callback_every,
            should_stop=should_stop,
            progress=progress,
            log_every=log_every,
            desc=desc,
        )
        image, seconds = result.image, seconds + result.seconds
        history = result.history if history is None else {k: history[k] + result.history[k] for k in history}
        evaluations += result.evaluations
        if result.stopped not in (None, "converged"):
            stopped = result.stopped
            break
        stopped = result.stopped

    if config.preserve_color == "luminance":
        image = color.recombine_luminance(image, original_content)
    best_step = evaluations - result.evaluations + result.best_step
    return StyleResult(
        image=image,
        history=history,
        evaluations=evaluations,
        seconds=seconds,
        stopped=stopped,
        best_step=best_step,
        config=report,
        inputs=(*input_files([content, *run.sources, mask]), *filter(None, [weights_file(model.source)])),
    )
