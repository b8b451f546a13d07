"""Style transfer for sound (notebook 12), for ``python -m benchmarks.run --only sound``.

The bundled ``melody`` in the style of the bundled ``rain``, 5 s each at 22050 Hz, ``SoundConfig``'s defaults
(1024 random filters x 11 frames, 100 L-BFGS steps, 100 rounds of fast Griffin-Lim): seconds for the whole
call and its parts; the style distance (the unweighted style loss in the random network) to the rain of the
content, of the optimised spectrogram and of the waveform one hears, with the distance between the rain's two
halves as the scale; the time-averaged log-spectrum's distance to the rain's; Griffin-Lim's spectral
convergence on a known signal (the melody's own magnitude) and on the optimised spectrogram; loudness and
clipping. No VGG19: ``weights`` is accepted for the common signature and ignored. The machine's load average
is recorded, since the seconds depend on it, and the call is timed again with one torch thread.
"""

import os
import time

import torch

from nst_helpers import sound as S

CONTENT, STYLE, SECONDS = "melody", "rain", 5.0


def measure(weights=None, out_dir=None):
    load_before = os.getloadavg()
    config = S.SoundConfig()
    content = S.load_audio(CONTENT, config.sample_rate, seconds=SECONDS)
    style = S.load_audio(STYLE, config.sample_rate, seconds=SECONDS)
    S.stylize_sound(content, style, config, steps=1, griffin_lim_iterations=1, progress=False)  # imports, warm-up
    start = time.perf_counter()
    result = S.stylize_sound(content, style, config, progress=False)
    wall = time.perf_counter() - start
    target = S.stft(content, config.n_fft, config.hop).abs()
    known = []
    started = time.perf_counter()
    S.griffin_lim(
        target,
        config.n_fft,
        config.hop,
        length=len(content),
        iterations=config.griffin_lim_iterations,
        momentum=config.momentum,
        history=known,
    )
    known_seconds = time.perf_counter() - started
    plain = []
    S.griffin_lim(
        target,
        config.n_fft,
        config.hop,
        length=len(content),
        iterations=config.griffin_lim_iterations,
        momentum=0.0,
        history=plain,
    )
    # the same call with one thread: on a busy machine two threads can spend more time waiting for each other
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        started = time.perf_counter()
        single = S.stylize_sound(content, style, config, progress=False)
        single = {
            "wall_seconds": time.perf_counter() - started,
            "optimize_seconds": single.seconds,
            "griffin_lim_seconds": single.griffin_lim_seconds,
            "style_distance": single.measures["style_distance"],
        }
    finally:
        torch.set_num_threads(threads)
    out = {
        "content": CONTENT,
        "style": STYLE,
        "seconds_of_audio": len(content) / config.sample_rate,
        "config": config.to_dict(),
        "threads": threads,
        "one_thread": single,
        "load_average": [round(x, 2) for x in (*load_before, *os.getloadavg())],
        "wall_seconds": wall,
        "optimize_seconds": result.seconds,
        "griffin_lim_seconds": result.griffin_lim_seconds,
        "steps": result.evaluations,
        "seconds_per_step": result.seconds / max(1, result.evaluations),
        "spectral_convergence": result.spectral_convergence,
        "known_signal": {
            "spectral_convergence": known[-1],
            "without_momentum": plain[-1],
            "seconds": known_seconds,
            "rounds": len(known),
        },
        **result.measures,
        "losses": {k: [v[0], v[-1]] for k, v in result.history.items() if v},
    }
    print(f"  sound: {result.summary()} (wall {wall:.1f} s)", flush=True)
    if out_dir is not None:
        figure(result, out_dir / "sound.png")
        result.save(out_dir / "sound_melody_rain.wav", overwrite=True)
    return out


def figure(result, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cfg = result.config
    fig = S.show_spectrograms(
        [result.content_spectrogram, result.style_spectrogram, result.spectrogram, result.result_spectrogram],
        ["content: melody", "style: rain", "optimised", "heard (after Griffin-Lim)"],
        cfg["sample_rate"],
        cfg["hop"],
        cfg["n_fft"],
        max_hz=8000,
        size=3.0,
    )
    fig.savefig(path, dpi=70)
    plt.close(fig)
