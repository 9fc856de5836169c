"""Realistic programs of stop 40's class: arrays that objects, dicts and lists hold,
changed in place through one holder and read through another (a solver object and
its diagnostics sharing the grid, tied encoder/decoder weights, an optimizer state
dict that aliases the parameters, a model whose layers share one embedding, a
particle system whose snapshot list holds the live state), and round 60's neighbours:
numpy's ``out=`` into a workspace dict, parameter groups decayed in place, layers kept in
a dict by name."""

import numpy as np
from _spec import Case


class HeatRod:
    """A 1-D heat solver: the grid it steps is the array given to it."""

    def __init__(self, u, kappa):
        self.u = u
        self.kappa = kappa

    def step(self):
        u = self.u
        u[1:-1] += self.kappa * (u[2:] - 2.0 * u[1:-1] + u[:-2])


class Probe:
    """A sensor that reads the grid it was attached to."""

    def __init__(self, field, where):
        self.field = field
        self.where = where

    def reading(self):
        return self.field[self.where]


def rod_probe_reading(u0, kappa):
    """A solver and a probe attached to the same grid: the probe sees every step."""
    u = u0.copy()
    rod = HeatRod(u, kappa)
    probe = Probe(u, 2)
    total = 0.0
    for _ in range(4):
        rod.step()
        total = total + probe.reading() ** 2
    return total


def tied_autoencoder(W, x):
    """Encoder and decoder share one weight matrix (tied weights); a sparsity step
    shrinks it in place through the encoder's entry."""
    layers = {"enc": W, "dec": W}
    layers["enc"] *= 0.9
    h = np.tanh(layers["enc"] @ x)
    recon = layers["dec"].T @ h
    return np.sum((recon - x) ** 2)


class Momentum:
    """SGD with momentum over a dict of parameters, updated in place."""

    def __init__(self, params, lr, beta):
        self.params = params
        self.lr = lr
        self.beta = beta
        self.velocity = {k: np.zeros_like(v) for k, v in params.items()}

    def step(self, grads):
        for k in self.params:
            self.velocity[k] = self.beta * self.velocity[k] + grads[k]
            self.params[k] -= self.lr * self.velocity[k]


def momentum_meta_loss(lr, w0, target):
    """The loss after three momentum steps, as a function of the learning rate; the
    model's dict and the optimizer's hold the same arrays."""
    w = w0.copy()
    model = {"w": w}
    opt = Momentum(model, lr, 0.5)
    for _ in range(3):
        grads = {"w": 2.0 * (model["w"] - target)}
        opt.step(grads)
    return np.sum((w - target) ** 2)


def shared_embedding_model(E, tokens, out_ids):
    """Input and output layers share one embedding table; a max-norm constraint rescales
    its rows in place before the forward pass."""
    model = {"embed": {"table": E}, "head": {"table": E, "bias": 0.1}}
    table = model["embed"]["table"]
    norms = np.sqrt(np.sum(table**2, axis=1, keepdims=True))
    table /= np.maximum(norms, 1.0)
    h = np.mean(model["embed"]["table"][tokens], axis=0)
    logits = model["head"]["table"] @ h + model["head"]["bias"]
    return np.log(np.sum(np.exp(logits))) - logits[out_ids]


class Particles:
    def __init__(self, pos, vel):
        self.pos = pos
        self.vel = vel


def particle_snapshots(pos0, vel0, dt):
    """A leapfrog integrator that keeps the live state in a list of snapshots (the
    snapshots alias the state: a common bug that numpy users rely on knowingly)."""
    pos, vel = pos0.copy(), vel0.copy()
    system = Particles(pos, vel)
    history = [system.pos, system.vel]
    for _ in range(5):
        system.vel -= dt * system.pos
        system.pos += dt * system.vel
    return np.sum(history[0] ** 2) + 0.5 * np.sum(history[1] ** 2)


class RingBuffer:
    def __init__(self, data):
        self.data = data
        self.head = 0

    def push(self, value):
        self.data[self.head % len(self.data)] = value
        self.head += 1


def moving_average_filter(x, alpha):
    """An exponential filter whose recent outputs sit in a ring buffer, read through the
    filter's own reference to the same storage."""
    storage = np.zeros(4)
    ring = RingBuffer(storage)
    filt = {"state": 0.0, "recent": storage}
    for v in x:
        filt["state"] = alpha * v + (1.0 - alpha) * filt["state"]
        ring.push(filt["state"])
    return np.sum(filt["recent"] ** 2)


def kalman_covariance_shared(q, r, zs):
    """A scalar-state Kalman filter whose covariance array is shared by the filter and
    its report; the update is done in place."""
    P = np.array([1.0])
    x = np.array([0.0])
    filt = {"x": x, "P": P}
    report = {"P": P}
    loglik = 0.0
    for z in zs:
        filt["P"] += q
        S = filt["P"][0] + r
        K = filt["P"][0] / S
        innov = z - filt["x"][0]
        filt["x"] += K * innov
        filt["P"] *= 1.0 - K
        loglik = loglik - 0.5 * (np.log(S) + innov**2 / S)
    return loglik + report["P"][0]


class Layer:
    def __init__(self, W, b):
        self.W = W
        self.b = b


def weight_decay_two_views(W, b, x):
    """Two layers built from one weight matrix (a siamese network); weight decay is
    applied in place through the first layer only."""
    left, right = Layer(W, b), Layer(W, -b)
    left.W *= 0.99
    h1 = np.tanh(left.W @ x + left.b)
    h2 = np.tanh(right.W @ x + right.b)
    return np.sum((h1 - h2) ** 2) + np.sum(right.W**2)


def buffers_from_one_template(x):
    """Per-channel accumulators made by repeating one zero array (the classic list
    multiplication): every channel is the same array."""
    acc = [np.zeros(3)] * 2
    for k in range(2):
        acc[k] += x * (k + 1.0)
    return np.sum(acc[0] * acc[1])


def rebuilt_state_in_loop(x, decay):
    """A state object rebuilt each step from the previous one, after a clamp written
    into the previous state's array in place."""
    state = {"v": x * 1.0}
    for k in range(3):
        v = state["v"]
        v[k % 3] = v[k % 3] * decay
        state = {"v": np.tanh(state["v"]) + 0.1 * v}
    return np.sum(state["v"] ** 2)


def nested_config_grid(u0, c):
    """A simulation whose configuration nests the grid (``cfg["mesh"]["u"]``) and whose
    upwind step writes through a local name for it."""
    mesh = {"u": u0.copy(), "dx": 0.1}
    cfg = {"mesh": mesh, "c": c}
    u = mesh["u"]
    for _ in range(3):
        u[1:] = u[1:] - cfg["c"] * (u[1:] - u[:-1])
    return np.sum(cfg["mesh"]["u"] ** 2) * cfg["mesh"]["dx"]


def workspace_smoother(x, alpha):
    """A smoother with a preallocated workspace dict, written with numpy's out= into the
    dict's arrays and read through short local names."""
    ws = {"tmp": np.empty(x.shape), "acc": np.zeros(x.shape)}
    tmp, acc = ws["tmp"], ws["acc"]
    for k in range(3):
        np.multiply(x, alpha ** (k + 1), out=ws["tmp"])
        np.add(acc, np.tanh(tmp), out=ws["acc"])
    return np.sum(acc ** 2)


def param_groups_decay(W, b, decay):
    """PyTorch-style parameter groups: each group's arrays are decayed in place, and the
    model reads its own names for them."""
    groups = [{"p": W, "wd": decay}, {"p": b, "wd": 0.5 * decay}]
    for grp in groups:
        grp["p"] *= 1.0 - grp["wd"]
    return np.sum(np.tanh(W @ np.ones(W.shape[1]) + b) ** 2)


class Dense:
    def __init__(self, W, b):
        self.W = W
        self.b = b

    def __call__(self, h):
        return np.tanh(self.W @ h + self.b)


def layers_in_a_dict(W1, b1, W2, b2, x):
    """Layers kept in a dict by name, as in a config-driven model."""
    layers = {"enc": Dense(W1, b1), "dec": Dense(W2, b2)}
    h = layers["enc"](x)
    return np.sum((layers["dec"](h) - x) ** 2)


CASES = [
    Case("rod_probe_reading", rod_probe_reading,
         lambda rng: (np.sin(np.linspace(0, 3, 6)), 0.2), wrt=(0, 1)),
    Case("tied_autoencoder", tied_autoencoder,
         lambda rng: (0.5 * rng.normal(size=(2, 3)), rng.normal(size=3)), wrt=(0, 1)),
    Case("momentum_meta_loss", momentum_meta_loss,
         lambda rng: (0.1, rng.normal(size=3), rng.normal(size=3)), wrt=(0, 1)),
    Case("shared_embedding_model", shared_embedding_model,
         lambda rng: (rng.normal(size=(5, 3)), np.array([0, 2, 2]), 3), wrt=0),
    Case("particle_snapshots", particle_snapshots,
         lambda rng: (rng.normal(size=3), rng.normal(size=3), 0.1), wrt=(0, 1, 2)),
    Case("moving_average_filter", moving_average_filter,
         lambda rng: (rng.normal(size=6), 0.3), wrt=(0, 1)),
    Case("kalman_covariance_shared", kalman_covariance_shared,
         lambda rng: (0.1, 0.5, rng.normal(size=5)), wrt=(0, 1)),
    Case("weight_decay_two_views", weight_decay_two_views,
         lambda rng: (0.5 * rng.normal(size=(2, 3)), rng.normal(size=2), rng.normal(size=3)),
         wrt=(0, 1)),
    Case("buffers_from_one_template", buffers_from_one_template,
         lambda rng: (rng.normal(size=3),)),
    Case("rebuilt_state_in_loop", rebuilt_state_in_loop,
         lambda rng: (rng.normal(size=3), 0.7), wrt=(0, 1)),
    Case("nested_config_grid", nested_config_grid,
         lambda rng: (np.cos(np.linspace(0, 2, 5)), 0.4), wrt=(0, 1)),
    Case("workspace_smoother", workspace_smoother,
         lambda rng: (rng.normal(size=4), 0.8), wrt=(0, 1)),
    Case("param_groups_decay", param_groups_decay,
         lambda rng: (rng.normal(size=(2, 3)), rng.normal(size=2), 0.1), wrt=(0, 1, 2)),
    Case("layers_in_a_dict", layers_in_a_dict,
         lambda rng: (0.5 * rng.normal(size=(2, 3)), rng.normal(size=2),
                      0.5 * rng.normal(size=(3, 2)), rng.normal(size=3), rng.normal(size=3)),
         wrt=(0, 1, 2, 3)),
]
