"""SVPG's configuration: the particle's on-policy hyperparameters and SVPG's own."""

from __future__ import annotations

import dataclasses

from plugrl.agents.config import OnPolicyConfig
from plugrl.utils.validation import check_positive_int

__all__ = ["PARTICLE_TYPES", "SVPGConfig"]

#: The on-policy agents a particle can be, by the names the configuration takes.
PARTICLE_TYPES = ("reinforce", "a2c", "ppo", "ppo2")


@dataclasses.dataclass(frozen=True)
class SVPGConfig(OnPolicyConfig):
    """The hyperparameters of :class:`~plugrl.agents.SVPG`: every field of
    :class:`~plugrl.agents.config.OnPolicyConfig`, which describe one particle (its defaults are
    those of the ``particle`` agent: A2C's 5 steps on 8 envs by default, per particle), and SVPG's
    own (pyrado's names)."""

    particle: str = "a2c"
    """The on-policy agent each particle is (its objective, networks and defaults): ``'a2c'``,
    ``'reinforce'``, ``'ppo'`` or ``'ppo2'``."""
    num_particles: int = 8
    """The number of policies trained together (pyrado's ``num_particles``)."""
    temperature: float = 1.0
    """SVPG's :math:`\\alpha` (pyrado's ``temperature``): the policy gradients are divided by it,
    so large values let the kernel's repulsion dominate (exploration), small ones the gradients."""

    def validate(self) -> SVPGConfig:
        """Check every field; return ``self``."""
        super().validate()
        if self.particle not in PARTICLE_TYPES:
            raise ValueError(f"particle: expected one of {list(PARTICLE_TYPES)} (or an on-policy agent "
                             f"class or instance), got {self.particle!r}")
        check_positive_int(self.num_particles, "num_particles")
        if not float(self.temperature) > 0:
            raise ValueError(f"temperature: expected a float > 0, got {self.temperature!r}")
        if self.normalize_observations:
            raise ValueError("normalize_observations: expected False for SVPG (the particles would "
                             "share one normaliser's statistics), got True")
        if self.vectorization == "ray":
            raise ValueError("vectorization: expected 'auto', 'sync' or 'async' for SVPG (its particles "
                             "act together in one process), got 'ray'")
        if self.recurrent is not None:
            raise ValueError(f"recurrent: expected None for SVPG (its particles are feed-forward "
                             f"policies), got {self.recurrent!r}")
        if self.min_rollouts is not None:
            raise ValueError(f"min_rollouts: expected None for SVPG (every particle's rollout has "
                             f"n_steps steps per env), got {self.min_rollouts!r}")
        return self
