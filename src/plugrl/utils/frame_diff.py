r"""keras-gym's discrete differentiation of stacked frames, as a NumPy matrix (multiply it with
``keras.ops.matmul`` inside a model, or with ``@`` on the host)."""

from __future__ import annotations

from math import comb

import numpy as np
from numpy.typing import DTypeLike

__all__ = ["diff_transform_matrix"]


def diff_transform_matrix(num_frames: int, dtype: DTypeLike = "float32") -> np.ndarray:
    r"""The matrix :math:`M_\text{diff}` that turns stacked frames into their differences.

    With frames :math:`x_0,\dots,x_{n-1}` stacked in chronological order on the last axis of
    :math:`X`, :math:`X_\text{diff} = X\,M_\text{diff}` holds, from last to first, :math:`x_{n-1}`,
    its first backward difference :math:`x_{n-1}-x_{n-2}`, the second, and so on (position,
    velocity, acceleration, ... of each pixel): column :math:`j` is the :math:`k`-th difference
    with :math:`k = n-1-j`,

    .. math::

        (M_\text{diff})_{ij}\ =\ (-1)^{n-1-i}\binom{k}{n-1-i}
            \quad\text{for } i \ge n-1-k, \text{ else } 0.

    For ``num_frames=4``:

    .. math::

        M_\text{diff}^{(4)}\ =\ \begin{pmatrix} -1 & 0 & 0 & 0 \\ 3 & 1 & 0 & 0 \\
            -3 & -2 & -1 & 0 \\ 1 & 1 & 1 & 1 \end{pmatrix}

    Parameters
    ----------
    num_frames : positive int
        The number of stacked frames :math:`n`.
    dtype : dtype, optional
        The output data type.

    Returns
    -------
    M : 2d ndarray, shape: [num_frames, num_frames]
        Multiplied from the right: ``X_diff = X @ M``.
    """
    if isinstance(num_frames, bool) or not isinstance(num_frames, (int, np.integer)) or num_frames < 1:
        raise ValueError(f"num_frames: expected a positive int, got {num_frames!r}")
    n = int(num_frames)
    M = np.zeros((n, n))
    for j in range(n):
        k = n - 1 - j
        for i in range(n - 1 - k, n):
            M[i, j] = (-1) ** (n - 1 - i) * comb(k, n - 1 - i)
    return M.astype(dtype)
