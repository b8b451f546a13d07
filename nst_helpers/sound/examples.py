"""Sounds the package makes itself, from a seed, so that the chapter works offline and every clip may be
shared (CC0, recorded in ``nst_helpers/examples/SOURCES.md``). No recording is bundled.

* ``melody``: a content clip: a tune of four notes a second, a random walk on the A minor pentatonic
  scale, played by a band-limited sawtooth (harmonics 1, 2, 3, ... with amplitudes 1/k) over a sine bass
  an octave and a fifth below, each note struck and decaying.
* ``rain``: a texture: rain-like drops (short noise bursts, each band-passed around its own random
  frequency and decaying in a few milliseconds; about 60 a second at random times and loudness) over a
  soft, band-limited hiss.
* ``organ``: a timbre: sustained chords (Am, F, C, G, one every 1.25 s) on an organ-like tone (harmonics
  1, 2, 3, 4, 6 and 8 at fixed "drawbar" levels) with a slow tremolo.
* ``babble``: a crowd-like babble: six voices, each a buzz (a sawtooth whose pitch glides, like a
  glottal pulse train) shaped by the formants of a vowel that changes every 150-300 ms, overlapping at
  random levels.

Each is ``seconds`` long at ``sample_rate`` Hz with its peak at -6 dBFS; the same seed gives the same clip.
"""

import math

import torch

from ..errors import NSTError

#: The bundled sounds, usable by name wherever a .wav path is accepted.
SOUNDS = ("melody", "rain", "organ", "babble")
#: The loudest sample of every synthesised clip (-6 dBFS).
LEVEL = 0.5

# Formants (Hz) of five vowels, average adult values (F1, F2, F3).
VOWELS = ((730, 1090, 2440), (270, 2290, 3010), (300, 870, 2240), (530, 1840, 2480), (570, 840, 2410))


def _generator(seed):
    return torch.Generator().manual_seed(int(seed))


def _normalise(x, level=LEVEL):
    top = float(x.abs().max())
    return (x * (level / top) if top > 0 else x).float()


def _harmonic_tone(freq, t, sample_rate, amplitudes):
    """sum_k a_k sin(2 pi k f t), keeping only harmonics below 0.45 * sample_rate (no aliasing)."""
    out = torch.zeros_like(t)
    for k, a in enumerate(amplitudes, start=1):
        if k * freq < 0.45 * sample_rate and a:
            out += a * torch.sin(2 * math.pi * k * freq * t)
    return out


def _band(n, sample_rate, centre, width):
    """A Gaussian band-pass response for an n-point real FFT (centre and width in Hz)."""
    freqs = torch.fft.rfftfreq(n, 1 / sample_rate, dtype=torch.float64)
    return torch.exp(-0.5 * ((freqs - centre) / width) ** 2)


def melody(seconds=5.0, sample_rate=22050, seed=0):
    g = _generator(seed)
    n = int(round(seconds * sample_rate))
    out = torch.zeros(n, dtype=torch.float64)
    scale = (0, 3, 5, 7, 10)  # A minor pentatonic, semitones above A
    note = 0.25  # seconds per note
    degree = 5  # position on the scale, counted over octaves (5 = A4)
    saw = [1 / k for k in range(1, 30)]
    for i in range(int(math.ceil(seconds / note))):
        start = int(i * note * sample_rate)
        length = min(n - start, int(note * sample_rate))
        if length <= 0:
            break
        step = int(torch.randint(-2, 3, (1,), generator=g))
        degree = max(0, min(9, degree + step))
        semitones = 12 * (degree // 5) + scale[degree % 5]
        freq = 220.0 * 2 ** (semitones / 12)
        t = torch.arange(length, dtype=torch.float64) / sample_rate
        envelope = torch.clamp(t / 0.01, max=1.0) * torch.exp(-t / 0.18)
        envelope *= torch.clamp((note - t) / 0.01, max=1.0)  # a short release: no click at the next note
        tone = _harmonic_tone(freq, t, sample_rate, saw)
        bass = 0.8 * torch.sin(2 * math.pi * freq / 3 * t)  # an octave and a fifth below
        out[start : start + length] += envelope * (0.6 * tone + bass)
    return _normalise(out)


def rain(seconds=5.0, sample_rate=22050, seed=0):
    g = _generator(seed)
    n = int(round(seconds * sample_rate))
    hiss = torch.fft.irfft(
        torch.fft.rfft(torch.randn(n, generator=g, dtype=torch.float64)) * _band(n, sample_rate, 3000, 2500), n
    )
    out = 0.15 * hiss / hiss.std()
    drops = int(60 * seconds)
    length = int(0.04 * sample_rate)
    t = torch.arange(length, dtype=torch.float64) / sample_rate
    for _ in range(drops):
        start = int(torch.randint(0, max(1, n - length), (1,), generator=g))
        centre = float(torch.empty(1, dtype=torch.float64).uniform_(800, 8000, generator=g))
        loudness = math.exp(float(torch.empty(1, dtype=torch.float64).uniform_(math.log(0.1), 0.0, generator=g)))
        decay = float(torch.empty(1, dtype=torch.float64).uniform_(0.002, 0.012, generator=g))
        burst = torch.randn(length, generator=g, dtype=torch.float64) * torch.exp(-t / decay)
        burst = torch.fft.irfft(torch.fft.rfft(burst) * _band(length, sample_rate, centre, centre / 6), length)
        burst = burst / (burst.abs().max() + 1e-12)
        end = min(n, start + length)
        out[start:end] += loudness * burst[: end - start]
    return _normalise(out)


def organ(seconds=5.0, sample_rate=22050, seed=0):
    g = _generator(seed)
    n = int(round(seconds * sample_rate))
    t = torch.arange(n, dtype=torch.float64) / sample_rate
    chords = ((57, 60, 64), (53, 57, 60), (48, 55, 64), (55, 59, 62))  # Am, F, C, G as MIDI notes
    drawbars = (1.0, 0.7, 0.5, 0.4, 0, 0.25, 0, 0.15)  # harmonics 1, 2, 3, 4, 6, 8
    out = torch.zeros(n, dtype=torch.float64)
    span = 1.25
    phase = float(torch.rand(1, generator=g, dtype=torch.float64)) * 2 * math.pi
    for i in range(int(math.ceil(seconds / span))):
        start, end = int(i * span * sample_rate), min(n, int((i + 1) * span * sample_rate))
        local = t[start:end] - t[start]
        gate = torch.clamp(local / 0.02, max=1.0) * torch.clamp((span - local) / 0.02, max=1.0)
        for midi in chords[i % len(chords)]:
            freq = 440.0 * 2 ** ((midi - 69) / 12)
            out[start:end] += gate * _harmonic_tone(freq, t[start:end], sample_rate, drawbars)
    out *= 1 + 0.2 * torch.sin(2 * math.pi * 5.5 * t + phase)  # tremolo
    return _normalise(out)


def babble(seconds=5.0, sample_rate=22050, seed=0, voices=6):
    g = _generator(seed)
    n = int(round(seconds * sample_rate))
    out = torch.zeros(n, dtype=torch.float64)
    for _ in range(voices):
        f0 = float(torch.empty(1, dtype=torch.float64).uniform_(95, 240, generator=g))
        level = float(torch.empty(1, dtype=torch.float64).uniform_(0.3, 1.0, generator=g))
        pos = int(torch.randint(0, int(0.2 * sample_rate), (1,), generator=g))
        voice = torch.zeros(n, dtype=torch.float64)
        while pos < n:  # one syllable after another, each a vowel with a pitch glide
            length = int(float(torch.empty(1, dtype=torch.float64).uniform_(0.15, 0.3, generator=g)) * sample_rate)
            length = min(length, n - pos)
            if length < 64:
                break
            t = torch.arange(length, dtype=torch.float64) / sample_rate
            glide = f0 * (
                1 + 0.15 * float(torch.empty(1, dtype=torch.float64).uniform_(-1, 1, generator=g)) * t / t[-1]
            )
            phase = 2 * math.pi * torch.cumsum(glide, 0) / sample_rate
            buzz = 2 * torch.remainder(phase / (2 * math.pi), 1.0) - 1  # a sawtooth: every harmonic, 1/k
            vowel = VOWELS[int(torch.randint(0, len(VOWELS), (1,), generator=g))]
            shape = sum(_band(length, sample_rate, f, 60 + 0.08 * f) * a for f, a in zip(vowel, (1.0, 0.6, 0.3)))
            syllable = torch.fft.irfft(torch.fft.rfft(buzz) * shape, length)
            syllable *= torch.sin(math.pi * t / t[-1]) ** 2  # rise and fall
            voice[pos : pos + length] += syllable / (syllable.abs().max() + 1e-12)
            pos += length + int(
                float(torch.empty(1, dtype=torch.float64).uniform_(0.0, 0.12, generator=g)) * sample_rate
            )
        out += level * voice
    return _normalise(out)


_MAKERS = {"melody": melody, "rain": rain, "organ": organ, "babble": babble}


def synthesize(name, seconds=5.0, sample_rate=22050, seed=0):
    """The bundled sound ``name`` (``SOUNDS``), ``seconds`` long at ``sample_rate`` Hz: a 1-D float32 tensor."""
    if name not in _MAKERS:
        raise NSTError(f"unknown sound {name!r}: the bundled sounds are {', '.join(SOUNDS)}")
    if not isinstance(seconds, (int, float)) or not 0 < seconds <= 60:
        raise NSTError(f"a bundled sound's length must be a number of seconds in (0, 60], not {seconds!r}")
    return _MAKERS[name](float(seconds), int(sample_rate), seed)
