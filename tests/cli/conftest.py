"""The Ray tests' local cluster (see tests/ray_cluster.py)."""

from ray_cluster import ray_cluster  # noqa: F401  (a fixture)
