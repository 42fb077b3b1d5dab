r"""The bit-flipping environment of Hindsight Experience Replay (Andrychowicz et al., 2017).

The state is :math:`n` bits and the goal another :math:`n` bits, both drawn uniformly at each
reset; action :math:`i` flips bit :math:`i`. The reward is 0 when the bits equal the goal after
the step and -1 otherwise (Stable-Baselines3's ``BitFlippingEnv`` convention; the paper's is the
same), the episode *terminates* at the goal and is *truncated* after ``max_episode_steps``
steps. With :math:`n \ge 10` random exploration almost never meets the goal, which is what HER
is for.

Both goal conventions of the seeds are served:

- Gymnasium's goal-conditioned one (``gymnasium_robotics``' ``GoalEnv``, what
  Stable-Baselines3's ``HerReplayBuffer`` reads): a ``Dict`` observation with ``observation``,
  ``achieved_goal`` and ``desired_goal`` and the vectorised :meth:`BitFlippingEnv.compute_reward`,
  :meth:`~BitFlippingEnv.compute_terminated` and :meth:`~BitFlippingEnv.compute_truncated`;
- DeepChem's (seed 002): with ``flat=True`` the state is one vector, the bits followed by the
  goal, and :meth:`BitFlippingEnv.apply_hindsight` relabels a rollout with another goal.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import numpy.typing as npt
from gymnasium import spaces

from plugrl.utils.validation import check_positive_int

__all__ = ["BitFlippingEnv"]


class BitFlippingEnv(gym.Env[Any, np.int64]):
    r"""Flip bits until they equal the goal.

    Parameters
    ----------
    n_bits : positive int, optional
        The number of bits :math:`n` (also the number of actions).
    max_episode_steps : positive int, optional
        Steps after which an episode is truncated; default ``n_bits``, enough to reach any goal
        (Stable-Baselines3's default).
    flat : bool, optional
        False: a ``Dict`` observation (``observation`` and ``achieved_goal`` are the bits,
        ``desired_goal`` the goal), each ``MultiBinary(n_bits)`` (as Stable-Baselines3's). True:
        DeepChem's state, one float32 vector ``bits ++ goal`` of 0s and 1s (a ``Box``, which
        plugrl's networks take as it is).
    render_mode : None, "ansi" or "rgb_array", optional
        :meth:`render` returns the bits and the goal as text, or as an image: the bits above the
        goal, a 16-pixel square per bit (dark for 1).

    Notes
    -----
    The reward :math:`r_t = -[s_{t+1} \ne g]` is 0 at the goal and -1 elsewhere, as
    Stable-Baselines3's; the paper's is the same. Start and goal are drawn independently, so a
    start may equal its goal (probability :math:`2^{-n}`): the agent must then leave it and
    come back, as in Stable-Baselines3.

    Examples
    --------
    >>> env = BitFlippingEnv(n_bits=4)
    >>> obs, info = env.reset(seed=0)
    >>> sorted(obs)
    ['achieved_goal', 'desired_goal', 'observation']
    """

    metadata = {"render_modes": ["ansi", "rgb_array"]}

    def __init__(self, n_bits: int = 8, max_episode_steps: int | None = None, flat: bool = False,
                 render_mode: str | None = None) -> None:
        self.n_bits = check_positive_int(n_bits, "n_bits")
        self.max_episode_steps = (self.n_bits if max_episode_steps is None
                                  else check_positive_int(max_episode_steps, "max_episode_steps"))
        if render_mode not in (None, *self.metadata["render_modes"]):
            raise ValueError(f"render_mode: expected None, 'ansi' or 'rgb_array', got {render_mode!r}")
        self.flat, self.render_mode = bool(flat), render_mode
        bits = spaces.MultiBinary(self.n_bits)
        self.goal_space = bits
        self.observation_space: spaces.Space[Any] = (
            spaces.Box(0.0, 1.0, (2 * self.n_bits,), np.float32) if self.flat else
            spaces.Dict({"observation": bits, "achieved_goal": bits, "desired_goal": bits}))
        self.action_space = spaces.Discrete(self.n_bits)
        self.state = np.zeros(self.n_bits, np.int8)
        self.goal = np.zeros(self.n_bits, np.int8)
        self.num_steps = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict]:
        super().reset(seed=seed)
        self.state = self.np_random.integers(2, size=self.n_bits).astype(np.int8)
        self.goal = self.np_random.integers(2, size=self.n_bits).astype(np.int8)
        self.num_steps = 0
        return self._observation(), {}

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict]:
        if not self.action_space.contains(action):
            raise ValueError(f"action: expected an int in [0, {self.n_bits}), got {action!r}")
        self.state[int(action)] ^= 1
        self.num_steps += 1
        terminated = bool(np.array_equal(self.state, self.goal))
        truncated = not terminated and self.num_steps >= self.max_episode_steps
        info = {"is_success": terminated}
        return self._observation(), 0.0 if terminated else -1.0, terminated, truncated, info

    def render(self) -> str | np.ndarray | None:
        if self.render_mode == "ansi":
            return f"bits {''.join(map(str, self.state))}  goal {''.join(map(str, self.goal))}"
        if self.render_mode == "rgb_array":
            rows = np.stack([self.state, np.full(self.n_bits, 2), self.goal])  # 2: a blank row
            shade = np.array([230, 40, 255], np.uint8)[rows]
            return np.repeat(np.kron(shade, np.ones((16, 16), np.uint8))[..., None], 3, axis=-1)
        return None

    def _observation(self) -> Any:
        if self.flat:
            return np.concatenate([self.state, self.goal]).astype(np.float32)
        return {"observation": self.state.copy(), "achieved_goal": self.state.copy(),
                "desired_goal": self.goal.copy()}

    # ------------------------------------------------------------------ goal-conditioned API
    def compute_reward(self, achieved_goal: npt.ArrayLike, desired_goal: npt.ArrayLike,
                       info: Any = None) -> np.ndarray:
        r"""The rewards :math:`-[a \ne g]` of goals reached and desired, vectorised as
        Stable-Baselines3's ``HerReplayBuffer`` calls it.

        Parameters
        ----------
        achieved_goal, desired_goal : array-like, shape ``[..., n_bits]``
            The bits after each step and the goals.
        info : object, optional
            Unused (Gymnasium's signature).

        Returns
        -------
        ndarray, float32, shape ``[...]``
            0 where the bits equal the goal, -1 elsewhere.
        """
        return -(~self.compute_terminated(achieved_goal, desired_goal, info)).astype(np.float32)

    def compute_terminated(self, achieved_goal: npt.ArrayLike, desired_goal: npt.ArrayLike,
                           info: Any = None) -> np.ndarray:
        """Whether each step reached its goal, bool ``[...]`` (``gymnasium_robotics``' name)."""
        achieved, desired = np.asarray(achieved_goal), np.asarray(desired_goal)
        if achieved.shape[-1:] != (self.n_bits,) or desired.shape[-1:] != (self.n_bits,):
            raise ValueError(f"achieved_goal, desired_goal: expected shapes [..., {self.n_bits}], "
                             f"got {achieved.shape} and {desired.shape}")
        return np.all(np.round(achieved) == np.round(desired), axis=-1)

    def compute_truncated(self, achieved_goal: npt.ArrayLike, desired_goal: npt.ArrayLike,
                          info: Any = None) -> np.ndarray:
        """False for every step: truncation depends on the step count, not on the goals."""
        return np.zeros(np.shape(achieved_goal)[:-1], bool)

    # ------------------------------------------------------------------ DeepChem's API
    def goal_slices(self) -> tuple[slice, slice]:
        """Where the reached bits and the goal sit in a flat state: ``bits ++ goal`` with
        ``flat=True``, else Gymnasium's ``spaces.flatten`` of the ``Dict`` (keys in sorted order:
        ``achieved_goal``, ``desired_goal``, ``observation``), as the agents see it."""
        n = self.n_bits
        return slice(0, n), slice(n, 2 * n)

    def apply_hindsight(self, states: Any, actions: Any, goal: Any) -> tuple[np.ndarray, np.ndarray]:
        """DeepChem's relabelling: the rollout's ``states`` with the goal set to the bits of
        ``goal`` (a state, as DeepChem passes one), and the rewards the ``actions`` would then
        have earned. The rollout ends where it first reaches the new goal, so the outputs may
        be shorter than the inputs.

        Parameters
        ----------
        states : array-like, shape ``[L, state_size]``
            Flat states, as the agents see them (see :meth:`goal_slices`).
        actions : array-like of int, shape ``[L]``
            The action taken in each state.
        goal : array-like, shape ``[state_size]``
            A flat state whose reached bits become the goal.

        Returns
        -------
        new_states : ndarray, float32, shape ``[L', state_size]``, ``1 <= L' <= L`` (0 if L is 0)
        rewards : ndarray, float32, shape ``[L']``
        """
        achieved, desired = self.goal_slices()
        S = np.array(states, np.float32, ndmin=2)
        A = np.asarray(actions, np.int64).reshape(-1)
        if len(S) != len(A):
            raise ValueError(f"states, actions: expected the same length, got {len(S)} and {len(A)}")
        S[:, desired] = np.asarray(goal, np.float32)[achieved]
        bits_next = S[:, achieved].copy()
        bits_next[np.arange(len(A)), A] = 1.0 - bits_next[np.arange(len(A)), A]
        reached = self.compute_terminated(bits_next, S[:, desired])
        length = int(reached.argmax()) + 1 if reached.any() else len(S)
        return S[:length], self.compute_reward(bits_next[:length], S[:length, desired])
