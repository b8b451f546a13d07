"""Video with temporal coherence (notebook 9), for ``python -m benchmarks.run --only video``.

The bundled clip ``camera_move`` (10 frames, 128 px on the long side: 128x85), painted in the style of
The Starry Night with the seed configuration by the three methods of ``video.py``: independent (a),
warm start (b) and warm start + temporal loss (c), every frame with the same step budget and the same
stopping rule (``tol``). The methods use the flow OpenCV estimates; they are judged with the clip's true
flow and occlusions: the warping error mean |S_t - w(S_{t-1})| over the reliable pixels, the unweighted
style loss of each frame's picture, seconds and steps per frame.
"""

import time

import torch

import nst_helpers as nst
from nst_helpers import video as V

SIZE, FRAMES, STYLE = 128, 10, "starry_night"


def measure(weights, steps=300, tol=V.DEFAULT_TOL, temporal_weight=V.DEFAULT_TEMPORAL_WEIGHT, out_dir=None):
    torch.manual_seed(0)
    model = nst.load_vgg19(weights)
    clip = V.read_clip(V.EXAMPLE_CLIP, size=SIZE, max_frames=FRAMES)
    methods = {}
    results = {}
    for method in V.METHODS:
        start = time.perf_counter()
        r = V.stylize_video(
            clip,
            STYLE,
            "seed",
            method=method,
            temporal_weight=temporal_weight,
            model=model,
            steps=steps,
            tol=tol,
            progress=False,
        )
        wall = time.perf_counter() - start
        results[method] = r
        n = len(r.steps)
        methods[method] = {
            "frames": n,
            "seconds_per_frame": sum(r.seconds) / n,
            "wall_seconds": wall,
            "flow_seconds": r.flow_seconds,
            "steps_per_frame": sum(r.steps) / n,
            "steps": r.steps,
            "steps_after_first": sum(r.steps[1:]) / max(1, n - 1),
            "style_loss": sum(r.style_losses) / n,
            "style_losses": r.style_losses,
            "warping_error": r.warping_error,
            "warping_errors": [
                V.warping_error(r.frames[t - 1 : t + 1], clip.true_flows[t - 1 : t + 1], clip.true_masks[t - 1 : t + 1])
                for t in range(1, n)
            ],
        }
        print(f"  video {method}: {r.summary()}", flush=True)
    if out_dir is not None:
        figure(clip, results, out_dir / "video.png")
        for method, r in results.items():
            V.write_clip(r, out_dir / f"video_{method}.gif", overwrite=True)
    return {
        "weights": str(weights),
        "size": list(clip.frames.shape[-2:]),
        "frames": len(clip),
        "style": STYLE,
        "steps": steps,
        "tol": tol,
        "temporal_weight": temporal_weight,
        "content_warping_error": V.warping_error(clip.frames, clip.true_flows, clip.true_masks),
        "methods": methods,
    }


def figure(clip, results, path):
    """Frames 4 and 5 of each method and |S_5 - w(S_4)| (true flow, occlusions masked), one row each."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = min(5, len(clip) - 1)
    fig, axes = plt.subplots(len(results), 3, figsize=(12, 2.9 * len(results)), constrained_layout=True)
    for row, (method, r) in zip(axes, results.items()):
        warped, inside = V.warp(r.frames[t - 1 : t], clip.true_flows[t : t + 1])
        diff = ((r.frames[t : t + 1] - warped).abs().mean(1) * clip.true_masks[t : t + 1, 0] * inside[:, 0])[0]
        for ax, img, title in (
            (row[0], r.frames[t - 1], f"{method}: frame {t}"),
            (row[1], r.frames[t], f"frame {t + 1}"),
        ):
            ax.imshow(img.permute(1, 2, 0).numpy())
            ax.set_title(title, fontsize=14)
            ax.axis("off")
        row[2].imshow(diff.numpy(), cmap="magma", vmin=0, vmax=0.3)
        row[2].set_title(f"|S{t + 1} - w(S{t})| (clip: {r.warping_error:.3f})", fontsize=14)
        row[2].axis("off")
    fig.savefig(path, dpi=80)
    plt.close(fig)
