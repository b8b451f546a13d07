"""Writes notebooks/02_content_reconstruction.ipynb (stripped): ``python tools/make_notebook_02.py``."""

from notebook_writer import COMMON_PARAMETERS, Chapter, answer

TIME = ("76 s on a 2-core laptop CPU at its defaults (stand-in weights, measured by `python -m benchmarks.run "
        "--only notebooks` on 2026-11-25); on a GPU at 512 px, under a minute (an estimate: no GPU was measured).")

nb = Chapter("02_content_reconstruction.ipynb", "2. Content reconstruction: what each layer remembers", """
Start from noise and change its pixels until one layer of VGG19 sees the same thing as in the photo; do it for
each depth (Gatys et al. 2016, Fig. 1, bottom row). On the way: the content loss and its gradient, derived and
checked against `torch.autograd`; what the network's channels respond to; the optimisation loop written out once,
before the package's `nst.reconstruct_content` does the same.
""", TIME)

nb.code(COMMON_PARAMETERS + """
STEPS = 10 if FAST else 200  # evaluations of the objective per reconstruction
HAND_STEPS = 10 if FAST else 50  # the loop written by hand below
LAYERS = ["conv1_2", "conv2_2", "conv3_2", "conv4_2", "conv5_2"]  # the paper's figure
""")

nb.md(r"""
## Notation (used in every notebook)

| symbol | meaning |
| --- | --- |
| $\vec p$, $\vec a$, $\vec x$ | the photo, the painting (the *art*), the picture being generated, each $3 \times H \times W$ |
| $l$ | a layer of VGG19, e.g. conv4_2 |
| $N_l$ | the number of channels (feature maps) at layer $l$ |
| $M_l = H_l W_l$ | the number of positions at layer $l$ (height times width of its grid) |
| $F^l \in \mathbb{R}^{N_l \times M_l}$ | the activations of $\vec x$ at layer $l$: $F^l_{ij}$ is channel $i$ at position $j$ |
| $P^l$, $A^l$ | the same for the photo, and the painting's Gram matrix (notebook 3) |
| $\alpha$, $\beta$ | the weights of the content and style losses (notebook 5) |

## The content loss

A layer's *content representation* of an image is its activations. The paper compares them with half the sum of
squared differences; the package (like the PyTorch tutorial) takes their mean:

$$\mathcal{L}_\text{content}(\vec p, \vec x, l) = \frac{1}{2} \sum_{i,j} \big(F^l_{ij} - P^l_{ij}\big)^2
\qquad\qquad
L_\text{content} = \frac{1}{N_l M_l} \sum_{i,j} \big(F^l_{ij} - P^l_{ij}\big)^2 = \frac{2}{N_l M_l}\,\mathcal{L}_\text{content}.$$

The two differ by a constant factor for a given layer, which only rescales the weight $\alpha$. The mean has the
advantage that its size does not grow with the picture. Both, checked:
""")

nb.code("""
model = nst.load_vgg19(WEIGHTS, device=DEVICE)
photo = nst.load_image(CONTENT, size=SIZE, device=DEVICE)
noise = torch.rand_like(photo)
with torch.no_grad():
    P = model(photo, ["conv4_2"])["conv4_2"]  # 1 x N_l x H_l x W_l
    F = model(noise, ["conv4_2"])["conv4_2"]
n_l, m_l = F.shape[1], F.shape[2] * F.shape[3]
paper = 0.5 * ((F - P) ** 2).sum()
package = nst.content_loss(F, P)
print(f"conv4_2: N_l = {n_l}, M_l = {m_l}; paper's loss {paper.item():.4g}, package's {package.item():.4g}")
assert torch.allclose(package, ((F - P) ** 2).mean())
assert torch.allclose(package, 2 / (n_l * m_l) * paper, rtol=1e-5)
""")

nb.md("""
### Write it yourself

Write the package's content loss as one line of torch, then run the check under it. (The cell as given returns
`None`, and the check waits for you; the answer is at the end of the notebook.)
""")

nb.code("""
def my_content_loss(f, p):
    return None  # your code: the mean, over channels and positions, of the squared difference


nst.course.check_exercise("content loss", my_content_loss(F, P), nst.content_loss(F, P))
""")

nb.md(r"""
## Its gradient

Differentiating the paper's loss with respect to one activation gives the error itself, and nothing where the
unit is switched off by its ReLU (the paper's layers are taken after the ReLU, $F = \max(0, Z)$ of the
convolution's output $Z$):

$$\frac{\partial \mathcal{L}_\text{content}}{\partial F^l_{ij}} = F^l_{ij} - P^l_{ij},
\qquad
\frac{\partial \mathcal{L}_\text{content}}{\partial Z^l_{ij}} =
\begin{cases} F^l_{ij} - P^l_{ij} & Z^l_{ij} > 0 \\ 0 & Z^l_{ij} < 0 \end{cases}$$

For the package's mean the first is $\frac{2}{N_l M_l}(F^l - P^l)$. Back-propagation carries this error from the
layer down to the pixels; that is all `loss.backward()` does. The cell checks both formulas against
`torch.autograd` and counts the units through which no gradient flows at all: where $Z < 0$, no change of the
picture that keeps $Z$ negative can be seen by the loss.
""")

nb.code("""
F_var = F.clone().requires_grad_(True)
(grad,) = torch.autograd.grad(nst.content_loss(F_var, P), F_var)
assert torch.allclose(grad, 2 * (F - P) / (n_l * m_l), rtol=1e-5, atol=1e-12)

Z = F.clone().requires_grad_(True)  # conv4_2 is a convolution's output: the ReLU after it is relu4_2
target = torch.relu(P)
(grad_z,) = torch.autograd.grad(nst.content_loss(torch.relu(Z), target), Z)
by_hand = 2 * (torch.relu(Z) - target) / (n_l * m_l) * (Z > 0)
assert torch.allclose(grad_z, by_hand, rtol=1e-5, atol=1e-12)
print(f"gradient checked; through relu4_2 it is exactly 0 at {(grad_z == 0).float().mean().item():.0%} of the units")
""")

nb.md("""
## What the network sees

Each channel of a layer is one feature map: a grid that lights up where the picture holds what the channel
responds to. Below, the four most active channels of each of the figure's layers: at conv1_2 they are still
recognisably the cat (edges, colours); deeper, the grids are coarser and respond to larger, more abstract
arrangements. (With the stand-in weights these are rough; with ImageNet weights, sharper.)
""")

nb.code("""
with torch.no_grad():
    feats = model(photo, LAYERS)
nst.show_feature_maps({name: feats[name] for name in LAYERS[::2]}, channels=4);
""")

nb.md("""
Each position of a layer sees a patch of the picture, its *receptive field* (notebook 1 computes it), drawn here
centred on the photo. A conv5 position sees more than the whole 128 px picture: another reason why deep layers
speak of arrangements, not pixels.
""")

nb.code("""
nst.show_receptive_fields(photo, LAYERS);
""")

nb.md("""
## Fewer numbers? No: invariance

Each layer sees a smaller grid than the one before: every pooling halves it. But a smaller grid does not mean
fewer numbers: deeper layers have more channels, and the table shows conv3_2 and conv4_2 holding *more* numbers
than the image itself. So size alone cannot be why deep layers lose the photo's details:
""")

nb.code("""
for name in LAYERS:
    c, h, w = feats[name].shape[1:]
    print(f"{name:8} (tutorial name {nst.tutorial_name(name):8}): {c:3} channels x {h:3} x {w:3} positions "
          f"= {c * h * w:7d} numbers (the image: {photo.numel()})")
""")

nb.md("""
What deep layers lose, they lose by being *invariant*: many different images give them the same activations. A
ReLU maps every negative input to 0, so a change that keeps those inputs negative is invisible after it (the
zero gradient above); a max pooling keeps one of four values and forgets which; and the network was trained to
recognise objects whatever their exact colours, textures and positions. The deeper the layer, the more such steps
lie between it and the pixels. The cell counts the zeros the ReLU after each layer produces on this photo.

*conv or relu?* The paper names its layers conv1_1 ... conv5_1, and the figure here uses the convolutions'
outputs, before their ReLU, as the PyTorch tutorial does. The paper's own code ran in Caffe, whose VGG applies
each ReLU in place, so the values it read under the name "conv4_2" were in fact after the ReLU: relu4_2 in this
package's names. That is why implementations differ, and why the `gatys` preset (notebook 7) names relu layers.
""")

nb.code("""
for name in LAYERS:
    zeros = (torch.relu(feats[name]) == 0).float().mean().item()
    print(f"{name}: after the ReLU {zeros:.0%} of the activations are 0 (any change that keeps them negative is lost)")
""")

nb.md(r"""
## The optimisation loop, by hand

To reconstruct the photo from one layer, treat the picture's pixels as the only parameters and minimise the
content loss over them. PyTorch's L-BFGS (notebook 5 explains it) asks for a *closure*: a function that clears
the gradient, computes the loss, back-propagates and returns the loss; it may call it several times per
iteration. Two details:

- the picture is evaluated as `x.clamp(0, 1)`, so the loss always sees a valid image;
- the loss is divided by the photo's own mean square activation $\frac{1}{N_l M_l}\sum P_{ij}^2$, so that every
  layer starts near 1 and the same number of steps means the same thing at each depth.

The start is quiet noise, $0.5 \pm 0.1$ (uniform noise 0.2 wide around mid-grey,
`nst.reconstruct.NOISE_AMPLITUDE`). Deep layers ignore much of what is in the start (the invariance above), so
whatever noise the start holds stays where those layers do not care; full-strength noise, 0 to 1, would drown
the layout the layer does keep.
""")

nb.code("""
LAYER = "conv2_2"
with torch.no_grad():
    target = model(photo, [LAYER])[LAYER]
scale = target.pow(2).mean().item()
x = nst.initial_image("noise", photo, random_seed=0, noise_amplitude=nst.reconstruct.NOISE_AMPLITUDE)
x.requires_grad_(True)
optimizer = torch.optim.LBFGS([x], max_iter=HAND_STEPS, max_eval=HAND_STEPS, history_size=100,
                              line_search_fn="strong_wolfe")
losses = []


def closure():
    optimizer.zero_grad()
    f = model(x.clamp(0, 1), [LAYER])[LAYER]
    loss = nst.content_loss(f, target) / scale
    loss.backward()
    losses.append(loss.item())
    return loss


optimizer.step(closure)
package = nst.reconstruct_content(photo, LAYER, steps=HAND_STEPS, size=SIZE, model=model, random_seed=0,
                                  progress=False)
n = package.evaluations
print(f"by hand: loss {losses[0]:.3g} -> {min(losses[:n]):.3g} in {n} evaluations; "
      f"package: {package.history['total'][0]:.3g} -> {min(package.history['total']):.3g}")
# The same pictures, evaluation for evaluation: the first five agree to 0.1 %; over many steps L-BFGS
# amplifies rounding differences (the package sums the terms in another order), so later values drift apart.
first = min(n, 5)
assert torch.allclose(torch.tensor(losses[:first]), torch.tensor(package.history["total"][:first]), rtol=1e-3)
nst.show_images([photo, x.detach().clamp(0, 1), package.image], ["photo", f"by hand, {LAYER}", "package"], size=4);
""")

nb.md("""
The two loops evaluate the same pictures (the first five evaluations agree to 0.1 %). `nst.reconstruct_content` is that loop plus a progress
bar, an exact step budget and the best picture kept.

## Reconstructing from each layer
""")

nb.code("""
results = {}
for name in LAYERS:  # each run shows its own progress bar
    results[name] = nst.reconstruct_content(photo, name, steps=STEPS, size=SIZE, model=model, random_seed=0)
    print(f"{name}: loss {results[name].history['total'][0]:.3g} -> {min(results[name].history['total']):.3g}")
nst.show_images([photo] + [r.image for r in results.values()], ["photo"] + [f"from {n}" for n in LAYERS],
                ncols=3, size=4, suptitle="Content reconstructions (Gatys et al. 2016, Fig. 1, bottom row)");
""")

A0 = answer("`return ((f - p) ** 2).mean()` (or `torch.nn.functional.mse_loss(f, p)`).")
A1 = answer("Pass `name.replace('conv', 'relu')` to `nst.reconstruct_content`. After the ReLU every negative value is 0, and the gradient cell showed that no gradient flows through those units: the loss cannot see how negative they are, so the picture is less constrained and the deep reconstructions drift further from the photo's colours and details. Shallow layers still come back almost exactly.")
A2 = answer("Yes for deep layers, hardly for shallow ones. A shallow layer determines the picture, so every start ends at the photo. A deep layer is matched by many pictures, and L-BFGS stops at one near its start: from grey the result is smooth and dull, from the blurred photo it already has the right colours and looks much closer to the photo. The layer itself does not know the difference.")
A3 = answer("The loss keeps falling slowly, but the detail does not come back: what conv5_2 is invariant to is not in its activations, so no number of steps can recover it.")
A4 = answer("The paper's: $\\frac{1}{2}(1 + 4 + 9 + 16) = 15$. The package's: the mean, $30 / 4 = 7.5$, which is $\\frac{2}{N_l M_l} \\cdot 15$ with $N_l M_l = 4$.")

nb.md(f"""
## Why deep layers keep the layout and lose the pixels

- Shallow layers (conv1_2, conv2_2) see a fine grid, and each position a small patch: matching them pins down
  almost every pixel, so the photo comes back nearly exactly.
- Deep layers (conv4_2, conv5_2) are invariant to many changes of the picture (ReLUs that are off, poolings,
  training for recognition). Many different images give the same deep activations; the optimiser finds one of
  them near its start, which keeps *where things are* but not their exact colours or fine texture.

That freedom is what style transfer uses: matching content at a deep layer leaves the pixels free to take on a
painting's texture.

## Summary

- The content representation is a layer's activations $F^l$; the content loss is their squared difference from
  the photo's (the paper: half the sum; the package: the mean, $\\frac{{2}}{{N_l M_l}}$ times it).
- Its gradient is the error $F^l - P^l$, and zero where the ReLU is off: those changes are invisible.
- Reconstructions from deeper layers keep the arrangement of the scene and lose the exact pixels, because deep
  layers are invariant, not because they hold fewer numbers.

## Exercises

1. The "write it yourself" cell: the content loss in one line.
   {A0}
2. Reconstruct from the ReLU layers (`relu1_2` ... `relu5_2`) instead of the convolutions. What changes, and why
   might ReLU layers lose more?
   {A1}
3. Start from the photo blurred, or from a grey image, instead of noise (build the start yourself, then use the
   loop above with `x = start.clone().requires_grad_(True)`). Does the deep reconstruction depend on where you
   start?
   {A2}
4. Run the conv5_2 reconstruction for 4x more steps. Does more detail come back?
   {A3}
5. Self-check: for $F$ = the four numbers 1, 2, 3, 4 (one channel on a 2 x 2 grid) and $P = 0$, what are the
   paper's content loss and the package's? Check with `nst.content_loss`.
   {A4}
""")

nb.code("""
# Exercise 5, self-check
F4 = torch.tensor([1.0, 2.0, 3.0, 4.0]).view(1, 1, 2, 2)
assert nst.content_loss(F4, torch.zeros_like(F4)).item() == 7.5
assert 0.5 * (F4 ** 2).sum().item() == 15
print("paper 15, package 7.5")
""")

if __name__ == "__main__":
    nb.save()
