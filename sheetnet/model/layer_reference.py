"""NumPy reference of a network of layers: plain matrix code for each kind, float64, one sample
at a time, with PyTorch's semantics (docs/spec.md):

conv2d is a cross-correlation, stride 1, no padding; max-pool's gradient goes to the first
maximum of its window in row-major order (np.argmax, as torch); flatten is C order; layernorm
uses the biased variance with ε = 1e-5 inside the square root; the Elman RNN starts at h₀ = 0
and outputs its last h; attention is S = QKᵀ/√dim, a softmax per row (masked above the diagonal
when causal), output P·V; meanpool averages the steps.

It shares nothing with the workbook code: only the spec, the activations, losses and accuracy
of the ops registry, and the order of the columns (layer_ids.py), which evaluate() follows.
reference.train_blocks runs the loop and the optimizers on the flat parameter vector.

A run that overflows keeps NaN wherever a spreadsheet shows an error (see _nan): no function
turns an infinity back into a number, and terms a formula never reads (a causal mask's, a
max-pool window's other positions) are left out rather than multiplied by 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from sheetnet.model import layer_ids, ops
from sheetnet.model.layers import LAYERNORM_EPS, Layer
from sheetnet.model.spec import Spec

Arrays = dict[str, np.ndarray]


# --- parameters as one flat vector, in the order of layer_ids.params (= gradients) ------------


def initial_theta(spec: Spec) -> np.ndarray:
    """Every parameter of every layer, flat, in layer_ids.params order."""
    parts = [layer.array(name).ravel() for layer in spec.layers for name in layer.param_names]
    return np.concatenate(parts) if parts else np.zeros(0)


def unflatten(spec: Spec, theta: np.ndarray) -> list[Arrays]:
    """theta as each layer's parameters by torch's name, in torch's shapes."""
    result: list[Arrays] = [{} for _ in spec.layers]
    at = 0
    for group in layer_ids.param_groups(spec):
        result[group.layer][group.param] = theta[at : at + group.size].reshape(group.shape)
        at += group.size
    return result


# --- forward: every array has the row's samples on its first axis ---------------------------


def _nan(x: np.ndarray) -> np.ndarray:
    """x with ±inf as NaN: a spreadsheet has no infinity, an overflow is an error (#NUM!) there,
    and NumPy would turn inf back into numbers (tanh(inf) = 1, x/inf = 0, exp(−inf) = 0) where
    the sheet's formula reads the error and is one. Applied before each such function; sums and
    products pass NaN on by themselves."""
    return x if np.isfinite(x).all() else np.where(np.isfinite(x), x, np.nan)


def _f(spec: Spec, layer: Layer, z: np.ndarray) -> np.ndarray:
    """f(z), NaN wherever z is (softmax: a sample's whole row, as its formulas read every z)."""
    act = ops.activation(layer.activation, spec.leaky_slope)
    z = _nan(z)
    with np.errstate(all="ignore"):
        if layer.activation == "softmax":
            return act.numpy(z.T).T  # softmax works on columns (samples); z is [samples, units]
        return np.where(np.isnan(z), np.nan, act.numpy(z))


def _f_prime(spec: Spec, layer: Layer, z: np.ndarray, a: np.ndarray) -> np.ndarray:
    """f′(z), NaN wherever z or a is (relu′ compares z > 0, which NaN would answer 0)."""
    z, a = _nan(z), _nan(a)
    prime = ops.activation(layer.activation, spec.leaky_slope).numpy_derivative(z, a)
    return np.where(np.isnan(z) | np.isnan(a), np.nan, prime)


def forward_layer(spec: Spec, layer: Layer, p: Arrays, x: np.ndarray) -> Arrays:
    """The layer's quantities by id prefix (layer_ids.forward_groups), and "out", its output;
    x is [samples, *layer.in_shape]."""
    kind = layer.kind
    if kind == "conv2d":
        k = layer.kernel
        windows = sliding_window_view(x, (k, k), axis=(2, 3))  # [n, i, r, s, u, v] = x[n, i, r+u, s+v]
        z = np.einsum("ciuv,nirsuv->ncrs", p["weight"], windows) + p["bias"][:, None, None]
        a = _f(spec, layer, z)
        return {"z": z, "a": a, "out": a}
    if kind in ("maxpool2d", "avgpool2d"):
        blocks = _windows(_nan(x), layer.size)  # [n, c, r, s, size·size], row-major in the window
        if kind == "avgpool2d":
            a = blocks.mean(axis=-1)
            return {"a": a, "out": a}
        m = np.argmax(blocks, axis=-1)  # the first maximum, as torch
        a = np.take_along_axis(blocks, m[..., None], axis=-1)[..., 0]  # NaN if the window has one
        return {"m": np.where(np.isnan(a), np.nan, m + 1.0), "a": a, "out": a}
    if kind == "flatten":
        return {"out": x.reshape(len(x), -1)}  # C order: channel, then row, then column
    if kind == "dense":
        z = x @ p["weight"].T + p["bias"]
        a = _f(spec, layer, z)
        return {"z": z, "a": a, "out": a}
    if kind == "rnn":
        return _rnn_forward(spec, layer, p, x)
    if kind == "attention":
        return _attention_forward(layer, p, x)
    if kind == "layernorm":
        x = _nan(x)
        mu = x.mean(axis=-1)
        var = _nan(((x - mu[..., None]) ** 2).mean(axis=-1))  # biased, as torch
        n = (x - mu[..., None]) / np.sqrt(var[..., None] + LAYERNORM_EPS)
        a = p["gain"] * n + p["bias"]
        return {"mu": mu, "var": var, "n": n, "a": a, "out": a}
    a = x.mean(axis=1)  # meanpool: over the steps
    return {"a": a, "out": a}


def _windows(x: np.ndarray, size: int) -> np.ndarray:
    """x [n, C, H, W] cut into size×size windows: [n, C, H/size, W/size, size·size], row-major inside."""
    n, c, h, w = x.shape
    blocks = x.reshape(n, c, h // size, size, w // size, size).transpose(0, 1, 2, 4, 3, 5)
    return blocks.reshape(n, c, h // size, w // size, size * size)


def _rnn_forward(spec: Spec, layer: Layer, p: Arrays, x: np.ndarray) -> Arrays:
    samples, steps = x.shape[:2]
    z = np.zeros((samples, steps, layer.size))
    h = np.zeros((samples, steps, layer.size))
    previous = np.zeros((samples, layer.size))  # h₀ = 0
    for t in range(steps):
        z[:, t] = x[:, t] @ p["weight_ih"].T + previous @ p["weight_hh"].T + p["bias"]
        h[:, t] = _f(spec, layer, z[:, t])
        previous = h[:, t]
    return {"z": z, "h": h, "out": h[:, -1]}


def _attention_forward(layer: Layer, p: Arrays, x: np.ndarray) -> Arrays:
    q, k, v = x @ p["wq"].T, x @ p["wk"].T, x @ p["wv"].T
    s = _nan(q @ k.transpose(0, 2, 1) / np.sqrt(layer.dim))
    allowed = _allowed(layer, x.shape[1])
    shifted = np.where(allowed, s, -np.inf)
    e = np.where(allowed, np.exp(shifted - shifted.max(axis=-1, keepdims=True)), 0.0)
    prob = e / e.sum(axis=-1, keepdims=True)
    a = _over_allowed(prob, v, allowed)
    return {"Q": q, "K": k, "V": v, "S": s, "P": prob, "a": a, "out": a}


def _over_allowed(a: np.ndarray, b: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """a @ b per sample with only the allowed terms: Σ_k [allowed[i,k]]·a[n,i,k]·b[n,k,j]. A
    masked term is left out, not multiplied by 0, as the sheet's sum never reads it (an error
    in it stays out)."""
    if allowed.all():
        return a @ b
    terms = a[:, :, :, None] * b[:, None, :, :]
    return np.where(allowed[None, :, :, None], terms, 0.0).sum(axis=2)


def _allowed(layer: Layer, steps: int) -> np.ndarray:
    """Which scores S[t, u] row t's softmax reads: all, or u ≤ t when causal."""
    full = np.ones((steps, steps), dtype=bool)
    return np.tril(full) if layer.causal else full


# --- backward -----------------------------------------------------------------------------


@dataclass
class Back:
    """One layer's backward pass for the row's samples."""

    own: Arrays  # its backward quantities by id prefix (layer_ids.backward_groups), per sample
    grads: Arrays  # Σ over the samples of ∂(each sample's loss)/∂ each parameter, by torch's name
    dx: np.ndarray  # ∂/∂ its input, per sample, in the input's shape


def backward_layer(spec: Spec, layer: Layer, p: Arrays, x: np.ndarray, fwd: Arrays,
                   g: np.ndarray | None, delta: np.ndarray | None = None) -> Back:
    """Given g = ∂L/∂(the layer's output), or for the output layer its δ = ∂L/∂z."""
    kind = layer.kind
    if kind == "dense":
        d = delta if delta is not None else g * _f_prime(spec, layer, fwd["z"], fwd["a"])
        return Back({"delta": d}, {"weight": d.T @ x, "bias": d.sum(axis=0)}, d @ p["weight"])
    assert g is not None
    if kind == "conv2d":
        return _conv_backward(spec, layer, p, x, fwd, g)
    if kind == "maxpool2d":
        return Back({}, {}, _maxpool_backward(layer, x, fwd, g))
    if kind == "avgpool2d":
        size = layer.size
        return Back({}, {}, np.repeat(np.repeat(g, size, axis=2), size, axis=3) / (size * size))
    if kind == "flatten":
        return Back({}, {}, g.reshape(x.shape))
    if kind == "rnn":
        return _rnn_backward(spec, layer, p, x, fwd, g)
    if kind == "attention":
        return _attention_backward(layer, p, x, fwd, g)
    if kind == "layernorm":
        dn = g * p["gain"]
        others = tuple(range(g.ndim - 1))  # the samples and, for a sequence, the steps
        grads = {"gain": (g * fwd["n"]).sum(axis=others), "bias": g.sum(axis=others)}
        n = fwd["n"]
        dx = (dn - dn.mean(axis=-1, keepdims=True) - n * (dn * n).mean(axis=-1, keepdims=True)) \
            / np.sqrt(fwd["var"][..., None] + LAYERNORM_EPS)
        return Back({"dn": dn}, grads, dx)
    steps = x.shape[1]  # meanpool
    return Back({}, {}, np.repeat(g[:, None, :] / steps, steps, axis=1))


def _conv_backward(spec: Spec, layer: Layer, p: Arrays, x: np.ndarray, fwd: Arrays,
                   g: np.ndarray) -> Back:
    d = g * _f_prime(spec, layer, fwd["z"], fwd["a"])
    k = layer.kernel
    windows = sliding_window_view(x, (k, k), axis=(2, 3))
    dk = np.einsum("ncrs,nirsuv->ciuv", d, windows)
    dx = np.zeros_like(x)
    rows, cols = d.shape[2:]
    for u in range(k):
        for v in range(k):  # x[i, r+u, s+v] met K[c, i, u, v] in z[c, r, s]
            dx[:, :, u : u + rows, v : v + cols] += np.einsum("ncrs,ci->nirs", d, p["weight"][:, :, u, v])
    return Back({"delta": d}, {"weight": dk, "bias": d.sum(axis=(0, 2, 3))}, dx)


def _maxpool_backward(layer: Layer, x: np.ndarray, fwd: Arrays, g: np.ndarray) -> np.ndarray:
    """g routed to each window's arg-max (m, from 1, row-major), 0 elsewhere in the window."""
    size = layer.size
    n, c, rows, cols = g.shape
    m = fwd["m"][..., None]
    chosen = np.arange(size * size) == (m - 1)  # [n, c, r, s, size²]
    # As IF(m = position, g, 0): 0 elsewhere in the window even when g is an error; all an
    # error when m is one.
    routed = np.where(np.isnan(m), np.nan, np.where(chosen, g[..., None], 0.0))
    routed = routed.reshape(n, c, rows, cols, size, size)
    return routed.transpose(0, 1, 2, 4, 3, 5).reshape(x.shape)


def _rnn_backward(spec: Spec, layer: Layer, p: Arrays, x: np.ndarray, fwd: Arrays,
                  g: np.ndarray) -> Back:
    """Backpropagation through time: δ_T = g·f′(z_T), δ_t = (W_hhᵀ·δ_{t+1})·f′(z_t)."""
    z, h = fwd["z"], fwd["h"]
    steps = z.shape[1]
    delta = np.zeros_like(z)
    for t in reversed(range(steps)):
        dh = g if t == steps - 1 else delta[:, t + 1] @ p["weight_hh"]
        delta[:, t] = dh * _f_prime(spec, layer, z[:, t], h[:, t])
    previous = np.concatenate((np.zeros_like(h[:, :1]), h[:, :-1]), axis=1)  # h_{t−1}, h₀ = 0
    grads = {"weight_ih": np.einsum("ntj,nti->ji", delta, x),
             "weight_hh": np.einsum("ntj,ntm->jm", delta, previous),
             "bias": delta.sum(axis=(0, 1))}
    return Back({"delta": delta}, grads, delta @ p["weight_ih"])


def _attention_backward(layer: Layer, p: Arrays, x: np.ndarray, fwd: Arrays, g: np.ndarray) -> Back:
    q, k, v, prob = fwd["Q"], fwd["K"], fwd["V"], fwd["P"]
    allowed = _allowed(layer, x.shape[1])  # [t, u]: causal masks u > t
    d_prob = g @ v.transpose(0, 2, 1)  # every entry; a masked one is never read
    d_v = _over_allowed(prob.transpose(0, 2, 1), g, allowed.T)
    # The row softmax's Jacobian: ∂P[t,w]/∂S[t,u] = P[t,w]·([w = u] − P[t,u]), over allowed w.
    weighted = np.where(allowed, prob * d_prob, 0.0).sum(axis=-1, keepdims=True)
    d_s = np.where(allowed, prob * (d_prob - weighted), 0.0)
    root = np.sqrt(layer.dim)
    d_q = _over_allowed(d_s, k, allowed) / root
    d_k = _over_allowed(d_s.transpose(0, 2, 1), q, allowed.T) / root
    grads = {name: np.einsum("ntd,nti->di", d, x) for name, d in (("wq", d_q), ("wk", d_k), ("wv", d_v))}
    dx = d_q @ p["wq"] + d_k @ p["wk"] + d_v @ p["wv"]
    return Back({"dP": d_prob, "dV": d_v, "dS": d_s, "dQ": d_q, "dK": d_k}, grads, dx)


# --- a row's samples ----------------------------------------------------------------------


@dataclass
class Batch:
    """The forward pass, output δ and backward pass of a row's samples (first axis of each)."""

    forward: list[Arrays]
    backward: list[Back]
    z_out: np.ndarray  # [samples, outputs]
    a_out: np.ndarray
    inputs: list[np.ndarray]  # each layer's input
    grad_outputs: list[np.ndarray | None]  # ∂L/∂(each layer's output); None for the output layer


def run_batch(spec: Spec, params: list[Arrays], X: np.ndarray, T: np.ndarray) -> Batch:
    """Forward, the output's δ for each sample's loss, and the backward pass layer by layer;
    X holds one flattened sample per row, T its targets."""
    inputs, fwd = [], []
    x = X.reshape(len(X), *spec.input_shape)
    for layer, p in zip(spec.layers, params, strict=True):
        inputs.append(x)
        fwd.append(forward_layer(spec, layer, p, x))
        x = fwd[-1]["out"]
    last = spec.layers[-1]
    z_out, a_out = fwd[-1]["z"], fwd[-1]["a"]
    if spec.classifies:  # softmax + cross-entropy, sigmoid + binary cross-entropy: a − t
        delta = a_out - T
    else:
        scale = ops.squared_loss(spec.loss).scale(spec.sizes[-1])
        delta = 2 * scale * (a_out - T) * _f_prime(spec, last, z_out, a_out)
    backs: list[Back] = [None] * len(spec.layers)  # type: ignore[list-item]
    g_outs: list[np.ndarray | None] = [None] * len(spec.layers)
    g: np.ndarray | None = None
    for n in reversed(range(len(spec.layers))):
        out_delta = delta if n == len(spec.layers) - 1 else None
        g_outs[n] = g
        backs[n] = backward_layer(spec, spec.layers[n], params[n], inputs[n], fwd[n], g, out_delta)
        g = backs[n].dx
    return Batch(fwd, backs, z_out, a_out, inputs, g_outs)


# --- the parts of long sums (layer_ids.split): each part the sum of its run of the terms --------


def _parts(terms: np.ndarray) -> np.ndarray:
    """terms [..., N] → [..., P]: the sum of each part's run of terms (layer_ids.split)."""
    runs = layer_ids.split(terms.shape[-1])
    return np.stack([terms[..., run.start : run.stop].sum(axis=-1) for run in runs], axis=-1)


def sum_parts(layer: Layer, p: Arrays, x: np.ndarray, fwd: Arrays, prefix: str) -> np.ndarray:
    """The parts of a forward sum's products (bias apart), [samples, *its shape, P]: conv2d's z
    over (i,u,v) in C order, dense's over the inputs, rnn's over the features then the units
    (h₀ = 0 at the first step), attention's Q, K, V over the features."""
    n = len(x)
    if layer.kind == "conv2d":
        k = layer.kernel
        windows = sliding_window_view(x, (k, k), axis=(2, 3))  # [n, i, r, s, u, v]
        terms = np.einsum("ciuv,nirsuv->ncrsiuv", p["weight"], windows)
        return _parts(terms.reshape(*terms.shape[:4], -1))
    if layer.kind == "rnn":
        h = fwd["h"]
        previous = np.concatenate((np.zeros_like(h[:, :1]), h[:, :-1]), axis=1)  # h_{t−1}, h₀ = 0
        features = np.einsum("nti,ji->ntji", x, p["weight_ih"])
        units = np.einsum("ntm,jm->ntjm", previous, p["weight_hh"])
        units[:, 0] = 0.0  # no such terms at the first step: left out, not 0·Wh (an error in Wh)
        return _parts(np.concatenate((features, units), axis=-1))
    if layer.kind == "attention":
        weight = p["w" + prefix.lower()]
        return _parts(np.einsum("nti,di->ntdi", x, weight))
    return _parts(p["weight"][None, :, :] * x.reshape(n, 1, -1))  # [n, j, i]


def gradient_parts(batch: Batch, layer: Layer, n: int, name: str) -> np.ndarray:
    """The parts of the gradient of layer n's parameter `name` before the mean's 1/B,
    [*the parameter's shape, P]; its terms sample by sample, in each sample's order (layer_ids)."""
    x, own, kind = batch.inputs[n], batch.backward[n].own, layer.kind
    shape = layer.param_shape(name)
    if kind == "conv2d":
        d = own["delta"]
        if name == "bias":
            return _parts(d.transpose(1, 0, 2, 3).reshape(shape[0], -1))
        k = layer.kernel
        windows = sliding_window_view(x, (k, k), axis=(2, 3))
        return _parts(np.einsum("ncrs,nirsuv->ciuvnrs", d, windows).reshape(*shape, -1))
    if kind == "dense":
        d = own["delta"]
        flat = x.reshape(len(x), -1)
        return _parts(np.einsum("nj,ni->jin", d, flat) if name == "weight" else d.T)
    if kind == "rnn":
        d, h = own["delta"], batch.forward[n]["h"]
        if name == "weight_ih":
            terms = np.einsum("ntj,nti->jint", d, x)
        elif name == "weight_hh":
            terms = np.einsum("ntj,ntm->jmnt", d[:, 1:], h[:, :-1])
        else:
            terms = np.einsum("ntj->jnt", d)
        return _parts(terms.reshape(*shape, -1))
    if kind == "attention":
        d = own["d" + name[1].upper()]  # wq → dQ, wk → dK, wv → dV
        return _parts(np.einsum("ntd,nti->dint", d, x).reshape(*shape, -1))
    g = batch.grad_outputs[n]  # layernorm: ∂L/∂y·x̂ for the gain, ∂L/∂y for the bias
    assert g is not None
    terms = g * batch.forward[n]["n"] if name == "gain" else g
    return _parts(np.moveaxis(terms.reshape(-1, shape[0]), -1, 0))


def sample_weight(spec: Spec) -> float:
    """1/B for the mean over a row's B samples, 1 for the sum."""
    return 1.0 / spec.slots if spec.reduction == "mean" else 1.0


def evaluate(spec: Spec, theta: np.ndarray, X: np.ndarray,
             T: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One Training row for the samples of X (one per row, flattened) and their targets T:
    (params, forward and loss columns; backward and gradient columns; the flat gradient),
    each in ids.all_ids order: per sample, layer by layer, group by group in C order."""
    params = unflatten(spec, theta)
    batch = run_batch(spec, params, X, T)
    layers = range(len(spec.layers))
    split = {(n, g.prefix): sum_parts(spec.layers[n], params[n], batch.inputs[n], batch.forward[n], g.prefix)
             for n in layers for g in layer_ids.forward_groups(spec, n) if g.parts}
    forward = [(split[n, g.prefix] if g.parts else batch.forward[n][g.prefix])[k].ravel()
               for k in range(len(X)) for n in layers for g in layer_ids.forward_groups(spec, n)]
    backward = [(batch.backward[n].dx if g.prefix == "da" else batch.backward[n].own[g.prefix])[k].ravel()
                for k in range(len(X)) for n in reversed(layers)
                for g in layer_ids.backward_groups(spec, n)]
    backward += [gradient_parts(batch, spec.layers[g.layer], g.layer, g.param).ravel()
                 for g in layer_ids.gradient_part_groups(spec)]
    r = sample_weight(spec)  # Σ over the samples, then the mean's 1/B
    grads = [r * batch.backward[g.layer].grads[g.param].ravel() for g in layer_ids.param_groups(spec)]
    gradient = np.concatenate(grads) if grads else np.zeros(0)
    state = np.concatenate((theta, *forward, _loss_values(spec, batch, T)))
    return state, np.concatenate((*backward, gradient)), gradient


def _loss_values(spec: Spec, batch: Batch, T: np.ndarray) -> np.ndarray:
    """The loss group (ids.losses): each slot's loss and correct (classification, several
    slots), the loss, the accuracy (classification)."""
    r = sample_weight(spec)
    Z, A = batch.z_out.T, batch.a_out.T  # one column per sample, as ops computes them
    if not spec.classifies:
        scale = ops.squared_loss(spec.loss).scale(spec.sizes[-1])
        return np.array([r * scale * np.sum((A - T.T) ** 2)])
    per_sample = ops.classification_loss(spec.loss).numpy(Z, T.T)
    right = ops.correct(A, T.T).astype(float)
    head = [per_sample, right] if spec.slots > 1 else []
    return np.concatenate((*head, [r * per_sample.sum(), right.mean()]))
