"""The local Ray cluster of the Ray tests, as a fixture that conftests import: started once per
test session, on demand, by the first test that asks for it (2 CPUs)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def ray_cluster():
    """Ray, initialised with 2 CPUs (or as an earlier test of the session left it); the test envs
    of ``samplers/ray_envs.py`` and the DeepChem ``Corridor`` of ``envs/test_deepchem_env.py``
    cross to its workers by value (the workers need not find the tests on their path)."""
    ray = pytest.importorskip("ray")
    from envs import test_deepchem_env
    from samplers import ray_envs

    for module in (ray_envs, test_deepchem_env):
        ray.cloudpickle.register_pickle_by_value(module)
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    if started:
        ray.shutdown()
