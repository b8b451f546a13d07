"""The spectrogram: a short-time Fourier transform (STFT), its inverse, and phase recovery by Griffin-Lim.

Notation (notebook 12): a waveform x of N samples; the STFT X[f, t] = sum_n x[n + t h] w[n] e^{-2 pi i f n / L}
with a Hann window w of L = ``n_fft`` samples, hop h, f = 0 .. L/2 (``n_fft // 2 + 1`` frequency bins) and
t = 0 .. T-1 (frames; torch centres them, padding the ends by reflection). The network sees the
*log-magnitude* S[f, t] = log(1 + |X[f, t]|) / log(1 + W), where W = sum_n w[n] = L/2 is the largest
|X| a waveform within full scale can have: S lies in [0, 1], which is what ``optimize.optimize_image``
keeps its "pixels" in. As a tensor it is 1 x 1 x F x T, a one-channel picture with frequency up and
time across; the network reads its F rows as the channels of a 1 x T signal.

The phase is thrown away. ``griffin_lim`` finds a waveform whose STFT magnitude is close to a given one
(Griffin and Lim 1984), with the momentum of Perraudin, Balazs and Sondergaard (2013, "fast Griffin-Lim").
``spectral_convergence`` measures how close: || |STFT(y)| - A ||_F / ||A||_F (0 is perfect).

It is written here with ``torch.stft`` / ``torch.istft`` rather than taken from torchaudio: torchaudio
is not a dependency of the course (its releases are tied to torch's, and it is another large download
for a dozen lines), and the loop is what the notebook teaches.
"""

import math

import torch

from ..errors import NSTError


def window(n_fft, device=None):
    """The periodic Hann window of the STFT (sums to n_fft / 2)."""
    return torch.hann_window(n_fft, periodic=True, device=device)


def stft(waveform, n_fft=2048, hop=512):
    """The complex STFT of a 1-D waveform: (n_fft // 2 + 1) x frames."""
    return torch.stft(
        waveform,
        n_fft,
        hop_length=hop,
        window=window(n_fft, waveform.device),
        center=True,
        pad_mode="reflect",
        return_complex=True,
    )


def istft(spectrum, n_fft=2048, hop=512, length=None):
    """The waveform whose STFT is ``spectrum`` (least squares where it is not a valid STFT)."""
    return torch.istft(
        spectrum, n_fft, hop_length=hop, window=window(n_fft, spectrum.device), center=True, length=length
    )


def magnitude_ceiling(n_fft):
    """The largest |STFT| of a waveform within [-1, 1]: the window's sum, n_fft / 2."""
    return n_fft / 2


def log_spectrogram(waveform, n_fft=2048, hop=512):
    """log(1 + |STFT|) scaled into [0, 1] by log(1 + n_fft / 2): a 1 x 1 x F x T tensor."""
    scale = math.log1p(magnitude_ceiling(n_fft))
    return (torch.log1p(stft(waveform, n_fft, hop).abs()) / scale)[None, None].contiguous()


def magnitude(spectrogram, n_fft=2048):
    """The STFT magnitude |X| (F x T) of a log-spectrogram made by ``log_spectrogram``."""
    spec = spectrogram.reshape(spectrogram.shape[-2:])
    return torch.expm1(spec.clamp(0, 1) * math.log1p(magnitude_ceiling(n_fft)))


def spectral_convergence(target, waveform, n_fft=2048, hop=512):
    """|| |STFT(waveform)| - target ||_F / || target ||_F: 0 when the waveform has exactly the magnitude
    ``target`` (F x T); about 1 for an unrelated waveform of the same loudness."""
    rebuilt = stft(waveform, n_fft, hop).abs()
    frames = min(rebuilt.shape[-1], target.shape[-1])
    diff = rebuilt[..., :frames] - target[..., :frames]
    return float(diff.norm() / target[..., :frames].norm().clamp_min(1e-12))


def griffin_lim(target, n_fft=2048, hop=512, length=None, iterations=100, momentum=0.99, seed=0, history=None):
    """A waveform whose STFT magnitude approaches ``target`` (F x T, non-negative).

    Start from random phases (seeded); then, ``iterations`` times, put the target magnitude under the
    current phases, go to the waveform that fits that best (``istft``) and back (``stft``), and keep the
    new phases. That is Griffin and Lim's algorithm; each round cannot increase the distance between the
    two magnitudes. ``momentum`` > 0 (0.99 is Perraudin et al.'s choice) extrapolates each new STFT past
    the previous one, ``c + momentum (c - c_previous)``, before taking its phases, which converges
    much faster. ``history``: a list that gets the spectral convergence after every round.
    """
    if target.dim() != 2 or target.shape[0] != n_fft // 2 + 1:
        raise NSTError(
            f"griffin_lim expects an F x T magnitude with F = n_fft // 2 + 1 = {n_fft // 2 + 1}, got "
            f"{tuple(target.shape)}"
        )
    if not 0 <= momentum < 1:
        raise NSTError(f"momentum must be in [0, 1), not {momentum}")
    # Frames x bins in memory, as torch.stft lays its output out: every product below then runs on
    # tensors of one layout (mixing layouts made each round several times slower).
    target = target.t().contiguous().t()
    gen = torch.Generator(device="cpu").manual_seed(int(seed))
    phases = torch.rand(tuple(reversed(target.shape)), generator=gen, dtype=torch.float64).t()
    angles = torch.polar(torch.ones_like(phases), 2 * math.pi * phases).to(
        target.device, torch.complex64 if target.dtype != torch.float64 else torch.complex128
    )
    previous = None
    for _ in range(int(iterations)):
        waveform = istft(target * angles, n_fft, hop, length)
        rebuilt = stft(waveform, n_fft, hop)
        if history is not None:
            history.append(float((rebuilt.abs() - target).norm() / target.norm().clamp_min(1e-12)))
        step = rebuilt if previous is None or not momentum else rebuilt + momentum * (rebuilt - previous)
        previous = rebuilt
        angles = step / step.abs().clamp_min(1e-12)
    return istft(target * angles, n_fft, hop, length)


def frequencies(n_fft=2048, sample_rate=22050):
    """The centre frequency (Hz) of each bin of the STFT."""
    return torch.fft.rfftfreq(n_fft, 1 / sample_rate)


def frame_times(frames, hop=512, sample_rate=22050):
    """The time (s) at the centre of each frame."""
    return torch.arange(frames) * hop / sample_rate


def show_spectrograms(spectrograms, titles, sample_rate=22050, hop=512, n_fft=2048, max_hz=None, size=4.0):
    """The log-spectrograms side by side, on one colour scale (0 to the largest value shown), frequency up
    (Hz, up to ``max_hz``) and time across (s)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        1, len(spectrograms), figsize=(size * 1.4 * len(spectrograms), size), squeeze=False, constrained_layout=True
    )
    top = max_hz or sample_rate / 2
    vmax = max(float(s.max()) for s in spectrograms) or 1.0
    for ax, spec, title in zip(axes[0], spectrograms, titles):
        s = spec.detach().reshape(spec.shape[-2:]).cpu()
        seconds = s.shape[-1] * hop / sample_rate
        image = ax.imshow(
            s.numpy(),
            origin="lower",
            aspect="auto",
            cmap="magma",
            vmin=0,
            vmax=vmax,
            extent=(0, seconds, 0, sample_rate / 2),
        )
        ax.set_ylim(0, top)
        ax.set_title(title, fontsize=14)
        ax.set_xlabel("time (s)", fontsize=12)
        ax.set_ylabel("frequency (Hz)", fontsize=12)
    fig.colorbar(image, ax=axes[0].tolist(), shrink=0.9, label="log(1 + |STFT|), scaled")
    return fig
