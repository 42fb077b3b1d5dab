"""PPO on Ray while a worker process is killed every 10 s, against the same run undisturbed (issue 18).

Both runs train PPO on CartPole-v1 with 2 Ray actors (one env each), the same seed and budget.
During the first, a thread sends SIGKILL to the process of one actor (alternately) every
``--kill-every`` seconds; the supervisor replaces it and collects its segment again. The script
checks the contract: no transition lost and none counted twice (the step counter is a whole
number of rollouts, and equals the steps of the finished episodes plus the ongoing ones), the same
data as the undisturbed run (identical episode statistics and final weights, bit for bit), and
the same learning threshold reached (the greedy policy's mean return over 20 episodes).

    python benchmarks/ray_fault_tolerance.py [--steps 450000] [--kill-every 10] [--threshold 475]
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
import time

import numpy as np


def train(args: argparse.Namespace, kill_every: float | None) -> dict:
    from plugrl.agents import PPO

    agent = PPO("CartPole-v1", seed=args.seed, num_envs=2, vectorization="ray", n_steps=256,
                batch_size=128, num_epoch=10, lr=1e-3, max_worker_restarts=1000)
    stop, kills = threading.Event(), []
    killer = threading.Thread(target=_kill_workers, args=(agent, kill_every, stop, kills), daemon=True)
    start = time.perf_counter()
    if kill_every:
        killer.start()
    agent.fit(args.steps)
    stop.set()
    seconds = time.perf_counter() - start
    sampler = agent.sampler
    result = {
        "seconds": seconds, "kills": len(kills), "restarts": agent.envs.supervisor.restarts,
        "num_steps": agent.num_steps, "sampler_steps": sampler.total_steps,
        "episode_steps": sum(sampler.episode_lengths) + sum(sampler.state()["lengths"]),
        "episodes": len(sampler.episode_returns), "returns": list(sampler.episode_returns),
        "weights": agent.learner.get_weights(), "eval": float(agent.evaluate(20)),
    }
    agent.close()
    return result


def _kill_workers(agent, every: float, stop: threading.Event, kills: list) -> None:
    """SIGKILL actor 0, 1, 0, ... every ``every`` seconds. An actor runs one task at a time, so
    its process id is asked right after it starts (between segments), and the kill comes at a
    moment unrelated to its work: mostly in the middle of a segment."""
    import ray

    pids: dict[int, int] = {}
    supervisor = agent.envs.supervisor

    def pid_of(actor) -> int:
        if id(actor) not in pids:
            pids[id(actor)] = ray.get(actor.__ray_call__.remote(lambda self: os.getpid()), timeout=30)
        return pids[id(actor)]

    while True:
        for actor in list(supervisor.workers):
            try:
                pid_of(actor)
            except Exception:  # being replaced: asked again next time
                pass
        if stop.wait(every):
            return
        actor = supervisor.workers[len(kills) % len(supervisor.workers)]
        if id(actor) in pids:
            os.kill(pids.pop(id(actor)), signal.SIGKILL)
            kills.append(time.perf_counter())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=450_000)
    parser.add_argument("--kill-every", type=float, default=10.0)
    parser.add_argument("--threshold", type=float, default=475.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    disturbed = train(args, args.kill_every)
    calm = train(args, None)
    rollout = 2 * 256
    for name, run in ((f"killed every {args.kill_every:g}s", disturbed), ("undisturbed", calm)):
        print(f"{name:>16}: {run['seconds']:6.1f} s, {run['kills']} kills, {run['restarts']} restarts, "
              f"num_steps {run['num_steps']} (sampler {run['sampler_steps']}, in episodes "
              f"{run['episode_steps']}), {run['episodes']} episodes, eval {run['eval']:.1f}")
    checks = {
        "step counter exact (whole rollouts, = sampler = episodes)": all(
            r["num_steps"] % rollout == 0 and r["num_steps"] == r["sampler_steps"] == r["episode_steps"]
            for r in (disturbed, calm)),
        "same steps as undisturbed": disturbed["num_steps"] == calm["num_steps"],
        "same episodes (returns, in order)": disturbed["returns"] == calm["returns"],
        "same final weights, bit for bit": all(np.array_equal(a, b) for a, b in
                                               zip(disturbed["weights"], calm["weights"], strict=True)),
        f"both reach eval >= {args.threshold}": min(disturbed["eval"], calm["eval"]) >= args.threshold,
        # a kill just before the end may find an actor that is not sent off again
        "workers were killed and replaced": 0 < disturbed["restarts"] <= disturbed["kills"],
    }
    for check, ok in checks.items():
        print(f"{'ok ' if ok else 'FAIL'} {check}")
    ray.shutdown()
    raise SystemExit(0 if all(checks.values()) else 1)


if __name__ == "__main__":
    main()
