"""n-step bootstrapping: a sliding window over one episode's transitions."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from itertools import islice
from typing import Any

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from plugrl.caching._checks import (
    NothingToPopError,
    check_action_space,
    check_flag,
    check_gamma,
    check_positive_int,
    check_reward,
    check_terminated,
    convert_action,
    ended_episode_error,
    unknown_action,
)

__all__ = ["NStepCache"]

NStepBatch = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


class NStepCache:
    r"""A convenient helper class for n-step bootstrapping.

    Transitions of one episode go in with :meth:`add`; batches ``(S, A, Rn, In, S_next,
    A_next)`` come out with :meth:`pop` or :meth:`flush`, oldest first. For the transition at
    step :math:`t` of an ongoing episode,

    .. math::

        R^{(n)}_t = \sum_{k=0}^{n-1} \gamma^k\, r_{t+k}, \qquad I^{(n)}_t = \gamma^n, \qquad
        S_{t+n},\ A_{t+n},

    so that a bootstrapped target reads :math:`R^{(n)}_t + I^{(n)}_t\,Q(S_{t+n}, A_{t+n})`.
    If the episode ended at step :math:`T` with :math:`m = T - t + 1 \le n` rewards left,
    :math:`R^{(n)}_t = \sum_{k=0}^{m-1} \gamma^k r_{t+k}` and

    - **terminated** (``done=True``): :math:`I^{(n)}_t = 0`; ``S_next`` is :math:`s_T` and
      ``A_next`` is :math:`a_T`, placeholders that the zero factor cancels;
    - **truncated** (``truncated=True``, ``done=False``, e.g. a time limit): the episode still
      bootstraps, :math:`I^{(n)}_t = \gamma^m`, ``S_next`` is the ``s_next`` given with the
      truncated :meth:`add` and ``A_next`` its ``a_next``. Without ``a_next`` the next action is
      unknown and ``A_next`` holds a marker: ``-1`` for ``Discrete`` action spaces, an all-NaN
      array for ``Box`` spaces (NaN or ``-1`` arrays for other float or signed-int spaces).
      Updaters that need :math:`A_{t+n}` (SARSA) must then pass ``a_next``.

    Parameters
    ----------
    env : gymnasium.Env
        The environment; only ``env.action_space`` is used, to choose how actions are stored:
        int64 scalars for ``Discrete``, float32 arrays of the space's shape for ``Box``, and
        ``np.asarray`` of the action as given otherwise.
    n : int
        The number of steps over which to bootstrap, :math:`n \ge 1`.
    gamma : float
        The discount factor :math:`\gamma \in [0, 1]`.

    Examples
    --------
    >>> cache = NStepCache(env, n=3, gamma=0.99)  # doctest: +SKIP
    >>> cache.add(s, a, r, terminated, truncated=truncated, s_next=s_next)  # doctest: +SKIP
    >>> while cache:  # doctest: +SKIP
    ...     S, A, Rn, In, S_next, A_next = cache.pop()
    """

    def __init__(self, env: Any, n: int, gamma: float) -> None:
        self.env = env
        self.n = check_positive_int(n, "n")
        self.gamma = check_gamma(gamma)
        self._space = check_action_space(env)
        # gamma**k for k = 0..n, in float64 so that float32 is only the output's rounding.
        self._discounts = self.gamma ** np.arange(self.n + 1, dtype=np.float64)
        self._S: deque[np.ndarray] = deque()
        self._A: deque[np.ndarray] = deque()
        self._R: deque[float] = deque()
        self._ended: str | None = None  # None while ongoing, else "terminated" or "truncated"
        self._s_final: np.ndarray | None = None
        self._a_final: np.ndarray | None = None

    def __repr__(self) -> str:
        return f"NStepCache(n={self.n}, gamma={self.gamma}, len={len(self)})"

    def __len__(self) -> int:
        """The number of transitions stored, poppable or not."""
        return len(self._R)

    def __bool__(self) -> bool:
        """Whether :meth:`pop` can return a transition now."""
        return self._num_poppable() > 0

    def add(
        self,
        s: npt.ArrayLike,
        a: Any,
        r: float,
        done: bool | None = None,
        *,
        terminated: bool | None = None,
        truncated: bool = False,
        s_next: npt.ArrayLike | None = None,
        a_next: Any = None,
    ) -> None:
        """Add one transition to the cache.

        Parameters
        ----------
        s : array-like, shape ``[*obs_shape]``
            A single observation :math:`s_t`; it is copied, so the env may reuse its buffer.
        a : action
            A single action :math:`a_t`: an int for ``Discrete``, an array of shape
            ``action_space.shape`` for ``Box``.
        r : float
            A single finite reward :math:`r_t`.
        done : bool
            Whether the episode *terminated* at this step (no bootstrapping past it): Gymnasium's
            ``terminated``, **not** ``terminated or truncated``. Equivalently pass
            ``terminated=`` by keyword (one of the two, not both).
        terminated : bool, optional (keyword)
            Gymnasium's name for ``done``: ``add(s, a, r, terminated=terminated,
            truncated=truncated, s_next=s_next)`` is ``add(s, a, r, terminated,
            truncated=truncated, s_next=s_next)``.
        truncated : bool, optional
            Whether the episode was cut short (time limit) at this step; it still bootstraps
            from ``s_next``. Ignored when ``done`` is true.
        s_next : array-like, shape ``[*obs_shape]``, optional
            The final observation; required when ``truncated`` and not ``done``.
        a_next : action, optional
            The action that would be taken at ``s_next``; only used on truncation.

        Raises
        ------
        ValueError, TypeError
            If an argument is invalid (e.g. a NaN reward, or both ``done`` and
            ``terminated``); the cache is then left unchanged.
        RuntimeError
            If the previous episode ended but some of its transitions are still in the cache.
        """
        if self._ended is not None:
            raise ended_episode_error("NStepCache", len(self))
        r = check_reward(r)
        done = check_terminated(done, terminated)
        truncated = check_flag("truncated", truncated) and not done
        s = np.array(s, copy=True)
        a = convert_action("a", a, self._space)
        if truncated:
            self._s_final, self._a_final = self._truncation_target(s, a, s_next, a_next)
        self._S.append(s)
        self._A.append(a)
        self._R.append(r)
        if done:
            self._ended = "terminated"
        elif truncated:
            self._ended = "truncated"

    def pop(self) -> NStepBatch:
        """Pop the oldest poppable transition.

        Returns
        -------
        S : ndarray, shape ``[1, *obs_shape]``
            The observation :math:`s_t`, in the dtype it was added with.
        A : ndarray, shape ``[1]`` or ``[1, *action_shape]``
            The action :math:`a_t` (int64 for ``Discrete``, float32 for ``Box``).
        Rn : ndarray, float32, shape ``[1]``
            The n-step discounted reward :math:`R^{(n)}_t`.
        In : ndarray, float32, shape ``[1]``
            The bootstrap factor :math:`I^{(n)}_t` (``gamma**n``, ``gamma**m`` or 0).
        S_next : ndarray, shape ``[1, *obs_shape]``
            The observation :math:`s_{t+n}` to bootstrap from.
        A_next : ndarray, shape ``[1]`` or ``[1, *action_shape]``
            The action :math:`a_{t+n}`, or the unknown-action marker (see the class docstring).

        Raises
        ------
        NothingToPopError
            An ``IndexError`` and ``RuntimeError``: nothing is poppable yet.
        """
        if not self:
            raise self._nothing_to_pop("pop")
        return self._pop_one()

    def flush(self) -> NStepBatch:
        """Pop all poppable transitions at once, oldest first.

        Returns
        -------
        S, A, Rn, In, S_next, A_next : tuple of ndarrays
            As in :meth:`pop`, with batch size equal to the number of transitions popped.

        Raises
        ------
        NothingToPopError
            An ``IndexError`` and ``RuntimeError``: nothing is poppable yet.
        """
        if not self:
            raise self._nothing_to_pop("flush")
        return self._pop_batch(self._num_poppable())

    def reset(self) -> None:
        """Empty the cache and forget how the last episode ended."""
        self._S.clear()
        self._A.clear()
        self._R.clear()
        self._ended, self._s_final, self._a_final = None, None, None

    def _num_poppable(self) -> int:
        if self._ended is not None:
            return len(self._R)
        return max(0, len(self._R) - self.n)

    def _truncation_target(
        self, s: np.ndarray, a: np.ndarray, s_next: npt.ArrayLike | None, a_next: Any
    ) -> tuple[np.ndarray, np.ndarray]:
        """Validate and convert the ``(s_next, a_next)`` that a truncated episode bootstraps from."""
        if s_next is None:
            raise ValueError(
                "s_next: expected the final observation when truncated=True and done=False, got None"
            )
        s_final = np.array(s_next, copy=True)
        if s_final.shape != s.shape:
            raise ValueError(
                f"s_next: expected an observation of shape {s.shape}, got shape {s_final.shape}"
            )
        if a_next is not None:
            return s_final, convert_action("a_next", a_next, self._space)
        marker = unknown_action(self._space, a)
        if marker is None:
            raise ValueError(
                f"a_next: expected the next action on truncation, since actions of {self._space} "
                f"with dtype {a.dtype} have no unknown-action marker, got None"
            )
        return s_final, marker

    def _pop_batch(self, count: int) -> NStepBatch:
        n, size = self.n, len(self._R)
        # Only the first count + n transitions can appear in this batch, so never copy more.
        S_win = list(islice(self._S, count + n))
        A_win = list(islice(self._A, count + n))
        R = np.zeros(count + n - 1, dtype=np.float64)
        rewards = list(islice(self._R, count + n - 1))
        R[: len(rewards)] = rewards  # zeros past the episode's end truncate the sums
        Rn = sliding_window_view(R, n) @ self._discounts[:n]
        In, S_next, A_next = zip(*(self._next_fields(i, size, S_win, A_win) for i in range(count)))
        for _ in range(count):
            self._S.popleft()
            self._A.popleft()
            self._R.popleft()
        if not self._R:
            self.reset()  # the finished episode is fully out; the next add starts a new one
        return (
            np.stack(S_win[:count]),
            np.stack(A_win[:count]),
            Rn.astype(np.float32),
            np.asarray(In, dtype=np.float32),
            np.stack(S_next),
            np.stack(A_next),
        )

    def _pop_one(self) -> NStepBatch:
        """:meth:`_pop_batch` for one transition, without the batch machinery (hot path)."""
        size = len(self._R)
        rewards = islice(self._R, self.n)
        Rn = sum(d * r for d, r in zip(self._discounts, rewards))
        In, s_next, a_next = self._next_fields(0, size, self._S, self._A)
        s, a = self._S.popleft(), self._A.popleft()
        self._R.popleft()
        if not self._R:
            self.reset()
        return (
            s[None], np.asarray(a)[None], np.array([Rn], np.float32), np.array([In], np.float32),
            s_next[None], np.asarray(a_next)[None],
        )

    def _next_fields(
        self, i: int, size: int, S_win: Sequence[np.ndarray], A_win: Sequence[np.ndarray]
    ) -> tuple[float, np.ndarray, np.ndarray]:
        """``(In, S_next, A_next)`` for the ``i``-th stored transition, given ``size`` stored."""
        if i + self.n < size:
            return float(self._discounts[self.n]), S_win[i + self.n], A_win[i + self.n]
        if self._ended == "terminated":
            return 0.0, S_win[-1], A_win[-1]
        assert self._s_final is not None and self._a_final is not None
        return float(self._discounts[size - i]), self._s_final, self._a_final

    def _nothing_to_pop(self, method: str) -> NothingToPopError:
        if not self._R:
            return NothingToPopError(
                f"{method}: expected a poppable transition, got an empty NStepCache"
            )
        return NothingToPopError(
            f"{method}: expected a poppable transition, got {len(self)} transitions of an ongoing "
            f"episode; with n={self.n} the oldest is poppable once {self.n + 1} are stored "
            "or the episode has ended"
        )
