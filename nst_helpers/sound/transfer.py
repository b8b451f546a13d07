"""Style transfer for sound (Ulyanov and Lebedev 2016), built from the course's own pieces.

The log-magnitude spectrogram S (F frequency bins x T frames, ``spectrum.py``) is read as a 1 x T signal
with F channels. One 1-D convolution with many random filters and a ReLU turns it into activations
P = relu(W * S), C filters x T' frames (T' = T - kernel + 1): ``RandomFeatures``. Then exactly notebook 5's
objective, with the activations shaped 1 x C x 1 x T' so that ``losses.gram_matrix`` and the terms of
``objective.py`` apply unchanged:

    total(S) = alpha * content_loss(P(S), P(S_content)) + beta * style_loss(G(S), G(S_style)),
    G(S) = P P^T / T'   (``gram_matrix(norm="hw")``: a time average, so clips of any length compare)

minimised over the spectrogram by ``optimize.optimize_image`` (L-BFGS). Its contract is a picture in
[0, 1]; the spectrogram is scaled into [0, 1] by its largest possible value (``spectrum.log_spectrogram``),
so nothing in ``optimize`` changes. Griffin-Lim then recovers a waveform for the magnitude.

The filters are never trained: Gram matrices of a random network already capture a sound's texture
statistics (which frequencies sound together, and how they move over a few hundred milliseconds).
"""

import math
import time
from dataclasses import dataclass, field

import torch
from torch.nn import functional as F

from ..errors import NSTError
from ..losses import gram_matrix, style_loss
from ..objective import ContentTerm, Objective, StyleTerm
from ..optimize import optimize_image
from . import audio, spectrum
from .config import make_sound_config

#: The name of the network's one output (a "layer" for the objective's terms).
LAYER = "relu"
#: The Gram normalisation: G = P P^T / T', a mean over time (Ulyanov and Lebedev divide by T too).
GRAM_NORM = "hw"


class RandomFeatures(torch.nn.Module):
    """relu(conv1d(S, W)) with W a fixed, seeded random tensor (filters x bins x kernel), no bias.

    W ~ N(0, s^2) with s = sqrt(2) sqrt(2 / ((bins + filters) kernel)), the scale of Ulyanov and
    Lebedev's notebook (Glorot's variance, doubled for the ReLU). ``offset`` is subtracted from the
    spectrogram first: relu(W * (S - m)), which is a random network with the biases -m sum(W). Called
    like ``VGGFeatures``: ``model(spectrogram, layers)`` -> {"relu": activations 1 x C x 1 x T'} (and
    "conv" before the ReLU).

    The convolution is computed as one matrix product, W reshaped to C x (kernel F) times the
    spectrogram's windows of ``kernel`` frames, (kernel F) x T': the same numbers as
    ``F.conv1d(S, weight)`` (the tests check it), 2-3 times faster on a CPU for these shapes.
    """

    def __init__(self, bins, filters=1024, kernel=11, seed=0, offset=0.0):
        super().__init__()
        self.offset = float(offset)  # subtracted from every spectrogram first (``SoundConfig.offset``)
        gen = torch.Generator(device="cpu").manual_seed(int(seed))
        scale = math.sqrt(2.0) * math.sqrt(2.0 / ((bins + filters) * kernel))
        weight = torch.randn(filters, bins, kernel, generator=gen) * scale
        # stored as C x (kernel F): entry [c, k F + f] is weight[c, f, k]
        self.register_buffer("flat_weight", weight.permute(0, 2, 1).reshape(filters, kernel * bins).contiguous())
        self.bins, self.filters, self.kernel = bins, filters, kernel

    @property
    def weight(self):
        """The filters as ``F.conv1d`` takes them: C x F x kernel (a view of the stored matrix)."""
        return self.flat_weight.reshape(self.filters, self.kernel, self.bins).permute(0, 2, 1)

    def forward(self, spectrogram, layers=(LAYER,)):
        s = spectrogram.reshape(-1, *spectrogram.shape[-2:])  # 1 x 1 x F x T -> 1 x F x T: bins are channels
        if s.shape[1] != self.bins:
            raise NSTError(
                f"the network reads spectrograms of {self.bins} frequency bins, not {s.shape[1]}: "
                f"use the same n_fft for every sound"
            )
        if s.shape[-1] < self.kernel:
            raise NSTError(
                f"a spectrogram of {s.shape[-1]} frames is shorter than the filters ({self.kernel} "
                f"frames): give a longer clip"
            )
        windows = (s - self.offset).unfold(2, self.kernel, 1)  # B x F x T' x kernel
        windows = windows.permute(0, 3, 1, 2).reshape(s.shape[0], self.kernel * self.bins, -1)
        conv = self.flat_weight.to(s.dtype) @ windows  # B x C x T'
        out = {"conv": conv[:, :, None, :], LAYER: F.relu(conv)[:, :, None, :]}
        return {name: out[name] for name in (layers or (LAYER,))}


def features(model, spectrogram):
    """The network's activations of a spectrogram, 1 x C x 1 x T' (no gradients)."""
    with torch.no_grad():
        return model(spectrogram)[LAYER]


def gram(model, spectrogram):
    """The style statistic of a spectrogram: the C x C Gram matrix of its activations over time."""
    return gram_matrix(features(model, spectrogram), GRAM_NORM)[0]


def style_distance(model, a, b):
    """The (unweighted) style loss between two spectrograms: the mean squared difference of their Gram
    matrices in the network ``model``. The objective's style term is this at the picture being optimised."""
    return float(style_loss(gram(model, a)[None], gram(model, b)[None]))


def sound_objective(model, content, style, content_weight=1.0, style_weight=1e5):
    """notebook 5's ``Objective`` for sound: a ``ContentTerm`` on the content's activations and a
    ``StyleTerm`` on the style's Gram matrix, both at the network's one layer."""
    with torch.no_grad():
        content_terms = [ContentTerm(LAYER, features(model, content))]
        style_terms = [[(1.0, StyleTerm(LAYER, gram_matrix(features(model, style), GRAM_NORM), GRAM_NORM))]]
    return Objective(model, content_terms, style_terms, content_weight, style_weight)


def initial_spectrogram(init, content, seed=0):
    """The start of the optimisation: the content's spectrogram, or quiet noise (uniform in [0, 0.1],
    seeded, from its own generator: the caller's random state is not touched)."""
    if init == "content":
        return content.detach().clone()
    gen = torch.Generator(device="cpu").manual_seed(int(seed))
    return (0.1 * torch.rand(content.shape, generator=gen)).to(content)


@dataclass
class SoundResult:
    """What ``stylize_sound`` returns.

    waveform: the result (1-D, at ``sample_rate``, its peak at most ``audio.PEAK``); spectrogram: the
    optimised log-spectrogram (1 x 1 x F x T in [0, 1]); content / style: the inputs' waveforms and
    spectrograms; history: the weighted losses per step; evaluations, seconds (optimisation) and
    griffin_lim_seconds; spectral_convergence of the recovered waveform against the optimised magnitude
    (and ``griffin_lim_history``, its value after every round);
    measures: style distances and loudness (``measure``); stopped: as ``OptimizationResult.stopped``.
    """

    waveform: torch.Tensor
    sample_rate: int
    spectrogram: torch.Tensor
    content_waveform: torch.Tensor
    style_waveform: torch.Tensor
    content_spectrogram: torch.Tensor
    style_spectrogram: torch.Tensor
    history: dict = field(default_factory=dict)
    evaluations: int = 0
    seconds: float = 0.0
    griffin_lim_seconds: float = 0.0
    spectral_convergence: float = float("nan")
    griffin_lim_history: list = field(default_factory=list)
    measures: dict = field(default_factory=dict)
    stopped: str = None
    config: dict = field(default_factory=dict)

    @property
    def result_spectrogram(self):
        """The spectrogram of the waveform one hears (the optimised one, after phase recovery)."""
        cfg = self.config
        return spectrum.log_spectrogram(self.waveform, cfg["n_fft"], cfg["hop"])

    def save(self, path, overwrite=False, protect=()):
        """Write the result as a 16-bit PCM WAV file (see ``audio.save_wav``)."""
        return audio.save_wav(self.waveform, path, self.sample_rate, overwrite=overwrite, protect=protect)

    def summary(self):
        m = self.measures
        return (
            f"{self.evaluations} steps in {self.seconds:.1f} s, Griffin-Lim {self.griffin_lim_seconds:.1f} s "
            f"(spectral convergence {self.spectral_convergence:.3f}); style distance to the style: content "
            f"{m['style_distance']['content']:.3g}, result {m['style_distance']['result']:.3g}"
        )


def mean_spectrum(spectrogram):
    """The log-spectrogram averaged over time: one value per frequency bin."""
    return spectrogram.reshape(spectrogram.shape[-2:]).mean(dim=-1)


def measure(model, content, style, result, waveforms=None):
    """What a result is judged by (all on spectrograms made the same way):

    * ``style_distance``: to the style's Gram matrix, from the content, from the optimised spectrogram
      (``optimised``) and from the waveform after Griffin-Lim (``result``, what one hears); ``style_itself``
      is the distance between the two halves of the style clip, the scale of "as close as the style is to
      itself";
    * ``mean_spectrum_distance``: RMS difference of the time-averaged log-spectra, content and result
      against the style;
    * with ``waveforms`` (content, style, result): loudness (RMS, dBFS) and the clipped fraction.
    """
    result_spec, optimised = result
    half = style.shape[-1] // 2
    kernel = model.kernel
    distances = {
        "content": style_distance(model, content, style),
        "optimised": style_distance(model, optimised, style),
        "result": style_distance(model, result_spec, style),
    }
    if half >= kernel:
        distances["style_itself"] = style_distance(model, style[..., :half], style[..., half:])
    target = mean_spectrum(style)
    out = {
        "style_distance": distances,
        "mean_spectrum_distance": {
            name: float((mean_spectrum(s) - target).pow(2).mean().sqrt())
            for name, s in (("content", content), ("result", result_spec))
        },
    }
    if waveforms is not None:
        out["rms_db"] = {k: audio.rms_db(w) for k, w in waveforms.items()}
        out["clipped"] = {k: audio.clipped_fraction(w) for k, w in waveforms.items()}
    return out


def stylize_sound(
    content,
    style,
    config=None,
    *,
    device="cpu",
    model=None,
    progress=True,
    callback=None,
    callback_every=10,
    content_seconds=None,
    style_seconds=None,
    **overrides,
):
    """Give ``content`` the texture of ``style``: Ulyanov and Lebedev's method with the course's objective.

    content, style: .wav paths, bundled sound names (``examples.SOUNDS``; ``content_seconds`` /
    ``style_seconds`` long, 5 s by default) or tensors of samples at the configured rate. ``config``: a
    ``SoundConfig`` (or None for the defaults) with ``overrides`` applied, e.g. ``steps=50``.
    ``model``: a ``RandomFeatures`` to reuse (it must match the configuration). callback(step, parts,
    spectrogram) as in ``optimize_image``. Ctrl-C stops the optimisation and keeps the best spectrogram
    so far (``stopped == "interrupted"``); the waveform is still recovered.
    """
    config = make_sound_config(config, **overrides)
    rate = config.sample_rate
    content_wave = audio.load_audio(content, rate, "content sound", seconds=content_seconds)
    style_wave = audio.load_audio(style, rate, "style sound", seconds=style_seconds)
    device = torch.device(device)
    specs = [spectrum.log_spectrogram(w, config.n_fft, config.hop).to(device) for w in (content_wave, style_wave)]
    content_spec, style_spec = specs
    if model is None:
        offset = float(style_spec.mean()) if config.offset == "style" else 0.0
        model = RandomFeatures(config.bins, config.filters, config.kernel, config.random_seed, offset).to(device)
    elif (model.bins, model.filters, model.kernel) != (config.bins, config.filters, config.kernel):
        raise NSTError(
            f"the model has {model.filters} filters of {model.kernel} frames over {model.bins} bins; the "
            f"configuration asks for {config.filters} of {config.kernel} over {config.bins}"
        )
    for spec, what in ((content_spec, "content sound"), (style_spec, "style sound")):
        if spec.shape[-1] < config.kernel:
            raise NSTError(
                f"{what} gives {spec.shape[-1]} STFT frames, fewer than the filters' {config.kernel}: "
                f"give a longer clip or a smaller hop"
            )
    objective = sound_objective(model, content_spec, style_spec, config.content_weight, config.style_weight)
    init = initial_spectrogram(config.init, content_spec, config.random_seed)
    run = optimize_image(
        objective,
        init,
        steps=config.steps,
        progress=progress,
        desc="sound",
        tol=config.tol,
        callback=callback,
        callback_every=callback_every,
        log_every=0,
    )
    optimised = run.image.detach()
    start = time.perf_counter()
    target = spectrum.magnitude(optimised, config.n_fft).cpu()
    gl_history = []
    waveform = spectrum.griffin_lim(
        target,
        config.n_fft,
        config.hop,
        length=len(content_wave),
        iterations=config.griffin_lim_iterations,
        momentum=config.momentum,
        seed=config.random_seed,
        history=gl_history,
    )
    gl_seconds = time.perf_counter() - start
    convergence = spectrum.spectral_convergence(target, waveform, config.n_fft, config.hop)
    waveform = audio.limit(waveform)
    result_spec = spectrum.log_spectrogram(waveform, config.n_fft, config.hop).to(device)
    measures = measure(
        model,
        content_spec,
        style_spec,
        (result_spec, optimised),
        {"content": content_wave, "style": style_wave, "result": waveform},
    )
    return SoundResult(
        waveform=waveform,
        sample_rate=rate,
        spectrogram=optimised.cpu(),
        content_waveform=content_wave,
        style_waveform=style_wave,
        content_spectrogram=content_spec.cpu(),
        style_spectrogram=style_spec.cpu(),
        history=run.history,
        evaluations=run.evaluations,
        seconds=run.seconds,
        griffin_lim_seconds=gl_seconds,
        spectral_convergence=convergence,
        griffin_lim_history=gl_history,
        measures=measures,
        stopped=run.stopped,
        config={**config.to_dict(), "device": str(device)},
    )
