"""Agent configuration: a frozen dataclass per agent, filled from keywords, presets or the CLI.

Names follow the seeds; an alias (``max_rollout_length`` for ``n_steps``) is accepted, a
misspelling is an error that lists the valid names.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable
from typing import Any

from plugrl.utils.validation import check_positive_int

__all__ = ["ALIASES", "OnPolicyConfig", "build_config"]

#: Aliases from the seeds (pyrado, DeepChem) to plugrl's field names.
ALIASES = {
    "max_rollout_length": "n_steps",
    "eps_clip": "clip",
    "num_workers": "num_envs",
    "advantage_lambda": "gae_lambda",
    "learning_rate": "lr",
    "n_epochs": "num_epoch",
}

LearningRate = float | str | Callable[[float], float]


@dataclasses.dataclass(frozen=True)
class OnPolicyConfig:
    """Hyperparameters of the on-policy agents (REINFORCE, A2C, PPO, PPO2)."""

    gamma: float = 0.99
    """Discount factor, in [0, 1]."""
    gae_lambda: float = 0.95
    """GAE's lambda, in [0, 1] (1: Monte Carlo advantages, 0: one-step TD errors)."""
    n_steps: int = 128
    """Environment steps per env in one rollout (alias ``max_rollout_length``)."""
    num_envs: int = 1
    """Environments stepped in parallel (alias ``num_workers``)."""
    vectorization: str = "sync"
    """How the environments run: ``'sync'`` (one process) or ``'async'`` (subprocesses)."""
    batch_size: int = 64
    """Minibatch size; at most ``n_steps * num_envs``."""
    num_epoch: int = 10
    """Passes over each rollout (alias ``n_epochs``)."""
    clip: float | str = 0.2
    """PPO's clipping parameter (alias ``eps_clip``); ``'lin_0.2'`` decays it linearly."""
    clip_value: float | None = None
    """PPO2's value clipping range around the values recorded at collection time."""
    standardize_advantages: bool = True
    """Standardise advantages within each minibatch."""
    vfcn_coeff: float = 0.5
    """Weight of the value loss."""
    entropy_coeff: float = 0.0
    """Weight of the entropy bonus."""
    max_grad_norm: float | None = 0.5
    """Clip gradients to this global norm (None: no clipping)."""
    lr: LearningRate = 3e-4
    """Learning rate: a float, ``'lin_3e-4'`` (linear decay to 0) or a callable of progress."""
    hidden_sizes: tuple[int, ...] = (64, 64)
    """Hidden layer sizes of the default MLP networks."""
    activation: str = "tanh"
    """Activation of the default MLP networks."""
    shared_network: bool = False
    """Share one body between the actor and the critic."""
    normalize_observations: bool = False
    """Standardise observations with running statistics (saved with the agent)."""
    policy_objective: str = "ppo"
    """``'ppo'`` (clipped surrogate) or ``'vanilla'`` (policy gradient, A2C and REINFORCE)."""
    eval_episodes: int = 10
    """Episodes per evaluation in ``fit`` callbacks and the CLI."""

    def validate(self) -> OnPolicyConfig:
        """Check every field; return ``self``."""
        _check_unit("gamma", self.gamma)
        _check_unit("gae_lambda", self.gae_lambda)
        for name in ("n_steps", "num_envs", "batch_size", "num_epoch", "eval_episodes"):
            check_positive_int(getattr(self, name), name)
        if self.batch_size > self.n_steps * self.num_envs:
            raise ValueError(f"batch_size: expected at most n_steps * num_envs = "
                             f"{self.n_steps * self.num_envs} samples per rollout, got {self.batch_size}")
        _check_schedule("clip", self.clip, positive=True)
        _check_schedule("lr", self.lr, positive=True)
        for name in ("vfcn_coeff", "entropy_coeff"):
            if not float(getattr(self, name)) >= 0:
                raise ValueError(f"{name}: expected a float >= 0, got {getattr(self, name)}")
        for name in ("max_grad_norm", "clip_value"):
            value = getattr(self, name)
            if value is not None and not float(value) > 0:
                raise ValueError(f"{name}: expected None or a float > 0, got {value}")
        _check_choice("vectorization", self.vectorization, ("sync", "async"))
        _check_choice("policy_objective", self.policy_objective, ("ppo", "vanilla"))
        if not self.hidden_sizes or any(int(h) < 1 for h in self.hidden_sizes):
            raise ValueError(f"hidden_sizes: expected positive layer sizes, got {self.hidden_sizes}")
        return self


def build_config(config_class: type, defaults: dict[str, Any], overrides: dict[str, Any]) -> Any:
    """A validated config from class defaults, agent defaults and user overrides (aliases allowed)."""
    fields = {f.name for f in dataclasses.fields(config_class)}
    values = dict(defaults)
    for name, value in overrides.items():
        canonical = ALIASES.get(name, name)
        if canonical not in fields:
            close = difflib.get_close_matches(name, sorted(fields | set(ALIASES)), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise TypeError(f"{name}: unknown hyperparameter{hint} Valid names: {sorted(fields)}")
        values[canonical] = value
    if "hidden_sizes" in values:
        values["hidden_sizes"] = tuple(values["hidden_sizes"])
    return config_class(**values).validate()


def _check_unit(name: str, value: Any) -> None:
    if not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"{name}: expected a float in [0, 1], got {value}")


def _check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name}: expected one of {list(choices)}, got {value!r}")


def _check_schedule(name: str, value: Any, positive: bool) -> None:
    if callable(value):
        return
    if isinstance(value, str):
        if not value.startswith("lin_"):
            raise ValueError(f"{name}: expected a float, 'lin_<float>' or a callable, got {value!r}")
        value = value[4:]
    if not float(value) > 0:
        raise ValueError(f"{name}: expected a value > 0, got {value}")
