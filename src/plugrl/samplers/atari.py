r"""Atari 2600 games through ale-py (the ``atari`` extra; its wheel ships the ROMs).

An Atari id names a game and how it is played: ``"ALE/Pong-v5"`` (sticky actions, repeated
with probability 0.25), or one of the older ids the seeds use, such as keras-gym's
``"PongDeterministic-v4"`` (no sticky actions, every action held for 4 frames), which
Gymnasium no longer registers and plugrl plays as ``"ALE/Pong-v5"`` with
``repeat_action_probability=0``. Agents see the games as the literature trains on them
(Mnih et al., 2015; Machado et al., 2018), through the same steps whether one env or a vector
of them is made:

- each action is held for 4 frames, the observation the pixel-wise maximum of the last two;
- up to 30 no-op actions start an episode;
- frames are 84 x 84 grayscale bytes, and an observation stacks the last 4 of them along its
  first axis, :math:`[4, 84, 84]` (its ``frame_stack_axis`` is 0);
- in training, rewards are clipped to their sign (``clip_rewards``); evaluation sees the
  game's score.

:func:`make_atari_vector_env` runs many games in ale-py's C++ vector environment (its threads
step the games and preprocess the frames); :func:`make_atari` makes one game as a Gymnasium
env, with Gymnasium's ``AtariPreprocessing`` and ``FrameStackObservation`` for the same
observations, or raw :math:`210 \times 160` RGB frames for keras-gym's own wrappers.
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Callable
from typing import Any, NamedTuple, SupportsFloat

import gymnasium
import numpy as np

__all__ = ["ALE_SEED_LIMIT", "ATARI_EXTRA", "AtariGame", "ale_seed", "atari_game", "make_atari",
           "make_atari_vector_env"]

#: How to install what Atari games need.
ATARI_EXTRA = 'pip install "plugrl[atari]"'

FRAME_SKIP, NOOP_MAX, SCREEN_SIZE, NUM_FRAMES = 4, 30, 84, 4

#: ale-py's vector env takes seeds below this (32-bit signed ints); see :func:`ale_seed`.
ALE_SEED_LIMIT = 2**31

_ALE_ID = re.compile(r"^ALE/(?P<name>[A-Za-z0-9]+)-v(?P<version>\d+)$")
_LEGACY_ID = re.compile(
    r"^(?P<name>[A-Z][A-Za-z0-9]*?)(?P<mode>NoFrameskip|Deterministic)?-v(?P<version>[04])$")


class AtariGame(NamedTuple):
    """What an Atari id says: the game and how actions play out.

    Attributes
    ----------
    env_id : str
        The id as given.
    ale_id : str
        The ALE v5 id that plays it, e.g. ``"ALE/Pong-v5"``.
    rom : str
        ale-py's ROM name, e.g. ``"pong"``.
    repeat_action_probability : float
        The probability that the previous action is repeated instead (sticky actions).
    """

    env_id: str
    ale_id: str
    rom: str
    repeat_action_probability: float


def atari_game(env_id: Any) -> AtariGame | None:
    """The Atari game that ``env_id`` names, or None if it names none.

    ``"ALE/<Name>-v5"`` keeps its sticky actions (0.25); the v4 ids (``<Name>-v4``,
    ``<Name>NoFrameskip-v4``, ``<Name>Deterministic-v4``) have none, and ``<Name>-v0`` has 0.25.
    Each is played with a frame skip of 4 (see the module docstring), so ``"PongDeterministic-v4"``
    and ``"PongNoFrameskip-v4"`` play alike.

    Raises
    ------
    ModuleNotFoundError
        For an id that can only be an Atari one (``ALE/...``, ``...NoFrameskip-v4``,
        ``...Deterministic-v4``) when ale-py is not installed; the message says which extra
        to install.
    ValueError
        For an ``ALE/`` id of a game that ale-py does not have.
    """
    if not isinstance(env_id, str):
        return None
    ale, legacy = _ALE_ID.match(env_id), _LEGACY_ID.match(env_id)
    match = ale or legacy
    if match is None:
        return None
    surely_atari = ale is not None or (legacy is not None and legacy["mode"] is not None)
    try:
        import ale_py
    except ImportError as error:
        if not surely_atari:
            return None
        raise ModuleNotFoundError(f"env: {env_id!r} is an Atari game, which needs ale-py; install "
                                  f"the atari extra: {ATARI_EXTRA}") from error
    name = match["name"]
    # ale-py names its ids after its ROMs with rom.title() ("tic_tac_toe_3d" is "TicTacToe3D"),
    # which splitting the name at capitals cannot invert
    rom = {rom.title().replace("_", ""): rom for rom in ale_py.roms.get_all_rom_ids()}.get(name)
    if rom is None:
        if not surely_atari:
            return None
        raise ValueError(f"env: expected the id of an Atari game that ale-py has, got {env_id!r} "
                         f"(no ROM for {name!r}; see ale_py.roms.get_all_rom_ids())")
    sticky = 0.0 if legacy is not None and legacy["version"] == "4" else 0.25
    return AtariGame(env_id, f"ALE/{name}-v5", rom, sticky)


def _require_game(env_id: str) -> AtariGame:
    """The game of ``env_id``, with ale-py's envs registered; an old id is noted as a warning."""
    game = atari_game(env_id)
    if game is None:
        raise ValueError(f"env_id: expected an Atari id such as 'ALE/Pong-v5' or "
                         f"'PongDeterministic-v4', got {env_id!r}")
    if game.ale_id != env_id:
        warnings.warn(f"env: {env_id!r} is played as {game.ale_id!r} with repeat_action_probability="
                      f"{game.repeat_action_probability} and a frame skip of {FRAME_SKIP} (Gymnasium "
                      "and ale-py no longer register the old id as it was)", UserWarning, stacklevel=3)
    import ale_py

    gymnasium.register_envs(ale_py)
    return game


def make_atari(env_id: str, *, preprocessing: bool = True, clip_rewards: bool = False,
               render_mode: str | None = None, **kwargs: Any) -> gymnasium.Env:
    """One Atari game as a Gymnasium env.

    Parameters
    ----------
    env_id : str
        An Atari id (see :func:`atari_game`).
    preprocessing : bool, optional
        True: the observations of the module docstring, :math:`[4, 84, 84]` uint8, as
        :func:`make_atari_vector_env` gives them. False: the raw :math:`[210, 160, 3]` RGB
        frames with each action held for 4 frames, as keras-gym's ``gym.make(
        'PongDeterministic-v4')`` gave them, for :class:`~plugrl.wrappers.ImagePreprocessor`
        and :class:`~plugrl.wrappers.FrameStacker`.
    clip_rewards : bool, optional
        Clip rewards to their sign, as in training.
    render_mode : str, optional
        Gymnasium's ``render_mode`` (``"rgb_array"`` for GIFs).
    **kwargs
        More keyword arguments of ale-py's ``AtariEnv`` (e.g. ``full_action_space``).
    """
    game = _require_game(env_id)
    options = {"repeat_action_probability": game.repeat_action_probability, **kwargs}
    if not preprocessing:
        env = gymnasium.make(game.ale_id, frameskip=FRAME_SKIP, render_mode=render_mode, **options)
    else:
        env = gymnasium.make(game.ale_id, frameskip=1, render_mode=render_mode, **options)
        env = gymnasium.wrappers.AtariPreprocessing(env, noop_max=NOOP_MAX, frame_skip=FRAME_SKIP,
                                                    screen_size=SCREEN_SIZE)
        env = gymnasium.wrappers.FrameStackObservation(env, NUM_FRAMES)
    if clip_rewards:
        env = gymnasium.wrappers.TransformReward(env, _sign)
    return env


def make_atari_vector_env(env_id: str, num_envs: int, *, clip_rewards: bool = True,
                          num_threads: int = 0) -> gymnasium.vector.VectorEnv:
    """``num_envs`` games in ale-py's C++ vector environment, with same-step autoreset.

    The observations are those of :func:`make_atari` (``[num_envs, 4, 84, 84]`` uint8); the
    vector env's ``frame_stack_axis`` attribute (0) tells replay buffers and networks where the
    frames are stacked. Its ``reset`` takes any int seed >= 0, as Gymnasium's envs do (see
    :func:`ale_seed`).

    Parameters
    ----------
    env_id : str
        An Atari id (see :func:`atari_game`).
    num_envs : int
        The number of games stepped together.
    clip_rewards : bool, optional
        Clip rewards to their sign (training's default).
    num_threads : int, optional
        ale-py's worker threads (0: as many as the machine has cores, at most ``num_envs``).
    """
    game = _require_game(env_id)
    vector_env = _any_seed_vector_env_class()(
        game.rom, num_envs, num_threads=num_threads,
        repeat_action_probability=game.repeat_action_probability,
        autoreset_mode=gymnasium.vector.AutoresetMode.SAME_STEP, frameskip=FRAME_SKIP,
        noop_max=NOOP_MAX, img_height=SCREEN_SIZE, img_width=SCREEN_SIZE, stack_num=NUM_FRAMES,
        reward_clipping=clip_rewards, use_fire_reset=False, episodic_life=False)
    vector_env.frame_stack_axis = 0  # type: ignore[attr-defined]  # read by infer_frame_stack_axis
    return vector_env


def ale_seed(seed: Any, num_envs: int) -> Any:
    """The seed to give ale-py's vector env for the Gymnasium seed ``seed``.

    ale-py's C++ reset takes the seeds ``seed + i`` of its ``num_envs`` games as 32-bit signed
    ints and rejects larger ones with a ``TypeError``, where Gymnasium's envs take any int >= 0
    (an agent's ``seed=2**32``, or the seed from which a checkpoint restarts the native env's
    episodes). A seed whose games' seeds do not fit wraps around, ``seed mod (2**31 -
    num_envs + 1)``; the others are unchanged. None and arrays (one seed per game) are passed on as
    they are.

    Raises
    ------
    TypeError
        For a seed that is neither None, an int nor an array.
    ValueError
        For a negative seed.
    """
    if seed is None or isinstance(seed, np.ndarray):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(f"seed: expected None or an int >= 0, got {type(seed).__name__} {seed!r}")
    if seed < 0:
        raise ValueError(f"seed: expected None or an int >= 0, got {seed}")
    return int(seed) % (ALE_SEED_LIMIT - num_envs + 1)  # the largest kept: seed + num_envs - 1 fits


@functools.cache
def _any_seed_vector_env_class() -> Callable[..., gymnasium.vector.VectorEnv]:
    """ale-py's ``AtariVectorEnv`` with :func:`ale_seed` applied to the seeds of ``reset`` (a
    class made on first use: ale-py is an optional dependency)."""
    from ale_py.vector_env import AtariVectorEnv

    class AnySeedAtariVectorEnv(AtariVectorEnv):
        """ale-py's vector env, seeded by any int >= 0 as Gymnasium's envs are."""

        def reset(self, *, seed: Any = None, options: dict[str, Any] | None = None) -> Any:
            return super().reset(seed=ale_seed(seed, self.num_envs), options=options)

    return AnySeedAtariVectorEnv


def _sign(r: SupportsFloat) -> float:
    return float(np.sign(float(r)))
