"""Environments for the Ray tests: CartPole that kills, hangs or breaks its worker at a chosen
step of a chosen env, once per flag file (which survives the worker's replacement)."""

from __future__ import annotations

import os
import pathlib
import time

import gymnasium as gym


class Sabotage(gym.Wrapper):
    """CartPole; the env first reset with ``seed=victim_seed`` does ``mode`` at its
    ``at_step``-th step: ``"exit"`` (``os._exit``: the worker process dies), ``"hang"`` (sleeps
    for ever) or ``"raise"`` (a RuntimeError). With a ``flag`` path, only while that file does not
    exist (it is created first); without, every time (and in every replacement)."""

    def __init__(self, mode: str, victim_seed: int, at_step: int, flag: str | None = None) -> None:
        super().__init__(gym.make("CartPole-v1"))
        self.mode, self.victim_seed, self.at_step, self.flag = mode, victim_seed, at_step, flag
        self.is_victim = False
        self.steps = 0

    def reset(self, *, seed=None, options=None):
        if seed is not None:
            self.is_victim = seed == self.victim_seed
        return super().reset(seed=seed, options=options)

    def step(self, action):
        self.steps += 1
        if self.is_victim and self.steps >= self.at_step and self._armed():
            if self.mode == "exit":
                os._exit(1)
            if self.mode == "hang":
                time.sleep(3600)
            raise RuntimeError(f"sabotaged at step {self.steps}")
        return super().step(action)

    def _armed(self) -> bool:
        if self.flag is None:
            return True
        try:
            pathlib.Path(self.flag).touch(exist_ok=False)
        except FileExistsError:
            return False
        return True


def sabotaged(mode: str, victim_seed: int, at_step: int, flag: str | None = None):
    """An env factory (a callable), as users pass one."""
    return lambda: Sabotage(mode, victim_seed, at_step, flag)


def cartpole():
    return Sabotage("raise", victim_seed=-1, at_step=0)
