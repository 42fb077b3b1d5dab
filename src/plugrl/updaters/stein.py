r"""The Stein variational update of SVPG (Liu, Ramachandran, Liu and Peng, 2017), for n policies
("particles") trained together: the one place its formula lives.

With the particles' parameters :math:`\theta_1, \dots, \theta_n`, their policy gradients
:math:`\nabla J(\theta_j)` and a temperature :math:`\alpha`, each particle moves along

.. math::

    \phi(\theta_i)\ =\ \frac1n \sum_{j=1}^n \Big[\ \nabla_{\theta_j}\!\Big(\frac{J(\theta_j)}{\alpha}\Big)
        \,k(\theta_j, \theta_i)\ +\ \nabla_{\theta_j} k(\theta_j, \theta_i)\ \Big]

(an ascent direction). The first term moves a particle along its neighbours' gradients weighted
by the kernel; the second pushes particles apart. The kernel is the paper's RBF,
:math:`k(\theta, \theta') = \exp(-\lVert\theta - \theta'\rVert^2 / h)`, with the median heuristic
:math:`h = \mathrm{med}^2 / \log n`, :math:`\mathrm{med}` the median of the pairwise distances.
Both functions are written in ``keras.ops`` and trace under ``jax.jit``;
:func:`stein_gradient_hook` applies the update inside a training step mapped over the particles.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from plugrl._backend import GradientHook, keras, members

__all__ = ["PARTICLES", "median_bandwidth", "median_heuristic", "rbf_kernel", "stein_gradient_hook",
           "svpg_direction"]

#: The name of the particles' axis in :func:`~plugrl._backend.named_vmap`.
PARTICLES = "particles"

ops = keras.ops


def median_bandwidth(X: Any) -> Any:
    r"""The median heuristic :math:`h = \mathrm{med}^2 / \log n` for particles ``X`` [n, d].

    With one particle, or all particles at one point (a median distance of 0), :math:`h = 1`:
    the kernel then only matters where particles differ, and nothing divides by zero.
    """
    return median_heuristic(_squared_distances(X))


def median_heuristic(squared: Any, xp: Any = ops) -> Any:
    """:func:`median_bandwidth` from the pairwise squared distances [n, n], in ``keras.ops``
    (traceable) or, with ``xp=numpy``, on the host."""
    n = int(squared.shape[0])
    if n < 2:
        return xp.ones(())
    rows, cols = np.triu_indices(n, k=1)
    distances = xp.sqrt(xp.take(xp.reshape(squared, (-1,)), rows * n + cols))
    h = xp.square(xp.quantile(distances, 0.5)) / np.log(n)
    return xp.where(h > 0, h, 1.0)


def rbf_kernel(X: Any, bandwidth: Any = None) -> tuple[Any, Any]:
    r"""pyrado's ``kernel(X)``: the RBF kernel matrix and its derivatives.

    Parameters
    ----------
    X : float array, shape: [n, d]
        The particles' parameters, one flat vector each.
    bandwidth : float, optional
        :math:`h`; the median heuristic (:func:`median_bandwidth`) by default.

    Returns
    -------
    K : float array, shape: [n, n]
        :math:`K_{ji} = k(\theta_j, \theta_i)`.
    dK : float array, shape: [n, n, d]
        :math:`dK_{ji} = \nabla_{\theta_j} k(\theta_j, \theta_i)
        = -\frac{2}{h}(\theta_j - \theta_i)\,K_{ji}`.
    """
    h = median_bandwidth(X) if bandwidth is None else bandwidth
    K = ops.exp(-_squared_distances(X) / h)
    differences = X[:, None, :] - X[None, :, :]  # [j, i, d]: theta_j - theta_i
    return K, -2.0 / h * differences * K[:, :, None]


def svpg_direction(X: Any, G: Any, temperature: float, bandwidth: Any = None) -> tuple[Any, Any]:
    r"""The SVPG direction :math:`\phi(\theta_i)` of every particle (see the module docstring).

    Parameters
    ----------
    X : float array, shape: [n, d]
        The particles' parameters.
    G : float array, shape: [n, d]
        Their policy gradients :math:`\nabla J(\theta_j)` (ascent directions).
    temperature : float
        :math:`\alpha > 0`: large values let the repulsive term dominate (exploration), small
        ones the gradient term.
    bandwidth : float, optional
        The kernel's :math:`h`; the median heuristic by default.

    Returns
    -------
    phi : float array, shape: [n, d]
        Ascent directions, one per particle.
    h : float
        The bandwidth used.
    """
    squared = _squared_distances(X)
    h = median_heuristic(squared) if bandwidth is None else ops.convert_to_tensor(bandwidth, "float32")
    K = ops.exp(-squared / h)  # symmetric: row i holds k(theta_j, theta_i)
    return _stein_rows(K, X, G, X, h, temperature), h


def stein_gradient_hook(mask: np.ndarray, temperature: float, axis_name: str = PARTICLES,
                        bandwidth: float | None = None) -> GradientHook:
    r"""The gradient hook (:func:`~plugrl._backend.train_step`'s ``gradient_hook``) that turns
    each particle's loss gradient into the SVPG direction, inside a step mapped over the
    particles with :func:`~plugrl._backend.named_vmap`.

    The weights where ``mask`` holds (the policy's; a body shared with the critic included) are
    the particles' :math:`\theta`: their gradients become :math:`-\phi(\theta_i)` (the loss is
    minimised, :math:`J = -\text{loss}`). The other weights (a critic of its own) keep the
    gradients of their loss: the paper's particles are policies, each with its own baseline.

    Parameters
    ----------
    mask : bool array, shape: [d]
        Which entries of the raveled weights (the on-policy learner's update runs on one vector,
        :func:`~plugrl._backend.on_raveled_params`) belong to the policy.
    temperature : float
        :math:`\alpha` of :func:`svpg_direction`.
    axis_name : str, optional
        The mapped axis of the particles.
    bandwidth : float, optional
        The kernel's :math:`h`; the median heuristic by default.
    """
    weights = np.asarray(mask, np.float32)  # 1 for the policy's weights, else 0
    everything = bool(np.all(mask))

    def hook(params: Any, grads: Any) -> Any:
        if tuple(params.shape) != (len(mask),):
            raise ValueError(f"gradient_hook: expected raveled weights of shape ({len(mask)},), "
                             f"got {tuple(params.shape)}")
        # Masks rather than gathers and scatters of the policy's entries: XLA's CPU scatter
        # under the particles' vmap made the whole update twice as slow at n = 16.
        x, g = (params, -grads) if everything else (params * weights, -grads * weights)
        direction = -_member_direction(x, g, temperature, axis_name, bandwidth)
        return direction if everything else ops.where(weights > 0, direction, grads)

    return hook


def _member_direction(x: Any, g: Any, temperature: float, axis_name: str, bandwidth: Any) -> Any:
    r""":math:`\phi(\theta_i)` of this member ``x`` [d] of the mapped axis, from its policy
    gradient ``g`` and the other members' (what :func:`svpg_direction` gives row ``i`` of).

    Each member computes its own row only, in O(n d) with no [n, d] array of its own: its
    squared distances to the others, gathered into the matrix the median heuristic needs, and
    its kernel row, for :func:`_stein_rows`. The whole matrices of :func:`rbf_kernel`, computed
    by every member, made the particles' update 2.5 times slower at n = 16.
    """
    X, G = members(x, axis_name), members(g, axis_name)
    own = ops.sum(ops.square(X - x), axis=1)  # one fused loop: no [n, d] array per member
    h = (median_heuristic(members(own, axis_name)) if bandwidth is None
         else ops.convert_to_tensor(bandwidth, "float32"))
    return _stein_rows(ops.exp(-own / h), X, G, x, h, temperature)


def _stein_rows(k: Any, X: Any, G: Any, x: Any, h: Any, temperature: float) -> Any:
    r""":math:`\phi(\theta_i)` of the particles ``x`` [..., d] from their kernel rows ``k``
    [..., n] (:math:`k_j = k(\theta_j, \theta_i)`) and all particles ``X`` and their policy
    gradients ``G`` [n, d]: :math:`\frac1n [\sum_j k_j g_j / \alpha - \frac2h (\sum_j k_j
    \theta_j - \theta_i \sum_j k_j)]`, the repulsion without the differences
    :math:`\theta_j - \theta_i`, which each member of a mapped axis would hold."""
    repulsion = ops.matmul(k, X) - ops.sum(k, axis=-1, keepdims=True) * x
    return (ops.matmul(k, G) / temperature - 2.0 / h * repulsion) / X.shape[0]


def _squared_distances(X: Any) -> Any:
    """Pairwise squared distances [n, n], exact zeros on the diagonal."""
    differences = X[:, None, :] - X[None, :, :]
    return ops.sum(ops.square(differences), axis=-1)
