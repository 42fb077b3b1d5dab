"""Atari Pong with a TD actor-critic and PPO policy updates (keras-gym's "Pong with PPO").

keras-gym's notebook, step for step: PongDeterministic-v4 frames downscaled to 105 x 80
grayscale and stacked by 3 (``ImagePreprocessor``, ``FrameStacker``), one Nature-DQN
``AtariFunctionApproximator`` shared by a softmax policy and a state value function, a replay
buffer of 256 slots used as a rollout store: when it is full, 4 epochs of minibatches of 64
update the ``ActorCritic`` (10-step TD advantages, bootstrapped with the target model), the
buffer is emptied and the target models (the policy's is PPO's "old" policy, which also acts)
move 10% towards the trained ones. A GIF of the policy every 50 episodes shows the progress.

The seed's budget, 3M steps, beats Pong after a few hundred episodes, but takes about two days
on a CPU: 1000 steps ran at 20.5 steps/s (compilation included) on 2 CPU cores shared with
other jobs (load average 7), so 3M steps take about 40 hours. ``--steps`` sets a smaller
budget.

    python examples/atari_pong_ppo.py --steps 20000 --gif-dir ./data/ppo/gifs
"""

from __future__ import annotations

import argparse

from _pong import GifRecorder, Summary, make_env

import plugrl

#: The update metrics that TrainMonitor's line per episode shows (their means).
LOGGED_METRICS = ("ActorCritic/policy_loss", "ActorCritic/value_loss")


def main(num_steps: int = 3_000_000, seed: int = 0, gif_every: int = 50,
         gif_dir: str = "./data/ppo/gifs", gif_max_steps: int | None = None,
         capacity: int = 256, batch_size: int = 64, num_epochs: int = 4,
         max_episode_steps: int | None = None, verbose: bool = True) -> dict:
    """Train for ``num_steps`` env steps; return ``{'returns', 'steps', 'episodes',
    'avg_return_last_20', 'steps_per_second', 'num_updates', 'gifs', 'actor_critic',
    'buffer'}``."""
    if verbose:
        plugrl.utils.enable_logging()  # TrainMonitor's line per episode
    env = plugrl.wrappers.TrainMonitor(make_env(max_episode_steps=max_episode_steps))
    func = plugrl.predefined.AtariFunctionApproximator(env, lr=0.00025, random_seed=seed)
    pi = plugrl.SoftmaxPolicy(func, update_strategy="ppo", random_seed=seed)
    v = plugrl.V(func, gamma=0.99, bootstrap_n=10, bootstrap_with_target_model=True)
    actor_critic = plugrl.ActorCritic(pi, v)
    # the rollout store; it reads from the env that observations stack 3 frames on the last
    # axis and stores each frame once
    buffer = plugrl.caching.ExperienceReplayBuffer.from_value_function(
        v, capacity=capacity, batch_size=batch_size, random_seed=seed)
    gifs = GifRecorder(gif_dir, gif_every, gif_max_steps, seed)
    summary, num_updates = Summary(env), 0

    while env.T < num_steps:
        s, _ = env.reset(seed=seed if env.ep == 0 else None)
        done = False
        while not done and env.T < num_steps:
            a = pi(s, use_target_model=True)  # the target model is pi_old
            s_next, r, terminated, truncated, _ = env.step(a)
            buffer.add(s, a, r, terminated, env.ep, truncated=truncated, s_next=s_next)
            # keras-gym: len(buffer) >= buffer.capacity, which plugrl's buffer reaches only after
            # overwriting steps (each episode's first frames take slots of their own)
            if buffer.is_full:
                num_updates += _update(actor_critic, buffer, num_epochs, env)
            done = terminated or truncated
            s = s_next
        if done:
            summary.episode_done()
            gifs.maybe_record(env.ep, pi)
    return summary.result(verbose, num_updates=num_updates, gifs=gifs.paths,
                          actor_critic=actor_critic, buffer=buffer)


def _update(actor_critic: plugrl.ActorCritic, buffer: plugrl.caching.ExperienceReplayBuffer,
            num_epochs: int, env: plugrl.wrappers.TrainMonitor) -> int:
    """``num_epochs`` epochs of minibatch updates on a full buffer, then empty it and move the
    target models 10% of the way (tau=1 would be a hard update); return the number of updates."""
    num_batches = num_epochs * buffer.capacity // buffer.batch_size
    for _ in range(num_batches):
        metrics = actor_critic.batch_update(*buffer.sample())
        env.record_losses({name: metrics[name] for name in LOGGED_METRICS})
    buffer.clear()
    actor_critic.sync_target_model(tau=0.1)
    return num_batches


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--gif-every", type=int, default=50, help="episodes between GIFs (0: none)")
    parser.add_argument("--gif-dir", default="./data/ppo/gifs")
    args = parser.parse_args()
    main(args.steps, args.seed, args.gif_every, args.gif_dir)
