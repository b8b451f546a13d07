"""Writes notebooks/05_style_transfer_lbfgs.ipynb (stripped): ``python tools/make_notebook_05.py``."""

from notebook_writer import COMMON_PARAMETERS, Chapter, answer

TIME = ("77 s on a 2-core laptop CPU at its defaults (stand-in weights, measured by `python -m benchmarks.run "
        "--only notebooks` on 2026-11-25); on a GPU at 512 px, about a minute (an estimate: no GPU was measured).")

nb = Chapter("05_style_transfer_lbfgs.ipynb", "5. Style transfer with L-BFGS", """
Put content and style together: the method in one diagram, the objective, how L-BFGS works and why it suits this
problem, the closure written by hand, a full run with its progress and snapshots, L-BFGS against Adam, when to
stop, and several style images with blend weights.
""", TIME)

nb.code(COMMON_PARAMETERS + """
STEPS = 5 if FAST else 300  # evaluations of the objective: the seed's 300
HAND_STEPS = 5 if FAST else 40  # the closure written by hand
SNAPSHOTS = [1, 3, 10, 30, 100, 300]  # log-spaced: most of the change happens early
STYLES = ["starry_night", "the_scream"]  # for blending
BLENDS = [(0.7, 0.3), (0.3, 0.7)]
""")

nb.md(r"""
## The method in one picture

The photo, the painting and the picture being made go through the same, fixed VGG19. The picture's activations
are compared with the photo's at the content layer and its Gram matrices with the painting's at the style layers;
the gradient of the weighted sum of the two losses flows back to the picture's pixels, and only they change.
(The idea of Gatys et al.'s Fig. 2, drawn by the course: `nst.method_diagram()`.)
""")

nb.code("""
nst.method_diagram();
""")

nb.md(r"""
## The objective

Gatys et al. paint the photo $\vec p$ in the style of the painting $\vec a$ by minimising, over the pixels of
$\vec x$,

$$\mathcal{L}_\text{total}(\vec p, \vec a, \vec x) = \alpha\, \mathcal{L}_\text{content}(\vec p, \vec x)
+ \beta\, \mathcal{L}_\text{style}(\vec a, \vec x),$$

with the content loss of notebook 2 and the style loss of notebook 4. The seed configuration
(`nst.PRESETS["seed"]`, a `StyleConfig` and the default of `nst.stylize`) uses the PyTorch tutorial's layers:
content at `conv_4`, style at `conv_1` ... `conv_5` (each $w_l = 1$), with $\alpha = 1$, $\beta = 10^5$ and 300
steps of L-BFGS starting from a copy of the photo. $\beta = 10^5$ is the seed's own choice: the tutorial's code
uses $10^6$. The tutorial numbers convolutions in order; in the paper's names those layers are:
""")

nb.code("""
seed = nst.PRESETS["seed"]
for name in seed.style_layers:
    role = "content and style" if name in seed.content_layers else "style"
    print(f"{name:7} is the paper's {nst.paper_name(name):8} ({role})")
print("alpha =", seed.content_weight, " beta =", seed.style_weight, " steps =", seed.steps)
""")

nb.md(r"""
**The paper's $\alpha/\beta$.** The paper reports ratios $\alpha/\beta = 10^{-3}$ and $10^{-4}$ (its Fig. 3). They
belong to its sums ($\frac12\sum$ for content, $E_l$ for style) on Caffe's VGG with pixels in 0..255; the package
uses means, pixels in 0..1 and torchvision's weights. With the `gatys` preset's Gram normalisation
(`gram_norm="hw"`, whose layer loss is $4E_l$) and the content loss's mean ($\frac{2}{N_l M_l}$ times the paper's,
at the content layer), the paper's objective is, up to one overall factor, the package's with

$$\frac{\beta_\text{package}}{\alpha_\text{package}} = \frac{\beta}{\alpha} \cdot \frac{1}{2 N_l M_l}
\quad\text{(}N_l, M_l\text{ of the content layer).}$$

At relu4_2 of a 128 px square picture ($N_l = 512$, $M_l = 16 \cdot 16$) that divides the paper's ratios by
262,144, and the cell computes it for this picture. It is a guide, not a recipe: the activations of a network
fed 0..255 pixels are much larger than those of one fed normalised pixels, and the style loss grows with the
fourth power of that scale, the content loss with the second; so each preset's $\beta$ is tuned by looking at
results (notebook 6 is the tool for that).
""")

nb.code("""
model = nst.load_vgg19(WEIGHTS, device=DEVICE)
photo_small = nst.load_image(CONTENT, size=SIZE, device=DEVICE)
layer = nst.PRESETS["gatys"].content_layers[0]
h, w = photo_small.shape[-2] // 8, photo_small.shape[-1] // 8  # relu4_2 is after three poolings
n_l, m_l = 512, h * w
for ratio in (1e-3, 1e-4):
    print(f"paper alpha/beta = {ratio:g}: package beta/alpha = {(1 / ratio) / (2 * n_l * m_l):.3g} "
          f"(content layer {layer}: N_l = {n_l}, M_l = {h} x {w})")
""")

nb.md(r"""
The mapping, checked: the paper's objective computed by hand from raw activations ($\frac12\sum$ and $E_l$ with
unnormalised Gram matrices, $\alpha/\beta = 10^{-3}$), and the package's `gatys` objective with the mapped
weights, at the same picture. Their ratio must be the overall factor $\frac{2}{N_l M_l \alpha}$ (the painting is
resized to the photo's size, as the paper's $E_l$ compares pictures with equal $M_l$).
""")

nb.code("""
ALPHA, BETA = 1.0, 1e3
gatys = nst.PRESETS["gatys"]
painting_same = nst.load_image(STYLE, size=tuple(photo_small.shape[-2:]), device=DEVICE)
x_check = (photo_small + 0.05 * torch.randn(photo_small.shape, generator=torch.Generator().manual_seed(0))
           .to(photo_small)).clamp(0, 1)
with torch.no_grad():
    fx, fp, fa = (model(im, [layer, *gatys.style_layers]) for im in (x_check, photo_small, painting_same))
n_l, m_l = fx[layer].shape[1], fx[layer].shape[2] * fx[layer].shape[3]  # the content layer's, as measured
content_paper = 0.5 * ((fx[layer] - fp[layer]).double() ** 2).sum()
style_paper = 0.0
for name, w_l in zip(gatys.style_layers, gatys.layer_weights):
    Fx, Fa = fx[name][0].flatten(1).double(), fa[name][0].flatten(1).double()
    N, M = Fx.shape
    style_paper += w_l * ((Fx @ Fx.T - Fa @ Fa.T) ** 2).sum() / (4 * N**2 * M**2)
paper_total = ALPHA * content_paper + BETA * style_paper
mapped = nst.make_config("gatys", content_weight=1.0, style_weight=(BETA / ALPHA) / (2 * n_l * m_l))
with torch.no_grad():
    package_total = nst.build_objective(model, photo_small, [painting_same], mapped)(x_check)[0].item()
factor = 2 / (n_l * m_l * ALPHA)
print(f"package / paper = {package_total / paper_total.item():.6g}, 2 / (N_l M_l alpha) = {factor:.6g}")
assert abs(package_total / paper_total.item() / factor - 1) < 1e-3
""")

nb.md(r"""
## L-BFGS in a few lines

Gradient descent moves against the gradient, $\vec x_{k+1} = \vec x_k - \eta\, \nabla \mathcal{L}(\vec x_k)$, with one
step size for every direction. Newton's method would use the curvature, $\vec x_{k+1} = \vec x_k - H^{-1}\nabla
\mathcal{L}$, but the Hessian $H$ of a 128 px picture is a $49152 \times 49152$ matrix (a 512 px one has $6\cdot
10^{11}$ entries). L-BFGS (limited-memory Broyden-Fletcher-Goldfarb-Shanno) is a *quasi-Newton* method:

1. **Curvature pairs.** After each iteration it keeps $\vec s_k = \vec x_{k+1} - \vec x_k$ and $\vec y_k =
   \nabla\mathcal{L}(\vec x_{k+1}) - \nabla\mathcal{L}(\vec x_k)$. Along $\vec s_k$ the gradient changed by
   $\vec y_k$, which is what $H \vec s_k$ would be: the pairs are measurements of the curvature.
2. **The direction.** From the last $m$ pairs ($m = 100$ here) a two-loop recursion computes $\vec d \approx
   -H^{-1}\nabla\mathcal{L}$ in $O(m D)$ operations for $D$ pixels, without ever forming a matrix.
3. **The line search.** Along $\vec d$ it tries step lengths until the *strong Wolfe* conditions hold: the loss
   fell enough, and the slope flattened enough. Each try is one evaluation of the objective (one forward and one
   backward pass): that is why PyTorch asks for a closure, and why this course counts *evaluations* as steps.

Why it suits style transfer: the objective is deterministic (the same pixels give the same loss, unlike the
mini-batches of training) and smooth almost everywhere, the only variables are the pixels, and its curvature
differs enormously between directions (colour shifts cost little, texture changes a lot): rescaling each
direction by its curvature is what plain gradient steps cannot do. The comparison with Adam further down shows the
difference.
""")

nb.md("""
## The closure, by hand

Two details matter. The pixels are kept in [0, 1] by evaluating the objective on `x.clamp(0, 1)` rather than
clamping `x` in place inside the closure (the tutorial's way, which changes the point L-BFGS thinks it is at and
can make long runs blow up). And the targets (the photo's activations, the painting's Gram matrices) are computed
once, without gradients: `nst.build_objective` does that, making one `ContentTerm` per content layer and one
`StyleTerm` per style layer, each calling the `content_loss`, `gram_matrix` and `style_loss` of notebooks 2 to 4.
""")

nb.code("""
content = nst.load_image(CONTENT, size=SIZE, device=DEVICE)
style = nst.load_image(STYLE, size=SIZE, device=DEVICE)
objective = nst.build_objective(model, content, [style], seed)  # alpha * content terms + beta * style terms

x = content.clone().requires_grad_(True)  # start from a copy of the photo
optimizer = torch.optim.LBFGS([x], max_iter=HAND_STEPS, max_eval=HAND_STEPS, line_search_fn="strong_wolfe")
losses = []


def closure():
    optimizer.zero_grad()
    total, parts = objective(x.clamp(0, 1))  # the loss of the in-range picture
    total.backward()
    losses.append(parts["total"])
    return total


optimizer.step(closure)
package = nst.stylize(content, style, steps=HAND_STEPS, model=model, progress=False)
n = package.evaluations
print(f"by hand: {len(losses)} evaluations, loss {losses[0]:.4g} -> {min(losses[:n]):.4g} after {n}")
print(f"package: {n} evaluations, loss {package.history['total'][0]:.4g} -> {package.losses['total']:.4g}")
assert torch.allclose(torch.tensor(losses[:n]), torch.tensor(package.history["total"]), rtol=1e-4)
""")

nb.md("""
### Write it yourself

The closure, for any picture `x`, optimiser and objective: four lines. The check calls it once at the photo and
compares the loss it returns and the gradient it leaves in `x.grad` with the package's objective.
""")

nb.code("""
def make_my_closure(x, optimizer, objective):
    def closure():
        return None  # your code: four lines (clear the gradient, evaluate in range, back-propagate, return)
    return closure


x_try = content.clone().requires_grad_(True)
loss_try = make_my_closure(x_try, torch.optim.LBFGS([x_try]), objective)()
x_ref = content.clone().requires_grad_(True)
total_ref, _ = objective(x_ref.clamp(0, 1))
total_ref.backward()
nst.course.check_exercise("closure, its loss", None if loss_try is None else loss_try.detach(), total_ref.detach())
nst.course.check_exercise("closure, its gradient", None if loss_try is None else x_try.grad, x_ref.grad)
""")

nb.md("""
Step for step, the two runs evaluate the same pictures. (PyTorch's L-BFGS checks `max_eval` only between its
iterations, so by hand it may overrun the budget by a few evaluations inside a line search; the package stops at
exactly the number of steps asked for.)

`nst.stylize` is that loop plus bookkeeping: it counts steps exactly, keeps the best picture seen, shows a
progress bar, logs the losses every 50 steps, calls you back for previews, and returns the best picture so far if
you interrupt it (Kernel → Interrupt, or Ctrl-C on the command line).

## The full run

The callback keeps snapshots at log-spaced steps (1, 3, 10, 30, 100, 300): after the first few dozen steps the
picture hardly changes, so evenly spaced snapshots would all look alike.
""")

nb.code("""
snapshots = {}


def keep_snapshot(step, parts, image):
    if step in SNAPSHOTS or step == STEPS:
        snapshots[step] = image.cpu()


result = nst.stylize(CONTENT, STYLE, size=SIZE, steps=STEPS, model=model, callback=keep_snapshot, callback_every=1)
print(f"{result.evaluations} steps in {result.seconds:.1f} s; final losses:",
      {k: round(v, 4) for k, v in result.losses.items() if k != "tv"})
nst.show_images([content] + list(snapshots.values()), ["start (the photo)"] + [f"step {s}" for s in snapshots],
                ncols=4, size=4);
""")

nb.md(r"""
The content loss starts at zero ($\vec x$ *is* the photo) and rises as the style loss falls: the two terms pull in
opposite directions, and $\alpha$ and $\beta$ set where they meet (notebook 6 is about that trade-off). On one
log axis the two would be decades apart, so each is drawn on its own scale, relative to its largest value:
""")

nb.code("""
import matplotlib.pyplot as plt

steps_axis = range(1, len(result.history["total"]) + 1)
fig, ax = plt.subplots(figsize=(9, 4.5))
for key, colour in (("content", "tab:blue"), ("style", "tab:red")):
    values = torch.tensor(result.history[key])
    ax.plot(steps_axis, values / values.max(), color=colour, lw=2, label=f"{key.replace('_', ' ')} / its largest value")
ax.set_xscale("log")
ax.set_xlabel("step (log scale)", fontsize=14)
ax.set_ylabel("relative loss", fontsize=14)
ax.tick_params(labelsize=12)
ax.legend(fontsize=13)
ax.set_title("the trade-off: style falls, content rises", fontsize=14);
""")

nb.md("""
The result at the seed's size, 128 px, shown honestly: the painting's colours and fine grain laid over the cat,
not yet brush strokes. Two things make it look more like a painting: more pixels (at 512 px the same layers see
relatively finer detail, and strokes have room) and deeper style layers (the seed's style layers stop at the
paper's conv3_1; the `gatys` preset uses conv1_1 ... conv5_1). Notebook 7 shows both.
""")

nb.code("""
nst.show_images([content, style, result.image], ["content", "style", "result (seed, 300 steps)"], size=4);
""")

nb.md("""
What improves it, in one run each (the stopping rule of the section *When is the picture done?* keeps them short):
the paper's deeper layers (`"gatys"`), and the same at twice the size.
""")

nb.code("""
better = nst.stylize(CONTENT, STYLE, "gatys", size=SIZE, steps=STEPS, model=model, tol=0.005, log_every=0)
bigger = nst.stylize(CONTENT, STYLE, "gatys", size=2 * SIZE, steps=STEPS, model=model, tol=0.005, log_every=0)
nst.show_images([result.image, better.image, bigger.image],
                ["seed", "gatys preset", f"gatys preset, {2 * SIZE} px"], size=4);
""")

nb.md(r"""
## L-BFGS against Adam

Adam, the optimiser used to train networks, adapts a step size per pixel from running averages of the gradient
and its square, but takes one evaluation per step and has no line search. On the same objective, from the same
start, with the same number of evaluations (the package's Adam uses a learning rate of 0.02):
""")

nb.code("""
adam = nst.stylize(CONTENT, STYLE, size=SIZE, steps=STEPS, model=model, optimizer="adam", log_every=0)
fig, ax = plt.subplots(figsize=(9, 4.5))
ax.plot(range(1, len(result.history["total"]) + 1), result.history["total"], lw=2, label="L-BFGS")
ax.plot(range(1, len(adam.history["total"]) + 1), adam.history["total"], lw=2, label="Adam (lr 0.02)")
ax.set_yscale("log")
ax.set_xlabel("evaluations of the objective", fontsize=14)
ax.set_ylabel("objective", fontsize=14)
ax.legend(fontsize=13)
ax.set_title("same objective, same start, same budget", fontsize=14)
print(f"after {STEPS} evaluations: L-BFGS {min(result.history['total']):.4g}, Adam {min(adam.history['total']):.4g}")
mark = min(50, len(result.history["total"]))  # where does Adam reach what L-BFGS had after 50 evaluations?
target = min(result.history["total"][:mark])
reach = next((k + 1 for k, v in enumerate(adam.history["total"]) if v <= target), None)
print(f"L-BFGS after {mark} evaluations: {target:.4g}; Adam gets there after "
      + (f"{reach} evaluations" if reach else f"more than {len(adam.history['total'])}"))
nst.show_images([result.image, adam.image], ["L-BFGS", "Adam"], size=4);
""")

nb.md(r"""
## When is the picture done?

The seed runs 300 steps, but the curves above fall steeply for a few dozen steps and are nearly flat after that.
The stopping rule `tol` ends a run once the best objective has improved by less than that fraction over the last
20 steps (`nst.stylize(..., tol=0.005)`, `--tol 0.005`). `python -m benchmarks.run --only convergence` replays it
on full 300-step runs of four content/style pairs at 128 and 256 px (stand-in weights; `benchmarks/RESULTS.md`):
with `tol=0.005` the runs stop after 116 steps on average (80 to 193), at an objective 1.0 % above the 300-step
one. The pixels still differ (a mean of 20 levels out of 255), but as texture shuffled in place: side by side the
two pictures look the same, while the picture after 40 steps visibly does not. That is why 300 steps are more
than a picture needs. The seed stays 300 steps, the default here and on the command line, so that it is
reproduced exactly; `tol` is there when you want the picture sooner.
""")

nb.code("""
# When would the stopping rule have ended this run? Replay it on the run's own history with the rule
# nst.stylize(..., tol=TOL) applies as it goes: stop once the best objective improved by less than TOL
# (relative) over the last nst.optimize.TOL_WINDOW steps.
TOL = 0.005
best = [min(result.history["total"][:k + 1]) for k in range(len(result.history["total"]))]
stop = next((k + 1 for k in range(len(best)) if nst.optimize.improved_less_than(best[:k + 1], TOL)), len(best))
print(f"tol {TOL}: would stop after {stop} of {len(best)} steps, at an objective {best[stop - 1] / best[-1] - 1:+.1%} "
      f"from the final one")
for k in (10, 20, 40, 80, 150):
    if k <= len(best):
        print(f"after {k:3d} steps the best objective is {best[k - 1] / best[-1] - 1:+7.1%} from the final one")
""")

nb.md(r"""
## Several style images

With style images $\vec a_1 \dots \vec a_k$ and blend weights $b_s$ (normalised to $\sum_s b_s = 1$) the style term
becomes $\sum_s b_s\, \mathcal{L}_\text{style}(\vec a_s, \vec x)$. Because each layer's loss is quadratic in the
Gram matrix, $\sum_s b_s \lVert G - A_s \rVert^2 = \lVert G - \bar A \rVert^2 + \text{const}$ with
$\bar A = \sum_s b_s A_s$: the same, up to a constant, as matching one blended Gram matrix, a mixture of the
paintings' texture statistics. The self-check at the end verifies the identity.
""")

nb.code("""
runs = {}
for blend in [(1.0, 0.0), *BLENDS, (0.0, 1.0)]:  # four runs, each with its progress bar
    runs[blend] = nst.stylize(CONTENT, STYLES, blend=list(blend), size=SIZE, steps=STEPS, model=model,
                              log_every=0, tol=0.005)
    print(f"blend {blend}: {runs[blend].evaluations} steps, {runs[blend].seconds:.1f} s, "
          f"total loss {runs[blend].losses['total']:.4g}")
nst.show_images([r.image for r in runs.values()],
                [f"{b[0]:.1f} Starry Night + {b[1]:.1f} Scream" for b in runs], ncols=4, size=4);
""")

A = [
    answer("`optimizer.zero_grad()`, `total, parts = objective(x.clamp(0, 1))`, `total.backward()`, "
           "`return total`: the closure of the cell above it, with the list of losses left out."),
    answer("From noise the first few dozen steps only build up the photo's layout, which the copy of the photo "
           "has at step 0: expect it to need several times more steps to reach the same objective, and the "
           "picture keeps some noise where the content layer is invariant (notebook 2)."),
    answer("L-BFGS: the comparison above shows it far ahead for the first hundred evaluations and still lower "
           "at 300 (the printed values). Adam's result depends on a learning rate chosen by hand: `lr=0.1` takes "
           "steps five times larger, so look for a faster start and for whether it still settles, or keeps "
           "jumping around a higher objective: `nst.stylize(..., optimizer=\"adam\", lr=0.1)`."),
    answer("Yes in proportion, but paintings differ in how large their Gram matrices are, so equal weights do "
           "not mean equal influence: a painting with strong, high-contrast texture can dominate. "
           "`balance_styles=True` (notebook 7) rescales each painting's term by its own size first."),
    answer("Expanding, $\\sum_s b_s \\lVert G - A_s\\rVert^2 = \\lVert G\\rVert^2 - 2\\langle G, \\bar A\\rangle "
           "+ \\sum_s b_s \\lVert A_s\\rVert^2$ (using $\\sum_s b_s = 1$), and $\\lVert G - \\bar A\\rVert^2 = "
           "\\lVert G\\rVert^2 - 2\\langle G, \\bar A\\rangle + \\lVert \\bar A\\rVert^2$: they differ by "
           "$\\sum_s b_s \\lVert A_s\\rVert^2 - \\lVert \\bar A\\rVert^2$, which does not depend on $\\vec x$."),
]

nb.md(f"""
## Summary

- Style transfer minimises $\\alpha\\,\\mathcal{{L}}_\\text{{content}} + \\beta\\,\\mathcal{{L}}_\\text{{style}}$ over the
  pixels, from a copy of the photo, with L-BFGS; a step is one evaluation of the objective.
- L-BFGS builds a picture of the curvature from the last $m$ gradient changes and searches along its direction
  with a line search: on this smooth, deterministic objective it gets in a few dozen evaluations where Adam needs
  a few hundred.
- The closure computes the loss of the in-range picture; the targets are computed once.
- Most of the change happens in the first few dozen steps; `tol` stops a run when it is done.
- Several style images mix through blend weights, which mix their Gram statistics.

## Exercises

1. The "write it yourself" cell: the closure.
   {A[0]}
2. Start from noise (`init="noise"`). How many steps does it take to look as good as starting from the photo?
   {A[1]}
3. Which optimiser reaches the lower loss in 300 evaluations, and what happens to Adam with `lr=0.1`?
   {A[2]}
4. Blend three styles (add your own painting). Do the blend weights behave as you expect?
   {A[3]}
5. Self-check: show that $\\sum_s b_s \\lVert G - A_s\\rVert^2$ and $\\lVert G - \\bar A\\rVert^2$ differ by a
   constant, and check it on random matrices.
   {A[4]}
""")

nb.code("""
# Exercise 5, self-check: the blended loss and the loss against the blended Gram matrix differ by a constant
gen = torch.Generator().manual_seed(0)
A1, A2 = torch.randn(8, 8, generator=gen, dtype=torch.float64), torch.randn(8, 8, generator=gen, dtype=torch.float64)
b = (0.7, 0.3)
A_bar = b[0] * A1 + b[1] * A2
gaps = []
for _ in range(3):  # three different pictures' Gram matrices G
    G = torch.randn(8, 8, generator=gen, dtype=torch.float64)
    blended = b[0] * ((G - A1) ** 2).sum() + b[1] * ((G - A2) ** 2).sum()
    gaps.append((blended - ((G - A_bar) ** 2).sum()).item())
assert max(gaps) - min(gaps) < 1e-9
print(f"the gap is the same for every G: {gaps[0]:.6f}")
""")

if __name__ == "__main__":
    nb.save()
