"""Sound in and out: WAV files through the standard library's ``wave`` module, mixed down to mono,
resampled to one rate, within a length limit.

What is read: RIFF/WAVE files of integer PCM (8-bit unsigned, 16-, 24- and 32-bit signed), any number of
channels (averaged to mono), any sample rate from ``MIN_RATE`` to ``MAX_RATE`` Hz (resampled to the
configured rate, 22050 Hz by default, with a windowed-sinc filter: ``resample``), from ``MIN_SECONDS`` to
``MAX_SECONDS`` long. Floating-point WAV (IEEE float, format 3, and WAVE_FORMAT_EXTENSIBLE on Pythons
before 3.12) is refused with one line: ``wave`` reads integer PCM only, and PCM samples cannot be NaN.
Tensors and numpy arrays are taken as samples at the configured rate (one channel, or channels first),
and there NaN or infinite samples are refused. Every refusal is an ``NSTError`` raised before any work.

What is written: 16-bit PCM mono WAV, atomically (``files.atomic_write``), never over an input.
"""

import math
import os
import stat
import wave
from pathlib import Path

import numpy as np
import torch

from .. import files
from ..errors import NSTError
from .examples import SOUNDS, synthesize

#: The longest clip read, in seconds (a longer one is refused: cut it first).
MAX_SECONDS = 30.0
#: The shortest clip: the random network's filters span 11 STFT frames (about a quarter of a second).
MIN_SECONDS = 0.5
#: Sample rates accepted in files.
MIN_RATE, MAX_RATE = 4000, 384000
#: At most this many channels (they are averaged).
MAX_CHANNELS = 64
#: A clip whose loudest sample is quieter than this (dB relative to full scale) is silent.
SILENCE_DB = -60.0
#: The loudest sample written: a result louder than this is scaled down (no clipping).
PEAK = 0.99

_PCM_WIDTHS = {1: "8-bit", 2: "16-bit", 3: "24-bit", 4: "32-bit"}


def _short(text):
    text = str(text)
    return repr(text if len(text) <= 80 else text[:40] + "..." + text[-30:])


def sound_source(source, what="sound"):
    """The WAV file behind ``source`` (a path), or None for the name of a bundled, synthesised sound
    (``examples.SOUNDS``) when no file of that name exists. A file of that name wins."""
    path = files.as_path(source, what)
    if isinstance(source, str) and source in SOUNDS and not files.exists(path, what):
        return None
    return path


def _check_file(path, what):
    """Refuse what cannot be opened as a file: missing, a folder, a FIFO or device (opening a FIFO would
    wait forever for a writer), or empty."""
    if not files.exists(path, what):
        raise NSTError(f"{what} {_short(path)} not found: give a .wav file or a bundled sound ({', '.join(SOUNDS)})")
    if files.is_dir(path, what):
        raise NSTError(f"{what} {_short(path)} is a folder: give the path of a .wav file")
    mode = os.stat(path).st_mode
    if not stat.S_ISREG(mode):
        kind = "a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "not an ordinary file"
        raise NSTError(f"{what} {_short(path)} is {kind}: give the path of a .wav file")
    if os.stat(path).st_size == 0:
        raise NSTError(f"{what} {_short(path)} is empty (0 bytes): give a .wav file with sound in it")


def _format_tag(path):
    """The WAVE format tag of a RIFF file's fmt chunk (1 PCM, 3 IEEE float, 0xFFFE extensible), or None."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                return None
            for _ in range(64):  # the chunks before fmt (a few at most)
                chunk = fh.read(8)
                if len(chunk) < 8:
                    return None
                size = int.from_bytes(chunk[4:], "little")
                if chunk[:4] == b"fmt ":
                    body = fh.read(min(size, 40))
                    if len(body) < 2:
                        return None
                    tag = int.from_bytes(body[:2], "little")
                    if tag == 0xFFFE and len(body) >= 26:  # extensible: the sub-format's first two bytes
                        return 0xFFFE, int.from_bytes(body[24:26], "little")
                    return tag, None
                fh.seek(size + (size & 1), os.SEEK_CUR)
    except OSError:
        return None
    return None


def read_wav(path, what="sound", max_seconds=MAX_SECONDS):
    """The samples of a PCM WAV file as a float64 tensor (channels x frames, in [-1, 1]) and its rate.

    Checked before the samples are read: that it is a WAV file ``wave`` can read (integer PCM), its rate,
    channels and length (at most ``max_seconds``); after: that it held the frames its header promised."""
    path = files.as_path(path, what)
    _check_file(path, what)
    name = _short(path)
    try:
        with wave.open(str(path), "rb") as wav:
            channels, width, rate, frames = (
                wav.getnchannels(),
                wav.getsampwidth(),
                wav.getframerate(),
                wav.getnframes(),
            )
            if width not in _PCM_WIDTHS:
                raise NSTError(f"{what} {name} has {8 * width}-bit samples: use 8-, 16-, 24- or 32-bit PCM")
            if not MIN_RATE <= rate <= MAX_RATE:
                raise NSTError(
                    f"{what} {name} says its sample rate is {rate} Hz: rates from {MIN_RATE} to "
                    f"{MAX_RATE} Hz are read (the file may be damaged)"
                )
            if not 1 <= channels <= MAX_CHANNELS:
                raise NSTError(f"{what} {name} has {channels} channels: at most {MAX_CHANNELS} are read")
            if frames == 0:
                raise NSTError(f"{what} {name} is empty (no samples): give a .wav file with sound in it")
            if frames > max_seconds * rate:
                raise NSTError(
                    f"{what} {name} is {frames / rate:.1f} s long; the limit is {max_seconds:g} s: cut "
                    f"it first (for example: sox IN.wav OUT.wav trim 0 {max_seconds:g})"
                )
            data = wav.readframes(frames)
    except NSTError:
        raise
    except wave.Error as err:
        raise NSTError(_wave_error(path, what, err)) from None
    except EOFError:
        raise NSTError(
            f"{what} {name} could not be read: its header is cut short (a damaged or truncated file)"
        ) from None
    except (OSError, MemoryError, ValueError, OverflowError) as err:
        first = " ".join(str(err).split())[:100] or type(err).__name__
        raise NSTError(f"{what} {name} could not be read ({first}): the file may be damaged") from None
    got = len(data) // (width * channels)
    if got < frames:
        raise NSTError(
            f"{what} {name} is truncated: its header promises {frames} frames, the file holds {got}: save it again"
        )
    return _pcm_to_float(data, width, channels), rate


def _wave_error(path, what, err):
    name = _short(path)
    found = _format_tag(path)
    if found is not None:
        tag, sub = found
        if tag == 3 or (tag == 0xFFFE and sub == 3):
            return (
                f"{what} {name} is a floating-point WAV: the standard library reads integer PCM only; "
                f"convert it to 16-bit PCM (for example: sox IN.wav -b 16 OUT.wav)"
            )
        if tag == 0xFFFE:
            return (
                f"{what} {name} is a WAVE_FORMAT_EXTENSIBLE file, which this Python's wave module cannot "
                f"read: convert it to plain 16-bit PCM (for example: sox IN.wav -b 16 OUT.wav)"
            )
        if tag != 1:
            return (
                f"{what} {name} is a compressed WAV (format {tag}): convert it to 16-bit PCM (for example: "
                f"sox IN.wav -b 16 OUT.wav)"
            )
    text = str(err)
    if "RIFF" in text or "WAVE" in text or "fmt" in text:
        return f"{what} {name} is not a WAV file ({text}): give a .wav file of PCM samples"
    return f"{what} {name} could not be read as a WAV file ({text}): the file may be damaged"


def _pcm_to_float(data, width, channels):
    """Interleaved little-endian PCM bytes -> float64 tensor, channels x frames, scaled to [-1, 1)."""
    raw = np.frombuffer(data, dtype=np.uint8)
    n = len(raw) // (width * channels) * width * channels
    raw = raw[:n]
    if width == 1:  # 8-bit WAV is unsigned, centred on 128
        samples = (raw.astype(np.float64) - 128.0) / 128.0
    elif width == 3:  # 24-bit: widen each sample to 32 bits (the three bytes go high, the sign comes along)
        triples = raw.reshape(-1, 3)
        wide = np.zeros((len(triples), 4), dtype=np.uint8)
        wide[:, 1:] = triples
        samples = wide.view("<i4").reshape(-1).astype(np.float64) / 2.0**31
    else:
        samples = raw.view("<i2" if width == 2 else "<i4").astype(np.float64) / 2.0 ** (8 * width - 1)
    return torch.from_numpy(samples.reshape(-1, channels).T.copy())


def to_mono(samples):
    """Channels x frames -> frames: the mean of the channels (a 1-D waveform is returned as it is)."""
    return samples if samples.dim() == 1 else samples.mean(dim=0)


def resample(waveform, orig_rate, new_rate, zeros=16, rolloff=0.945):
    """``waveform`` (1-D) from ``orig_rate`` to ``new_rate`` Hz by band-limited interpolation.

    Each output sample at time t (in input samples) is sum_k x[k] h(t - k), with h a sinc low-pass
    filter cut off at ``rolloff`` times the lower of the two Nyquist frequencies (so that nothing above
    the new Nyquist folds back), tapered by a Hann window to ``zeros`` zero crossings on each side.
    Positions are computed in float64 so that long clips do not drift.
    """
    orig_rate, new_rate = int(orig_rate), int(new_rate)
    if orig_rate == new_rate:
        return waveform.clone()
    x = waveform.to(torch.float64)
    ratio = orig_rate / new_rate  # input samples per output sample
    cutoff = rolloff * min(1.0, 1.0 / ratio)  # in cycles per input sample, times 2 (1 = input Nyquist)
    half = int(math.ceil(zeros / cutoff))  # taps on each side, in input samples
    padded = torch.nn.functional.pad(x, (half, half + 1))
    n_out = int(math.ceil(len(x) / ratio))
    taps = torch.arange(-half + 1, half + 1, dtype=torch.float64)
    out = torch.empty(n_out, dtype=torch.float64)
    step = max(1, 2**22 // len(taps))  # outputs per chunk: a few tens of MB at a time
    for start in range(0, n_out, step):
        t = torch.arange(start, min(n_out, start + step), dtype=torch.float64) * ratio
        base = torch.floor(t)
        index = base[:, None] + taps[None, :]  # the input samples around t
        distance = t[:, None] - index
        window = torch.cos(distance.clamp(-half, half) * (math.pi / (2 * half))) ** 2
        kernel = cutoff * torch.sinc(cutoff * distance) * window
        out[start : start + len(t)] = (padded[(index + half).long()] * kernel).sum(dim=1)
    return out.to(waveform.dtype)


def peak_db(waveform):
    """The loudest sample, in dB relative to full scale (-inf for silence)."""
    peak = float(waveform.abs().max()) if waveform.numel() else 0.0
    return 20 * math.log10(peak) if peak > 0 else -math.inf


def rms_db(waveform):
    """The loudness as RMS in dB relative to full scale (a full-scale sine is -3 dB; silence -inf)."""
    rms = float(waveform.double().pow(2).mean().sqrt()) if waveform.numel() else 0.0
    return 20 * math.log10(rms) if rms > 0 else -math.inf


def clipped_fraction(waveform):
    """The fraction of samples at 16-bit full scale once written (|x| >= 32767/32768): clipping."""
    return float((waveform.abs() >= 32767 / 32768).double().mean()) if waveform.numel() else 0.0


def check_waveform(waveform, rate, what="sound", max_seconds=MAX_SECONDS):
    """A 1-D float waveform at ``rate`` Hz, checked: finite, long enough, not too long, not silent."""
    if not torch.isfinite(waveform).all():
        bad = int((~torch.isfinite(waveform)).sum())
        raise NSTError(f"{what} has {bad} NaN or infinite samples: give finite samples (in [-1, 1])")
    seconds = len(waveform) / rate
    if len(waveform) == 0:
        raise NSTError(f"{what} is empty (no samples): give a clip with sound in it")
    if seconds > max_seconds:
        raise NSTError(f"{what} is {seconds:.1f} s long; the limit is {max_seconds:g} s: cut it first")
    if seconds < MIN_SECONDS:
        raise NSTError(
            f"{what} is {seconds:.2f} s long: give at least {MIN_SECONDS:g} s (the random network's "
            f"filters span about a quarter of a second)"
        )
    level = peak_db(waveform)
    if level < SILENCE_DB:
        shown = "-inf" if level == -math.inf else f"{level:.0f}"
        raise NSTError(
            f"{what} is silent (its loudest sample is at {shown} dBFS, below {SILENCE_DB:g} dBFS): "
            f"give a clip with sound in it"
        )
    return waveform


def load_audio(source, sample_rate=22050, what="sound", seconds=None, max_seconds=MAX_SECONDS):
    """A mono float32 waveform at ``sample_rate`` Hz from ``source``, checked (``check_waveform``).

    ``source``: a .wav path; the name of a bundled, synthesised sound (``examples.SOUNDS``; ``seconds``
    long, 5 s by default); or a tensor or numpy array of samples already at ``sample_rate`` (1-D, or
    channels x samples, which are averaged). A file is mixed down to mono and resampled.
    """
    if isinstance(source, np.ndarray):
        source = torch.from_numpy(np.array(source, dtype=np.float64))
    if torch.is_tensor(source):
        samples = source.detach().to("cpu", torch.float64)
        if samples.dim() == 2 and samples.shape[0] > MAX_CHANNELS:
            raise NSTError(
                f"{what} is a {tuple(samples.shape)} tensor: give samples as a 1-D tensor or channels x samples"
            )
        if samples.dim() not in (1, 2):
            raise NSTError(
                f"{what} must be a 1-D tensor of samples (or channels x samples), not shape {tuple(samples.shape)}"
            )
        waveform = to_mono(samples)
    elif isinstance(source, (str, Path)) or hasattr(source, "__fspath__"):
        path = sound_source(source, what)
        if path is None:
            waveform = synthesize(source, 5.0 if seconds is None else seconds, sample_rate).double()
        else:
            samples, rate = read_wav(path, what, max_seconds)
            waveform = resample(to_mono(samples), rate, sample_rate)
    else:
        raise NSTError(
            f"{what} must be a .wav path, a bundled sound ({', '.join(SOUNDS)}) or a tensor of "
            f"samples, not {type(source).__name__}"
        )
    return check_waveform(waveform, sample_rate, what, max_seconds).float()


def to_pcm16(waveform):
    """Float samples -> 16-bit PCM bytes (little-endian), rounded and kept within full scale."""
    scaled = (waveform.detach().to("cpu", torch.float64) * 32768.0).round().clamp(-32768, 32767)
    return scaled.to(torch.int16).numpy().astype("<i2").tobytes()


def limit(waveform, peak=PEAK):
    """``waveform`` scaled down so that its loudest sample is at most ``peak`` (unchanged if it is)."""
    top = float(waveform.abs().max()) if waveform.numel() else 0.0
    return waveform * (peak / top) if top > peak else waveform


def save_wav(waveform, path, sample_rate, overwrite=False, protect=()):
    """Write a mono waveform as a 16-bit PCM WAV file, atomically; never over a file in ``protect`` (the
    inputs), and over an existing file only with ``overwrite``. Returns the path."""
    path = files.as_path(path, "output")
    if path.suffix.lower() != ".wav":
        raise NSTError(f"output {_short(path)} should end in .wav: sound is written as 16-bit PCM WAV")
    path = files.check_output(path, [p for p in protect if p is not None], overwrite, "output")
    data = to_pcm16(to_mono(waveform))

    def write(fh):
        with wave.open(fh, "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(int(sample_rate))
            wav.writeframes(data)

    return files.atomic_write(path, write)
