"""A policy that asks a person for each action."""

from __future__ import annotations

import sys
from typing import Any, TextIO

import gymnasium as gym
import numpy as np

__all__ = ["UserInputPolicy"]


class UserInputPolicy:
    """A policy that prompts the user to take an action.

    The prompt lists the valid actions; an invalid answer is reported and asked again.

    Parameters
    ----------
    env : gymnasium.Env
        The environment; its action space must be ``Discrete`` or ``Box``.
    render_before_prompt : bool, optional
        Whether to call ``env.render()`` before each prompt.
    input_stream, output_stream : file-like, optional
        Where answers are read from and prompts written to (default: stdin and stdout).
    """

    def __init__(self, env: gym.Env, render_before_prompt: bool = False, *,
                 input_stream: TextIO | None = None, output_stream: TextIO | None = None) -> None:
        if not isinstance(env.action_space, (gym.spaces.Discrete, gym.spaces.Box)):
            raise TypeError(f"env.action_space: expected a Discrete or Box space, got {env.action_space}")
        self.env = env
        self._space: gym.spaces.Discrete | gym.spaces.Box = env.action_space
        self.render_before_prompt = bool(render_before_prompt)
        self._input = input_stream
        self._output = output_stream

    def __call__(self, s: Any) -> Any:
        r"""Ask the user for an action :math:`a` in state ``s``."""
        if self.render_before_prompt:
            self.env.render()
        space = self._space
        output = self._output or sys.stdout
        while True:
            output.write(self._prompt(space))
            output.flush()
            line = (self._input or sys.stdin).readline()
            if not line:
                raise EOFError("UserInputPolicy: the input ended before a valid action was given")
            action = _parse(line.strip(), space)
            if action is not None:
                return action
            output.write(f"invalid action {line.strip()!r}; try again\n")

    def greedy(self, s: Any) -> Any:
        """The user's choice is taken to be greedy: the same as :meth:`__call__`."""
        return self(s)

    @staticmethod
    def _prompt(space: gym.spaces.Discrete | gym.spaces.Box) -> str:
        if isinstance(space, gym.spaces.Discrete):
            return f"Choose an action in {{{space.start}, ..., {space.start + space.n - 1}}}: "
        return f"Choose an action: {int(np.prod(space.shape))} numbers in [{space.low}, {space.high}]: "


def _parse(text: str, space: gym.spaces.Discrete | gym.spaces.Box) -> Any:
    action: int | np.ndarray
    try:
        if isinstance(space, gym.spaces.Discrete):
            action = int(text)
        else:
            action = np.array(text.replace(",", " ").split(), dtype=space.dtype).reshape(space.shape)
    except ValueError:
        return None
    return action if space.contains(action) else None
