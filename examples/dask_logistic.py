"""Logistic regression on data larger than memory: srcad's gradient of dask arrays.

The data are made lazily, chunk by chunk, with ``dask.array.random``: ROWS rows of
FEATURES standard-normal features, and labels y = 1 where X @ W_TRUE + B_TRUE plus
logistic noise is positive. Nothing is held in memory at once but a few chunks of
CHUNK_ROWS rows: every gradient step regenerates the chunks (from the same seeds),
computes their part of the gradient and drops them.

The loss is written as for numpy arrays (the mean logistic loss)::

    z = X @ w + b
    loss = mean(logaddexp(0, z) - y * z)

``srcad.value_and_grad(loss, wrt=("w", "b"))`` called with the dask arrays X, y
returns the loss and the gradients as lazy dask arrays (``db`` a 0-d one);
``dask.compute`` evaluates all three in one pass over the data, and gradient descent
updates the small numpy ``w`` and float ``b``.

Sizes: the default, ``--rows 1_000_000`` (10 features: 80 MB of float64), takes about
15 s. ``--rows 500_000_000`` is 40 GB of features, larger than the memory of most
machines: it runs in the same memory as the default (a few chunks of ``--chunk-rows``
rows, 8 MB each by default; the process peaks at ~130 MB for 1 or 4 million rows
alike), one pass over the data per step, so about 500 times longer.

With ``--cluster`` the same code runs on a ``dask.distributed`` local cluster
(``Client(processes=False)``; needs ``pip install distributed``).

Run it:  python examples/dask_logistic.py [--rows N] [--steps K] [--cluster]
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator

import dask
import dask.array as da
import numpy as np

import srcad

ROWS = 1_000_000
FEATURES = 10
CHUNK_ROWS = 100_000  # 100_000 x 10 float64: 8 MB a chunk
W_TRUE = np.linspace(-1.0, 1.0, FEATURES)
B_TRUE = 0.5
STEPS = 20
LEARNING_RATE = 2.0


def make_data(
    rows: int = ROWS, features: int = FEATURES, chunk_rows: int = CHUNK_ROWS, seed: int = 0
) -> tuple[da.Array, da.Array]:
    """Lazy (X, y): standard-normal features, 0/1 labels from a logistic model."""
    rng = da.random.default_rng(seed)
    X = rng.standard_normal((rows, features), chunks=(chunk_rows, features))
    noise = rng.logistic(size=rows, chunks=chunk_rows)
    w_true = np.linspace(-1.0, 1.0, features)
    y = (X @ w_true + B_TRUE + noise > 0).astype(np.float64)
    return X, y


def loss(w, b, X, y):
    z = X @ w + b
    return np.mean(np.logaddexp(0.0, z) - y * z)


def fit(X, y, steps: int = STEPS, lr: float = LEARNING_RATE, log: bool = False):
    """Gradient descent from w = 0, b = 0: (w, b, losses), one pass over X per step."""
    value_and_grad = srcad.value_and_grad(loss, wrt=("w", "b"))
    w, b = np.zeros(X.shape[1]), 0.0
    losses = []
    for step in range(steps):
        value, (dw, db) = value_and_grad(w, b, X, y)  # lazy: nothing computed yet
        value, dw, db = dask.compute(value, dw, db)  # one pass over the data
        losses.append(float(value))
        if log:
            print(f"step {step:>3}  loss {float(value):.6f}")
        w, b = w - lr * dw, b - lr * float(db)
    return w, b, losses


@contextlib.contextmanager
def scheduler(cluster: bool) -> Iterator[str]:
    """dask's default scheduler (threads), or a local dask.distributed cluster."""
    if not cluster:
        yield "threads"
        return
    from distributed import Client  # (pip install distributed)

    with Client(processes=False, dashboard_address=":0") as client:
        yield f"dask.distributed local cluster ({len(client.scheduler_info()['workers'])} worker)"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--chunk-rows", type=int, default=CHUNK_ROWS)
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--cluster", action="store_true", help="use dask.distributed")
    args = parser.parse_args(argv)
    X, y = make_data(args.rows, FEATURES, min(args.chunk_rows, args.rows))
    with scheduler(args.cluster) as where:
        print(
            f"{args.rows} rows x {FEATURES} features ({X.nbytes / 1e9:.3g} GB, "
            f"{X.npartitions} chunks), never all in memory; scheduler: {where}"
        )
        w, b, losses = fit(X, y, steps=args.steps, log=True)
    print("fitted w:", " ".join(f"{v:.3f}" for v in w), f" b: {b:.3f}")
    print("true   w:", " ".join(f"{v:.3f}" for v in W_TRUE), f" b: {B_TRUE:.3f}")


if __name__ == "__main__":
    main()
