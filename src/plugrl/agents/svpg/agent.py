"""Stein Variational Policy Gradient (pyrado's ``SVPG``): n on-policy particles trained jointly."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np

from plugrl._backend import keras, prng_key, split_key
from plugrl.agents.on_policy import A2C, PPO, PPO2, REINFORCE, OnPolicyAgent
from plugrl.agents.on_policy.fast_many import ManyRuns, initial_states, stack_runs
from plugrl.agents.on_policy.learner import update_coefficients
from plugrl.agents.persistence import tree_arrays, tree_from_arrays
from plugrl.agents.svpg.config import PARTICLE_TYPES, SVPGConfig
from plugrl.agents.svpg.fast_particles import FastParticles, ParticlesState
from plugrl.agents.svpg.particles import Particles
from plugrl.updaters.stein import rbf_kernel

__all__ = ["SVPG"]

#: The agent class of each particle type.
PARTICLE_CLASSES: dict[str, type[OnPolicyAgent]] = {
    cls.AGENT_TYPE.lower(): cls for cls in (REINFORCE, A2C, PPO, PPO2)}


class SVPG(OnPolicyAgent):
    r"""Stein Variational Policy Gradient (Liu, Ramachandran, Liu and Peng, 2017; pyrado's ``SVPG``).

    ``num_particles`` policies ("particles"), each an on-policy agent of the ``particle`` type with
    its own networks (seeded apart), environments and rollouts, train as one: at every optimizer
    step each particle computes the gradient of its own loss on its own rollout, and the Stein
    update :func:`~plugrl.updaters.stein.svpg_direction` moves particle :math:`i` along
    :math:`\phi(\theta_i) = \frac1n\sum_j [\nabla J(\theta_j)\,k(\theta_j,\theta_i)/\alpha +
    \nabla_{\theta_j} k(\theta_j,\theta_i)]` (RBF kernel, median heuristic) over the policy's
    weights; each particle's critic follows its own gradient. Acting, training and the update run
    mapped over the particles in jitted calls (no loop over particles); on a JAX environment the
    whole iteration runs on the fast path.

    After each iteration the particle with the best recent training return (or evaluation return,
    on the fast path with ``eval_interval``) is loaded: ``select_action``, ``predict``,
    ``evaluate`` and ``keras_models`` use the loaded particle; :meth:`load_particle` loads another.

    Parameters
    ----------
    env : str, gymnasium.Env or JaxEnv
        As for :class:`~plugrl.agents.OnPolicyAgent`. Every particle steps ``num_envs``
        environments of it (``num_particles * num_envs`` in all).
    particle : str, on-policy agent class or instance, optional
        pyrado's ``particle``, the blueprint: ``'a2c'`` (default), ``'reinforce'``, ``'ppo'``,
        ``'ppo2'``, one of those classes, or an agent whose configuration is taken over (keywords
        given here win). Its defaults are the particle agent's.
    num_particles : int, optional
        pyrado's ``num_particles`` (8).
    temperature : float, optional
        pyrado's ``temperature`` :math:`\alpha` (1.0).
    horizon : int, optional
        pyrado's ``horizon for each particle``: the steps per environment of each particle's
        rollout (``n_steps``).
    **config
        The particle's hyperparameters (:class:`~plugrl.agents.svpg.SVPGConfig`), ``seed``,
        ``model_dir`` or ``save_dir``, ``max_iter``, ``logger``, ``function_approximator``,
        ``actor_network``, ``value_network``, ``optimizer`` as for the other on-policy agents.
        Default networks start from different weights in every particle; a user's network starts
        every particle from its weights (only their rollouts then tell them apart at first).

    Notes
    -----
    ``fit(total_steps)`` counts the env steps of all particles. Observation normalisation,
    ``critic``, a DeepChem ``policy``, ``min_rollouts``, recurrent networks, ``use_hindsight``
    and ``vectorization='ray'`` are not available for SVPG.
    """

    AGENT_TYPE: ClassVar[str] = "SVPG"
    CONFIG: ClassVar[type] = SVPGConfig

    config: SVPGConfig

    def __init__(self, env: Any, particle: Any = "a2c", *, num_particles: int | None = None,
                 temperature: float | None = None, horizon: int | None = None, **config: Any) -> None:
        for name in ("critic", "policy", "observation_normalizer", "use_hindsight"):
            if config.get(name):
                raise ValueError(f"{name}: not available for SVPG, expected None, got {config[name]!r}")
        particle, config = _particle_config(particle, config)
        given = {"num_particles": num_particles, "temperature": temperature, "n_steps": horizon}
        config.update({k: v for k, v in given.items() if v is not None})
        super().__init__(env, particle=particle, **config)
        if self.rnn_states is not None:
            raise ValueError("function_approximator: expected a feed-forward network for SVPG's "
                             "particles, got a recurrent one")
        n = self.config.num_particles
        seeds = [self.seed + 2 * i for i in range(n)]  # each particle's actor and critic apart
        self.particles = Particles(self.learner, stack_runs(initial_states(self.learner, self.seed, seeds)),
                                   self.config.temperature)
        self.fast_particles = FastParticles(self.fast_path, n) if self.fast_path is not None else None
        self._particle_keys = np.stack([np.asarray(prng_key(s)) for s in seeds])
        #: Each particle's recent mean training return (NaN before its first episode ends).
        self.particle_returns = np.full(n, np.nan)
        #: Each particle's return in the last evaluation inside ``fit`` (fast path), else NaN.
        self.particle_eval_returns = np.full(n, np.nan)
        #: The particle that acts for the agent (see :meth:`load_particle`).
        self.current_particle = 0

    @classmethod
    def config_defaults(cls, config: dict[str, Any]) -> dict[str, Any]:
        """The defaults of the ``particle`` agent (A2C's by default; an unknown particle is left
        to the configuration's check)."""
        return PARTICLE_CLASSES.get(config.get("particle", "a2c"), A2C).DEFAULTS

    def _num_vector_envs(self) -> int:
        return int(self.config.num_particles * self.config.num_envs)

    # ------------------------------------------------------------------ pyrado's interface
    @property
    def num_particles(self) -> int:
        """pyrado's ``num_particles``."""
        return int(self.config.num_particles)

    @property
    def temperature(self) -> float:
        """pyrado's ``temperature``."""
        return float(self.config.temperature)

    @property
    def best_particle(self) -> int:
        """The particle with the best evaluation return, or training return without one."""
        evaluated = np.isfinite(self.particle_eval_returns).any()
        scores = self.particle_eval_returns if evaluated else self.particle_returns
        return int(np.nanargmax(scores)) if np.isfinite(scores).any() else 0

    def kernel(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        """pyrado's ``kernel(X)``: the RBF kernel matrix ``K`` [n, n] and its derivatives
        ``dK`` [n, n, d] of the particles ``X`` [n, d] (median heuristic; see
        :func:`~plugrl.updaters.stein.rbf_kernel`)."""
        K, dK = rbf_kernel(keras.ops.convert_to_tensor(np.asarray(X, np.float32)))
        return np.asarray(K), np.asarray(dK)

    def load_particle(self, idx: int) -> SVPG:
        """pyrado's ``load_particle``: particle ``idx`` acts for the agent from now on."""
        n = self.num_particles
        if isinstance(idx, bool) or not isinstance(idx, (int, np.integer)) or not 0 <= idx < n:
            raise ValueError(f"idx: expected a particle index in [0, {self.num_particles}), got {idx!r}")
        self.learner.load_state(self.particles.state(int(idx)))
        self.current_particle = int(idx)
        return self

    @property
    def iter_particles(self) -> Iterator[SVPG]:
        """pyrado's ``iter_particles``: loads each particle in turn and yields the agent acting as
        it; the particle loaded before comes back afterwards."""
        def particles() -> Iterator[SVPG]:
            before = self.current_particle
            try:
                for i in range(self.num_particles):
                    yield self.load_particle(i)
            finally:
                self.load_particle(before)
        return particles()

    def particle_weights(self) -> np.ndarray:
        """The particles' policy weights, one raveled vector each [n, d] (what the kernel sees)."""
        return self.particles.weights()

    def evaluate(self, n_episodes: int = 10, deterministic: bool = True, return_episode_rewards: bool = False,
                 particles: str | int | None = None) -> Any:
        """Mean return over ``n_episodes`` (see :meth:`BaseAgent.evaluate`) of the loaded
        particle; ``particles="all"``: an array of every particle's mean return; an int: that
        particle's (the loaded one stays)."""
        if particles is None:
            return super().evaluate(n_episodes, deterministic, return_episode_rewards)
        if particles == "all":
            return np.asarray([float(agent.evaluate(n_episodes, deterministic))
                               for agent in self.iter_particles])
        before = self.current_particle
        try:
            return self.load_particle(particles).evaluate(n_episodes, deterministic, return_episode_rewards)  # type: ignore[arg-type]
        finally:
            self.load_particle(before)

    def train_many(self, seeds: list[int], total_steps: int, eval_interval: int | None = None,
                   **grid: list[Any]) -> ManyRuns:
        """Not for SVPG, whose particles are the many runs: an error naming the alternative."""
        raise ValueError("train_many: expected an independent on-policy agent (e.g. A2C) for many "
                         "seeds; SVPG's particles already train together (num_particles)")

    # ------------------------------------------------------------------ training
    def _train_iteration(self, total_steps: int) -> dict[str, float]:
        if self.fast_particles is not None:
            return self._fast_particles_iteration(self.fast_particles, total_steps)
        rollout = self.sampler.collect(self._act)
        T, M = rollout.R.shape
        iteration = self.num_steps // (T * M)
        self.num_steps += T * M
        shape = self.learner.observation_space.shape
        S, S_next = (self._normalize(x.reshape(T * M, *shape)).reshape(T, M, *shape)
                     for x in (rollout.S, rollout.S_next))
        batch = self.particles.batch(rollout, S, S_next)
        coefficients = update_coefficients(self.config, min(1.0, self.num_steps / total_steps),
                                           iteration=iteration)
        self._key, key = split_key(self._key)
        N = M // self.num_particles
        indices = np.stack([self.learner.shuffles(T * N, self._rng) for _ in range(self.num_particles)])
        metrics = self.particles.update(batch, coefficients, key, indices)
        return self._finish_iteration(self._recent_returns(), {**self._progress_record(), **metrics})

    def _fast_particles_iteration(self, fast: FastParticles, total_steps: int) -> dict[str, float]:
        state = ParticlesState(self.particles.states, self._particle_keys,
                               self.num_steps // self.num_particles)
        state, result = fast.iteration(state, total_steps, self.seed)
        self.particles.states, self._particle_keys = state.learner, state.keys
        self.num_steps = result["steps"]
        self.fast_path.episodes += int(result["episodes"].sum())  # type: ignore[union-attr]
        returns = np.where(np.isnan(result["returns"]), self.particle_returns, result["returns"])
        record = {"steps": float(self.num_steps), "episodes": float(self.fast_path.episodes)}  # type: ignore[union-attr]
        if "eval_returns" in result:
            self.particle_eval_returns = result["eval_returns"]
            record["eval_return"] = float(np.max(result["eval_returns"]))
            record.update({f"SVPG/eval_return_{i}": float(r) for i, r in enumerate(result["eval_returns"])})
        return self._finish_iteration(returns, record)

    def _finish_iteration(self, returns: np.ndarray, record: dict[str, float]) -> dict[str, float]:
        """Record the particles' returns and spread, and load the best particle."""
        self.particle_returns = np.asarray(returns, np.float64)
        statistics = self.particles.statistics()
        self.load_particle(self.best_particle)
        record = {**record, "SVPG/bandwidth": statistics["bandwidth"],
                  "best_particle": float(self.current_particle)}
        finite = self.particle_returns[np.isfinite(self.particle_returns)]
        record["mean_return"] = float(finite.mean()) if len(finite) else float("nan")
        record["best_return"] = float(finite.max()) if len(finite) else float("nan")
        record.update({f"SVPG/return_{i}": float(r) for i, r in enumerate(self.particle_returns)})
        record.update({f"SVPG/distance_{i}": float(d) for i, d in enumerate(statistics["distances"])})
        return record

    def _recent_returns(self, last: int = 10) -> np.ndarray:
        """Each particle's mean return over its ``last`` finished episodes (NaN before one)."""
        returns = np.asarray(self.sampler.episode_returns)
        particle_of = np.asarray(self.sampler.episode_envs, np.int64) // self.config.num_envs
        means = [returns[particle_of == i][-last:] for i in range(self.num_particles)]
        return np.asarray([m.mean() if len(m) else np.nan for m in means])

    def _act(self, S: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        info = self.particles.act(self._normalize(S), self._noise(len(S)))
        return self.learner.env_actions(info["A"]), info

    # ------------------------------------------------------------------ persistence
    def _checkpoint_extra(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        arrays = tree_arrays(self.particles.states, "particles/state")
        arrays.update({"particles/keys": np.asarray(self._particle_keys),
                       "particles/returns": self.particle_returns,
                       "particles/eval_returns": self.particle_eval_returns})
        return arrays, {"current_particle": self.current_particle}

    def _restore_extra(self, arrays: Any, state: dict[str, Any]) -> None:
        self.particles.states = tree_from_arrays(self.particles.states, arrays, "particles/state")
        self._particle_keys = np.asarray(arrays["particles/keys"])
        self.particle_returns = np.asarray(arrays["particles/returns"])
        self.particle_eval_returns = np.asarray(arrays["particles/eval_returns"])
        self.load_particle(int(state["current_particle"]))


def _particle_config(particle: Any, config: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The particle type and the keywords for SVPG from pyrado's ``particle`` blueprint."""
    config = dict(config)
    particle = config.pop("particle", particle)
    if isinstance(particle, OnPolicyAgent):
        blueprint = {k: v for k, v in particle.config_dict().items() if k not in config}
        return _particle_config(type(particle), {**blueprint, **config})
    if isinstance(particle, type) and issubclass(particle, OnPolicyAgent) and particle is not SVPG:
        particle = particle.AGENT_TYPE.lower()
    if particle not in PARTICLE_CLASSES:
        raise ValueError(f"particle: expected one of {list(PARTICLE_TYPES)}, an on-policy agent class "
                         f"or an on-policy agent, got {particle!r}")
    return particle, config

