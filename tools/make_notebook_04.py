"""Writes notebooks/04_style_reconstruction.ipynb (stripped): ``python tools/make_notebook_04.py``."""

from notebook_writer import COMMON_PARAMETERS, Chapter, answer

TIME = ("62 s on a 2-core laptop CPU at its defaults (stand-in weights, measured by `python -m benchmarks.run "
        "--only notebooks` on 2026-11-25); on a GPU at 512 px, about a minute (an estimate: no GPU was measured).")

nb = Chapter("04_style_reconstruction.ipynb", "4. Style reconstruction: texture from growing sets of layers", """
From noise, synthesise pictures that match a painting's Gram matrices at conv1_1, then conv1_1 and conv2_1, and so
on up to conv5_1 (Gatys et al. 2016, Fig. 1, top row). First the style loss and its gradient, derived and checked
against `torch.autograd`, and the synthesis loop written out once.
""", TIME)

nb.code(COMMON_PARAMETERS + """
STEPS = 10 if FAST else 200  # evaluations per synthesis
HAND_STEPS = 10 if FAST else 50  # the loop written by hand below
STYLE_LAYERS = ["conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1"]
""")

nb.md(r"""
## The style loss

With the notation of notebook 2 and the Gram matrices of notebook 3 ($G^l = F^l {F^l}^\top$ for the picture,
$A^l$ for the painting, both $N_l \times N_l$), the paper's loss at one layer and over a set of layers is

$$E_l = \frac{1}{4 N_l^2 M_l^2} \sum_{i,j} \big(G^l_{ij} - A^l_{ij}\big)^2,
\qquad
\mathcal{L}_\text{style}(\vec a, \vec x) = \sum_l w_l E_l .$$

The package's layer loss is the mean over the $N_l^2$ entries of the squared difference of normalised Gram
matrices, $L_l = \frac{1}{N_l^2} \sum_{i,j} (\hat G^l_{ij} - \hat A^l_{ij})^2$ with $\hat G^l = G^l / n$; with the
seed's $n = N_l M_l$ this is $\frac{4}{N_l^2} E_l$ (notebook 3 derives the factor), and with $n = M_l$
(`gram_norm="hw"`) it is exactly $4 E_l$. Checked on the first layer, by hand against the package:
""")

nb.code("""
model = nst.load_vgg19(WEIGHTS, device=DEVICE)
painting = nst.load_image(STYLE, size=SIZE, device=DEVICE)
noise = torch.rand_like(painting)
with torch.no_grad():
    Fa = model(painting, ["conv1_1"])["conv1_1"]
    Fx = model(noise, ["conv1_1"])["conv1_1"]
A, G = nst.gram_matrix(Fa), nst.gram_matrix(Fx)  # the seed's normalisation, n = N_l M_l
by_hand = ((G - A) ** 2).mean()
assert torch.allclose(by_hand, nst.style_loss(G, A))
print(f"style loss of noise at conv1_1: {by_hand.item():.4g}")
""")

nb.md("""
### Write it yourself

The style loss between two pictures' activations at one layer, from the activations (1 x C x H x W) up: the Gram
matrices with the seed's normalisation, then the mean squared difference.
""")

nb.code("""
def my_style_loss(f_x, f_a):
    return None  # your code: Gram matrices (flatten to C x HW, F F^T / (C H W)), then the mean of (G - A)^2


nst.course.check_exercise("style loss", my_style_loss(Fx, Fa), nst.style_loss(G, A))
""")

nb.md(r"""
## Its gradient

The paper gives the derivative of $E_l$ with respect to the activations (after the ReLU, so zero where a unit
is off):

$$\frac{\partial E_l}{\partial F^l_{ij}} =
\begin{cases} \dfrac{1}{N_l^2 M_l^2} \Big(\big(G^l - A^l\big) F^l\Big)_{ij} & F^l_{ij} > 0 \\ 0 & F^l_{ij} < 0 \end{cases}$$

Derivation: $E_l$ depends on $F^l$ through $G^l = F^l {F^l}^\top$. With $D = G^l - A^l$ (symmetric),
$dE_l = \frac{2}{4 N_l^2 M_l^2} \sum D_{ij}\, dG_{ij}$ and $dG = dF\, F^\top + F\, dF^\top$, so
$dE_l = \frac{1}{2 N_l^2 M_l^2} \cdot 2 \sum (D F)_{ij}\, dF_{ij}$. For the package's seed loss, the same steps give
$\frac{\partial L_l}{\partial F^l} = \frac{4}{N_l^2 \, n} (\hat G^l - \hat A^l) F^l$ with $n = N_l M_l$. Both checked
against autograd, in float64:
""")

nb.code("""
F64, Fa64 = Fx[0].flatten(1).double().requires_grad_(True), Fa[0].flatten(1).double()  # N_l x M_l
n_l, m_l = F64.shape
G_raw, A_raw = F64 @ F64.T, Fa64 @ Fa64.T
E = ((G_raw - A_raw) ** 2).sum() / (4 * n_l**2 * m_l**2)
(grad,) = torch.autograd.grad(E, F64)
by_hand = (G_raw - A_raw).detach() @ F64.detach() / (n_l**2 * m_l**2)
assert torch.allclose(grad, by_hand, rtol=1e-9, atol=0)

F4 = F64.detach().view(1, n_l, *Fx.shape[-2:]).requires_grad_(True)  # the package's loss, seed normalisation
n = n_l * m_l
Ghat, Ahat = nst.gram_matrix(F4), nst.gram_matrix(Fa.double())
(grad_seed,) = torch.autograd.grad(nst.style_loss(Ghat, Ahat), F4)
by_hand_seed = 4 / (n_l**2 * n) * (Ghat - Ahat)[0].detach() @ F64.detach()
assert torch.allclose(grad_seed[0].flatten(1), by_hand_seed, rtol=1e-9, atol=0)
print(f"conv1_1 (N_l = {n_l}, M_l = {m_l}): both gradients match autograd")
""")

nb.md(r"""
## The synthesis loop, by hand

Minimise the style loss over the pixels of a picture that starts as quiet noise ($0.5 \pm 0.1$, as in notebook 2).
Each layer's term is divided by the mean square of the painting's Gram matrix there and the layers are averaged,
so that every layer starts near the same size and counts equally; the loop is the closure of notebook 2 with a
sum over layers.
""")

nb.code("""
HAND_LAYERS = STYLE_LAYERS[:2]
with torch.no_grad():
    targets = {name: nst.gram_matrix(f) for name, f in model(painting, HAND_LAYERS).items()}
scales = {name: g.pow(2).mean().item() for name, g in targets.items()}
x = nst.initial_image("noise", painting, random_seed=0, noise_amplitude=nst.reconstruct.NOISE_AMPLITUDE)
x.requires_grad_(True)
optimizer = torch.optim.LBFGS([x], max_iter=HAND_STEPS, max_eval=HAND_STEPS, history_size=100,
                              line_search_fn="strong_wolfe")
losses = []


def closure():
    optimizer.zero_grad()
    feats = model(x.clamp(0, 1), HAND_LAYERS)
    loss = sum(nst.style_loss(nst.gram_matrix(feats[name]), targets[name]) / (len(HAND_LAYERS) * scales[name])
               for name in HAND_LAYERS)
    loss.backward()
    losses.append(loss.item())
    return loss


optimizer.step(closure)
package = nst.reconstruct_style(painting, HAND_LAYERS, steps=HAND_STEPS, size=SIZE, model=model, random_seed=0,
                                progress=False)
k = package.evaluations
print(f"by hand: loss {losses[0]:.3g} -> {min(losses[:k]):.3g}; package: {package.history['total'][0]:.3g} -> "
      f"{min(package.history['total']):.3g}")
# The same pictures, evaluation for evaluation: the first five agree to 0.1 %; over many steps L-BFGS
# amplifies rounding differences (the package sums the terms in another order), so later values drift apart.
first = min(k, 5)
assert torch.allclose(torch.tensor(losses[:first]), torch.tensor(package.history["total"][:first]), rtol=1e-3)
""")

nb.md("""
## Synthesis from growing sets of layers

`nst.reconstruct_style` is that loop (with a progress bar); here for the five growing sets of the paper's figure.
""")

nb.code("""
sets = [STYLE_LAYERS[: k + 1] for k in range(len(STYLE_LAYERS))]
textures = []
for layers in sets:  # each synthesis shows its own progress bar
    r = nst.reconstruct_style(painting, layers, steps=STEPS, size=SIZE, model=model, random_seed=0)
    textures.append(r.image)
    print(f"up to {layers[-1]}: loss {r.history['total'][0]:.3g} -> {min(r.history['total']):.3g}")
titles = ["conv1_1"] + [f"conv1_1 ... {layers[-1]}" for layers in sets[1:]]
nst.show_images([painting] + textures, ["painting"] + titles, ncols=3, size=4,
                suptitle="Style reconstructions (Gatys et al. 2016, Fig. 1, top row)");
""")

nb.md("""
## Why the texture grows with the layers

A unit at conv1_1 sees 3 x 3 pixels; after each pooling the next block's units see regions twice as wide
(`nst.receptive_field`: 3, 10, 24, 68 and 156 px at conv1_1 ... conv5_1). Matching only conv1_1 reproduces colours
and the finest grain; adding conv2_1 and conv3_1 brings strokes; conv4_1 and conv5_1 bring larger structures
(swirls, repeated shapes), always scrambled in position because the Gram matrix does not record where things are.
""")

nb.code("""
for name in STYLE_LAYERS:
    print(f"{name}: one position sees {nst.receptive_field(name):3d} px of the {max(painting.shape[-2:])} px painting")
""")

A = [
    answer("`flat_x, flat_a = f_x.flatten(2), f_a.flatten(2)`, `n = f_x[0].numel()`, "
           "`g = flat_x @ flat_x.transpose(1, 2) / n`, `a = flat_a @ flat_a.transpose(1, 2) / n`, "
           "`return ((g - a) ** 2).mean()`."),
    answer("Only colours and fine grain come from conv1_1 to conv3_1; without them the picture keeps larger "
           "structures but its colours and small-scale texture stay close to the noise it started from: deep "
           "layers are invariant to much of what shallow ones see."),
    answer("Mostly yes: the Gram matrix is an average over positions, so a larger picture can match it with the "
           "same texture repeated. The largest structures are tied to the receptive fields (156 px at conv5_1), "
           "not to the picture, so at twice the size the swirls are relatively smaller."),
    answer("Put them side by side with the conv version. The Gram matrix of a ReLU's output ignores how "
           "negative the switched-off units are (their gradient is zero, as above), so it constrains the picture "
           "a little less: expect textures that differ in detail rather than in kind."),
    answer("$4 E_l$: with $\\hat G = G / M_l$ the mean over $N_l^2$ entries is "
           "$\\frac{1}{N_l^2 M_l^2} \\sum (G - A)^2 = 4 E_l$. The self-check computes both."),
]

nb.md(f"""
## Summary

- The style loss at a layer compares Gram matrices: the paper's $E_l$, or the package's mean squared difference,
  $\\frac{{4}}{{N_l^2}} E_l$ with the seed's normalisation; the layers add up with weights $w_l$.
- Its gradient is $(G^l - A^l) F^l$ up to a constant, and zero where a ReLU is off.
- Matching more, deeper layers reproduces the painting's texture at larger and larger scales, while the layout
  stays random.

## Exercises

1. The "write it yourself" cell: the style loss from activations.
   {A[0]}
2. Use only the deep layers (`["conv4_1", "conv5_1"]`). What is missing?
   {A[1]}
3. Synthesise a texture larger than the painting with `output_size=2 * SIZE`. Does it look like the same painting?
   {A[2]}
4. Try the ReLU layers (`relu1_1` ... `relu5_1`, the paper's choice). Any difference?
   {A[3]}
5. Self-check: with `gram_norm="hw"` ($\\hat G = G / M_l$), what multiple of the paper's $E_l$ is the package's
   layer loss? Check it numerically on conv1_1.
   {A[4]}
""")

nb.code("""
# Exercise 5, self-check: the package's loss with norm="hw" is 4 E_l
g_hw, a_hw = nst.gram_matrix(Fx.double(), norm="hw"), nst.gram_matrix(Fa.double(), norm="hw")
ratio = (nst.style_loss(g_hw, a_hw) / E.detach()).item()
assert abs(ratio - 4) < 1e-6
print(f"package (norm='hw') / E_l = {ratio:.6f}")
""")

if __name__ == "__main__":
    nb.save()
