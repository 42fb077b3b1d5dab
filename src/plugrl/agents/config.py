"""Agent configuration: a frozen dataclass per agent, filled from keywords, presets or the CLI.

Names follow the seeds; an alias (``max_rollout_length`` for ``n_steps``) is accepted, a
misspelling is an error that lists the valid names.
"""

from __future__ import annotations

import dataclasses
import difflib
from typing import Any

from plugrl.agents.config_checks import (
    LearningRate,
    check_choice,
    check_optional_positive,
    check_schedule,
    check_training_setup,
)
from plugrl.agents.off_policy_config import (
    DQLConfig,
    DQNConfig,
    OffPolicyConfig,
    SACConfig,
    init_memory_steps,
)
from plugrl.utils.schedules import scheduled_lr
from plugrl.utils.validation import check_positive_int, check_unit_interval

__all__ = ["ALIASES", "ROLLOUT", "DQLConfig", "DQNConfig", "LearningRate", "OffPolicyConfig",
           "OnPolicyConfig", "SACConfig", "build_config", "init_memory_steps"]

#: Aliases from the seeds (pyrado, DeepChem) to plugrl's field names.
ALIASES = {
    "max_rollout_length": "n_steps",
    "eps_clip": "clip",
    "num_workers": "num_envs",
    "advantage_lambda": "gae_lambda",
    "lamda": "gae_lambda",
    "learning_rate": "lr",
    "n_epochs": "num_epoch",
    # DeepChem's A2C and PPO (seed 002).
    "discount_factor": "gamma",
    "value_weight": "vfcn_coeff",
    "entropy_weight": "entropy_coeff",
    "optimization_rollouts": "num_envs",
    "optimization_epochs": "num_epoch",
    "clipping_width": "clip",
    # Off-policy agents: Stable-Baselines3's names for the seeds' (pyrado's) parameters.
    "buffer_size": "memory_size",
    "learning_starts": "num_init_memory_steps",
    "gradient_steps": "num_updates_per_step",
    "min_steps": "train_freq",
    "target_update_interval": "target_update_intvl",
    "exploration_initial_eps": "eps_init",
    "exploration_final_eps": "eps_final",
    "n_step": "bootstrap_n",
    "ent_coef_init": "ent_coeff_init",
}


#: An on-policy agent's default ``batch_size`` meaning the whole rollout, ``n_steps * num_envs``
#: samples: one gradient step per rollout and epoch (A2C, REINFORCE), whatever the rollout's size.
ROLLOUT = "rollout"


@dataclasses.dataclass(frozen=True)
class OnPolicyConfig:
    """Hyperparameters of the on-policy agents (REINFORCE, A2C, PPO, PPO2).

    DeepChem's names (seed 002) are aliases: ``discount_factor`` (``gamma``), ``value_weight``
    (``vfcn_coeff``), ``entropy_weight`` (``entropy_coeff``), ``advantage_lambda``
    (``gae_lambda``), ``max_rollout_length`` (``n_steps``), ``optimization_rollouts``
    (``num_envs``: DeepChem's rollouts per iteration are plugrl's parallel environments, one
    rollout of ``n_steps`` each), ``optimization_epochs`` (``num_epoch``) and ``clipping_width``
    (``clip``). The defaults stay plugrl's (Stable-Baselines3's); DeepChem's differ
    (``entropy_weight=0.01``, ``value_weight=1.0``, ``advantage_lambda=0.98``,
    ``max_rollout_length=20``): pass them by name to get DeepChem's behaviour.
    """

    gamma: float = 0.99
    """Discount factor, in [0, 1] (alias ``discount_factor``)."""
    gae_lambda: float = 0.95
    """GAE's lambda, in [0, 1] (1: Monte Carlo advantages, 0: one-step TD errors; alias
    ``advantage_lambda``)."""
    n_steps: int = 128
    """Environment steps per env in one rollout (alias ``max_rollout_length``)."""
    num_envs: int = 1
    """Environments stepped in parallel, each giving one rollout of ``n_steps`` per iteration
    (aliases ``num_workers``, DeepChem's ``optimization_rollouts``)."""
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
    batch_size: int = 64
    """Minibatch size in samples, at most ``n_steps * num_envs`` (an explicit larger value is an
    error). ``0`` is DeepChem's "each rollout is one batch": minibatches of ``n_steps`` samples
    (the field then reads ``n_steps``; samples are shuffled across the rollouts of one
    iteration). When the user does not set it, the agent's default is fitted to the rollout
    (see :meth:`resolve_defaults`), so ``PPO(env, max_rollout_length=20)`` works."""
    num_epoch: int = 10
    """Passes over each rollout (aliases ``n_epochs``, DeepChem's ``optimization_epochs``)."""
    clip: float | str = 0.2
    """PPO's clipping parameter (aliases ``eps_clip``, DeepChem's ``clipping_width``);
    ``'lin_0.2'`` decays it linearly. Not TF-Agents' ``clip`` (clip actions): that is
    ``clip_actions``, and a bool here is an error."""
    clip_value: float | None = None
    """PPO2's value clipping range around the values recorded at collection time."""
    standardize_advantages: bool = True
    """Standardise advantages within each minibatch."""
    vfcn_coeff: float = 0.5
    """Weight of the value loss (alias ``value_weight``; DeepChem's default is 1.0)."""
    entropy_coeff: float = 0.0
    """Weight of the entropy bonus (alias ``entropy_weight``; DeepChem's default is 0.01)."""
    max_grad_norm: float | None = 0.5
    """Clip gradients to this global norm (None: no clipping)."""
    lr: LearningRate = 3e-4
    """Learning rate: a float, ``'lin_3e-4'`` (linear decay to 0) or a callable of progress.
    Setting it together with the agent's ``optimizer=`` is an error (the optimizer has its own)."""
    std_init: float = 1.0
    """Initial standard deviation of Gaussian policies (pyrado's ``std_init``): the policy's
    log-variance is the network's output plus :math:`2\\log\\sigma_0`, and a TF-Agents
    ``actor_network``'s learned log std starts at :math:`\\log\\sigma_0`."""
    clip_actions: bool = True
    """Clip ``Box`` actions to the action space's bounds before stepping the environment
    (TF-Agents' ``clip``); training uses the unclipped samples either way."""
    collect: bool = True
    """Emit the policy info at collection time (TF-Agents' ``collect``): ``agent.last_rollout``
    keeps each rollout with its log-probabilities, value predictions and distribution
    parameters, and ``agent.action`` returns them in ``PolicyStep.info``."""
    hidden_sizes: tuple[int, ...] = (64, 64)
    """Hidden layer sizes of the default MLP networks."""
    activation: str = "tanh"
    """Activation of the default MLP networks."""
    shared_network: bool = False
    """Share one body between the actor and the critic (image observations always share the
    default convolutional network, as Stable-Baselines3's ``CnnPolicy``)."""
    normalize_observations: bool = False
    """Standardise observations with running statistics (saved with the agent)."""
    recurrent: None | str = None  # None first: the CLI then reads "none" as None, not as a name
    """The default networks' recurrent cell: ``'lstm'``, ``'gru'`` or None (feed-forward MLPs).
    A recurrent network is ``n_lstm_layers`` cells of ``lstm_hidden_size`` units, then dense
    layers of ``hidden_sizes`` (sb3-contrib's ``MlpLstmPolicy`` with ``net_arch``); rollouts carry
    its state, and updates train on whole env sequences (minibatches of ``batch_size // n_steps``
    environments' rollouts, at least one)."""
    lstm_hidden_size: int = 64
    """Units of each recurrent cell (sb3-contrib's name; its default is 256)."""
    n_lstm_layers: int = 1
    """Stacked recurrent cells (sb3-contrib's name)."""
    sequence_length: int | None = None
    """Steps per training sequence of a recurrent network: None trains on whole rollout columns
    (backpropagation through all ``n_steps``); a divisor of ``n_steps`` cuts each column into
    chunks that start from the states recorded at collection (truncated backpropagation through
    time; RLlib's ``max_seq_len``), so minibatches hold ``batch_size // sequence_length`` of them."""
    enable_critic_lstm: bool = True
    """The critic has recurrent cells of its own (sb3-contrib's name); False: a feed-forward MLP
    critic. ``shared_network=True`` shares one recurrent body, as sb3-contrib's ``shared_lstm``."""
    policy_objective: str = "ppo"
    """``'ppo'`` (clipped surrogate) or ``'vanilla'`` (policy gradient, A2C and REINFORCE)."""
    eval_episodes: int = 10
    """Episodes per evaluation in ``fit`` callbacks and the CLI."""
    min_steps: int | None = None
    """pyrado's run size: at least this many env steps per iteration; when given, ``n_steps``
    becomes ``ceil(min_steps / num_envs)``. (For the off-policy agents ``min_steps`` is an alias
    of ``train_freq``.)"""
    min_rollouts: int | None = None
    """pyrado's run size: at least this many episodes end within each iteration's rollout, which
    grows by chunks of ``n_steps`` vector steps to a power-of-two number of chunks (so that the
    jitted update compiles for few shapes; see :class:`~plugrl.samplers.RolloutSampler`)."""

    @classmethod
    def resolve_defaults(cls, values: dict[str, Any], given: set[str]) -> dict[str, Any]:
        """The default ``batch_size`` fitted to the rollout when the user did not set it.

        An agent's default of :data:`ROLLOUT` is the whole rollout, ``n_steps * num_envs``
        samples (A2C and REINFORCE: one gradient step per rollout, as DeepChem's A2C); any other
        default is capped at that size, so ``PPO(env, max_rollout_length=20)`` works. A
        ``batch_size`` the user gave is left to :meth:`validate` (too large: an error).

        Parameters
        ----------
        values : dict
            The agent's defaults updated with the user's values, by field name.
        given : set of str
            The fields the user set.
        """
        if "batch_size" in given:
            return values
        full: dict[str, Any] = {f.name: f.default for f in dataclasses.fields(cls)} | values
        try:
            num_envs = int(full["num_envs"])
            min_steps = full["min_steps"]
            n_steps = int(full["n_steps"]) if min_steps is None else -(-int(min_steps) // num_envs)
            samples = n_steps * num_envs
        except (TypeError, ValueError, ZeroDivisionError):  # validate names the bad value
            return values
        default = full["batch_size"]
        return {**values, "batch_size": samples if default == ROLLOUT else max(1, min(int(default), samples))}

    def __post_init__(self) -> None:
        if self.min_steps is not None:  # pyrado's run size sets the rollout's length
            check_positive_int(self.min_steps, "min_steps")
            check_positive_int(self.num_envs, "num_envs")
            object.__setattr__(self, "n_steps", -(-self.min_steps // self.num_envs))
        # DeepChem's batch_size=0, "each rollout is one batch", read as the rollout's length.
        if type(self.batch_size) is int and self.batch_size == 0:
            object.__setattr__(self, "batch_size", self.n_steps)

    def validate(self) -> OnPolicyConfig:
        """Check every field; return ``self``."""
        check_unit_interval(self.gamma, "gamma")
        if self.min_rollouts is not None:
            check_positive_int(self.min_rollouts, "min_rollouts")
        check_unit_interval(self.gae_lambda, "gae_lambda")
        for name in ("n_steps", "num_envs", "batch_size", "num_epoch", "eval_episodes"):
            check_positive_int(getattr(self, name), name)
        if isinstance(self.clip, bool):
            raise ValueError(f"clip: expected PPO's clipping epsilon (a float or 'lin_<float>'), got "
                             f"{self.clip!r}; TF-Agents' clip (clip actions to the action space) is "
                             f"clip_actions={self.clip!r}")
        if not float(self.std_init) > 0:
            raise ValueError(f"std_init: expected a float > 0, got {self.std_init!r}")
        for name in ("clip_actions", "collect"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name}: expected a bool, got {getattr(self, name)!r}")
        if self.batch_size > self.n_steps * self.num_envs:
            raise ValueError(f"batch_size: expected at most n_steps * num_envs = "
                             f"{self.n_steps * self.num_envs} samples per rollout, got {self.batch_size}")
        check_schedule("clip", self.clip, positive=True)
        for name in ("vfcn_coeff", "entropy_coeff"):
            if not float(getattr(self, name)) >= 0:
                raise ValueError(f"{name}: expected a float >= 0, got {getattr(self, name)}")
        check_optional_positive("clip_value", self.clip_value)
        check_choice("policy_objective", self.policy_objective, ("ppo", "vanilla"))
        if self.recurrent is not None:
            check_choice("recurrent", self.recurrent, ("lstm", "gru"))
            if self.min_rollouts is not None:
                raise ValueError(f"min_rollouts: a recurrent policy trains on rollouts of n_steps; "
                                 f"expected None, got {self.min_rollouts}")
        for name in ("lstm_hidden_size", "n_lstm_layers"):
            check_positive_int(getattr(self, name), name)
        if self.sequence_length is not None:
            check_positive_int(self.sequence_length, "sequence_length")
            if self.n_steps % self.sequence_length:
                raise ValueError(f"sequence_length: expected a divisor of n_steps={self.n_steps}, "
                                 f"got {self.sequence_length}")
        if not isinstance(self.enable_critic_lstm, bool):
            raise ValueError(f"enable_critic_lstm: expected a bool, got {self.enable_critic_lstm!r}")
        check_training_setup(self)
        return self


def build_config(config_class: type, defaults: dict[str, Any], overrides: dict[str, Any]) -> Any:
    """A validated config from class defaults, agent defaults and user overrides (aliases allowed).

    pyrado's ``lr_scheduler`` and ``lr_scheduler_hparam`` (seed 004), accepted by every agent,
    become the ``lr`` field: see :func:`~plugrl.utils.schedules.scheduled_lr`.
    """
    fields = {f.name for f in dataclasses.fields(config_class)}
    aliases = {alias for alias, canonical in ALIASES.items() if canonical in fields}
    values = dict(defaults)
    overrides = dict(overrides)
    if "tau_target" in overrides and "tau" in fields:
        if "tau" in overrides:
            raise TypeError(f"tau_target: expected either tau (the online weights' share) or tau_target "
                            f"(pyrado's tau, the old target's share), got both: tau={overrides['tau']}, "
                            f"tau_target={overrides['tau_target']}")
        tau_target = float(overrides.pop("tau_target"))
        if not 0.0 <= tau_target < 1.0:
            raise ValueError(f"tau_target: expected a float in [0, 1) (pyrado's tau), got {tau_target}")
        overrides["tau"] = 1.0 - tau_target
    lr_scheduler = overrides.pop("lr_scheduler", None)
    lr_scheduler_hparam = overrides.pop("lr_scheduler_hparam", None)
    for name, value in overrides.items():
        canonical = ALIASES.get(name, name) if name in aliases else name
        if canonical not in fields:
            close = difflib.get_close_matches(name, sorted(fields | aliases), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise TypeError(f"{name}: unknown hyperparameter{hint} Valid names: {sorted(fields)}")
        values[canonical] = value
    if "lr" in fields and (lr_scheduler is not None or lr_scheduler_hparam is not None):
        lr = values.get("lr", next(f.default for f in dataclasses.fields(config_class) if f.name == "lr"))
        values["lr"] = scheduled_lr(lr, lr_scheduler, lr_scheduler_hparam)
    if "hidden_sizes" in values:
        values["hidden_sizes"] = tuple(values["hidden_sizes"])
    resolve = getattr(config_class, "resolve_defaults", None)
    if resolve is not None:
        values = resolve(values, given={ALIASES.get(n, n) if n in aliases else n for n in overrides})
    return config_class(**values).validate()
