"""SVPG learns CartPole on the fast path with fixed seeds and a budget."""

from __future__ import annotations

from plugrl.agents import SVPG
from plugrl.envs.jax import make


def test_svpg_particles_solve_cartpole_on_the_fast_path():
    """8 A2C particles, 50k env steps each (400k in all, about 10 s on 2 cores): the best
    particle's greedy policy keeps the pole up for the whole episode, inside the compiled
    evaluation and on Gymnasium's CartPole."""
    agent = SVPG(make("CartPole-v1"), num_particles=8, temperature=1.0, seed=0)
    agent.fit(400_000, eval_interval=400_000)
    record = agent.history[-1]
    assert record["eval_return"] >= 475
    assert agent.current_particle == agent.best_particle
    assert agent.evaluate(5) >= 475  # the best particle acts for the agent
