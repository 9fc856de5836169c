"""Realistic programs that make objects of their own classes inside the differentiated
function and use them: layers as classes, a number class with operators, a polynomial,
a particle stepped into new particles, a distribution with a log density, a kernel for
a Gaussian process, a model holding its layers. Each was refused ("make the object
outside and pass it in"); the last few are still refused at the line."""

import dataclasses

import numpy as np
from _spec import Case


class Dense:
    """A fully connected layer with an activation held in a field."""

    def __init__(self, W, b, activation=np.tanh):
        self.W = W
        self.b = b
        self.activation = activation

    def __call__(self, h):
        return self.activation(self.W @ h + self.b)


def two_layer_loss(W1, b1, W2, b2, x, y):
    """Two layers made from the parameters, applied in a loop over a list of them."""
    layers = [Dense(W1, b1), Dense(W2, b2)]
    h = x
    for layer in layers:
        h = layer(h)
    return np.sum((h - y) ** 2)


def mlp_model_loss(W1, b1, W2, b2, x, y):
    """A model object built inside the loss from its parameters (two-level objects)."""
    model = MLP2(Dense(W1, b1), Dense(W2, b2))
    return np.mean((model(x) - y) ** 2)


class MLP2:
    def __init__(self, first, second):
        self.first = first
        self.second = second

    def __call__(self, x):
        return self.second(self.first(x))


class Dual:
    """A dual number (a value and a derivative) with the arithmetic operators."""

    def __init__(self, value, slope=0.0):
        self.value = value
        self.slope = slope

    def __add__(self, other):
        if isinstance(other, Dual):
            return Dual(self.value + other.value, self.slope + other.slope)
        return Dual(self.value + other, self.slope)

    __radd__ = __add__

    def __mul__(self, other):
        if isinstance(other, Dual):
            return Dual(self.value * other.value,
                        self.slope * other.value + self.value * other.slope)
        return Dual(self.value * other, self.slope * other)

    __rmul__ = __mul__

    def __sub__(self, other):
        return self + (-1.0) * other

    def __neg__(self):
        return Dual(-self.value, -self.slope)

    def __truediv__(self, other):
        return Dual(self.value / other.value,
                    (self.slope * other.value - self.value * other.slope) / other.value ** 2)


def dual_sensitivity(a, t):
    """Forward-mode sensitivity by dual numbers inside a loss (d/dt of a rational in t)."""
    x = Dual(t, 1.0)
    num = a * x * x + 3.0 * x - x
    den = x * x + Dual(1.0)
    r = num / den
    return r.value + 0.5 * r.slope ** 2


class Vec2:
    """A plane vector with operators (a new vector from each operation)."""

    def __init__(self, x, y):
        self.x = x
        self.y = y

    def __add__(self, other):
        return Vec2(self.x + other.x, self.y + other.y)

    def __sub__(self, other):
        return Vec2(self.x - other.x, self.y - other.y)

    def __mul__(self, s):
        return Vec2(self.x * s, self.y * s)

    def __rmul__(self, s):
        return self * s

    def __neg__(self):
        return Vec2(-self.x, -self.y)

    def dot(self, other):
        return self.x * other.x + self.y * other.y

    @property
    def norm2(self):
        return self.dot(self)


def spring_chain_energy(px, py):
    """The energy of a chain of springs between points made as vectors."""
    points = [Vec2(px[0], py[0]), Vec2(px[1], py[1]), Vec2(px[2], py[2])]
    energy = 0.0
    for i in range(2):
        d = points[i + 1] - points[i]
        energy = energy + 0.5 * (d.norm2 - 1.0) ** 2
    centre = 0.5 * (points[0] + points[2])
    return energy + 0.1 * (-centre).norm2


class Polynomial:
    """A polynomial by its coefficients, with addition, multiplication and evaluation."""

    def __init__(self, coefficients):
        self.c = coefficients

    def __add__(self, other):
        n = max(len(self.c), len(other.c))
        a = np.concatenate([self.c, np.zeros(n - len(self.c))])
        b = np.concatenate([other.c, np.zeros(n - len(other.c))])
        return Polynomial(a + b)

    def __mul__(self, other):
        return Polynomial(np.convolve(self.c, other.c))

    def __call__(self, x):
        total = 0.0
        for k in range(len(self.c)):
            total = total + self.c[k] * x ** k
        return total

    def derivative(self):
        return Polynomial(self.c[1:] * np.arange(1.0, len(self.c)))


def polynomial_fit_loss(c, xs, ys):
    """A fit of p * p' + p to samples, through polynomial objects."""
    p = Polynomial(c)
    q = p * p.derivative() + p
    loss = 0.0
    for x, y in zip(xs, ys):
        loss = loss + (q(x) - y) ** 2
    return loss


class Particle:
    """A particle whose step returns a new particle (symplectic Euler)."""

    def __init__(self, position, velocity, mass=1.0):
        self.position = position
        self.velocity = velocity
        self.mass = mass

    def force(self, k):
        return -k * self.position

    def step(self, k, dt):
        velocity = self.velocity + dt * self.force(k) / self.mass
        return Particle(self.position + dt * velocity, velocity, self.mass)

    def energy(self, k):
        return 0.5 * self.mass * np.sum(self.velocity ** 2) + 0.5 * k * np.sum(self.position ** 2)


def particle_trajectory_loss(k, x0, v0):
    """A short trajectory by steps, with the final energy and position as the loss."""
    p = Particle(x0, v0, mass=2.0)
    for _ in range(10):
        p = p.step(k, 0.05)
    return p.energy(k) + np.sum(p.position)


class Gaussian:
    """A diagonal Gaussian distribution with its log density and a sample."""

    def __init__(self, mean, log_std):
        self.mean = mean
        self.log_std = log_std
        self.std = np.exp(log_std)

    def logpdf(self, x):
        z = (x - self.mean) / self.std
        return np.sum(-0.5 * z ** 2 - self.log_std - 0.5 * np.log(2 * np.pi))

    def sample(self, eps):
        return self.mean + self.std * eps


def gaussian_elbo(mean, log_std, eps, data):
    """A reparameterized objective: log-likelihood of data under samples, and an entropy."""
    q = Gaussian(mean, log_std)
    total = 0.0
    for e in eps:
        w = q.sample(e)
        likelihood = Gaussian(w, np.zeros_like(w))
        total = total + likelihood.logpdf(data) - q.logpdf(w)
    return -total / len(eps)


class RBF:
    """A squared-exponential kernel."""

    def __init__(self, lengthscale, variance):
        self.lengthscale = lengthscale
        self.variance = variance

    def __call__(self, A, B):
        d2 = np.sum(A ** 2, 1)[:, None] + np.sum(B ** 2, 1)[None, :] - 2.0 * A @ B.T
        return self.variance * np.exp(-0.5 * d2 / self.lengthscale ** 2)


class GaussianProcess:
    def __init__(self, kernel, noise):
        self.kernel = kernel
        self.noise = noise

    def neg_log_marginal(self, X, y):
        K = self.kernel(X, X) + self.noise * np.eye(len(y))
        alpha = np.linalg.solve(K, y)
        return 0.5 * y @ alpha + 0.5 * np.linalg.slogdet(K)[1]


def gp_hyperparameter_loss(log_ell, log_var, X, y):
    """A GP's negative log marginal likelihood from a kernel object made inside."""
    gp = GaussianProcess(RBF(np.exp(log_ell), np.exp(log_var)), 0.1)
    return gp.neg_log_marginal(X, y)


class RunningStats:
    """Statistics kept by updating fields (mutation through methods)."""

    def __init__(self):
        self.count = 0
        self.total = 0.0
        self.squares = 0.0

    def push(self, value):
        self.count += 1
        self.total = self.total + value
        self.squares += value * value

    def variance(self):
        mean = self.total / self.count
        return self.squares / self.count - mean * mean


def running_variance(w, xs):
    """A variance by an accumulator object the loop pushes into (an alias sees it)."""
    stats = RunningStats()
    seen = stats
    for x in xs:
        stats.push(np.tanh(w * x))
    return seen.variance() + 0.1 * seen.total


class Base:
    def __init__(self, scale):
        self.scale = scale

    def energy(self, x):
        return self.scale * np.sum(x ** 2)


class Anharmonic(Base):
    def __init__(self, scale, quartic):
        super().__init__(2.0 * scale)
        self.quartic = quartic

    def energy(self, x):
        return super().energy(x) + self.quartic * np.sum(x ** 4)


def subclass_energy(x, s):
    """An energy of a subclass whose __init__ and method call the base class's."""
    return Anharmonic(s, 0.25).energy(x)


@dataclasses.dataclass
class Affine:
    weight: np.ndarray
    bias: float = 0.0

    def __call__(self, x):
        return self.weight @ x + self.bias


def dataclass_layer_loss(w, x):
    """A dataclass layer made inside, with a default field."""
    layer = Affine(w, bias=0.5)
    return np.tanh(layer(x)) ** 2


def layers_from_lists(W1, b1, W2, b2, x):
    """Layers a comprehension builds: refused (a list display of them works)."""
    layers = [Dense(W, b) for W, b in zip([W1, W2], [b1, b2])]
    h = x
    for layer in layers:
        h = layer(h)
    return np.sum(h)


def returns_object(x):
    """Returning the object itself is refused: srcad makes it a dict."""
    v = Vec2(x[0], x[1])
    return v  # <returns made object>


def object_to_numpy(x):
    """Giving the object to a numpy function is refused (numpy would see a dict)."""
    v = Vec2(x[0], x[1])
    return np.sum(v)  # <numpy of object>


def _arrays(*shapes):
    return lambda rng: tuple(rng.normal(size=s) for s in shapes)


CASES = [
    Case("two_layer_loss", two_layer_loss,
         _arrays((4, 3), (4,), (2, 4), (2,), (3,), (2,)), wrt=(0, 1, 2, 3)),
    Case("mlp_model_loss", mlp_model_loss,
         _arrays((4, 3), (4,), (2, 4), (2,), (3,), (2,)), wrt=(0, 1, 2, 3)),
    Case("dual_sensitivity", dual_sensitivity,
         lambda rng: (1.0 + 0.1 * rng.normal(), 0.5 + 0.1 * rng.normal())),
    Case("spring_chain_energy", spring_chain_energy, _arrays((3,), (3,))),
    Case("polynomial_fit_loss", polynomial_fit_loss, _arrays((4,), (5,), (5,)), wrt=0),
    Case("particle_trajectory_loss", particle_trajectory_loss,
         lambda rng: (1.5 + 0.1 * rng.normal(), rng.normal(size=3), rng.normal(size=3))),
    Case("gaussian_elbo", gaussian_elbo, _arrays((3,), (3,), (4, 3), (3,)), wrt=(0, 1)),
    Case("gp_hyperparameter_loss", gp_hyperparameter_loss,
         lambda rng: (0.1 * rng.normal(), 0.1 * rng.normal(), rng.normal(size=(6, 2)),
                      rng.normal(size=6)), wrt=(0, 1)),
    Case("running_variance", running_variance,
         lambda rng: (0.7 + 0.1 * rng.normal(), rng.normal(size=5)), wrt=0),
    Case("subclass_energy", subclass_energy,
         lambda rng: (rng.normal(size=3), 1.0 + 0.1 * rng.normal())),
    Case("dataclass_layer_loss", dataclass_layer_loss, _arrays((3,), (3,))),
    Case("layers_from_lists", layers_from_lists, _arrays((4, 3), (4,), (2, 4), (2,), (3,)),
         wrt=(0, 1, 2, 3), expect="LOCATED", bad="for W, b in zip",
         msg=("comprehension",)),
    Case("returns_object", returns_object, _arrays((2,)), expect="LOCATED",
         bad="return v", msg=("returns an object",)),
    Case("object_to_numpy", object_to_numpy, _arrays((2,)), expect="LOCATED",
         bad="np.sum(v)", msg=("Vec2",)),
]
