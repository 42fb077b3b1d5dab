"""Atari Pong with deep Q-learning, DQN (keras-gym's "Pong with DQN").

keras-gym's notebook, step for step: PongDeterministic-v4 frames downscaled to 105 x 80
grayscale and stacked by 3 (``ImagePreprocessor``, ``FrameStacker``), a Q-function on the
Nature-DQN ``AtariFunctionApproximator`` (convolutions without pooling) learning by one-step
Q-learning from a target model, an experience replay buffer of 1M slots (a frame each: 8.4
GB), and an epsilon-greedy policy whose epsilon falls linearly from 1 to 0.1
over the first 1M steps and to 0.01 over the next 1M. After a warm-up of 50k steps, every
step samples a batch of 32 and updates the Q-function; every 10k steps the target model is
synced. A GIF of the policy (epsilon 0.01) every 10 episodes shows progress.

The Q-function is type I, :math:`(s, a) \\mapsto q(s, a)`; ``--q-type II``, :math:`s
\\mapsto q(s, .)`, is the choice of keras-gym's script. Both run the convolutional body once per
state: a batch update of 32 took 42 ms (type I) and 49 ms (type II) on 2 CPU cores (a niced
training run beside it).

The seed ran episodes without end; 3M steps here, with an update at every step after the
warm-up: about 3M x 45 ms, close to 40 hours on such a CPU. ``--steps`` sets a smaller budget,
``--capacity`` a smaller buffer.

    python examples/atari_pong_dqn.py --steps 100000 --capacity 100000 --gif-dir ./data/dqn/gifs
"""

from __future__ import annotations

import argparse

from _pong import GifRecorder, Summary, make_env

import plugrl

#: The update metrics that TrainMonitor's line per episode shows (their means).
LOGGED_METRICS = ("QLearning/loss",)


def epsilon(T: int, decay_steps: int = 1_000_000) -> float:
    """Stepwise linear annealing: 1 to 0.1 over ``decay_steps`` steps, to 0.01 over as many more."""
    if T < decay_steps:
        return 1.0 - 0.9 * T / decay_steps
    if T < 2 * decay_steps:
        return 0.1 - 0.09 * (T - decay_steps) / decay_steps
    return 0.01


def main(num_steps: int = 3_000_000, seed: int = 0, gif_every: int = 10,
         gif_dir: str = "./data/dqn/gifs", gif_max_steps: int | None = None,
         capacity: int = 1_000_000, warmup_steps: int = 50_000, target_sync_steps: int = 10_000,
         epsilon_decay_steps: int = 1_000_000, q_type: str = "I",
         max_episode_steps: int | None = None, verbose: bool = True) -> dict:
    """Train for ``num_steps`` env steps; return ``{'returns', 'steps', 'episodes',
    'avg_return_last_20', 'steps_per_second', 'num_updates', 'gifs', 'q', 'buffer'}``."""
    if verbose:
        plugrl.utils.enable_logging()  # TrainMonitor's line per episode
    env = plugrl.wrappers.TrainMonitor(make_env(max_episode_steps=max_episode_steps))
    func = plugrl.predefined.AtariFunctionApproximator(env, lr=0.00025, random_seed=seed)
    q = _q_class(q_type)(func, gamma=0.99, bootstrap_n=1, update_strategy="q_learning",
                         bootstrap_with_target_model=True)
    # it reads from the env that observations stack 3 frames on the last axis and stores
    # each frame once
    buffer = plugrl.caching.ExperienceReplayBuffer.from_value_function(
        q, capacity=capacity, batch_size=32, random_seed=seed)
    policy = plugrl.EpsilonGreedy(q, random_seed=seed)
    gifs = GifRecorder(gif_dir, gif_every, gif_max_steps, seed)
    summary, num_updates = Summary(env), 0

    while env.T < num_steps:
        s, _ = env.reset(seed=seed if env.ep == 0 else None)
        done = False
        while not done and env.T < num_steps:
            policy.set_epsilon(epsilon(env.T, epsilon_decay_steps))
            a = policy(s)
            s_next, r, terminated, truncated, _ = env.step(a)
            buffer.add(s, a, r, terminated, env.ep, truncated=truncated, s_next=s_next)
            if env.T > warmup_steps:
                metrics = q.batch_update(*buffer.sample())
                env.record_losses({name: metrics[name] for name in LOGGED_METRICS})
                num_updates += 1
            if env.T % target_sync_steps == 0:
                q.sync_target_model(tau=1.0)
            done = terminated or truncated
            s = s_next
        if done:
            summary.episode_done()
            if env.T > warmup_steps:
                gifs.maybe_record(env.ep, policy.set_epsilon(0.01))
    return summary.result(verbose, num_updates=num_updates, gifs=gifs.paths, q=q, buffer=buffer)


def _q_class(q_type: str) -> type[plugrl.QTypeI] | type[plugrl.QTypeII]:
    classes = {"I": plugrl.QTypeI, "II": plugrl.QTypeII}
    if q_type not in classes:
        raise ValueError(f"q_type: expected one of {sorted(classes)}, got {q_type!r}")
    return classes[q_type]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--gif-every", type=int, default=10, help="episodes between GIFs (0: none)")
    parser.add_argument("--gif-dir", default="./data/dqn/gifs")
    parser.add_argument("--capacity", type=int, default=1_000_000)
    parser.add_argument("--warmup-steps", type=int, default=50_000)
    parser.add_argument("--q-type", choices=["I", "II"], default="I")
    args = parser.parse_args()
    main(args.steps, args.seed, args.gif_every, args.gif_dir, capacity=args.capacity,
         warmup_steps=args.warmup_steps, q_type=args.q_type)
