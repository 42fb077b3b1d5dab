"""Environments: JAX reimplementations of classic-control tasks (``plugrl.envs.jax``)."""
