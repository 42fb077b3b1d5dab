"""``plugrl tune AGENT --env ID --grid lr=1e-3,3e-4 ...``: hyperparameter search on Ray Tune.

Each trial is a ``plugrl train`` run, with the train command's options, presets and run
directory (``<tune-dir>/<trial name>/``, holding ``run.json``, the agent, the learning curve);
the trials run as Ray Tune trials, on this machine or the cluster of ``--address``. The best
trial is the one with the highest final evaluation return (``run.json``'s
``eval_mean_return``); ``<tune-dir>/tune.json`` lists every trial.

A search space is ``--grid NAME=V1,V2,...`` (repeatable: the grid is their product) or a YAML
file (``--space``) mapping each hyperparameter to a list (a grid axis) or to one of
``{uniform: [low, high]}``, ``{loguniform: [low, high]}``, ``{choice: [...]}`` (sampled
``--samples`` times).
"""

from __future__ import annotations

import argparse
import pathlib
import re
from typing import Any

from plugrl.cli.console import EXIT_OK, UsageError
from plugrl.cli.rundir import read_json, write_json

__all__ = ["add_tune_parser", "run_trial", "run_tune", "search_space"]

#: The options of ``tune`` that its trials pass on to ``plugrl train``, with a value each.
_TRAIN_OPTIONS = ("env", "preset", "steps", "seed", "workers")
_SAMPLERS = ("uniform", "loguniform", "choice")


def add_tune_parser(subparsers: Any) -> None:
    """Add ``tune AGENT --env ID (--grid NAME=V1,V2 ... | --space FILE)``."""
    from plugrl.cli.options import add_hyperparameter_options
    from plugrl.cli.train import _positive_int
    from plugrl.cli.workers import add_workers_option

    parser = subparsers.add_parser(
        "tune", help="search hyperparameters on Ray Tune, each trial a 'plugrl train' run",
        description="Train one agent per point of a search space on Ray Tune (plugrl[ray]) and "
        "report the trial with the best final evaluation return.")
    parser.add_argument("agent", metavar="AGENT", help="the agent, as for 'plugrl train'")
    parser.add_argument("--env", required=True, metavar="ID", help="a Gymnasium id")
    parser.add_argument("--grid", action="append", default=[], metavar="NAME=V1,V2",
                        help="a grid axis: the values of one hyperparameter (repeatable)")
    parser.add_argument("--space", type=pathlib.Path, metavar="FILE",
                        help="a YAML search space: NAME: [values] or NAME: {uniform|loguniform: "
                        "[low, high]} or {choice: [values]}")
    parser.add_argument("--samples", type=_positive_int, default=1, metavar="N",
                        help="draws of the space's sampled hyperparameters (default: 1)")
    parser.add_argument("--preset", metavar="NAME", default="default",
                        help="the starting configuration, as for 'plugrl train'")
    parser.add_argument("--steps", type=_positive_int, metavar="N", help="env steps per trial")
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="every trial's seed")
    parser.add_argument("--tune-dir", type=pathlib.Path, metavar="DIR",
                        help="where the trials' run directories go (default: runs/tune-<agent>-<env>)")
    add_workers_option(parser)
    add_hyperparameter_options(parser)
    parser.set_defaults(handler=run_tune)


def search_space(grid: list[str], space_file: pathlib.Path | None) -> dict[str, Any]:
    """The search space as plain data: ``{name: [values]}`` for a grid axis, ``{name:
    {sampler: args}}`` for a sampled one; values are parsed by the field's type.

    Raises
    ------
    UsageError
        On a malformed ``--grid``, an unreadable ``--space`` file, an unknown hyperparameter or
        a value that does not fit its field.
    """
    import yaml

    from plugrl.agents.presets import coerce_field

    space: dict[str, Any] = {}
    if space_file is not None:
        try:
            loaded = yaml.safe_load(space_file.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as error:
            raise UsageError(f"--space: expected a readable YAML file, got {space_file} ({error})") from error
        if not isinstance(loaded, dict):
            raise UsageError(f"--space: expected a mapping of hyperparameters, got {type(loaded).__name__}")
        space.update({str(k): _space_axis(str(k), v) for k, v in loaded.items()})
    for item in grid:
        name, sep, text = item.partition("=")
        if not sep or not text:
            raise UsageError(f"--grid: expected NAME=V1,V2,..., e.g. lr=1e-3,3e-4, got {item!r}")
        try:
            space[name.strip()] = [coerce_field(name.strip(), v) for v in text.split(",")]
        except TypeError as error:
            raise UsageError(f"--grid {item}: {error}") from error
    if not space:
        raise UsageError("--grid/--space: expected a search space, got neither")
    return space


def _space_axis(name: str, value: Any) -> Any:
    if isinstance(value, list) and value:
        return value
    if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in _SAMPLERS:
        return value
    raise UsageError(f"--space: {name}: expected a list of values or one of "
                     f"{{{'|'.join(_SAMPLERS)}: ...}}, got {value!r}")


def run_tune(args: argparse.Namespace, console: Any) -> int:
    """Run ``plugrl tune``: check every trial's configuration, run the trials, print the table."""
    from plugrl.cli.train import plan_training
    from plugrl.samplers.ray_workers import init_ray

    space = search_space(args.grid, args.space)
    plan = plan_training(argparse.Namespace(**{**vars(args), "run_dir": None, "force": False}))
    tune_dir = (args.tune_dir or pathlib.Path("runs") /
                f"tune-{plan.agent_class.AGENT_TYPE.lower()}-{plan.env_id.replace('/', '_')}").resolve()
    for point in _grid_points(space):  # a bad value fails here, before any trial starts
        plan_training(argparse.Namespace(**{**vars(args), "run_dir": None, "force": False,
                                            "set_values": [*args.set_values, *_set_values(point)]}))
    ray = init_ray(getattr(args, "address", None))
    results = _tune(ray, space, _train_argv(args), tune_dir, args.samples, 1 + (args.workers or 0))
    trials = sorted((r.metrics for r in results if r.metrics and "run_dir" in r.metrics),
                    key=lambda m: -_sortable(m.get("eval_return")))
    if not trials:
        raise UsageError(f"tune: no trial finished; see the Ray Tune logs in {tune_dir / 'ray_results'}")
    write_json(tune_dir / "tune.json", {"agent": plan.agent_class.AGENT_TYPE, "env": plan.env_id,
                                        "space": space, "trials": trials, "best": trials[0]})
    _print_trials(console, trials, tune_dir)
    return EXIT_OK


def _tune(ray: Any, space: dict[str, Any], train_argv: list[str], tune_dir: pathlib.Path,
          samples: int, cpus: int) -> Any:
    from ray import tune

    param_space = {name: _tune_axis(tune, axis) for name, axis in space.items()}
    trainable = tune.with_resources(tune.with_parameters(run_trial, train_argv=train_argv,
                                                         tune_dir=str(tune_dir)), {"cpu": cpus})
    tuner = tune.Tuner(trainable, param_space=param_space,
                       tune_config=tune.TuneConfig(metric="eval_return", mode="max", num_samples=samples),
                       run_config=tune.RunConfig(name="ray_results", storage_path=str(tune_dir), verbose=0))
    return tuner.fit()


def _tune_axis(tune: Any, axis: Any) -> Any:
    if isinstance(axis, list):
        return tune.grid_search(axis)
    (sampler, values), = axis.items()
    return tune.choice(values) if sampler == "choice" else getattr(tune, sampler)(*values)


def run_trial(config: dict[str, Any], train_argv: list[str], tune_dir: str) -> None:
    """One trial, in a Ray Tune worker: ``plugrl train`` with the trial's hyperparameters into
    ``<tune_dir>/<trial name>``; reports ``eval_return`` (the final evaluation) to Tune."""
    from ray import tune
    from rich.console import Console

    from plugrl.cli.app import build_parser

    run_dir = pathlib.Path(tune_dir) / _trial_name(config)
    argv = [*train_argv, "--run-dir", str(run_dir), "--force", *(f"--set={s}" for s in _set_values(config))]
    args = build_parser().parse_args(argv)
    args.argv = argv
    args.handler(args, Console(quiet=True))
    info = read_json(run_dir / "run.json")
    tune.report({"eval_return": info["eval_mean_return"], "steps": info["steps"],
                 "config": {k: _plain(v) for k, v in config.items()}, "run_dir": str(run_dir)})


def _train_argv(args: argparse.Namespace) -> list[str]:
    """The ``plugrl train`` command line that every trial extends."""
    argv = ["train", args.agent, "--no-gif"]
    for name in _TRAIN_OPTIONS:
        value = getattr(args, name, None)
        if value is not None:
            argv += [f"--{name}", str(value)]
    return argv + [f"--set={item}" for item in args.set_values] + _field_options(args)


def _field_options(args: argparse.Namespace) -> list[str]:
    """The ``--<field>`` options given to ``tune``, as ``--set`` for the trials."""
    from plugrl.cli.options import hyperparameter_overrides

    given = hyperparameter_overrides(argparse.Namespace(**{**vars(args), "set_values": []}))
    return [f"--set={s}" for s in _set_values(given)]


def _set_values(config: dict[str, Any]) -> list[str]:
    return [f"{k}={_text(v)}" for k, v in config.items()]


def _text(value: Any) -> str:
    """A value as ``--set`` parses it back (a tuple as ``64,64``, None as ``none``)."""
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return "none" if value is None else str(value)


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _trial_name(config: dict[str, Any]) -> str:
    return re.sub(r"[^A-Za-z0-9_.=,+-]", "_", ",".join(f"{k}={_text(v)}" for k, v in sorted(config.items())))


def _grid_points(space: dict[str, Any]) -> list[dict[str, Any]]:
    """Every combination of the grid axes (a sampled axis is checked at its bounds)."""
    points: list[dict[str, Any]] = [{}]
    for name, axis in space.items():
        values = axis if isinstance(axis, list) else next(iter(axis.values()))
        points = [{**p, name: v} for p in points for v in values]
    return points


def _sortable(value: Any) -> float:
    return float("-inf") if value is None else float(value)


def _print_trials(console: Any, trials: list[dict[str, Any]], tune_dir: pathlib.Path) -> None:
    from rich.table import Table

    names = sorted({k for t in trials for k in t["config"]})
    table = Table(title=f"plugrl tune: {len(trials)} trials in {tune_dir}")
    for column in (*names, "eval return", "run directory"):
        table.add_column(column)
    for t in trials:
        ret = t.get("eval_return")
        table.add_row(*(_text(t["config"].get(n)) for n in names),
                      "-" if ret is None else f"{ret:.2f}", pathlib.Path(t["run_dir"]).name)
    console.print(table)
    best = trials[0]
    settings = ", ".join(f"{k}={_text(v)}" for k, v in best["config"].items())
    console.print(f"best: {settings} -> eval return {best.get('eval_return')} "
                  f"({best['run_dir']})", soft_wrap=True, markup=False)
