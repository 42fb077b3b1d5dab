"""Small Keras layers used by the default function-approximator graphs."""

from __future__ import annotations

from typing import Any

from plugrl._backend import keras

ops = keras.ops


@keras.saving.register_keras_serializable(package="plugrl")
class StateActionKronecker(keras.layers.Layer):
    r"""Combine state features :math:`x` with a one-hot action :math:`a` by their outer product,
    :math:`x \otimes a`, flattened.

    A linear head on top then has a separate weight vector per action,
    :math:`q(s, a) = w_a^\top x(s) + b`, which is what a type-I Q-function over discrete actions
    needs (a plain concatenation would give every action the same slope in :math:`x`).
    """

    def call(self, X: Any, A: Any) -> Any:
        outer = ops.einsum("bi,bj->bij", X, ops.cast(A, X.dtype))
        return ops.reshape(outer, (-1, X.shape[-1] * A.shape[-1]))

    def compute_output_shape(self, X_shape: tuple, A_shape: tuple) -> tuple:
        return (X_shape[0], X_shape[-1] * A_shape[-1])


@keras.saving.register_keras_serializable(package="plugrl")
class FullQuadratic(keras.layers.Layer):
    r"""All linear, bilinear and quadratic terms of the input features, no intercept.

    An input of shape :math:`(b, n)` gives :math:`(b, (n+1)(n+2)/2 - 1)` features:
    :math:`x_i` and :math:`x_i x_j` for :math:`i \le j`.
    """

    def call(self, X: Any) -> Any:
        n = X.shape[-1]
        rows, cols = zip(*[(i, j) for i in range(n) for j in range(i, n)])
        outer = ops.einsum("bi,bj->bij", X, X)
        products = ops.reshape(outer, (-1, n * n))
        flat_index = ops.convert_to_tensor([i * n + j for i, j in zip(rows, cols)], "int32")
        return ops.concatenate([X, ops.take(products, flat_index, axis=1)], axis=-1)

    def compute_output_shape(self, X_shape: tuple) -> tuple:
        n = X_shape[-1]
        return (X_shape[0], (n + 1) * (n + 2) // 2 - 1)


@keras.saving.register_keras_serializable(package="plugrl")
class ElementwiseQuadratic(keras.layers.Layer):
    r"""Linear and element-wise quadratic terms, :math:`(x, x^2)`: shape :math:`(b, 2n)`."""

    def call(self, X: Any) -> Any:
        return ops.concatenate([X, ops.square(X)], axis=-1)

    def compute_output_shape(self, X_shape: tuple) -> tuple:
        return (X_shape[0], 2 * X_shape[-1])
