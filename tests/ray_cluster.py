"""The local Ray cluster of the Ray tests, as a fixture that conftests import: started once per
test session, on demand, by the first test that asks for it (2 CPUs)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def ray_cluster():
    """Ray, initialised with 2 CPUs (or as an earlier test of the session left it); the test envs
    of ``samplers/ray_envs.py`` cross to its workers by value (the workers need not find the
    tests on their path)."""
    ray = pytest.importorskip("ray")
    from samplers import ray_envs

    ray.cloudpickle.register_pickle_by_value(ray_envs)
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    if started:
        ray.shutdown()
