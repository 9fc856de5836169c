"""Training a small MLP with srcad's gradient: two interleaved spirals.

The data: two spiral arms, one per class, each winding TURNS times around the
origin, half a turn apart (so they interleave), with a little Gaussian noise --
N_PER_CLASS points per arm, made with numpy from a fixed seed.  No straight line
separates them; a network with one tanh hidden layer does.

The model and loss, written as one would write them in numpy:

    h = tanh(X @ W1 + b1)                          hidden layer, N_HIDDEN units
    z = h @ W2 + b2                                one logit per class
    logp = log softmax(z)                          with the max subtracted first
    loss = -mean(logp[i, y[i]])                    softmax cross-entropy

``srcad.value_and_grad(loss, wrt=("W1", "b1", "W2", "b2"))`` generates the
backward pass from that source (print it with ``python -m srcad show
examples/mlp_training.py:loss --wrt W1,b1,W2,b2 --backward``), and plain gradient descent,
W <- W - LEARNING_RATE * dW, trains the network.  The accuracy is measured on the
training points and on fresh points drawn from the same spirals.

Run it:  python examples/mlp_training.py        (a few seconds)
"""

import numpy as np

import srcad

N_PER_CLASS = 200  # points per spiral arm
N_CLASSES = 2  # two interleaved spirals
TURNS = 2.0  # how many times each arm winds around the origin
NOISE = 0.05  # standard deviation of the Gaussian noise added to the points
N_HIDDEN = 64
LEARNING_RATE = 0.2
STEPS = 10000
LOG_EVERY = 1000


def make_spirals(n_per_class=N_PER_CLASS, seed=0, turns=TURNS, noise=NOISE, n_classes=N_CLASSES):
    """X (n_classes * n_per_class, 2) points and y (same length,) integer labels."""
    rng = np.random.default_rng(seed)
    # radius in (0.1, 1], denser towards the rim where the arms are longer
    r = np.sqrt(rng.uniform(0.01, 1.0, (n_classes, n_per_class)))
    arm = np.arange(n_classes)[:, None]  # arm k is rotated by k / n_classes of a turn
    theta = 2 * np.pi * (turns * r + arm / n_classes)
    X = np.stack([r * np.cos(theta), r * np.sin(theta)], axis=-1).reshape(-1, 2)
    X += rng.normal(0.0, noise, X.shape)
    y = np.repeat(np.arange(n_classes), n_per_class)
    return X, y


def loss(W1, b1, W2, b2, X, y):
    h = np.tanh(X @ W1 + b1)
    z = h @ W2 + b2
    z = z - z.max(axis=1, keepdims=True)
    logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    n = X.shape[0]
    return -np.mean(logp[np.arange(n), y])


def predict(W1, b1, W2, b2, X):
    """The most likely class of each row of X."""
    h = np.tanh(X @ W1 + b1)
    return np.argmax(h @ W2 + b2, axis=1)


def accuracy(params, X, y):
    return float(np.mean(predict(*params, X) == y))


def init_params(n_hidden=N_HIDDEN, n_classes=N_CLASSES, seed=0):
    """(W1, b1, W2, b2): the input weights wide enough for tanh to bend around the arms."""
    rng = np.random.default_rng(seed)
    W1 = rng.normal(0.0, 2.0, (2, n_hidden))
    b1 = rng.normal(0.0, 1.0, n_hidden)
    W2 = rng.normal(0.0, 1.0 / np.sqrt(n_hidden), (n_hidden, n_classes))
    b2 = np.zeros(n_classes)
    return W1, b1, W2, b2


def fit(X, y, steps=STEPS, seed=0, n_hidden=N_HIDDEN, lr=LEARNING_RATE, log_every=0):
    """Gradient descent from init_params(seed): (params, losses), one loss per step."""
    value_and_grad = srcad.value_and_grad(loss, wrt=("W1", "b1", "W2", "b2"))
    params = init_params(n_hidden, int(y.max()) + 1, seed)
    losses = []
    for step in range(steps):
        value, grads = value_and_grad(*params, X, y)
        losses.append(float(value))
        if log_every and step % log_every == 0:
            print(f"step {step:>5}  loss {value:.4f}  accuracy {accuracy(params, X, y):.3f}")
        params = tuple(p - lr * g for p, g in zip(params, grads, strict=True))
    return params, losses


def train(steps=STEPS, seed=0, log_every=0):
    """Train on make_spirals(seed=seed): (losses, accuracy on the training points)."""
    X, y = make_spirals(seed=seed)
    params, losses = fit(X, y, steps=steps, seed=seed, log_every=log_every)
    return losses, accuracy(params, X, y)


def main():
    X, y = make_spirals(seed=0)
    print(
        f"{len(y)} points on {N_CLASSES} interleaved spirals ({TURNS:g} turns each), "
        f"MLP 2-{N_HIDDEN}-{N_CLASSES} with tanh, gradient descent lr={LEARNING_RATE:g}"
    )
    err = srcad.check_grad(loss, *init_params(seed=0), X, y, wrt=("W1", "b1", "W2", "b2"))
    print(f"srcad's gradient at the initial weights vs central differences: max error {err:.2g}")
    params, losses = fit(X, y, steps=STEPS, seed=0, log_every=LOG_EVERY)
    final = float(loss(*params, X, y))
    print(f"step {STEPS:>5}  loss {final:.4f}  accuracy {accuracy(params, X, y):.3f}")
    print(f"final training accuracy: {accuracy(params, X, y):.3f}")
    X_new, y_new = make_spirals(seed=1)  # fresh points from the same spirals
    print(f"accuracy on {len(y_new)} fresh points: {accuracy(params, X_new, y_new):.3f}")


if __name__ == "__main__":
    main()
