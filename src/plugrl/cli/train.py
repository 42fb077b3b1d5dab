"""``plugrl train AGENT --env ID``: train an agent and write a run directory.

Everything the user typed is checked before anything is written: the agent, the preset, the
hyperparameters (by building the configuration), the run directory and the environment (by
constructing the agent). Only then is an old run replaced (with ``--force``).
"""

from __future__ import annotations

import argparse
import dataclasses
import pathlib
import time
from typing import TYPE_CHECKING, Any

from plugrl.cli.artifacts import TensorBoardLogger
from plugrl.cli.console import EXIT_INTERRUPTED, EXIT_OK, UsageError
from plugrl.cli.finish import finish_run
from plugrl.cli.options import add_hyperparameter_options, hyperparameter_overrides
from plugrl.cli.rundir import check_run_dir, clear_run_dir, write_json
from plugrl.cli.workers import add_workers_option, workers_overrides

if TYPE_CHECKING:  # the agents (and JAX) load only when a command needs them
    from plugrl.agents import BaseAgent

__all__ = ["DEFAULT_TOTAL_STEPS", "TrainPlan", "add_train_parser", "plan_training", "run_train"]

#: The budget when neither ``--steps`` nor a preset gives one.
DEFAULT_TOTAL_STEPS = 100_000


@dataclasses.dataclass(frozen=True)
class TrainPlan:
    """What ``plugrl train`` will do, resolved from the command line and the presets."""

    agent_class: type[BaseAgent]
    """The agent class (``plugrl.agents.PPO``, ...)."""
    env_id: str
    """The Gymnasium id."""
    seed: int
    """Seeds networks, environments and every random draw."""
    preset: str
    """The preset used: an env id, a YAML path, or ``'none'``."""
    config: dict[str, Any]
    """Hyperparameters passed to the agent: the preset's, then the command line's."""
    total_steps: int
    """The training budget in env steps."""
    run_dir: pathlib.Path
    """Where the run's artefacts go."""
    jax_env: bool = False
    """Train on the JAX environment of ``env_id`` (the fast path of the on-policy agents)."""
    seeds: tuple[int, ...] = ()
    """With ``jax_env``: train these seeds at once (``train_many``) instead of ``seed``."""
    checkpoints: bool = False
    """Checkpoints go to ``run_dir/checkpoints`` (the agent's ``model_dir``)."""
    resume: bool = False
    """Continue the run in ``run_dir`` from its newest checkpoint, to the same total steps."""


def add_train_parser(subparsers: Any) -> None:
    """Add the ``train`` sub-command to ``subparsers``."""
    parser = subparsers.add_parser(
        "train", help="train an agent and save it with its learning curve, GIF and TensorBoard logs",
        description="Train an agent on a Gymnasium environment and write a run directory.")
    from plugrl.agents import AGENTS

    parser.add_argument("agent", metavar="AGENT", help=f"{', '.join(AGENTS)} (any case)")
    parser.add_argument("--env", required=True, metavar="ID",
                        help="a Gymnasium id, e.g. CartPole-v1; without its version (ConnectFour), "
                        "the highest registered one")
    parser.add_argument("--preset", metavar="NAME", default="default",
                        help="'default' (the preset for --env, if there is one), 'none' (the "
                        "agent's defaults), another env id's preset, or a YAML file")
    parser.add_argument("--steps", type=_positive_int, metavar="N",
                        help=f"env steps to train for (default: the preset's, else {DEFAULT_TOTAL_STEPS:,})")
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default: 0)")
    parser.add_argument("--run-dir", type=pathlib.Path, metavar="DIR",
                        help="output directory (default: runs/<agent>-<env>-seed<S>)")
    parser.add_argument("--force", action="store_true", help="replace a run already in --run-dir")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in --run-dir from its newest checkpoint (see "
                        "--checkpoint-interval) up to the same total --steps")
    parser.add_argument("--eval-interval", type=_positive_int, metavar="N",
                        help="also evaluate every N env steps (default: only at the end)")
    parser.add_argument("--checkpoint-interval", type=_positive_int, metavar="N",
                        help="write a checkpoint into <run-dir>/checkpoints every N env steps")
    parser.add_argument("--no-gif", action="store_true", help="do not record episode.gif")
    parser.add_argument("--jax", action="store_true",
                        help="train on the JAX version of --env, rollouts and updates compiled "
                        "together (on-policy agents; plugrl.envs.jax)")
    parser.add_argument("--seeds", type=_seed_list, metavar="LIST",
                        help="with --jax: train these seeds at once, e.g. 0-15 or 0,2,5; writes "
                        "their learning curves to <run-dir>/train_many.json")
    add_workers_option(parser)
    add_hyperparameter_options(parser)
    parser.set_defaults(handler=run_train)


def run_train(args: argparse.Namespace, console: Any) -> int:
    """Run ``plugrl train``; return the exit code (UsageError for bad input)."""
    plan = plan_training(args)
    check_run_dir(plan.run_dir, args.force or plan.resume)
    agent = _build_agent(plan)
    if plan.seeds:
        return _train_many(agent, plan, args, console)
    try:
        return _train_and_finish(agent, plan, args, console)
    finally:
        agent.close()  # async vectorization runs subprocesses


def _train_and_finish(agent: Any, plan: TrainPlan, args: argparse.Namespace, console: Any) -> int:
    """Replace an old run (checked and allowed), train, write the artefacts, print a summary."""
    if args.force:
        clear_run_dir(plan.run_dir)
    plan.run_dir.mkdir(parents=True, exist_ok=True)
    run_info = _run_info(plan, agent, args)
    write_json(plan.run_dir / "run.json", run_info)
    _print_plan(console, plan)
    tensorboard = TensorBoardLogger(plan.run_dir / "tensorboard")
    try:
        monitor, train_time, interrupted = _train(agent, plan, args, console, tensorboard)
        # still open: the final evaluation goes to TensorBoard too
        summary = finish_run(agent, plan, monitor, run_info, train_time, interrupted,
                             not args.no_gif, console)
    finally:
        tensorboard.close()
    _print_summary(console, summary)
    return EXIT_INTERRUPTED if interrupted else EXIT_OK


def plan_training(args: argparse.Namespace) -> TrainPlan:
    """Resolve the agent, preset, hyperparameters and run directory; validate the configuration.

    Raises
    ------
    UsageError
        On an unknown agent, preset or hyperparameter, or an invalid value.
    """
    from plugrl.agents import AGENTS
    from plugrl.agents.config import build_config
    from plugrl.agents.presets import canonical_agent_name
    from plugrl.cli.env_ids import resolve_env_id

    try:
        agent_name = canonical_agent_name(args.agent)
    except ValueError as error:
        raise UsageError(str(error)) from error
    env_id = resolve_env_id(args.env)
    preset_config, preset_steps, preset = _resolve_preset(agent_name, env_id, args.preset)
    config = workers_overrides(args, {**preset_config, **hyperparameter_overrides(args)})
    try:
        build_config(AGENTS[agent_name].CONFIG, AGENTS[agent_name].config_defaults(config), config)
    except (TypeError, ValueError) as error:
        raise UsageError(str(error)) from error
    total_steps = args.steps or preset_steps or DEFAULT_TOTAL_STEPS
    seeds = tuple(getattr(args, "seeds", None) or ())
    jax_env = bool(getattr(args, "jax", False))
    if seeds and not jax_env:
        raise UsageError("--seeds: expected --jax as well (many seeds train at once on the fast "
                         "path only)")
    resume = bool(getattr(args, "resume", False))
    if resume and (args.force or seeds):
        raise UsageError(f"--resume: expected neither --force nor --seeds with it, got "
                         f"{'--force' if args.force else '--seeds'}")
    if seeds and agent_name == "SVPG":
        raise UsageError("--seeds: SVPG's particles already train together; set their number "
                         "with --set num_particles=N")
    if jax_env and not hasattr(AGENTS[agent_name], "train_many"):
        raise UsageError(f"--jax: expected an on-policy agent (REINFORCE, A2C, PPO, PPO2), got "
                         f"{agent_name}")
    safe_env = env_id.replace("/", "_")  # namespaced ids (ALE/Pong-v5) are one path component
    run_dir = args.run_dir or pathlib.Path("runs") / f"{agent_name.lower()}-{safe_env}-seed{args.seed}"
    checkpoints = resume or bool(getattr(args, "checkpoint_interval", None))
    return TrainPlan(AGENTS[agent_name], env_id, args.seed, preset, config, total_steps, run_dir,
                     jax_env, seeds, checkpoints, resume)


def _resolve_preset(agent_name: str, env_id: str, name: str) -> tuple[dict[str, Any], int | None, str]:
    """The preset's configuration and budget, and its label for ``run.json``."""
    from plugrl.agents.presets import list_presets, load_preset, load_preset_file

    try:
        if name.lower() == "none":
            return {}, None, "none"
        if name.lower() == "default":
            if env_id not in list_presets()[agent_name]:
                return {}, None, "none"
            return (*load_preset(agent_name, env_id), env_id)
        if name.endswith((".yaml", ".yml")) or pathlib.Path(name).is_file():
            return (*load_preset_file(name, env_id, agent_name), str(name))
        return (*load_preset(agent_name, name), name)
    except (OSError, ValueError) as error:
        raise UsageError(f"--preset {name}: {error}") from error


def _build_agent(plan: TrainPlan) -> Any:
    """The agent; an unknown or broken environment is bad input, not a crash."""
    import gymnasium

    try:
        env: Any = plan.env_id
        if plan.jax_env:
            from plugrl.envs.jax import make

            env = make(plan.env_id)
        model_dir = plan.run_dir / "checkpoints" if plan.checkpoints else None
        return plan.agent_class(env, seed=plan.seed, model_dir=model_dir, **plan.config)
    # TypeError: an agent that refuses the kind of env, as AlphaZero does all but Connect Four
    except (ValueError, TypeError, gymnasium.error.Error) as error:
        raise UsageError(str(error)) from error


def _train(agent: Any, plan: TrainPlan, args: argparse.Namespace, console: Any,
           tensorboard: TensorBoardLogger) -> tuple[Any, float, bool]:
    """Fit with a progress bar; Ctrl-C stops training but keeps what was learned."""
    from plugrl.cli.board_games import plays_board_games
    from plugrl.cli.monitor import TrainingMonitor, make_progress

    interrupted = False
    if plan.resume:
        try:
            agent.restore()
        except (FileNotFoundError, ValueError) as error:
            raise UsageError(f"--resume: {error}") from error
    start = time.perf_counter()
    with make_progress(console) as progress:
        label = "first player's outcome" if plays_board_games(agent) else "mean return"
        monitor = TrainingMonitor(progress, plan.total_steps, tensorboard, args.eval_interval,
                                  agent.config.eval_episodes, label)
        try:
            if agent.num_steps < plan.total_steps:  # a resumed run trains what is left
                agent.fit(plan.total_steps - agent.num_steps, callback=monitor,
                          checkpoint_interval=args.checkpoint_interval)
        except KeyboardInterrupt:
            interrupted = True
    return monitor, time.perf_counter() - start, interrupted


def _train_many(agent: Any, plan: TrainPlan, args: argparse.Namespace, console: Any) -> int:
    """``--jax --seeds``: every seed at once; the curves go to ``train_many.json``."""
    from rich.table import Table

    if args.force:
        clear_run_dir(plan.run_dir)
    plan.run_dir.mkdir(parents=True, exist_ok=True)
    _print_plan(console, plan)
    start = time.perf_counter()
    many = agent.train_many(list(plan.seeds), plan.total_steps, eval_interval=args.eval_interval)
    seconds = time.perf_counter() - start
    curves = [{**run, "train_returns": _floats(many.train_returns[i]),
               "eval_returns": _floats(many.eval_returns[i])} for i, run in enumerate(many.runs)]
    write_json(plan.run_dir / "train_many.json", {
        **_run_info(plan, agent, args), "status": "finished", "seconds": seconds,
        "update_steps": many.update_steps.tolist(), "eval_steps": many.eval_steps.tolist(),
        "runs": curves})
    table = Table(title=f"plugrl train --jax: {len(many.runs)} seeds in {seconds:.1f} s")
    for column in ("seed", "last train return", "last eval return"):
        table.add_column(column, justify="right")
    for i, run in enumerate(many.runs):
        last_eval = many.eval_returns[i, -1] if many.eval_returns.shape[1] else float("nan")
        table.add_row(str(run["seed"]), f"{_last_finite(many.train_returns[i]):.1f}", f"{last_eval:.1f}")
    console.print(table)
    return EXIT_OK


def _floats(values: Any) -> list[float | None]:
    """JSON numbers, with NaN (no episode ended) as null."""
    return [None if v != v else float(v) for v in values]


def _last_finite(values: Any) -> float:
    finite = [float(v) for v in values if v == v]
    return finite[-1] if finite else float("nan")


def _run_info(plan: TrainPlan, agent: Any, args: argparse.Namespace) -> dict[str, Any]:
    import plugrl

    return {"status": "running", "agent": agent.AGENT_TYPE, "env": plan.env_id, "seed": plan.seed,
            "preset": plan.preset, "total_steps": plan.total_steps, "config": agent.config_dict(),
            "command": ["plugrl", *getattr(args, "argv", [])], "plugrl_version": plugrl.__version__,
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def _print_plan(console: Any, plan: TrainPlan) -> None:
    from rich.text import Text

    settings = ", ".join(f"{k}={v}" for k, v in plan.config.items()) or "the agent's defaults"
    console.print(Text.assemble(
        ("Training ", ""), (plan.agent_class.AGENT_TYPE, "bold"), " on ", (plan.env_id, "bold"),
        f" for {plan.total_steps:,} steps (seed {plan.seed}, preset {plan.preset})\n",
        f"hyperparameters: {settings}\n", f"run directory: {plan.run_dir}"), soft_wrap=True)


def _print_summary(console: Any, summary: dict[str, str]) -> None:
    from rich.table import Table

    table = Table(title="plugrl train", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    for key, value in summary.items():
        table.add_row(key, value)
    console.print(table)


def _seed_list(text: str) -> list[int]:
    """Seeds as ``0-15``, ``0,2,5`` or both (``0-3,8``)."""
    seeds: list[int] = []
    try:
        for part in text.split(","):
            first, sep, last = part.strip().partition("-")
            seeds += list(range(int(first), int(last) + 1)) if sep else [int(first)]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seeds such as 0-15 or 0,2,5, got {text!r}") from None
    if not seeds or len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"expected distinct seeds, got {text!r}")
    return seeds


def _positive_int(text: str) -> int:
    """An int >= 1; ``1e6`` is accepted, as budgets are often written so."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not (value >= 1 and value.is_integer()):
        raise argparse.ArgumentTypeError(f"expected an int >= 1, got {text!r}")
    return int(value)
