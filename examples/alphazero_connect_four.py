"""AlphaZero on Connect Four: train with a wall-clock budget, then measure it in the arena.

Training self-plays with the ``ConnectFour-v0`` preset and writes a checkpoint every
``--checkpoint-minutes``; evaluation plays each checkpoint (or the last) against the shipped
opponents, half the games with each colour, and prints wins, draws, losses and the score
(wins plus half the draws, over the games).

    python examples/alphazero_connect_four.py train --minutes 60 --model-dir runs/alphazero-c4
    python examples/alphazero_connect_four.py evaluate --model-dir runs/alphazero-c4 --games 200 \\
        --opponents random one_step_lookahead mcts

A smaller board (``--board 4 5 3``: 4 rows, 5 columns, three in a row) learns in seconds.
"""

from __future__ import annotations

import argparse
import time

from plugrl.agents import AlphaZero
from plugrl.agents.persistence import run_checkpoints
from plugrl.agents.presets import load_preset
from plugrl.envs import ConnectFourEnv


def train(minutes: float, model_dir: str | None = None, seed: int = 0,
          board: tuple[int, int, int] = (6, 7, 4), checkpoint_minutes: float = 5.0,
          verbose: bool = True, **overrides: object) -> AlphaZero:
    """Train for ``minutes`` of wall-clock time (the preset's budget at most); each iteration's
    record in ``agent.history`` gets the minutes elapsed (``"minutes"``)."""
    config, total_steps = load_preset("AlphaZero", "ConnectFour-v0")
    env = "ConnectFour-v0" if board == (6, 7, 4) else ConnectFourEnv(*board)
    agent = AlphaZero(env, seed=seed, model_dir=model_dir, **{**config, **overrides})
    start = time.monotonic()

    def until_time_is_up(agent: AlphaZero, record: dict) -> bool:
        record["minutes"] = (time.monotonic() - start) / 60
        if verbose:
            print(f"{record['minutes']:6.1f} min  {int(record['steps']):8d} moves  "
                  f"length {record['mean_length']:4.1f}  policy loss {record['AlphaZero/policy_loss']:.3f}  "
                  f"value loss {record['AlphaZero/value_loss']:.3f}  arena {record['arena_score']:.2f}  "
                  f"promotions {int(record['promotions'])}", flush=True)
        return record["minutes"] < minutes

    agent.fit(total_steps, max_checkpoints_to_keep=1000, callback=until_time_is_up,
              checkpoint_seconds=None if model_dir is None else 60 * checkpoint_minutes)
    return agent


def evaluate(agent: AlphaZero, opponents: list[str], games: int) -> dict[str, tuple[int, int, int, float]]:
    """Wins, draws, losses and score of ``agent`` against each opponent over ``games`` games."""
    results = {}
    for opponent in opponents:
        _, outcomes = agent.evaluate(games, opponent=opponent, return_episode_rewards=True)
        wins, losses = outcomes.count(1.0), outcomes.count(-1.0)
        draws = games - wins - losses
        results[opponent] = (wins, draws, losses, (wins + draws / 2) / games)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("train", "evaluate"))
    parser.add_argument("--model-dir", default=None, help="where checkpoints go (and are read from)")
    parser.add_argument("--minutes", type=float, default=10.0, help="training time")
    parser.add_argument("--checkpoint-minutes", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--board", type=int, nargs=3, default=(6, 7, 4), metavar=("ROWS", "COLS", "CONNECT"))
    parser.add_argument("--games", type=int, default=200, help="arena games per opponent (even)")
    parser.add_argument("--opponents", nargs="+", default=["random", "one_step_lookahead", "mcts"])
    parser.add_argument("--all-checkpoints", action="store_true", help="evaluate every checkpoint")
    args = parser.parse_args()
    if args.command == "train":
        agent = train(args.minutes, args.model_dir, args.seed, tuple(args.board), args.checkpoint_minutes)
        agents = [agent]
    else:
        if args.model_dir is None:
            parser.error("evaluate: expected --model-dir")
        paths = [p for run in run_checkpoints(args.model_dir).values() for p in run]
        agents = [AlphaZero.load(str(p)) for p in (paths if args.all_checkpoints else paths[-1:])]
    for agent in agents:
        minutes = agent.history[-1].get("minutes", float("nan")) if agent.history else 0.0
        for opponent, (wins, draws, losses, score) in evaluate(agent, args.opponents, args.games).items():
            print(f"{agent.num_steps:9d} moves {minutes:6.1f} min  vs {opponent:20s} "
                  f"W/D/L {wins:3d}/{draws:3d}/{losses:3d}  score {score:.3f}", flush=True)
        agent.close()


if __name__ == "__main__":
    main()
