"""The off-policy agents' configuration (DQN, DQL, SAC): frozen dataclasses filled by
:func:`plugrl.agents.config.build_config`, which re-exports them."""

from __future__ import annotations

import dataclasses

from plugrl.agents.config_checks import (
    LearningRate,
    check_choice,
    check_training_setup,
)
from plugrl.utils.validation import check_positive_int, check_unit_interval

__all__ = ["DQLConfig", "DQNConfig", "OffPolicyConfig", "SACConfig", "init_memory_steps"]


@dataclasses.dataclass(frozen=True)
class OffPolicyConfig:
    """Hyperparameters shared by the off-policy agents (DQN, SAC)."""

    gamma: float = 0.99
    """Discount factor, in [0, 1]."""
    memory_size: int = 1_000_000
    """Capacity of the replay buffer in transitions (alias ``buffer_size``)."""
    batch_size: int = 256
    """Transitions per gradient step."""
    num_init_memory_steps: int | None = 100
    """Env steps of uniformly random actions that fill the buffer before learning starts
    (alias ``learning_starts``); None: ``memory_size`` steps, pyrado's "fill the buffer
    completely" (with a large buffer, a short ``fit`` then never learns: it warns)."""
    train_freq: int = 1
    """Steps of each env collected between two rounds of updates (alias ``min_steps``): with
    ``num_envs`` envs a round follows ``train_freq * num_envs`` env steps, as in
    Stable-Baselines3."""
    num_updates_per_step: int | None = 1
    """Gradient steps per round of updates, all in one jitted call (alias ``gradient_steps``);
    None: pyrado's heuristic, one per episode's worth of collected steps,
    ``ceil(train_freq * num_envs / max_episode_steps)`` (1 without a time limit)."""
    use_trained_policy_for_refill: bool = False
    """pyrado: after :meth:`~plugrl.agents.BaseAgent.reset` empties the buffer, refill it
    with the agent's own exploring policy instead of uniformly random actions (the first fill
    always uses random actions, as pyrado's dummy policy)."""
    bootstrap_n: int = 1
    """Steps of the n-step return (alias ``n_step``)."""
    tau: float = 1.0
    """Polyak weight of the online weights in a target update (1: copy them). Stable-Baselines3's
    and keras-gym's convention. pyrado's ``tau`` is the weight of the *old* target, ``1 - tau``:
    pass it as ``tau_target`` (e.g. ``tau_target=0.995`` gives ``tau=0.005``). A ``tau`` in
    (0.5, 1) is an error, since it most likely carries pyrado's meaning."""
    max_grad_norm: float | None = 10.0
    """Clip gradients to this global norm (None: no clipping)."""
    lr: LearningRate = 1e-4
    """Learning rate: a float, ``'lin_<x>'`` (linear decay to 0), a callable of the remaining
    fraction of training, or pyrado's ``lr_scheduler`` (stepped once per round of updates)."""
    hidden_sizes: tuple[int, ...] = (64, 64)
    """Hidden layer sizes of the default MLP networks."""
    activation: str = "relu"
    """Activation of the default MLP networks."""
    num_envs: int = 1
    """Environments stepped in parallel (alias ``num_workers``, pyrado's), all feeding one replay
    buffer: each env's transitions form their own stream of ``memory_size // num_envs`` slots,
    so an n-step return never mixes two envs."""
    vectorization: str = "auto"
    """How the environments run: ``'sync'`` (one process), ``'async'`` (subprocesses),
    ``'native'`` (the env's own vector implementation: ale-py's C++ threads for Atari ids, whose
    episodes a checkpoint restarts), ``'ray'`` (Ray actors, on this machine or a cluster: the
    extra ``plugrl[ray]``) or ``'auto'`` (``'native'`` where there is one, else
    ``'sync'``)."""
    envs_per_worker: int = 1
    """With ``vectorization='ray'``: environments per Ray actor; ``num_envs`` (a multiple of it)
    envs run on ``num_envs // envs_per_worker`` actors (RLlib's ``num_envs_per_env_runner``)."""
    address: str | None = None
    """With ``vectorization='ray'``: the Ray cluster to join (``'auto'``, ``'host:6379'``,
    ``'ray://host:10001'``); None: ``RAY_ADDRESS`` if set, else a local instance."""
    max_worker_restarts: int = 3
    """With ``vectorization='ray'``: failed actors replaced (their segments collected again)
    before the next failure is an error."""
    worker_timeout: float | None = None
    """With ``vectorization='ray'``: seconds an actor may take for one segment before it is
    treated as dead and replaced (None: no limit)."""
    eval_episodes: int = 10
    """Episodes per evaluation in ``fit`` callbacks and the CLI."""
    replay_buffer_class: str | None = None
    """``'her'``: Hindsight Experience Replay on a goal-conditioned env
    (:class:`~plugrl.caching.HerReplayBuffer`; Stable-Baselines3's name, whose class is accepted
    too, with ``replay_buffer_kwargs=dict(n_sampled_goal=..., goal_selection_strategy=...)``);
    None: the uniform (or prioritized) buffer."""
    n_sampled_goal: int = 4
    """HER: relabelled transitions per real one (SB3's name and default)."""
    goal_selection_strategy: str = "future"
    """HER: where relabelled goals come from, ``'future'``, ``'final'`` or ``'episode'`` (SB3's)."""

    def validate(self) -> OffPolicyConfig:
        """Check every field; return ``self``."""
        check_unit_interval(self.gamma, "gamma")
        check_unit_interval(self.tau, "tau")
        if not float(self.tau) > 0:
            raise ValueError(f"tau: expected a float in (0, 1], got {self.tau}")
        if 0.5 < float(self.tau) < 1.0:
            raise ValueError(
                f"tau: expected a float in (0, 0.5] or 1, got {self.tau}, which is ambiguous: plugrl's "
                f"tau (Stable-Baselines3's) is the weight of the online weights, so targets would move "
                f"{float(self.tau):.1%} of the way each update; pyrado's tau is the weight of the old "
                f"target, meaning tau={1 - float(self.tau):.4g} here. For pyrado's meaning pass "
                f"tau_target={self.tau}")
        for name in ("memory_size", "batch_size", "train_freq", "bootstrap_n", "num_envs",
                     "eval_episodes"):
            check_positive_int(getattr(self, name), name)
        if self.num_updates_per_step is not None:
            check_positive_int(self.num_updates_per_step, "num_updates_per_step")
        if self.num_envs > self.memory_size:
            raise ValueError(f"num_envs: expected at most memory_size = {self.memory_size} (each "
                             f"env keeps memory_size // num_envs transitions), got {self.num_envs}")
        if self.num_init_memory_steps is not None and int(self.num_init_memory_steps) < 0:
            raise ValueError(f"num_init_memory_steps: expected an int >= 0, got "
                             f"{self.num_init_memory_steps}")
        if self.batch_size > self.memory_size:
            raise ValueError(f"batch_size: expected at most memory_size = {self.memory_size}, "
                             f"got {self.batch_size}")
        check_training_setup(self)
        if self.replay_buffer_class not in (None, "her"):
            raise ValueError(f"replay_buffer_class: expected None or 'her' (or plugrl.caching."
                             f"HerReplayBuffer), got {self.replay_buffer_class!r}")
        check_positive_int(self.n_sampled_goal, "n_sampled_goal")
        check_choice("goal_selection_strategy", self.goal_selection_strategy, ("future", "final", "episode"))
        if self.replay_buffer_class == "her" and self.bootstrap_n != 1:
            raise ValueError(f"bootstrap_n: expected 1 with replay_buffer_class='her' (one-step "
                             f"returns, as Stable-Baselines3's HER), got {self.bootstrap_n}")
        return self


@dataclasses.dataclass(frozen=True)
class DQNConfig(OffPolicyConfig):
    """Hyperparameters of :class:`~plugrl.agents.DQN`.

    Defaults are Stable-Baselines3's except three, which are tuned for Atari's 10M steps: with
    them ``DQN(env).fit(15_000)`` did not learn an 8-cell corridor (0 of 3 seeds; one target copy
    every 10 000 steps, exploration over 10% of training). Here the target is copied every 500
    env steps, epsilon decays over 30% of training and ``lr`` is 5e-4 (pyrado's); the corridor
    then learns (4 of 4 seeds). The presets set all three explicitly for the benchmark envs.
    """

    lr: LearningRate = 5e-4
    """Learning rate (Stable-Baselines3: 1e-4)."""

    batch_size: int = 32
    """Transitions per gradient step."""
    train_freq: int = 4
    """Env steps (per env) collected between two rounds of updates (alias ``min_steps``)."""
    target_update_intvl: int = 500
    """Env steps between two target updates (alias ``target_update_interval``, counted as in
    Stable-Baselines3, whose default is 10 000; :class:`DQLConfig` counts gradient steps, as
    pyrado)."""
    eps_init: float = 1.0
    """Initial exploration rate of the epsilon-greedy policy (alias ``exploration_initial_eps``)."""
    eps_final: float = 0.05
    """Final exploration rate (alias ``exploration_final_eps``)."""
    exploration_fraction: float = 0.3
    """Fraction of ``total_steps`` over which epsilon decays linearly to ``eps_final``
    (Stable-Baselines3: 0.1)."""
    eps_schedule_gamma: float | None = None
    """pyrado's exponential decay instead: epsilon is ``max(eps_final, eps_init *
    eps_schedule_gamma ** steps)`` (1 keeps it constant)."""
    double_q: bool = False
    """Double Q-learning: the online network picks the bootstrap action, the target values it."""
    dueling: bool = False
    """Dueling heads: Q(s, a) = V(s) + A(s, a) - mean of A(s, .) over the actions."""
    prioritized_replay: bool = False
    """Proportional prioritized replay with importance weights."""
    prioritized_replay_alpha: float = 0.6
    """How strongly priorities skew sampling (0: uniform)."""
    prioritized_replay_beta: float = 0.4
    """Initial importance-weight exponent, annealed linearly to 1 over training."""
    loss: str = "huber"
    """TD loss: ``'huber'`` (smooth L1, as SB3 and pyrado) or ``'mse'``."""

    def validate(self) -> DQNConfig:
        """Check every field; return ``self``."""
        super().validate()
        check_positive_int(self.target_update_intvl, "target_update_intvl")
        for name in ("eps_init", "eps_final", "exploration_fraction", "prioritized_replay_beta"):
            check_unit_interval(getattr(self, name), name)
        if self.eps_schedule_gamma is not None:
            check_unit_interval(self.eps_schedule_gamma, "eps_schedule_gamma")
        if not float(self.prioritized_replay_alpha) >= 0:
            raise ValueError(f"prioritized_replay_alpha: expected a float >= 0, got "
                             f"{self.prioritized_replay_alpha}")
        check_choice("loss", self.loss, ("huber", "mse"))
        if self.prioritized_replay and self.replay_buffer_class == "her":
            raise ValueError("prioritized_replay: expected False with replay_buffer_class='her' "
                             "(HER samples uniformly), got True")
        return self


@dataclasses.dataclass(frozen=True)
class DQLConfig(DQNConfig):
    """Hyperparameters of :class:`~plugrl.agents.DQL`: pyrado's ``DQL`` defaults and meanings.

    Where they differ from :class:`DQNConfig`: ``target_update_intvl`` counts *gradient steps*
    (the target is copied at every multiple), epsilon decays per *iteration* (round of updates)
    as :math:`\\epsilon_\text{final} + (\\epsilon_\text{init} - \\epsilon_\text{final})\\,
    \\gamma_\\epsilon^k` after ``k`` iterations (pyrado's ``EpsGreedyExplStrat``), the buffer is
    filled completely before learning (``num_init_memory_steps=None``) and
    ``num_updates_per_step=None`` is pyrado's heuristic.
    """

    memory_size: int = 10_000
    """Capacity of the replay buffer (pyrado has no default; 10 000 keeps the initial fill short)."""
    batch_size: int = 256
    """Transitions per gradient step (pyrado)."""
    num_init_memory_steps: int | None = None
    """Random steps before learning; None fills the buffer completely (pyrado)."""
    train_freq: int = 1
    """Env steps (per env) per iteration (pyrado's ``min_steps``)."""
    num_updates_per_step: int | None = None
    """Gradient steps per iteration; None: pyrado's heuristic (see :class:`OffPolicyConfig`)."""
    target_update_intvl: int = 5
    """Gradient steps between two copies of the Q-network to its target (pyrado)."""
    eps_schedule_gamma: float | None = 0.999
    """Decay of epsilon per iteration (pyrado; 1 keeps it at ``eps_init``)."""
    lr: LearningRate = 5e-4
    """Learning rate (pyrado)."""
    max_grad_norm: float | None = 0.5
    """Clip gradients to this global norm (pyrado)."""


@dataclasses.dataclass(frozen=True)
class SACConfig(OffPolicyConfig):
    """Hyperparameters of :class:`~plugrl.agents.SAC` (defaults: Stable-Baselines3's SAC)."""

    tau: float = 0.005
    """Polyak weight of the online Q weights in a target update (pyrado's ``tau`` is ``1 - tau``)."""
    target_update_intvl: int = 1
    """Gradient steps between two target updates (alias ``target_update_interval``)."""
    lr: LearningRate = 3e-4
    """Learning rate of the actor, the critics and the entropy coefficient."""
    max_grad_norm: float | None = None
    """Clip each network's gradients to this global norm (None: no clipping, as SB3)."""
    hidden_sizes: tuple[int, ...] = (256, 256)
    """Hidden layer sizes of the default actor and critic MLPs."""
    ent_coeff_init: float = 1.0
    """Initial entropy coefficient alpha (alias ``ent_coef_init``)."""
    learn_ent_coeff: bool = True
    """Adapt alpha so that the policy's entropy tracks ``target_entropy``."""
    target_entropy: float | None = None
    """Entropy target; None: -dim(A) for Box actions, 0.5 log(n) for ``n``
    discrete actions."""
    rew_scale: float = 1.0
    """Rewards (the batches' n-step returns ``Rn``) are multiplied by this factor in the update."""
    standardize_rew: bool = False
    """Standardise each batch's n-step rewards to zero mean and unit variance (pyrado)."""

    def validate(self) -> SACConfig:
        """Check every field; return ``self``."""
        super().validate()
        check_positive_int(self.target_update_intvl, "target_update_intvl")
        if not float(self.ent_coeff_init) > 0:
            raise ValueError(f"ent_coeff_init: expected a float > 0, got {self.ent_coeff_init}")
        if not (float(self.rew_scale) > 0 and float(self.rew_scale) < float("inf")):
            raise ValueError(f"rew_scale: expected a finite float > 0, got {self.rew_scale}")
        return self


def init_memory_steps(config: OffPolicyConfig) -> int:
    """Env steps of random actions before learning: ``num_init_memory_steps``, or the whole
    buffer (``memory_size``) where it is None (pyrado)."""
    n = config.num_init_memory_steps
    return config.memory_size if n is None else int(n)
