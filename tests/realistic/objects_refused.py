"""What srcad refuses about objects (issue 14), written as users would: each refusal must
be at the offending line with a clear message. Not in tests/test_realistic.py (whose
cases are all supported); run with
``python ../shared/realistic/run.py --cases tests/realistic -k objects_refused``."""

import dataclasses

import numpy as np
from _spec import Case


class Polynomial:
    def __init__(self, coef):
        self.coef = coef

    @property
    def derivative_coef(self):
        return self.coef[1:] * np.arange(1, len(self.coef))


def slope_penalty(poly, x):
    powers = x[:, None] ** np.arange(len(poly.coef) - 1)
    return np.sum((powers @ poly.derivative_coef) ** 2)  # reads a property


def poly_args(rng):
    return (Polynomial(rng.standard_normal(4)), rng.uniform(-1, 1, 5))


class Encoder:
    def __init__(self, W):
        self.W = W

    def encode(self, X):
        return np.tanh(X @ self.W)


def reconstruction(encoder, X):
    return np.sum((encoder.encode(X) - X[:, :2]) ** 2)  # a method of a parameter


def encoder_args(rng):
    return (Encoder(rng.standard_normal((3, 2))), rng.standard_normal((4, 3)))


@dataclasses.dataclass
class Layer:
    W: np.ndarray
    activation: object = np.tanh


def layer_output(layer, x):
    return np.sum(layer.activation(x @ layer.W))  # a function held in a field


def layer_args(rng):
    return (Layer(rng.standard_normal((3, 2))), rng.standard_normal(3))


CASES = [
    Case("property_of_a_parameter", slope_penalty, poly_args, wrt="poly", expect="LOCATED",
         bad="poly.derivative_coef", msg=("property",)),
    Case("method_of_a_parameter", reconstruction, encoder_args, wrt="encoder",
         expect="LOCATED", bad="encoder.encode(X)", msg=("encode",)),
    Case("function_in_a_field", layer_output, layer_args, wrt="layer", expect="LOCATED",
         bad="layer.activation(", msg=("activation",)),
]
