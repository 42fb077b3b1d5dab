"""Vector environments with same-step autoreset, the form every plugrl sampler steps.

With :attr:`gymnasium.vector.AutoresetMode.SAME_STEP`, a sub-environment whose episode ends is
reset within the same ``step`` call: ``step`` returns the reset observation, and
``info["final_obs"]`` (where ``info["_final_obs"]`` is true) holds the episode's last
observation. Every step is then a real transition, which keeps rollouts dense and lets a
truncated episode bootstrap from its final observation.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import gymnasium
from gymnasium.envs.registration import EnvSpec
from gymnasium.vector import AsyncVectorEnv, AutoresetMode, SyncVectorEnv, VectorEnv

from plugrl.samplers.atari import atari_game, make_atari, make_atari_vector_env
from plugrl.samplers.replay import EpisodeRecorder
from plugrl.utils.validation import check_positive_int

if TYPE_CHECKING:
    from plugrl.samplers.ray_workers import RayOptions

__all__ = ["VECTORIZATIONS", "GymnasiumConvertible", "flatten_structured_observations", "make_env_like",
           "make_evaluation_env", "make_vector_env"]

VECTORIZATIONS = ("auto", "sync", "async", "native", "ray")
"""The valid values of ``vectorization``: ``"native"`` where the env has a vector implementation of
its own (ale-py's C++ one for Atari ids) and else ``"sync"``; one process; one subprocess per env;
the env's own vector implementation; Ray actors (the extra ``plugrl[ray]``)."""



@runtime_checkable
class GymnasiumConvertible(Protocol):
    """An environment of another interface that says what to step in its place, such as
    DeepChem's :class:`~plugrl.envs.Environment` (a protocol, so that samplers need not import
    ``plugrl.envs``)."""

    def as_gymnasium(self) -> str | gymnasium.Env:
        """A Gymnasium id or env that plays this environment."""
        ...


EnvLike = str | gymnasium.Env | VectorEnv | GymnasiumConvertible | Callable[[], gymnasium.Env]


def make_vector_env(
    env: EnvLike, num_envs: int = 1, vectorization: str = "auto", seed: int | None = None,
    ray_options: RayOptions | None = None,
) -> VectorEnv:
    r"""Create a vector environment with same-step autoreset.

    Parameters
    ----------
    env : str, gymnasium.Env, gymnasium.vector.VectorEnv, GymnasiumConvertible or callable
        What to vectorize:

        - a Gymnasium id such as ``"CartPole-v1"`` (see ``gymnasium.pprint_registry()``), or
          an Atari id such as ``"ALE/Pong-v5"`` or ``"PongDeterministic-v4"``, whose games are
          preprocessed as :mod:`plugrl.samplers.atari` says;
        - an env instance: with ``num_envs=1`` it is used as is (pickled into the subprocess
          when ``vectorization="async"``); with more, each other one is ``copy.deepcopy(env)``
          (DeepChem's contract for environments), made now, with a fresh unseeded
          ``np_random``; if the copy fails, an env with a spec is re-made from ``env.spec``;
        - an object with ``as_gymnasium()``, replaced by what that returns: a DeepChem
          :class:`~plugrl.envs.Environment` gives its Gymnasium adapter (an env instance,
          copied as above), a :class:`~plugrl.envs.GymEnvironment` its Gymnasium id;
        - a zero-argument callable returning a new env, called once per sub-environment;
        - a vector env, returned as is after checking that it autoresets in the same step
          (``num_envs`` must then be 1 or its own number of envs; ``vectorization`` is ignored).

        Sub-environments with ``Dict`` or ``Tuple`` observations (goal-conditioned envs) are
        wrapped in :func:`flatten_structured_observations`.
    num_envs : int
        The number of sub-environments :math:`N \ge 1`.
    vectorization : {"auto", "sync", "async", "native", "ray"}
        Step the sub-environments one after another in this process (``"sync"``, best for cheap
        envs), in parallel subprocesses (``"async"``, for envs whose step is slow), in the
        env's own vector implementation (``"native"``: ale-py's C++ threads for Atari ids,
        several times faster, but its episodes cannot be replayed, so a checkpoint restarts
        them), or in Ray actors on this machine or a cluster (``"ray"``: a
        :class:`~plugrl.samplers.ray_workers.RayVectorEnv`, with the extra ``plugrl[ray]``).
        ``"auto"``: ``"native"`` where there is one, else ``"sync"``.
    seed : int, optional
        If given, the vector env is reset once with ``seed`` (sub-env :math:`i` gets
        ``seed + i``) and its action and observation spaces are seeded, so the env is
        reproducible even if the first reset by a sampler passes no seed.
    ray_options : RayOptions, optional
        With ``vectorization="ray"``: the actors, the cluster and fault tolerance (default
        ``RayOptions()``: one env per actor, a local Ray instance).

    Returns
    -------
    gymnasium.vector.VectorEnv
        With ``metadata["autoreset_mode"] == AutoresetMode.SAME_STEP``; for an Atari id, with
        the attribute ``frame_stack_axis = 0`` whatever the vectorization (replay buffers read
        it to store each frame once).

    Raises
    ------
    ValueError
        On an unknown Gymnasium id (listing close matches), an invalid ``num_envs`` or
        ``vectorization``, a vector env with another autoreset mode, or an env instance that
        cannot be copied for ``num_envs > 1``.
    TypeError
        If ``env`` or ``num_envs`` has the wrong type.
    """
    num_envs = check_positive_int(num_envs, "num_envs")
    if isinstance(env, VectorEnv):
        return _check_vector_env(env, num_envs)
    if vectorization not in VECTORIZATIONS:
        raise ValueError(
            f"vectorization: expected one of {list(VECTORIZATIONS)}, got {vectorization!r}"
        )
    game = atari_game(env)
    if vectorization in ("auto", "native") and game is not None:
        vector_env = make_atari_vector_env(game.env_id, num_envs)
        return _seeded(vector_env, seed)
    if vectorization == "native":
        raise ValueError(f"vectorization: expected 'native' only for an env with a vector "
                         f"implementation of its own (an Atari id), got env {env!r}")
    if vectorization == "ray":
        from plugrl.samplers.ray_workers import RayOptions, RayVectorEnv

        fns = [_recorded(_flattened(fn)) for fn in _env_fns(env, num_envs, "async")]  # made by the actors
        return _seeded(RayVectorEnv(fns, ray_options or RayOptions()), seed)
    vectorization = "async" if vectorization == "async" else "sync"
    # Recorders let checkpoints rebuild the current episodes exactly (see samplers.replay).
    env_fns = [_recorded(_flattened(fn)) for fn in _env_fns(env, num_envs, vectorization)]
    cls = SyncVectorEnv if vectorization == "sync" else AsyncVectorEnv
    vector_env = _seeded(cls(env_fns, autoreset_mode=AutoresetMode.SAME_STEP), seed)
    if game is not None:  # infer_frame_stack_axis cannot see into an async env's subprocesses
        vector_env.frame_stack_axis = 0  # type: ignore[attr-defined]
    return vector_env


def _seeded(vector_env: VectorEnv, seed: int | None) -> VectorEnv:
    if seed is not None:
        vector_env.reset(seed=seed)
        vector_env.action_space.seed(seed)
        vector_env.observation_space.seed(seed)
    return vector_env


def _flattened(env_fn: Callable[[], gymnasium.Env]) -> Callable[[], gymnasium.Env]:
    return lambda: flatten_structured_observations(env_fn())


def flatten_structured_observations(env: gymnasium.Env) -> gymnasium.Env:
    """``env``, its ``Dict`` or ``Tuple`` observations flattened into one vector by Gymnasium's
    ``FlattenObservation`` (``spaces.flatten``: a ``Dict``'s keys in sorted order, so a
    goal-conditioned env gives ``achieved_goal ++ desired_goal ++ observation``, the order of
    Stable-Baselines3's ``CombinedExtractor``); other envs unchanged. Every plugrl sampler and
    evaluation steps such envs through it, as networks take arrays."""
    if isinstance(env.observation_space, (gymnasium.spaces.Dict, gymnasium.spaces.Tuple)):
        return gymnasium.wrappers.FlattenObservation(env)
    return env


def _recorded(env_fn: Callable[[], gymnasium.Env]) -> Callable[[], gymnasium.Env]:
    return lambda: EpisodeRecorder(env_fn())


def _check_vector_env(vector_env: VectorEnv, num_envs: int) -> VectorEnv:
    mode = vector_env.metadata.get("autoreset_mode")
    if mode != AutoresetMode.SAME_STEP:
        raise ValueError(
            f"env: expected a vector env with autoreset_mode={AutoresetMode.SAME_STEP}, got "
            f"autoreset_mode={mode!r}; create it with autoreset_mode=AutoresetMode.SAME_STEP "
            "or pass a Gymnasium id or env instead"
        )
    if num_envs not in (1, vector_env.num_envs):
        raise ValueError(
            f"num_envs: expected 1 or the vector env's num_envs={vector_env.num_envs}, got {num_envs}"
        )
    return vector_env


def make_evaluation_env(env_id: str | EnvSpec, render_mode: str | None = None) -> gymnasium.Env:
    """One env of the Gymnasium or Atari id ``env_id`` to evaluate or watch an agent on: as
    training's sub-environments (``Dict`` observations flattened), but an Atari game scores
    unclipped rewards. A spec (``env.spec`` of an env made with keywords, such as
    ``gym.make("BitFlipping-v0", n_bits=15)``) makes the env with its keywords."""
    name = env_id if isinstance(env_id, str) else env_id.id
    if atari_game(name) is not None:
        return make_atari(name, render_mode=render_mode)
    return flatten_structured_observations(gymnasium.make(env_id, render_mode=render_mode))


def make_env_like(env: Any) -> gymnasium.Env:
    """One more Gymnasium env like ``env`` (an id, an instance, an object with ``as_gymnasium()``
    such as a DeepChem env, or a callable), made as :func:`make_vector_env` makes its extra
    sub-environments: from the id, as a deep copy of the instance (of its adapter, for a
    DeepChem env), or by calling the callable; ``Dict`` observations flattened as there.

    Raises
    ------
    TypeError
        For a vector env or another object that is not one of these.
    ValueError
        For an instance that cannot be copied.
    """
    return flatten_structured_observations(_env_fns(env, 2, "sync")[1]())


def _env_fns(env: Any, num_envs: int, vectorization: str) -> list[Callable[[], gymnasium.Env]]:
    """One constructor per sub-environment."""
    if isinstance(env, str) and atari_game(env) is not None:
        return [_AtariMaker(env) for _ in range(num_envs)]
    if isinstance(env, str):
        probe = _make_from_id(env)
        spec = probe.spec
        assert spec is not None  # gymnasium.make always sets it
        makers: list[Callable[[], gymnasium.Env]] = [_Maker(spec) for _ in range(num_envs - 1)]
        if vectorization == "sync":
            return [_Given(probe), *makers]  # the probe is a ready sub-env; don't make it twice
        probe.close()  # some envs cannot be pickled into a subprocess, so each one makes its own
        return [_Maker(spec), *makers]
    if isinstance(env, GymnasiumConvertible) and not isinstance(env, gymnasium.Env):
        return _env_fns(env.as_gymnasium(), num_envs, vectorization)
    if isinstance(env, gymnasium.Env):
        return [_Given(env), *(_copy_of(env) for _ in range(num_envs - 1))]
    if callable(env):
        return [env] * num_envs
    raise TypeError(
        "env: expected a Gymnasium id, a gymnasium.Env, a gymnasium.vector.VectorEnv, a "
        "plugrl.envs.Environment (or another object with as_gymnasium()) or a callable "
        f"returning an env, got {type(env).__name__}"
    )


def _copy_of(env: gymnasium.Env) -> Callable[[], gymnasium.Env]:
    """A constructor of one more sub-environment like the instance ``env``: a deep copy with its
    own (unseeded) generator, else an env re-made from ``env.spec``."""
    try:
        other = copy.deepcopy(env)
    except Exception as copy_error:  # whatever the env's own __deepcopy__ or __reduce__ raises
        if env.spec is None:
            raise _uncopyable(env, copy_error) from copy_error
        try:  # fails early, here, if a wrapper of the instance cannot be recreated
            gymnasium.make(env.spec).close()
        except ValueError as remake_error:
            raise _uncopyable(env, remake_error) from copy_error
        return _Maker(env.spec)
    # A copy must not replay the original's random stream (a seeded reset reseeds it anyway).
    other.unwrapped.np_random, _ = gymnasium.utils.seeding.np_random()
    return _Given(other)


def _uncopyable(env: gymnasium.Env, error: Exception) -> ValueError:
    return ValueError(
        f"env: expected an env instance that copy.deepcopy can copy (or its spec re-make) for "
        f"each extra sub-environment, got {type(env).__name__}, whose copy failed ({error!r}); "
        "pass a Gymnasium id, a callable that makes a new env, or num_envs=1"
    )


def _make_from_id(env_id: str) -> gymnasium.Env:
    """``gymnasium.make(env_id)``, which resolves versions and ``module:`` prefixes for us."""
    try:
        return gymnasium.make(env_id)
    except (gymnasium.error.UnregisteredEnv, gymnasium.error.DeprecatedEnv) as error:
        raise _unknown_id_error(env_id, error) from error
    except gymnasium.error.Error as error:
        if type(error) is not gymnasium.error.Error:  # e.g. DependencyNotInstalled: keep it
            raise
        raise _unknown_id_error(env_id, error) from error


def _unknown_id_error(env_id: str, error: Exception) -> ValueError:
    matches = difflib.get_close_matches(env_id, list(gymnasium.envs.registry), n=3, cutoff=0.6)
    hint = f"close matches: {matches}" if matches else "no close matches"
    return ValueError(
        f"env: expected a registered Gymnasium id, got {env_id!r} ({error}); {hint}. "
        "List the ids with gymnasium.pprint_registry() or gymnasium.envs.registry.keys()."
    )


class _Maker:
    """A picklable constructor from a spec (a lambda would not survive ``spawn``)."""

    def __init__(self, spec: gymnasium.envs.registration.EnvSpec) -> None:
        self.spec = spec

    def __call__(self) -> gymnasium.Env:
        return gymnasium.make(self.spec)


class _AtariMaker:
    """A picklable constructor of one preprocessed Atari game, its rewards clipped as the
    native vector env clips them."""

    def __init__(self, env_id: str) -> None:
        self.env_id = env_id

    def __call__(self) -> gymnasium.Env:
        return make_atari(self.env_id, clip_rewards=True)


class _Given:
    """A constructor that hands out one existing env instance."""

    def __init__(self, env: gymnasium.Env) -> None:
        self.env = env

    def __call__(self) -> gymnasium.Env:
        return self.env
