"""Monte Carlo returns: cache a whole episode, then hand out its discounted returns."""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np
import numpy.typing as npt

from plugrl.caching._checks import (
    NothingToPopError,
    check_action_space,
    check_flag,
    check_gamma,
    check_reward,
    check_terminated,
    convert_action,
    ended_episode_error,
)

__all__ = ["MonteCarloCache"]

MonteCarloBatch = tuple[np.ndarray, np.ndarray, np.ndarray]


class MonteCarloCache:
    r"""Cache one episode's transitions and return their discounted returns once it ends.

    For an episode whose last step is :math:`T`, the return of step :math:`t` is

    .. math::

        G_t = \sum_{k=0}^{T-t} \gamma^k\, r_{t+k} = r_t + \gamma\, G_{t+1}, \qquad G_{T+1} = 0.

    Monte Carlo cannot bootstrap, so a *truncated* episode (time limit) is treated like a
    terminated one: its returns are the discounted sums of the rewards actually observed, and
    ``s_next`` is accepted for a uniform call signature but not used.

    Parameters
    ----------
    env : gymnasium.Env
        The environment; only ``env.action_space`` is used, to choose how actions are stored:
        int64 scalars for ``Discrete``, float32 arrays of the space's shape for ``Box``, and
        ``np.asarray`` of the action as given otherwise.
    gamma : float
        The discount factor :math:`\gamma \in [0, 1]`.

    Examples
    --------
    >>> cache = MonteCarloCache(env, gamma=0.99)  # doctest: +SKIP
    >>> cache.add(s, a, r, terminated, truncated=truncated, s_next=s_next)  # doctest: +SKIP
    >>> while cache:  # doctest: +SKIP
    ...     S, A, G = cache.pop()  # last step first
    """

    def __init__(self, env: Any, gamma: float) -> None:
        self.env = env
        self.gamma = check_gamma(gamma)
        self._space = check_action_space(env)
        self._S: deque[np.ndarray] = deque()
        self._A: deque[np.ndarray] = deque()
        self._R: deque[float] = deque()
        self._ended = False
        # G_{t+1} for the last transition still stored; popping goes backwards through time.
        self._g = 0.0

    def __repr__(self) -> str:
        return f"MonteCarloCache(gamma={self.gamma}, len={len(self)})"

    def __len__(self) -> int:
        """The number of transitions stored."""
        return len(self._R)

    def __bool__(self) -> bool:
        """Whether :meth:`pop` can return a transition now (the episode ended, some remain)."""
        return self._ended and len(self._R) > 0

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
            Whether the episode *terminated* at this step: Gymnasium's
            ``terminated``, **not** ``terminated or truncated``. Equivalently pass
            ``terminated=`` by keyword (one of the two, not both).
        terminated : bool, optional (keyword)
            Gymnasium's name for ``done``: ``add(s, a, r, terminated=terminated,
            truncated=truncated, s_next=s_next)`` is ``add(s, a, r, terminated,
            truncated=truncated, s_next=s_next)``.
        truncated : bool, optional
            Whether the episode was cut short at this step; it ends the episode just like
            ``done``, since Monte Carlo returns cannot bootstrap.
        s_next : array-like, optional
            Accepted for the same call signature as :class:`NStepCache`; not used.

        Raises
        ------
        ValueError, TypeError
            If an argument is invalid (e.g. a NaN reward, or both ``done`` and
            ``terminated``); the cache is then left unchanged.
        RuntimeError
            If the previous episode ended but some of its transitions are still in the cache.
        """
        del s_next  # unused: nothing to bootstrap from
        if self._ended:
            raise ended_episode_error("MonteCarloCache", len(self))
        r = check_reward(r)
        ended = check_terminated(done, terminated) | check_flag("truncated", truncated)
        s = np.array(s, copy=True)
        a = convert_action("a", a, self._space)
        self._S.append(s)
        self._A.append(a)
        self._R.append(r)
        self._ended = ended

    def pop(self) -> MonteCarloBatch:
        """Pop the *last* remaining transition of the finished episode, with its return.

        Returns
        -------
        S : ndarray, shape ``[1, *obs_shape]``
            The observation :math:`s_t`, in the dtype it was added with.
        A : ndarray, shape ``[1]`` or ``[1, *action_shape]``
            The action :math:`a_t` (int64 for ``Discrete``, float32 for ``Box``).
        G : ndarray, float32, shape ``[1]``
            The return :math:`G_t = r_t + \\gamma G_{t+1}`.

        Raises
        ------
        NothingToPopError
            An ``IndexError`` and ``RuntimeError``: the cache is empty or the episode is ongoing.
        """
        if not self:
            raise self._nothing_to_pop("pop")
        s, a = self._S.pop(), self._A.pop()
        self._g = self._R.pop() + self.gamma * self._g
        G = np.asarray([self._g], dtype=np.float32)
        if not self._R:
            self.reset()
        return s[None], a[None], G

    def flush(self) -> MonteCarloBatch:
        """Pop all remaining transitions of the finished episode, in chronological order.

        Returns
        -------
        S, A, G : tuple of ndarrays
            As in :meth:`pop`, with batch size equal to the number of transitions popped and the
            oldest transition first.

        Raises
        ------
        NothingToPopError
            An ``IndexError`` and ``RuntimeError``: the cache is empty or the episode is ongoing.
        """
        if not self:
            raise self._nothing_to_pop("flush")
        G = np.empty(len(self._R), dtype=np.float64)
        g = self._g
        for i, r in zip(range(len(G) - 1, -1, -1), reversed(self._R)):
            g = r + self.gamma * g
            G[i] = g
        S, A = np.stack(self._S), np.stack(self._A)
        self.reset()
        return S, A, G.astype(np.float32)

    def reset(self) -> None:
        """Empty the cache and start a new episode."""
        self._S.clear()
        self._A.clear()
        self._R.clear()
        self._ended = False
        self._g = 0.0

    def _nothing_to_pop(self, method: str) -> NothingToPopError:
        if not self._R:
            return NothingToPopError(
                f"{method}: expected a poppable transition, got an empty MonteCarloCache"
            )
        return NothingToPopError(
            f"{method}: expected a finished episode, got {len(self)} transitions of an ongoing "
            "episode; returns are known only once an add() has done=True or truncated=True"
        )
