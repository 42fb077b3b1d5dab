"""PPO with an LSTM on CartPole with the velocities masked out (RL-Zoo's ``CartPoleNoVel-v1``).

Without the cart's and the pole's velocities a feed-forward policy cannot tell which way the pole
is falling; an LSTM infers them from successive observations. The agent trains on the fast path
(the JAX ``CartPoleNoVel-v1``: rollouts and updates in one compiled program), then plays
Gymnasium's CartPole-v1 behind :class:`plugrl.wrappers.MaskVelocityWrapper` as DeepChem's users
drive a recurrent policy: ``select_action(s, use_saved_states=False)`` at an episode's first
step (the initial states), ``select_action(s)`` afterwards (the states saved by the last call).

    python examples/ppo_lstm_masked_cartpole.py [--steps 150000] [--feed-forward]
"""

from __future__ import annotations

import argparse

import gymnasium as gym

from plugrl.agents import PPO
from plugrl.envs.jax import make
from plugrl.wrappers import MaskVelocityWrapper

#: RL-Zoo's RecurrentPPO settings for CartPoleNoVel-v1 (gamma 0.99 instead of 0.999): an LSTM of
#: 64 units for the actor and one for the critic (sb3-contrib's enable_critic_lstm), then one ReLU
#: layer of 64 each.
SETTINGS = dict(num_envs=8, n_steps=32, batch_size=256, num_epoch=20, gamma=0.99, gae_lambda=0.98,
                lr="lin_1e-3", clip="lin_0.2", lstm_hidden_size=64, hidden_sizes=(64,),
                activation="relu", eval_episodes=20)


def play(agent: PPO, episodes: int, seed: int) -> list[float]:
    """Greedy episodes on Gymnasium's masked CartPole, with DeepChem's saved states."""
    env = MaskVelocityWrapper(gym.make("CartPole-v1"))
    returns = []
    for i in range(episodes):
        s, _ = env.reset(seed=seed + i)
        a = agent.select_action(s, deterministic=True, use_saved_states=False)  # a new episode
        total, done = 0.0, False
        while not done:
            s, r, terminated, truncated, _ = env.step(a)
            total, done = total + float(r), terminated or truncated
            a = agent.select_action(s, deterministic=True)  # carries the saved states on
        returns.append(total)
    return returns


def main(total_steps: int = 150_000, seed: int = 0, recurrent: str | None = "lstm",
         eval_interval: int = 10_000, verbose: bool = True) -> dict:
    """Train and return ``{'agent', 'curve': [(steps, eval return)], 'returns': played returns}``."""
    agent = PPO(make("CartPoleNoVel-v1"), seed=seed, recurrent=recurrent, **SETTINGS)
    agent.fit(total_steps, eval_interval=eval_interval)
    curve = [(int(r["steps"]), r["eval_return"]) for r in agent.history]
    returns = play(agent, 5, seed=1000)
    if verbose:
        network = f"{recurrent.upper()} of 64" if recurrent else "feed-forward 64x64"
        for steps, value in curve:
            print(f"{steps:7d} env steps: mean evaluation return {value:6.1f}")
        print(f"{network}: on Gymnasium's masked CartPole, greedy returns {returns}")
    return {"agent": agent, "curve": curve, "returns": returns}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=150_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--feed-forward", action="store_true", help="the same PPO without the LSTM")
    args = parser.parse_args()
    main(args.steps, args.seed, None if args.feed_forward else "lstm")
