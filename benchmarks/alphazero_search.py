"""AlphaZero's search on Connect Four: the batched, compiled search against keras-gym's
concept-level ``MCTSNode``, on the same network, and self-play positions per second.

- **Simulations per second.** ``MCTSNode`` (one position, NumPy, one network call per
  expansion through the ``ActorCritic``) searches the empty 6 x 7 board ``--node-sims`` times;
  ``batched_search`` (mctx, inside one ``jax.jit``) searches 1, 64 and 256 copies of it
  ``--sims`` times each, after a first call that compiles. Both evaluate leaves with the default
  :class:`ConnectFourFunctionApproximator` (three 3x3 convolutions of 32 channels, weights
  seeded alike). The ratio is simulations per second over the node's.
- **Self-play positions per second**: one round of :class:`SelfPlay` with AlphaZero's preset
  (``--games`` games at once, ``--sims`` simulations per move, Dirichlet noise), after a round
  that compiles; positions are the moves played.

Run: ``python benchmarks/alphazero_search.py`` (about a minute on 2 cores).
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp

import plugrl
from plugrl.agents.alphazero.config import AlphaZeroConfig
from plugrl.agents.alphazero.fast_self_play import SelfPlay
from plugrl.agents.alphazero.learner import AlphaZeroLearner
from plugrl.envs import ConnectFourEnv
from plugrl.envs.jax.connect_four import ConnectFour
from plugrl.planning import MCTSNode, batched_search


def node_rate(env: ConnectFourEnv, learner: AlphaZeroLearner, sims: int) -> float:
    """Simulations per second of keras-gym's MCTSNode with the learner's network."""
    ac = plugrl.ActorCritic(plugrl.SoftmaxPolicy(learner.func, update_strategy="cross_entropy"),
                            plugrl.V(learner.func, gamma=1.0))
    env.reset(seed=0)
    MCTSNode(env.state_id, ac).search(5)  # compiles the forward passes
    node = MCTSNode(env.state_id, ac, random_seed=0)
    start = time.perf_counter()
    node.search(sims)
    return sims / (time.perf_counter() - start)


def batched_rate(game: ConnectFour, self_play: SelfPlay, weights: object, num_games: int, sims: int) -> float:
    """Simulations per second (over all games) of the batched search."""
    states = jax.vmap(lambda _: game.initial_state())(jnp.arange(num_games))
    search = jax.jit(lambda key: batched_search(game, self_play.evaluate, weights, key, states, sims))
    jax.block_until_ready(search(jax.random.PRNGKey(0)))
    start = time.perf_counter()
    repeats = 3
    for i in range(repeats):
        jax.block_until_ready(search(jax.random.PRNGKey(i + 1)))
    return repeats * num_games * sims / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sims", type=int, default=64, help="simulations per move (batched, self-play)")
    parser.add_argument("--node-sims", type=int, default=400, help="simulations of the MCTSNode")
    parser.add_argument("--games", type=int, default=128, help="games self-played at once")
    args = parser.parse_args()

    env, game = ConnectFourEnv(), ConnectFour()
    config = AlphaZeroConfig(num_games=args.games, num_simulations=args.sims)
    learner = AlphaZeroLearner(env, config, seed=0)
    self_play = SelfPlay(game, learner.forward, config)

    node = node_rate(env, learner, args.node_sims)
    print(f"MCTSNode:                 {node:10.0f} simulations/s")
    for num_games in (1, 64, 256):
        rate = batched_rate(game, self_play, learner.weights, num_games, args.sims)
        print(f"batched_search, {num_games:3d} games: {rate:10.0f} simulations/s   {rate / node:7.1f}x")
    self_play.play(learner.weights, jax.random.PRNGKey(0))  # compiles
    start = time.perf_counter()
    positions, _ = self_play.play(learner.weights, jax.random.PRNGKey(1))
    rate = len(positions.Z) / (time.perf_counter() - start)
    print(f"self-play ({args.games} games, {args.sims} simulations per move): {rate:.0f} positions/s")


if __name__ == "__main__":
    main()
