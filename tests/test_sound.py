"""Sound (notebook 12, ``nst_helpers/sound``): hand-computed values of the STFT, the Gram matrix and the
resampler; the objective's gradient; Griffin-Lim on a known signal; WAV in and out; every bad input in the
API and on the command line (one line, exit 2, nothing written or changed). The parts that optimise are
marked slow."""

import hashlib
import json
import math
import os
import struct
import wave

import pytest
import torch
from torch.nn import functional as F

from nst_helpers import sound as S
from nst_helpers.cli import main
from nst_helpers.errors import NSTError
from nst_helpers.losses import gram_matrix

RATE = 22050


@pytest.fixture(autouse=True)
def one_thread():
    """These tests work on small tensors, which one thread handles fastest (two contend on a busy machine)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


TINY = ["--steps", "2", "--filters", "8", "--n-fft", "256", "--hop", "64", "--griffin-lim-iterations", "2", "--quiet"]


def tone(freq, seconds=1.0, rate=RATE, amplitude=0.5):
    t = torch.arange(int(round(seconds * rate)), dtype=torch.float64) / rate
    return amplitude * torch.sin(2 * math.pi * freq * t)


def write_wav(path, samples, rate=RATE, width=2, channels=1):
    """samples: channels x frames in [-1, 1] (or 1-D), written as integer PCM of ``width`` bytes."""
    x = torch.as_tensor(samples, dtype=torch.float64)
    x = x[None] if x.dim() == 1 else x
    frames = x.T.reshape(-1)
    top = 2 ** (8 * width - 1)
    ints = (frames * top).round().clamp(-top, top - 1).long().tolist()
    if width == 1:  # 8-bit WAV is unsigned
        data = bytes(v + 128 for v in ints)
    elif width == 3:
        data = b"".join(struct.pack("<i", v)[:3] for v in ints)
    else:
        data = b"".join(struct.pack("<h" if width == 2 else "<i", v) for v in ints)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(data)
    return path


def float_wav(path, samples, rate=RATE):
    """A 32-bit IEEE-float WAV (format 3), which the standard library cannot read."""
    data = struct.pack(f"<{len(samples)}f", *samples)
    fmt = struct.pack("<HHIIHH", 3, 1, rate, rate * 4, 4, 32)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return path


# --- the spectrogram -------------------------------------------------------------------------------------


def test_the_stft_of_a_pure_tone_peaks_at_its_bin_with_the_hand_computed_height():
    n_fft, hop = 512, 128
    k = 20  # a tone exactly on bin 20: f = k * rate / n_fft
    x = tone(k * RATE / n_fft, amplitude=0.5).float()
    mag = S.stft(x, n_fft, hop).abs()
    middle = mag[:, 10:-10]
    assert (middle.argmax(dim=0) == k).all()
    # a sine of amplitude A under a Hann window summing to n_fft/2 gives |X| = A/2 * n_fft/2 at its bin
    assert middle[k].mean().item() == pytest.approx(0.5 / 2 * n_fft / 2, rel=1e-3)
    assert S.frequencies(n_fft, RATE)[k].item() == pytest.approx(k * RATE / n_fft)


def test_the_log_spectrogram_is_scaled_into_0_1_by_the_largest_possible_magnitude():
    n_fft = 256
    assert S.magnitude_ceiling(n_fft) == S.spectrum.window(n_fft).sum().item() == n_fft / 2
    full = torch.ones(4096)  # full-scale DC: |X[0]| is the window's sum, the ceiling
    spec = S.log_spectrogram(full, n_fft, 64)
    assert spec.shape == (1, 1, n_fft // 2 + 1, 4096 // 64 + 1) and spec.is_contiguous()
    assert spec[0, 0, 0, 5:-5] == pytest.approx(torch.ones(spec.shape[-1] - 10), abs=1e-5)
    assert spec.min() >= 0 and spec.max() <= 1 + 1e-6
    # and back: magnitude() undoes the log and the scale
    noise = 0.3 * torch.randn(4096, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(
        S.magnitude(S.log_spectrogram(noise, n_fft, 64), n_fft), S.stft(noise, n_fft, 64).abs(), rtol=1e-4, atol=1e-4
    )


def test_griffin_lim_recovers_a_known_signal_and_the_momentum_helps():
    n_fft, hop = 512, 128
    t = torch.arange(RATE) / RATE
    chirp = 0.5 * torch.sin(2 * math.pi * (200 * t + 1500 * t**2))  # 200 Hz rising to 3.2 kHz in a second
    target = S.stft(chirp, n_fft, hop).abs()
    assert S.spectral_convergence(target, chirp, n_fft, hop) < 1e-5  # the signal itself: exact
    assert S.spectral_convergence(target, torch.zeros_like(chirp), n_fft, hop) == pytest.approx(1.0)
    fast, plain = [], []
    y = S.griffin_lim(target, n_fft, hop, length=len(chirp), iterations=50, momentum=0.99, history=fast)
    S.griffin_lim(target, n_fft, hop, length=len(chirp), iterations=50, momentum=0.0, history=plain)
    assert S.spectral_convergence(target, y, n_fft, hop) < 0.1  # measured: 0.086 (without momentum 0.128)
    assert fast[-1] < fast[0] and plain[-1] < plain[0] and fast[-1] < plain[-1]
    assert len(y) == len(chirp)


# --- the network and its objective -----------------------------------------------------------------------


def test_the_gram_matrix_of_a_known_activation():
    """Two bins, two filters, width 1, the identity as filters: the activations are the spectrogram, and
    G = P P^T / T' by hand."""
    model = S.RandomFeatures(bins=2, filters=2, kernel=1)
    model.flat_weight.copy_(torch.eye(2))
    spec = torch.tensor([[1.0, 2.0, 3.0], [0.0, 1.0, 0.0]])[None, None]
    assert torch.equal(S.features(model, spec)[0, :, 0], spec[0, 0])
    expected = torch.tensor([[1 + 4 + 9, 0 + 2 + 0], [0 + 2 + 0, 0 + 1 + 0]]) / 3
    assert torch.allclose(S.gram(model, spec), expected)
    assert torch.allclose(gram_matrix(spec[0, 0][None, :, None, :], S.GRAM_NORM)[0], expected)
    # the offset is subtracted before the ReLU: relu([1, 2, 3] - 2) = [0, 0, 1]
    model.offset = 2.0
    assert S.features(model, spec)[0, :, 0].tolist() == [[0.0, 0.0, 1.0], [0.0, 0.0, 0.0]]


def test_the_network_is_a_seeded_random_convolution():
    a, b, c = (S.RandomFeatures(33, 7, 5, seed=s) for s in (1, 1, 2))
    assert torch.equal(a.weight, b.weight) and not torch.equal(a.weight, c.weight)
    x = torch.rand(1, 1, 33, 20)
    # the matrix product is conv1d
    conv = a(x, ["conv"])["conv"][:, :, 0]
    assert torch.allclose(conv, F.conv1d(x[0], a.weight), atol=1e-6)
    assert torch.equal(a(x)["relu"][:, :, 0], F.relu(conv))
    expected_std = math.sqrt(2) * math.sqrt(2 / ((200 + 300) * 11))
    big = S.RandomFeatures(200, 300, 11)
    assert big.weight.std().item() == pytest.approx(expected_std, rel=0.02)
    with pytest.raises(NSTError, match="frequency bins"):
        a(torch.rand(1, 1, 30, 20))


def test_the_sound_objective_has_the_right_gradient():
    """torch.autograd.gradcheck in float64 on a tiny case: content and style terms through the random network."""
    gen = torch.Generator().manual_seed(0)
    model = S.RandomFeatures(bins=5, filters=4, kernel=3, seed=0, offset=0.2).double()
    content, style = (torch.rand(1, 1, 5, 8, generator=gen, dtype=torch.float64) for _ in range(2))
    objective = S.sound_objective(model, content, style, content_weight=0.7, style_weight=30.0)
    x = torch.rand(1, 1, 5, 8, generator=gen, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda s: objective(s)[0], (x,), eps=1e-6, atol=1e-6)
    # and its value is the course's terms by hand
    p, pc, ps = (model(s)["relu"][0, :, 0] for s in (x, content, style))
    by_hand = 0.7 * ((p - pc) ** 2).mean() + 30.0 * ((p @ p.T / 6 - ps @ ps.T / 6) ** 2).mean()
    assert objective(x)[0].item() == pytest.approx(by_hand.item(), rel=1e-12)


def test_the_worked_answer_of_the_write_it_yourself_cell_is_right():
    """Notebook 12's answer, typed as a student would, passes the check against the package's objective."""
    from nst_helpers import course

    gen = torch.Generator().manual_seed(1)
    model = S.RandomFeatures(bins=9, filters=6, kernel=3, seed=0, offset=0.1)
    content, style = (torch.rand(1, 1, 9, 12, generator=gen) for _ in range(2))
    objective = S.sound_objective(model, content, style, 1.0, 1e3)
    P_c, A_s = S.features(model, content)[0, :, 0], S.gram(model, style)

    def my_sound_objective(S_, weight, offset, P_content, G_style, alpha, beta):
        P = F.relu(F.conv1d(S_[0] - offset, weight))[0]
        G = P @ P.T / P.shape[1]
        return alpha * ((P - P_content) ** 2).mean() + beta * ((G - G_style) ** 2).mean()

    x = torch.rand(1, 1, 9, 12, generator=gen, requires_grad=True)
    mine = my_sound_objective(x, model.weight, model.offset, P_c, A_s, 1.0, 1e3)
    mine.backward()
    ref = x.detach().clone().requires_grad_(True)
    total = objective(ref)[0]
    total.backward()
    assert course.check_exercise("value", mine.detach(), total.detach(), rtol=1e-4)
    assert course.check_exercise("gradient", x.grad, ref.grad, rtol=1e-3, atol=1e-6 * ref.grad.abs().max().item())


def test_style_distance_is_zero_to_itself_and_symmetric():
    model = S.RandomFeatures(65, 16, 5)
    a, b = (S.log_spectrogram(S.synthesize(n, 1.0), 128, 32) for n in ("melody", "rain"))
    assert S.style_distance(model, a, a) == 0
    assert (
        S.style_distance(model, a, b) == pytest.approx(S.style_distance(model, b, a))
        and S.style_distance(model, a, b) > 0
    )


# --- sounds in and out -----------------------------------------------------------------------------------


def test_resampling_keeps_a_tones_frequency_and_loudness(tmp_path):
    for orig in (44100, 48000, 8000, 16000):
        x = tone(1000, rate=orig)
        y = S.resample(x, orig, RATE)
        assert len(y) == math.ceil(len(x) * RATE / orig)
        spectrum = torch.fft.rfft(y[len(y) // 4 : 3 * len(y) // 4] * torch.hann_window(len(y) // 2, dtype=y.dtype))
        peak = torch.fft.rfftfreq(len(y) // 2, 1 / RATE)[spectrum.abs().argmax()].item()
        assert abs(peak - 1000) < 5, orig
        middle = y[len(y) // 10 : -len(y) // 10]
        assert middle.pow(2).mean().sqrt().item() == pytest.approx(0.5 / math.sqrt(2), rel=0.01), orig
    assert torch.equal(S.resample(x, RATE, RATE), x)


def test_resampling_down_removes_what_the_new_rate_cannot_hold():
    """A 15 kHz tone at 44.1 kHz has no place at 22.05 kHz (Nyquist 11.025 kHz): it must not fold back."""
    y = S.resample(tone(15000, rate=44100), 44100, RATE)
    assert y[2000:-2000].abs().max() < 0.01


def test_a_wav_file_round_trip(tmp_path):
    x = (0.8 * tone(440, 0.6)).float()
    path = S.save_wav(x, tmp_path / "a.wav", RATE)
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()) == (1, 2, RATE, len(x))
    samples, rate = S.read_wav(path)
    assert rate == RATE and samples.shape == (1, len(x))
    assert (samples[0] - x.double()).abs().max() <= 1 / 32768
    assert torch.allclose(S.load_audio(path), x, atol=1 / 32768)
    with pytest.raises(NSTError, match="already exists"):
        S.save_wav(x, path, RATE)
    with pytest.raises(NSTError, match="end in .wav"):
        S.save_wav(x, tmp_path / "a.mp3", RATE)
    with pytest.raises(NSTError, match="a file this run reads"):
        S.save_wav(x, path, RATE, overwrite=True, protect=[path])


@pytest.mark.parametrize("width", [1, 2, 3, 4])
def test_every_pcm_width_reads_and_channels_are_mixed_down(tmp_path, width):
    left, right = tone(440, 0.6, rate=RATE, amplitude=0.6), tone(660, 0.6, rate=RATE, amplitude=0.2)
    path = write_wav(tmp_path / "s.wav", torch.stack([left, right]), width=width, channels=2)
    samples, rate = S.read_wav(path)
    assert samples.shape == (2, len(left)) and rate == RATE
    step = 0.5 / 2 ** (8 * width - 1) + 1e-12  # half a quantisation step
    assert (samples[0] - left).abs().max() <= step and (samples[1] - right).abs().max() <= step
    assert torch.allclose(S.load_audio(path).double(), (left + right) / 2, atol=step)


def test_another_rate_is_resampled_on_loading(tmp_path):
    path = write_wav(tmp_path / "s.wav", tone(500, 1.0, rate=8000), rate=8000)
    x = S.load_audio(path)
    assert len(x) == RATE
    assert S.load_audio(path, sample_rate=16000).shape == (16000,)


def test_the_bundled_sounds_are_seeded_and_at_minus_6_dbfs():
    for name in S.SOUNDS:
        a, b = S.synthesize(name, 1.0), S.synthesize(name, 1.0)
        assert torch.equal(a, b) and a.dtype == torch.float32 and a.shape == (RATE,)
        assert S.peak_db(a) == pytest.approx(20 * math.log10(0.5), abs=1e-3)
        assert not torch.equal(a, S.synthesize(name, 1.0, seed=1))
    assert torch.equal(S.load_audio("rain", seconds=1.0), S.synthesize("rain", 1.0))
    with pytest.raises(NSTError, match="unknown sound"):
        S.synthesize("thunder")


def test_every_bundled_sound_is_recorded_in_sources_and_reachable_from_the_package():
    import nst_helpers as nst

    sources = (nst.example_path("chelsea").parent / "SOURCES.md").read_text()
    for name in S.SOUNDS:
        assert f"| `{name}` |" in sources
    assert nst.SoundConfig is S.SoundConfig and nst.stylize_sound is S.stylize_sound


def test_every_setting_is_a_documented_command_line_option():
    from dataclasses import fields

    for f in fields(S.SoundConfig):
        assert f.metadata["help"] and f.metadata["kind"] in ("text", "flag", "list"), f.name
        assert "metavar" in f.metadata or "choices" in f.metadata, f.name
    assert S.SOUND_OPTIONS == tuple(f.name for f in fields(S.SoundConfig))


def test_loudness_and_clipping_measures():
    x = tone(1000, 1.0, amplitude=1.0)
    assert S.rms_db(x) == pytest.approx(-3.0103, abs=0.01)
    assert S.peak_db(x) == pytest.approx(0.0, abs=1e-3)
    assert S.clipped_fraction(torch.tensor([0.0, 1.0, -1.0, 0.5])) == 0.5
    assert S.limit(2 * x).abs().max().item() == pytest.approx(S.audio.PEAK)
    assert torch.equal(S.limit(0.5 * x), 0.5 * x)


# --- bad input -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "samples, message",
    [
        (torch.tensor([0.1, float("nan")] * 10000), "NaN"),
        (torch.tensor([0.1, float("inf")] * 10000), "NaN or infinite"),
        (torch.zeros(0), "empty"),
        (torch.zeros(RATE), "silent"),
        (torch.full((RATE,), 1e-4), "silent"),
        (0.5 * torch.ones(RATE // 4), "at least 0.5 s"),
        (0.5 * torch.ones(31 * RATE), "the limit is 30 s"),
        (torch.ones(2, 2, RATE), "1-D tensor"),
    ],
)
def test_bad_samples_in_the_api(samples, message):
    with pytest.raises(NSTError, match=message):
        S.load_audio(samples)


def test_bad_arguments_in_the_api():
    with pytest.raises(NSTError, match="must be a .wav path"):
        S.load_audio(3.5)
    for bad, message in [
        ({"steps": 0}, "at least 1"),
        ({"style_weight": float("nan")}, "finite"),
        ({"hop": 2048}, "at most 1024"),
        ({"n_fft": 1001}, "even"),
        ({"offset": "mean"}, "offset"),
        ({"init": "silence"}, "init"),
        ({"sample_rate": 100}, "at least 8000"),
        ({"colour": 1}, "unknown option"),
    ]:
        with pytest.raises(NSTError, match=message):
            S.make_sound_config(**bad)


def _bad_files(tmp_path):
    (tmp_path / "notes.txt").write_text("not a sound at all")
    (tmp_path / "empty.wav").write_bytes(b"")
    write_wav(tmp_path / "silent.wav", torch.zeros(RATE))
    write_wav(tmp_path / "long.wav", 0.5 * torch.ones(31 * 4000), rate=4000, width=1)
    write_wav(tmp_path / "short.wav", tone(440, 0.1))
    good = write_wav(tmp_path / "good.wav", tone(440, 1.0))
    (tmp_path / "cut.wav").write_bytes(good.read_bytes()[:-20000])
    float_wav(tmp_path / "float.wav", [0.1, float("nan")] * 11025)
    write_wav(tmp_path / "noframes.wav", torch.zeros(0))
    (tmp_path / "folder").mkdir()
    os.mkfifo(tmp_path / "pipe.wav")
    return {
        "missing": (tmp_path / "nope.wav", "not found"),
        "not audio": (tmp_path / "notes.txt", "not a WAV file"),
        "empty file": (tmp_path / "empty.wav", "is empty"),
        "no frames": (tmp_path / "noframes.wav", "is empty"),
        "silent": (tmp_path / "silent.wav", "is silent"),
        "too long": (tmp_path / "long.wav", "the limit is 30 s"),
        "too short": (tmp_path / "short.wav", "at least 0.5 s"),
        "truncated": (tmp_path / "cut.wav", "truncated"),
        "float with NaN": (tmp_path / "float.wav", "floating-point WAV"),
        "folder": (tmp_path / "folder", "is a folder"),
        "fifo": (tmp_path / "pipe.wav", "FIFO"),
    }


def test_bad_files_in_the_api(tmp_path):
    for path, message in _bad_files(tmp_path).values():
        with pytest.raises(NSTError, match=message):
            S.load_audio(path)


def _digests(folder):
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir() if p.is_file()}


def test_every_bad_input_on_the_command_line_is_one_line_and_touches_nothing(tmp_path, capsys):
    files = _bad_files(tmp_path)
    good = tmp_path / "good.wav"
    existing = tmp_path / "mine.wav"
    existing.write_bytes(b"my precious recording")
    notes = tmp_path / "notes.json"
    notes.write_text("{}")
    out = tmp_path / "o.wav"
    cases = {f"content {k}": ([str(p), "rain", "-o", str(out)], m) for k, (p, m) in files.items()}
    cases.update({f"style {k}": (["melody", str(p), "-o", str(out)], m) for k, (p, m) in files.items()})
    cases.update(
        {
            "output is the content": ([str(good), "rain", "-o", str(good), "--force"], "a file this run reads"),
            "output is the style": (["melody", str(good), "-o", str(good), "--force"], "a file this run reads"),
            "existing output": (["melody", "rain", "-o", str(existing)], "--force"),
            "not a .wav output": (["melody", "rain", "-o", str(tmp_path / "o.mp3")], "end in .wav"),
            "output folder missing": (["melody", "rain", "-o", str(tmp_path / "no" / "o.wav")], "does not exist"),
            "report is a sound": (["melody", "rain", "-o", str(out), "--report", str(tmp_path / "r.wav")], ".json"),
            "existing report": (["melody", "rain", "-o", str(out), "--report", str(notes)], "--force"),
            "zero steps": (["melody", "rain", "-o", str(out), "--steps", "0"], "at least 1"),
            "nan style weight": (["melody", "rain", "-o", str(out), "--style-weight", "nan"], "finite"),
            "hop too large": (["melody", "rain", "-o", str(out), "--hop", "4096"], "at most 1024"),
            "unknown offset": (["melody", "rain", "-o", str(out), "--offset", "mean"], "invalid choice"),
            "unknown sound": (["thunder", "rain", "-o", str(out)], "not found"),
            "one sound": (["melody", "-o", str(out)], "required"),
        }
    )
    before = _digests(tmp_path)
    for name, (args, message) in cases.items():
        code = main(["sound", *args, "--quiet"])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2, name
        assert len(err) == 1 and message in err[0], (name, err)
        assert err[0].startswith("nst_helpers: error: "), name
    assert _digests(tmp_path) == before  # no input changed, nothing written
    assert not out.exists()


def test_the_sound_command_shares_the_run_options_and_lists_its_own(capsys):
    with pytest.raises(SystemExit):
        main(["sound", "--help"])
    text = capsys.readouterr().out
    for option in (
        "--force",
        "--device DEVICE",
        "--quiet",
        "--report",
        "--steps N",
        "--content-weight ALPHA",
        "--style-weight BETA",
        "--filters N",
        "--offset {style,none}",
        "floating-point WAV is refused",
    ):
        assert option in text, option
    assert "--weights" not in text


# --- runs (slow: they optimise) --------------------------------------------------------------------------


@pytest.mark.slow
def test_the_command_line_writes_a_wav_and_a_report(tmp_path):
    stereo = write_wav(
        tmp_path / "stereo.wav", torch.stack([tone(330, 1.0, 44100), tone(495, 1.0, 44100)]), rate=44100, channels=2
    )
    out, report = tmp_path / "out.wav", tmp_path / "r.json"
    assert main(["sound", str(stereo), "rain", "-o", str(out), "--report", str(report), *TINY]) == 0
    with wave.open(str(out)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()) == (1, 2, RATE, RATE)
    data = json.loads(report.read_text())
    assert data["steps"] == 2 and data["seconds"] > 0 and 0 <= data["spectral_convergence"] < 2
    assert set(data["style_distance"]) >= {"content", "optimised", "result"}
    assert set(data["rms_db"]) == {"content", "style", "result"} and data["clipped"]["result"] == 0
    assert data["config"]["filters"] == 8 and data["duration_seconds"] == pytest.approx(1.0)
    before = out.read_bytes()
    assert main(["sound", "melody", "rain", "-o", str(out), *TINY]) == 2  # exists: --force needed
    assert out.read_bytes() == before
    assert main(["sound", "melody", "rain", "-o", str(out), "--force", *TINY]) == 0
    assert out.read_bytes() != before


@pytest.mark.slow
def test_the_result_moves_towards_the_style():
    r = S.stylize_sound(
        "melody",
        "rain",
        content_seconds=2.0,
        style_seconds=2.0,
        n_fft=512,
        hop=128,
        filters=128,
        steps=30,
        griffin_lim_iterations=30,
        progress=False,
    )
    d = r.measures["style_distance"]
    assert d["optimised"] < d["content"] / 10 and d["result"] < d["content"] / 2
    m = r.measures["mean_spectrum_distance"]
    assert m["result"] < m["content"]
    assert r.evaluations == 30 and r.waveform.shape == r.content_waveform.shape
    assert r.waveform.abs().max() <= S.audio.PEAK and r.measures["clipped"]["result"] == 0
    assert r.history["style"][-1] < r.history["style"][0]
    assert len(r.griffin_lim_history) == 30 and r.griffin_lim_history[-1] <= r.griffin_lim_history[0]
