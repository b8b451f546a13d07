"""Writes notebooks/09_video.ipynb (stripped). Kept beside the notebook so that a change to the chapter
is a change to this script: ``python tools/make_notebook_09.py``."""

import sys

from notebook_writer import Chapter

TIME = ("161 s on a 2-core laptop CPU at its defaults (stand-in weights, measured by `python -m benchmarks.run "
        "--only notebooks` on 2026-11-25); three methods x 8 frames; on a GPU, seconds (an estimate: no GPU was "
        "measured).")

nb = Chapter("09_video.ipynb", "9. Video: style transfer that does not flicker", """
Paint each frame of a clip on its own and the strokes jump from frame to frame: the picture flickers,
even where the scene hardly moves. Ruder, Dosovitskiy and Brox (2016) keep a clip steady with two ideas
built on *optical flow*: start each frame from the previous painted frame moved along the motion, and
add a *temporal loss* that penalises changes the motion does not explain. This chapter shows the
flicker, measures it, and removes it, with the objective of notebook 5 and one new term.
""", sys.argv[1] if len(sys.argv) > 1 else TIME)
md, code = nb.md, nb.code

code("""
# Parameters. The defaults suit a laptop CPU.
FAST = nst.fast_mode()  # NST_FAST=1: tiny frames, a few steps, random weights (how CI runs this notebook)
DEVICE = nst.resolve_device("auto")
WEIGHTS = "random" if FAST else None  # None: $NST_VGG19_WEIGHTS if set, else torchvision's (downloaded once)
STYLE = "starry_night"
SIZE = 64 if FAST else 128  # long side of the frames (the seed's CPU size)
FRAMES = 3 if FAST else 8  # frames of the bundled clip (it has up to 10 here; any number can be made)
STEPS = 4 if FAST else 300  # each frame's budget of L-BFGS steps (the seed's)
TOL = nst.video.DEFAULT_TOL  # 0.005: a frame stops once its objective improves by less than 0.5 % over 20 steps
TEMPORAL_WEIGHT = nst.video.DEFAULT_TEMPORAL_WEIGHT  # lambda of the temporal loss
""")

code("""
import time

import matplotlib.pyplot as plt
from torch.nn import functional as F

V = nst.video  # the module of this chapter: clips, optical flow, warping, occlusions, the three methods

model = nst.load_vgg19(WEIGHTS, device=DEVICE)
clip = V.read_clip("camera_move", size=SIZE, max_frames=FRAMES)
print(f"{len(clip)} frames of {clip.frames.shape[-1]}x{clip.frames.shape[-2]} px at {clip.fps:g} frames per second")
V.show_clips({"the bundled clip: a camera move over the cat, a cup rolling across": clip})
""")

md("""
The clip is made by the package: a camera pans and zooms over the bundled cat photo while a disc cut from
the coffee photo rolls the other way. Because it is drawn, its true motion is known at every pixel, which
lets us check the optical flow below and measure stability exactly. `V.read_clip` reads your own clips
too: an MP4, AVI or MOV file, an animated GIF, or a folder of frames.

## 1. Flicker

First the obvious method (a): run `nst.stylize`'s optimisation on every frame on its own, each starting
from its photo.
""")

code("""
independent = V.stylize_video(clip, STYLE, model=model, method="independent", steps=STEPS, tol=TOL)
print(independent.summary())
V.show_clips({"the clip": clip, "(a) each frame on its own": independent})
""")

md(r"""
The strokes crawl. To see it in a still picture, compare two neighbouring painted frames $S_{t-1}$ and $S_t$.
A plain difference $|S_t - S_{t-1}|$ would be large even for a perfect clip, because the camera moved.
What matters is the change *beyond* the motion: move $S_{t-1}$ along the motion onto frame $t$ (we write
that $w(S_{t-1})$; section 2 shows how) and look at $|S_t - w(S_{t-1})|$. For the photos themselves it is
almost zero (only resampling); for the painted frames it is not.
""")

code("""
t = len(clip) // 2
true_flow, true_mask = clip.true_flows[t:t + 1], clip.true_masks[t:t + 1]


def change_beyond_motion(frames, t):
    warped, inside = V.warp(frames[t - 1:t], true_flow)
    return ((frames[t:t + 1] - warped).abs().mean(1, keepdim=True) * true_mask * inside).expand(1, 3, -1, -1)


photo_change = change_beyond_motion(clip.frames, t)
painted_change = change_beyond_motion(independent.frames, t)
print(f"mean change beyond the motion: photos {photo_change.mean():.4f}, painted frames {painted_change.mean():.4f}")
nst.show_images([independent.frames[t - 1], independent.frames[t], (4 * photo_change).clamp(0, 1),
                 (4 * painted_change).clamp(0, 1)],
                [f"(a) frame {t}", f"(a) frame {t + 1}", "photos: change x4", "(a): change x4"], size=4);
""")

md(r"""
## 2. Optical flow

The **backward flow** $b_t$ of frame $t$ says, for each pixel position $x$, where that bit of the scene was
in frame $t-1$:

$$p_t(x) \approx p_{t-1}\big(x + b_t(x)\big).$$

The **forward flow** $f_t$ goes the other way, from frame $t-1$ to frame $t$. Both are estimated from the
two photos by OpenCV (DIS, a fast dense method; `flow="farneback"` uses Farnebäck's), in pixels, as a
$2 \times H \times W$ tensor ($x$ then $y$). **Warping** a picture $S$ by $b_t$ reads it at the moved positions,

$$w(S)(x) = S\big(x + b_t(x)\big),$$

between pixels by bilinear interpolation: `torch.nn.functional.grid_sample`, which takes positions scaled
to $[-1, 1]$. By hand, then checked against `V.warp`:
""")

code("""
backward = V.estimate_flow(clip.frame(t), clip.frame(t - 1))  # b_t: frame t -> frame t-1
forward = V.estimate_flow(clip.frame(t - 1), clip.frame(t))   # f_t: frame t-1 -> frame t

# warping by hand: positions x + b(x), scaled so that pixel 0 is -1 and pixel W-1 is +1
h, w = clip.frames.shape[-2:]
ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
grid = torch.stack([2 * (xs + backward[0, 0]) / (w - 1) - 1, 2 * (ys + backward[0, 1]) / (h - 1) - 1], dim=-1)
by_hand = F.grid_sample(clip.frame(t - 1), grid[None], mode="bilinear", padding_mode="border", align_corners=True)
warped, inside = V.warp(clip.frame(t - 1), backward)
assert torch.allclose(by_hand, warped, atol=1e-6)

# how good is the estimate? the true flow is known for this clip
error = (backward - true_flow).norm(dim=1, keepdim=True)
print(f"estimated flow: mean error {(error * true_mask).sum() / true_mask.sum():.2f} px where the truth is reliable "
      f"(the motion is up to {true_flow.norm(dim=1).max():.1f} px per frame)")
print(f"frame t from frame t-1 and the estimated flow: mean error {((warped - clip.frame(t)).abs() * true_mask).mean():.4f}")
top = float(true_flow.norm(dim=1).max())
nst.show_images([clip.frame(t), V.flow_to_rgb(true_flow, top), V.flow_to_rgb(backward, top), warped],
                [f"frame {t + 1}", "true flow b_t", "estimated (DIS)", f"frame {t} warped by it"], size=4);
""")

md("""
In the flow pictures the colour is the direction of motion and the brightness its length: the background
moves one way with the camera (and grows outwards from the zoom's centre), the cup the other way.

## 3. Occlusions: where the flow cannot be trusted

Some pixels of frame $t$ were not visible in frame $t-1$: the background the cup has just uncovered, and
what came into view at the border. No flow can fetch them from frame $t-1$, and a temporal loss must not
pull them towards whatever the warp happens to read there. Ruder et al. find them with two tests.

*Forward-backward consistency.* Follow $b_t$ back to frame $t-1$, then the forward flow there,
$\\tilde f(x) = f_t\\big(x + b_t(x)\\big)$, should bring us home: $b_t + \\tilde f \\approx 0$. A pixel fails where

$$|b_t + \\tilde f|^2 > 0.01\\,\\big(|b_t|^2 + |\\tilde f|^2\\big) + 0.5 .$$

*Motion boundaries.* Where the flow changes abruptly (the cup's edge), the estimate blurs across the
boundary. A pixel fails where $|\\nabla b_{t,x}|^2 + |\\nabla b_{t,y}|^2 > 0.01\\,|b_t|^2 + 0.002$.

The mask $c_t$ is 1 where both tests pass and the source lies inside frame $t-1$, else 0. By hand, checked
against `V.occlusion_mask`, and against the true occlusions of the drawn clip:
""")

code("""
f_tilde, inside = V.warp(forward, backward)  # f_t read at x + b_t(x)
consistent = (backward + f_tilde).pow(2).sum(1) <= 0.01 * (backward.pow(2).sum(1) + f_tilde.pow(2).sum(1)) + 0.5
gx = F.pad(backward[..., :, 1:] - backward[..., :, :-1], (0, 1, 0, 0)).pow(2).sum(1)
gy = F.pad(backward[..., 1:, :] - backward[..., :-1, :], (0, 0, 0, 1)).pow(2).sum(1)
boundary = gx + gy > 0.01 * backward.pow(2).sum(1) + 0.002
mask = (consistent & ~boundary).float()[:, None] * inside
assert torch.equal(mask, V.occlusion_mask(backward, forward))
agree = ((mask > 0.5) == (true_mask > 0.5)).float().mean()
print(f"reliable pixels: {mask.mean():.1%} estimated, {true_mask.mean():.1%} true; the two masks agree on {agree:.1%}")
nst.show_images([clip.frame(t), true_mask.expand(1, 3, -1, -1), mask.expand(1, 3, -1, -1)],
                [f"frame {t + 1}", "truly reliable (white)", "estimated c_t"], size=4);
""")

md(r"""
## 4. Two fixes, and the temporal loss

**(b) Warm start.** Start the optimisation of frame $t$ from $w(S_{t-1})$ where $c_t = 1$ and from the photo
$p_t$ elsewhere. The previous frame's strokes come along with the motion. L-BFGS only finds a *nearby*
minimum, though, and nothing keeps it from drifting away from the start.

**(c) Temporal loss.** Add a term that penalises exactly what section 1 measured: the change beyond the
motion, where the flow is reliable. With $D = 3HW$ values in a frame,

$$L_\text{temporal}(x) = \frac{1}{D} \sum_{k} c_k \big(x_k - w(S_{t-1})_k\big)^2,$$

$$\mathcal{L}_t(x) = \alpha L_\text{content} + \beta L_\text{style} + \lambda L_\text{temporal},$$

summing over all $D$ values $k$ (the mask is the same for the three colours of a pixel). Its gradient is
$\partial L_\text{temporal} / \partial x_k = \frac{2}{D}\, c_k\, (x_k - w(S_{t-1})_k)$: a spring pulling each
reliable value towards the warped previous frame, and no force at all on occluded pixels, which are free to
take the style. In the package the term is `nst.objective.TemporalTerm`, added to the same `Objective`
as the content and style terms. By hand, and its gradient against autograd:
""")

code("""
config = nst.make_config("seed", size=SIZE)
objective = nst.build_objective(model, clip.frame(t).to(DEVICE), [nst.load_image(STYLE, size=SIZE, device=DEVICE)],
                                config)
target, _ = V.warp(independent.frames[t - 1:t].to(DEVICE), backward.to(DEVICE))
c = mask.to(DEVICE)
x = independent.frames[t:t + 1].to(DEVICE).clone().requires_grad_(True)

D = x.numel()
by_hand = (c * (x - target) ** 2).sum() / D
objective.temporal_term, objective.temporal_weight = nst.objective.TemporalTerm(target, c), TEMPORAL_WEIGHT
total, parts = objective(x)
print(f"temporal loss by hand {by_hand.item():.6g}, package {parts['unweighted']['temporal']:.6g}; "
      f"weighted (lambda = {TEMPORAL_WEIGHT:g}) {parts['temporal']:.4g} of a total {parts['total']:.4g}")
assert abs(by_hand.item() - parts["unweighted"]["temporal"]) <= 1e-6 * max(1e-12, by_hand.item())

grad, = torch.autograd.grad(TEMPORAL_WEIGHT * objective.temporal_term(x), x)
assert torch.allclose(grad, TEMPORAL_WEIGHT * 2 * c * (x - target).detach() / D, atol=1e-10)
print("gradient = 2 lambda c (x - w(S)) / D: checked; on occluded pixels it is", grad[(c == 0).expand_as(x)].abs().max().item())
""")

md("""
`V.stylize_video` runs all three methods with the same configuration object and the same objective as
`nst.stylize`; only the start and the temporal term differ. Every frame gets the same budget of steps and
the same stopping rule (`tol`: stop once the objective improves by less than 0.5 % over 20 steps), so the
number of steps a frame needs is part of the comparison.
""")

code("""
warm = V.stylize_video(clip, STYLE, model=model, method="warm", steps=STEPS, tol=TOL)
temporal = V.stylize_video(clip, STYLE, model=model, method="temporal", steps=STEPS, tol=TOL,
                           temporal_weight=TEMPORAL_WEIGHT)
results = {"(a) independent": independent, "(b) warm start": warm, "(c) warm start + temporal loss": temporal}
V.show_clips(results)
""")

md("""
## 5. Stability, style and time

The warping error of a clip is the mean of section 1's change beyond the motion over all frame pairs,
counted on the reliable pixels: `V.warping_error`. Here it is measured with the clip's *true* flow and
occlusions (the methods themselves only had the estimated ones), next to the style loss of each painted
frame and the work per frame.
""")

code("""
print(f"{'method':34s} {'warping error':>13s} {'style loss':>11s} {'s / frame':>9s} {'steps / frame':>13s}")
for name, r in results.items():
    n = len(r.steps)
    print(f"{name:34s} {r.warping_error:13.4f} {sum(r.style_losses) / n:11.4g} {sum(r.seconds) / n:9.2f} "
          f"{sum(r.steps) / n:13.0f}")
a, c_ = independent, temporal
print(f"(c) against (a): warping error {c_.warping_error / a.warping_error:.2f}x, style loss "
      f"{sum(c_.style_losses) / sum(a.style_losses):.2f}x, seconds per frame {sum(c_.seconds) / sum(a.seconds):.2f}x")

fig, axes = plt.subplots(1, 3, figsize=(15, 4), constrained_layout=True)
pairs = range(1, len(clip))
for name, r in results.items():
    per_pair = [V.warping_error(r.frames[k - 1:k + 1], clip.true_flows[k - 1:k + 1], clip.true_masks[k - 1:k + 1])
                for k in pairs]
    axes[0].plot([k + 1 for k in pairs], per_pair, "o-", label=name)
    axes[1].plot(range(1, len(clip) + 1), r.style_losses, "o-", label=name)
    axes[2].plot(range(1, len(clip) + 1), r.steps, "o-", label=name)
for ax, title in zip(axes, ["warping error (frame t against t-1)", "style loss of each frame", "steps each frame took"]):
    ax.set_title(title, fontsize=14)
    ax.set_xlabel("frame", fontsize=14)
    ax.tick_params(labelsize=12)
axes[0].legend(fontsize=11)
plt.show()
""")

md("""
What to look for: (a) has the largest warping error on every pair; (b) lowers it by about a third, no more, because
L-BFGS wanders from its warm start; (c) lowers it several times at a modest cost in style loss, and its
frames after the first need fewer steps, because they start close to where they end.
`python -m benchmarks.run --only video` measures the same on the whole bundled clip (10 frames) and records it
in `benchmarks/RESULTS.md`. The temporal weight $\\lambda$ trades the two: the exercise below sweeps it.

## 6. On the command line

```
python -m nst_helpers video camera_move starry_night -o camera_move.gif     # the bundled clip
python -m nst_helpers video holiday.mp4 the_scream -o holiday_scream.mp4 --max-frames 60 --size 256
python -m nst_helpers video frames/ starry_night -o painted_frames/ --method independent
python -m nst_helpers video clip.gif starry_night -o steady.gif --temporal-weight 30 --report report.json
```

A progress bar counts the frames; the last line gives seconds and steps per frame, the style loss and the
warping error (measured with the estimated flow for your clips). Ctrl-C keeps the frames painted so far.

## Summary

- Painting frames independently flickers: L-BFGS lands in a different local minimum for each frame, so the
  strokes change more than the scene.
- Optical flow $b_t$ tells where each pixel came from; warping by it moves the previous painted frame onto
  the current one; the forward-backward test and the motion-boundary test mark the pixels it cannot explain.
- A warm start from $w(S_{t-1})$ helps somewhat (about a third less warping error here) and saves steps; the temporal loss
  $\\frac{\\lambda}{D}\\sum c\\,(x - w(S_{t-1}))^2$ makes the clip steady, leaving occluded pixels free.

## Exercises

1. Run method (c) with `temporal_weight` 1, 5, 30 and 100. How do the warping error and the style loss move?
   <details><summary>Answer</summary>

   The warping error falls quickly and then levels off near the
   resampling floor, while the style loss keeps rising: a large $\\lambda$ freezes the first frame's strokes and
   drags them along, so later frames match the painting less well. The useful value is the smallest one at
   which the warping error has levelled off; the default, 5, was chosen that way.

   </details>
2. Use the estimated flow with the occlusion mask set to all ones (`c = 1` everywhere). What goes wrong,
   and where?
   <details><summary>Answer</summary>

   The uncovered background behind the cup is pulled towards what the
   warp reads there, which is the cup's old strokes: a ghost of the cup trails behind it. The mask exists to
   leave exactly those pixels free.

   </details>
3. Why does the temporal loss divide by $D$, and what would change without it?
   <details><summary>Answer</summary>

   With the mean, $\\lambda$ means the same at any frame size, like the
   content loss's mean over activations. Without it, doubling the frame's side would multiply the term by 4 and
   a $\\lambda$ tuned at 128 px would be far too strong at 256 px.

   </details>
4. Self-check: for a static scene (every flow zero, mask all ones) and frames $S_{t-1} = 0.5$, $x = 0.7$
   everywhere, what is $L_\\text{temporal}$? Compute it with `nst.losses.temporal_loss`.
   <details><summary>Answer</summary>

   $(0.7 - 0.5)^2 = 0.04$: every value contributes 0.04 and the mean over
   $D$ values is 0.04. `nst.losses.temporal_loss(torch.full((1, 3, 4, 4), 0.7), torch.full((1, 3, 4, 4), 0.5),
   torch.ones(1, 1, 4, 4))` gives `0.04`.

   </details>
""")

code("""
# Exercise 4, self-check
value = nst.losses.temporal_loss(torch.full((1, 3, 4, 4), 0.7), torch.full((1, 3, 4, 4), 0.5), torch.ones(1, 1, 4, 4))
assert abs(value.item() - 0.04) < 1e-6
print(value.item())
""")


if __name__ == "__main__":
    nb.save()
