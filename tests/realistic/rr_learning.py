"""Machine-learning layers written with the breadth rules: normalisation layers,
multi-head attention with einsum, a padded 1-D CNN with upsampling.

Run with ``python ../shared/realistic/run.py --cases tests/realistic``."""

import numpy as np
import scipy.special as sp
from _spec import Case


def gauss(rng, *shape, scale=1.0):
    return scale * rng.standard_normal(shape)


# --- batch norm, then layer norm, in a two-layer MLP ------------------------------------
def normalised_mlp_loss(W1, gamma, beta, W2, X, y, eps=1e-5):
    h = X @ W1
    h = (h - h.mean(axis=0)) / np.sqrt(h.var(axis=0) + eps) * gamma + beta  # batch norm
    h = np.tanh(h)
    h = (h - np.mean(h, axis=1, keepdims=True)) / (np.std(h, axis=1, keepdims=True) + eps)
    out = h @ W2
    return np.mean((out[:, 0] - y) ** 2) + 1e-3 * np.var(W1, ddof=1)


def mlp_args(rng):
    return (gauss(rng, 3, 5, scale=0.5), 1.0 + gauss(rng, 5, scale=0.1), gauss(rng, 5, scale=0.1),
            gauss(rng, 5, 1, scale=0.5), gauss(rng, 8, 3), gauss(rng, 8))


# --- causal multi-head self-attention with einsum and axis moves -------------------------
def causal_attention_loss(Wq, Wk, Wv, Wo, x, target, heads=2):
    n, d = x.shape
    hd = d // heads
    q = (x @ Wq).reshape(n, heads, hd).swapaxes(0, 1)        # (heads, n, hd)
    k = np.moveaxis((x @ Wk).reshape(n, heads, hd), 1, 0)
    v = (x @ Wv).reshape(n, heads, hd).transpose(1, 0, 2)
    scores = np.einsum("hqd,hkd->hqk", q, k) / np.sqrt(hd)
    scores = scores - 1e9 * np.triu(np.ones((n, n)), 1)      # no looking ahead
    attn = sp.softmax(scores, axis=-1)
    ctx = np.einsum("hqk,hkd->qhd", attn, v).reshape(n, d)
    return np.mean((ctx @ Wo - target) ** 2)


def attention_args(rng):
    d = 4
    return tuple(gauss(rng, d, d, scale=0.5) for _ in range(4)) + (gauss(rng, 5, d),
                                                                   gauss(rng, 5, d))


# --- 1-D CNN: reflect-padded convolution, nearest upsampling, tiled bias ------------------
def upsampling_cnn_loss(kernel, bias, signal, target):
    padded = np.pad(signal, (1, 1), mode="reflect")
    conv = kernel[0] * padded[:-2] + kernel[1] * padded[1:-1] + kernel[2] * padded[2:]
    up = np.repeat(np.tanh(conv), 2)                          # nearest-neighbour upsampling
    out = up + np.tile(bias, up.shape[0] // bias.shape[0])    # a periodic bias
    edges = np.pad(out, 2)                                    # zero padding for a smoother
    smooth = 0.25 * edges[:-4] + 0.5 * edges[2:-2] + 0.25 * edges[4:]
    return np.mean((smooth - target) ** 2)


def cnn_args(rng):
    return (gauss(rng, 3, scale=0.5), gauss(rng, 4, scale=0.1), gauss(rng, 8), gauss(rng, 16))


# --- softmax regression with label smoothing, logsumexp and an orthogonality penalty ----
def smoothed_softmax_regression(W, X, labels, smoothing=0.1):
    logits = X @ W
    logp = sp.log_softmax(logits, axis=1)
    k = W.shape[1]
    onehot = np.eye(k)[labels] * (1.0 - smoothing) + smoothing / k
    q, r = np.linalg.qr(W)
    gram = W.T @ W
    ortho = np.linalg.norm(gram - np.diag(np.diagonal(gram)), "fro") ** 2
    lse = sp.logsumexp(logits, axis=1)
    return (-np.mean(np.sum(onehot * logp, axis=1)) + 0.01 * ortho
            + 0.01 * np.sum(np.log(np.abs(np.diag(r)))) + 1e-3 * np.mean(lse))


def softmax_args(rng):
    return (gauss(rng, 5, 3, scale=0.5), gauss(rng, 12, 5), rng.integers(0, 3, 12))


CASES = [
    Case("batchnorm_layernorm_mlp", normalised_mlp_loss, mlp_args,
         wrt=("W1", "gamma", "beta", "W2"), note="x.var(axis), np.std keepdims, ddof=1"),
    Case("causal_multihead_attention", causal_attention_loss, attention_args,
         wrt=("Wq", "Wk", "Wv", "Wo"),
         note="einsum, swapaxes / moveaxis / transpose(axes), np.triu mask, scipy softmax"),
    Case("upsampling_cnn_pad_repeat_tile", upsampling_cnn_loss, cnn_args,
         wrt=("kernel", "bias", "signal"), note="np.pad reflect and constant, repeat, tile"),
    Case("softmax_regression_qr_penalty", smoothed_softmax_regression, softmax_args, wrt="W",
         note="log_softmax, logsumexp, qr, Frobenius norm, diag of diagonal"),
]
