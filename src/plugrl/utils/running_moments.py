"""Running mean and standard deviation of observations."""

from __future__ import annotations

import numpy as np

__all__ = ["RunningNormalizer"]


class RunningNormalizer:
    r"""Standardise observations with running statistics, :math:`(s - \mu) / \sqrt{\sigma^2 + \epsilon}`.

    The statistics are merged batch by batch (Chan et al.'s parallel algorithm) and clipped
    outputs keep outliers bounded.

    Parameters
    ----------
    shape : tuple of int
        The observation shape.
    clip : float, optional
        Normalised values are clipped to ``[-clip, clip]``.
    epsilon : float, optional
        Added to the variance.
    """

    def __init__(self, shape: tuple[int, ...], clip: float = 10.0, epsilon: float = 1e-8) -> None:
        self.mean = np.zeros(shape, np.float64)
        self.var = np.ones(shape, np.float64)
        self.count = 0.0
        self.clip, self.epsilon = clip, epsilon

    def update(self, S: np.ndarray) -> None:
        """Merge a batch of observations [batch_size, *shape] into the statistics."""
        batch_mean, batch_var, n = S.mean(axis=0), S.var(axis=0), len(S)
        total = self.count + n
        delta = batch_mean - self.mean
        self.mean = self.mean + delta * n / total
        self.var = (self.var * self.count + batch_var * n + delta**2 * self.count * n / total) / total
        self.count = total

    def __call__(self, S: np.ndarray) -> np.ndarray:
        """Normalised observations, float32."""
        normalised = (S - self.mean) / np.sqrt(self.var + self.epsilon)
        return np.clip(normalised, -self.clip, self.clip).astype(np.float32)

    def state(self) -> dict[str, np.ndarray]:
        """The statistics as arrays (to save)."""
        return {"mean": self.mean, "var": self.var, "count": np.asarray(self.count)}

    def load_state(self, arrays: dict[str, np.ndarray]) -> None:
        """Restore statistics saved with :meth:`state`."""
        self.mean = np.array(arrays["mean"], np.float64)
        self.var = np.array(arrays["var"], np.float64)
        self.count = float(arrays["count"])
