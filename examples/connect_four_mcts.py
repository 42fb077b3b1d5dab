"""AlphaZero the keras-gym way: a plain loop of ``MCTSNode`` searches and ``ActorCritic`` updates.

keras-gym's concept-level objects, step for step: ``envs.ConnectFourEnv``, its
``predefined.ConnectFourFunctionApproximator`` shared by a ``SoftmaxPolicy`` with the
``'cross_entropy'`` update strategy and a ``V``, combined in an ``ActorCritic``; each episode a
``planning.MCTSNode`` searches before every move and plays it, and after the game the
actor-critic learns the search's visit distributions and the outcome of the game. At the end the
searching player meets a random one.

This is the loop to read; :class:`plugrl.agents.AlphaZero` does the same thousands of times
faster (many games searched at once, compiled). On the 4 x 5 board with three in a row
(``--board 4 5 3``) a few dozen games already beat the random player.

    python examples/connect_four_mcts.py --episodes 50 --board 4 5 3
"""

from __future__ import annotations

import argparse

import numpy as np

import plugrl


def self_play_game(env: plugrl.envs.ConnectFourEnv, ac: plugrl.ActorCritic, n: int,
                   seed: int) -> tuple[list, list, list]:
    """One game of the actor-critic against itself: the positions, the search's visit
    distributions and each position's outcome for the player to move there."""
    env.reset(seed=seed)
    node = plugrl.planning.MCTSNode(env.state_id, ac, tau=1.0, random_seed=seed)
    S, P, done, r = [], [], False, 0.0
    while not done:
        node.search(n=n)
        P.append(node.policy())
        s, a, r, done = node.play()
        S.append(s)
    # the last mover got r; the players alternate backwards from there
    Z = [r if (len(S) - 1 - t) % 2 == 0 else -r for t in range(len(S))]
    return S, P, Z


def play_against_random(env: plugrl.envs.ConnectFourEnv, ac: plugrl.ActorCritic, n: int,
                        games: int, seed: int) -> float:
    """The searching player's score (wins plus half the draws) against a random player,
    moving first in half of the games."""
    rng, score = np.random.default_rng(seed), 0.0
    for game in range(games):
        env.reset(seed=seed + game)
        searcher_to_move, done, r = game % 2 == 0, False, 0.0
        while not done:
            if searcher_to_move:
                node = plugrl.planning.MCTSNode(env.state_id, ac, random_seed=seed + game)
                node.search(n=n)
                a = int(np.argmax(node.N))
            else:
                a = int(rng.choice(env.available_actions))
            _, r, done, _, _ = env.step(a)
            searcher_to_move = not searcher_to_move
        # the mover of the last move got r; searcher_to_move flipped after it
        score += 0.5 if r == 0 else float(not searcher_to_move)
    return score / games


def main(episodes: int = 50, simulations: int = 32, board: tuple[int, int, int] = (4, 5, 3),
         eval_games: int = 20, seed: int = 0, verbose: bool = True) -> dict:
    """Train for ``episodes`` games of self-play; return ``{'score_before', 'score_after',
    'losses'}`` (scores against the random player)."""
    env = plugrl.envs.ConnectFourEnv(*board)
    func = plugrl.predefined.ConnectFourFunctionApproximator(env, lr=0.001, random_seed=seed)
    pi = plugrl.SoftmaxPolicy(func, update_strategy="cross_entropy", entropy_beta=0.0, random_seed=seed)
    v = plugrl.V(func, gamma=1.0, bootstrap_n=1)
    ac = plugrl.ActorCritic(pi, v)
    before = play_against_random(env, ac, simulations // 4, eval_games, seed + 10_000)
    losses = []
    for episode in range(episodes):
        S, P, Z = self_play_game(env, ac, simulations, seed + episode)
        # the outcome is the whole return: nothing to bootstrap from (In = 0)
        metrics = ac.batch_update(np.stack(S), np.stack(P), np.asarray(Z), np.zeros(len(S)), np.stack(S))
        losses.append(metrics["ActorCritic/loss"])
        if verbose:
            print(f"game {episode:4d}: {len(S):2d} moves, outcome for the first player "
                  f"{Z[0]:+.0f}, loss {losses[-1]:.3f}", flush=True)
    after = play_against_random(env, ac, simulations // 4, eval_games, seed + 10_000)
    if verbose:
        print(f"score against a random player with {simulations // 4} simulations per move: "
              f"{before:.2f} before training, {after:.2f} after")
    return {"score_before": before, "score_after": after, "losses": losses}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--episodes", type=int, default=50)
    parser.add_argument("--simulations", type=int, default=32)
    parser.add_argument("--board", type=int, nargs=3, default=(4, 5, 3), metavar=("ROWS", "COLS", "CONNECT"))
    parser.add_argument("--eval-games", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(args.episodes, args.simulations, tuple(args.board), args.eval_games, args.seed)
