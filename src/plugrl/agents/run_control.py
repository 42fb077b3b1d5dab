"""Running an agent as the seeds do: DeepChem's ``restore`` and checkpoints written by ``fit``
into ``model_dir``, pyrado's ``train(snapshot_mode)``.

:class:`CheckpointSchedule` decides when ``fit`` writes a checkpoint: every so many env steps,
every so many seconds, and at the end of each call when the agent has a ``model_dir``.
"""

from __future__ import annotations

import os
import pathlib
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from plugrl._backend import prng_key
from plugrl.samplers import RolloutSampler
from plugrl.samplers.ray_sampler import make_ray_sampler
from plugrl.samplers.ray_workers import RayVectorEnv
from plugrl.utils.pickling import Rebuildable
from plugrl.utils.validation import check_positive_int

__all__ = ["CheckpointSchedule", "RunControl", "check_logger", "check_not_a_directory", "log_record",
           "model_dir_argument"]

# Wall-clock intervals a DeepChem user is likely to pass as checkpoint_interval (its default 600).
_MINUTE = 60


class CheckpointSchedule:
    """When one call of ``fit`` writes checkpoints, and where.

    Parameters
    ----------
    agent : BaseAgent
        Its ``model_dir`` is the directory; without one, an interval makes a temporary
        directory, which becomes the agent's ``model_dir`` (DeepChem's behaviour).
    keep : int
        How many of the run's newest checkpoints to keep.
    interval : int, optional
        Env steps between checkpoints.
    seconds : float, optional
        Wall-clock seconds between checkpoints.
    overwrite : bool
        Delete another run's checkpoints in the directory instead of refusing to start.
    """

    def __init__(self, agent: Any, keep: int, interval: int | None, seconds: float | None,
                 overwrite: bool) -> None:
        from plugrl.agents.persistence import claim_directory

        self.agent, self.keep = agent, check_positive_int(keep, "max_checkpoints_to_keep")
        self.interval = None if interval is None else _check_interval(interval)
        if seconds is not None and not float(seconds) > 0:
            raise ValueError(f"checkpoint_seconds: expected None or a float > 0, got {seconds!r}")
        self.seconds = seconds
        if agent.model_dir is None and (interval or seconds):
            agent.model_dir = tempfile.mkdtemp(prefix="plugrl-model-")
        self.directory = agent.model_dir
        if self.directory is not None:
            claim_directory(agent, self.directory, overwrite)
        self._next_step = _next_multiple(agent.num_steps, self.interval)
        self._last_time = time.monotonic()

    def after_iteration(self) -> None:
        """Write a checkpoint if one is due."""
        steps_due = self.interval is not None and self.agent.num_steps >= self._next_step
        time_due = self.seconds is not None and time.monotonic() - self._last_time >= self.seconds
        if steps_due or time_due:
            self._save()

    def finish(self) -> None:
        """The checkpoint at the end of ``fit`` (when there is a directory)."""
        if self.directory is not None:
            self._save()

    def _save(self) -> None:
        from plugrl.agents.persistence import save_agent

        save_agent(self.agent, self.directory, keep_last=self.keep)
        self._next_step = _next_multiple(self.agent.num_steps, self.interval)
        self._last_time = time.monotonic()


class RunControl(Rebuildable):
    """Running, saving and restoring an agent beyond ``fit``: DeepChem's :meth:`restore`,
    pyrado's :meth:`train` and :meth:`reset`, :meth:`save`, :meth:`load` and pickling (mixed
    into :class:`~plugrl.agents.base.BaseAgent`)."""

    AGENT_TYPE: ClassVar[str]
    model_dir: str | None
    max_iter: int | None
    run_id: str | None
    seed: int

    fit: Callable[..., Any]  # BaseAgent.fit
    envs: Any
    sampler: Any
    num_steps: int
    curr_iter: int
    history: list[dict[str, float]]
    _rng: np.random.Generator
    _key: Any
    _steps_per_iteration: Callable[[], int]

    #: pyrado's algorithm name: the agent type in lower case (``'ppo'``, ``'sac'``, ``'dql'``).
    name: ClassVar[str] = "agent"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" not in vars(cls) and "AGENT_TYPE" in vars(cls):
            cls.name = cls.AGENT_TYPE.lower()

    def reset(self, seed: int | None = None) -> Any:
        """Start training afresh, keeping what was learned (pyrado's ``reset``): the step and
        iteration counts, the history, the environments' episodes and the agent's memory (an
        off-policy agent's replay buffer) start again, and so do exploration schedules that
        follow the step count; the weights and the optimizer state stay. With ``seed``, the
        agent's generators and environments are seeded from it (``agent.seed`` becomes it).
        The agent then starts a new run: its checkpoints are no longer the old run's."""
        if seed is not None:
            self.seed = int(seed)
            self._seed_generators()
        self.sampler = self._make_sampler()
        self.num_steps, self.curr_iter, self.history = 0, 0, []
        self.run_id = uuid.uuid4().hex
        self._reset_memory()
        return self

    def _reset_memory(self) -> None:
        """What :meth:`reset` clears beyond the common parts (an off-policy agent's buffer)."""

    def _make_sampler(self) -> RolloutSampler:
        """The sampler of the agent's environments, seeded by ``seed``: made at construction and
        again by :meth:`reset`, with the family's :meth:`_sampler_options`; for Ray actors a
        :class:`~plugrl.samplers.ray_sampler.RaySampler` acting with :meth:`remote_policy`."""
        if isinstance(self.envs, RayVectorEnv):
            return make_ray_sampler(self.envs, self._steps_per_iteration(), self.seed,
                                    self.remote_policy(), **self._sampler_options())
        return RolloutSampler(self.envs, self._steps_per_iteration(), seed=self.seed,
                              **self._sampler_options())

    def remote_policy(self) -> Any:
        """The policy of Ray's actors (a :class:`~plugrl.samplers.ray_sampler.RemotePolicy`)."""
        raise ValueError(f"vectorization: expected 'sync', 'async' or 'auto' for {type(self).__name__} "
                         "('ray' collects for the on-policy and off-policy agents), got 'ray'")

    def _sampler_options(self) -> dict[str, Any]:
        """Keywords of :class:`~plugrl.samplers.RolloutSampler` beyond the common ones."""
        return {}

    def _seed_generators(self) -> None:
        """The agent's NumPy generator and JAX key, from ``seed`` (at construction and by
        :meth:`reset` with a seed)."""
        self._rng = np.random.default_rng(self.seed)
        self._key = prng_key(self.seed)

    def save(self, path: str) -> str:
        """Save the agent (weights, optimizer, configuration, counters, ...) to ``path``."""
        from plugrl.agents.persistence import save_agent_to

        return str(save_agent_to(self, path))

    def __getstate__(self) -> dict[str, Any]:
        """Constructor arguments and the files of a checkpoint (the one source of what an
        agent's state is): unpickling builds the agent again and restores the checkpoint."""
        from plugrl.agents.persistence import checkpoint_files

        return {"_init_args": self.__dict__["_init_args"], "checkpoint": checkpoint_files(self)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        from plugrl.agents.persistence import restore_checkpoint_files

        self._construct_again(state["_init_args"])
        restore_checkpoint_files(self, state["checkpoint"])

    @classmethod
    def load(cls, path: str, **env_overrides: Any) -> Any:
        """Load an agent saved with :meth:`save` (or a checkpoint of ``fit``)."""
        from plugrl.agents.persistence import load_agent

        return load_agent(cls, path, **env_overrides)

    def steps_per_iteration(self) -> int:
        """Env steps (over all environments) that one iteration of ``fit`` collects."""
        return self._steps_per_iteration() * self.envs.num_envs

    def train(self, snapshot_mode: str = "latest", seed: int | None = None) -> Any:
        """pyrado's entry point: ``max_iter`` iterations of :meth:`fit`.

        Parameters
        ----------
        snapshot_mode : {'latest', 'best', 'no'}
            ``'latest'``: a checkpoint of the run in ``save_dir`` after every iteration (the
            newest kept); ``'best'``: the agent with the best mean return so far saved as
            ``save_dir/best`` (see :meth:`save`); ``'no'``: nothing written.
        seed : int, optional
            pyrado seeds here; plugrl seeds at construction, so this must be None or the
            agent's own seed.
        """
        from plugrl.agents.persistence import save_agent_to

        if snapshot_mode not in ("latest", "best", "no"):
            raise ValueError(f"snapshot_mode: expected 'latest', 'best' or 'no', got {snapshot_mode!r}")
        if seed is not None and int(seed) != self.seed:
            raise ValueError(f"seed: plugrl seeds an agent at construction (seed={self.seed}); "
                             f"build the agent with seed={seed} instead of train(seed={seed})")
        if self.max_iter is None:
            raise ValueError("max_iter: expected an int > 0 given at construction for train(), got None")
        if snapshot_mode != "no" and self.model_dir is None:
            raise ValueError(f"save_dir: expected a directory for snapshot_mode={snapshot_mode!r}, "
                             "got None (pass save_dir=... at construction, or snapshot_mode='no')")
        best = -float("inf")

        def snapshot(agent: Any, record: dict) -> None:
            nonlocal best
            if snapshot_mode == "best" and record["mean_return"] > best:
                best = record["mean_return"]
                save_agent_to(agent, pathlib.Path(str(agent.model_dir)) / "best")

        interval = 1 if snapshot_mode == "latest" else None
        return self.fit(None, 1, interval, callback=snapshot)

    def restore(self, checkpoint: str | None = None) -> Any:
        """Load a checkpoint into the agent (DeepChem's ``restore``): by default the newest of
        this run in ``model_dir``, or of the one run that directory holds; the agent takes over
        that run, so ``fit`` continues it.

        Raises
        ------
        FileNotFoundError
            When there is no checkpoint to restore.
        """
        from plugrl.agents.persistence import latest_agent_checkpoint, restore_agent

        if checkpoint is None:
            if self.model_dir is None:
                raise FileNotFoundError("restore: expected a model_dir (or save_dir) given at "
                                        "construction, or a checkpoint path, got neither")
            path = latest_agent_checkpoint(self.model_dir, self.run_id)
            if path is None:
                raise FileNotFoundError(f"restore: no checkpoint in model_dir {self.model_dir}; "
                                        "train without restore=True to start a new run")
            checkpoint = str(path)
        restore_agent(self, checkpoint)
        return self



def model_dir_argument(model_dir: Any, save_dir: Any) -> str | None:
    """The checkpoint directory from DeepChem's ``model_dir`` or its pyrado alias ``save_dir``."""
    if model_dir is not None and save_dir is not None:
        raise TypeError(f"model_dir: got both model_dir={model_dir!r} and its alias "
                        f"save_dir={save_dir!r}; give one")
    directory = model_dir if model_dir is not None else save_dir
    return None if directory is None else os.fspath(directory)


def check_not_a_directory(env: Any) -> Any:
    """``env``, unless it is a directory: pyrado's agents take ``(save_dir, env, ...)`` in that
    order, plugrl's take the env first."""
    if isinstance(env, str | os.PathLike) and pathlib.Path(env).is_dir():
        raise TypeError(f"env: expected an environment or a Gymnasium id, got the directory "
                        f"{os.fspath(env)!r}; pyrado's order (save_dir, env, policy, critic, ...) is "
                        "not plugrl's: pass the environment first and save_dir=... by keyword")
    return env


def check_logger(logger: Any) -> Any:
    """pyrado's step logger (``add_value`` and ``record_step``), a callable, or None."""
    if logger is None or callable(logger) or all(hasattr(logger, m) for m in ("add_value", "record_step")):
        return logger
    raise TypeError(f"logger: expected None, a callable logger(record) or pyrado's StepLogger "
                    f"(add_value and record_step), got {type(logger).__name__}")


def log_record(logger: Any, record: dict[str, float]) -> None:
    """Give one iteration's record to the logger of :func:`check_logger`."""
    if logger is None:
        return
    if hasattr(logger, "add_value"):
        for name, value in record.items():
            logger.add_value(name, value)
        logger.record_step()
    else:
        logger(record)


def _check_interval(interval: Any) -> int:
    """Steps between checkpoints; a value that looks like DeepChem's seconds warns."""
    looks_like_seconds = (not isinstance(interval, int)
                          or (interval % _MINUTE == 0 and interval <= 60 * _MINUTE))
    if isinstance(interval, float) and interval.is_integer():
        interval = int(interval)
    interval = check_positive_int(interval, "checkpoint_interval")
    if looks_like_seconds:
        warnings.warn(f"checkpoint_interval={interval} counts environment steps in plugrl "
                      f"(DeepChem's counts seconds): a checkpoint every {interval} env steps. For "
                      "wall-clock time pass checkpoint_seconds instead.", UserWarning, stacklevel=3)
    return interval


def _next_multiple(steps: int, interval: int | None) -> int:
    if not interval:
        return 0
    return (steps // interval + 1) * interval
