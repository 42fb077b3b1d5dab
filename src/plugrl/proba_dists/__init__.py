r"""Differentiable probability distributions for policies and policy objectives.

All methods are differentiable, including :meth:`~ProbaDist.sample` (by reparametrisation or a
straight-through estimator), so they can be used to build losses that need (cross-)entropies,
KL-divergences or sampled actions. They are written in ``keras.ops`` and draw randomness from
explicit JAX keys, so they can be created and used inside jitted update steps.
"""

from __future__ import annotations

from plugrl.proba_dists.base import ProbaDist
from plugrl.proba_dists.categorical import CategoricalDist
from plugrl.proba_dists.normal import NormalDist

__all__ = ["CategoricalDist", "NormalDist", "ProbaDist"]
