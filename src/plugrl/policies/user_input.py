"""A policy that asks a person for each action."""

from __future__ import annotations

import sys
from typing import Any, TextIO

import gymnasium as gym
import numpy as np

from plugrl.utils.env import get_env_attr

__all__ = ["UserInputPolicy"]


class UserInputPolicy:
    """A policy that prompts the user to take an action.

    The prompt lists the valid actions; an invalid answer is reported and asked again. An env
    with ``available_actions`` (a board game's legal moves, such as
    :attr:`~plugrl.envs.ConnectFourEnv.available_actions`) narrows the valid actions to those:
    the prompt lists them, and another action of the space is refused with the list.

    Parameters
    ----------
    env : gymnasium.Env
        The environment; its action space must be ``Discrete`` or ``Box``.
    render_before_prompt : bool, optional
        Whether to call ``env.render()`` before each prompt; a text rendering (``render_mode=
        "ansi"``) is written to ``output_stream``.
    input_stream, output_stream : file-like, optional
        Where answers are read from and prompts written to (default: stdin and stdout).
    prompt : str, optional
        The question, followed by the valid actions (default ``"Choose an action"``).
    """

    def __init__(self, env: gym.Env, render_before_prompt: bool = False, *,
                 input_stream: TextIO | None = None, output_stream: TextIO | None = None,
                 prompt: str = "Choose an action") -> None:
        if not isinstance(env.action_space, (gym.spaces.Discrete, gym.spaces.Box)):
            raise TypeError(f"env.action_space: expected a Discrete or Box space, got {env.action_space}")
        self.env = env
        self._space: gym.spaces.Discrete | gym.spaces.Box = env.action_space
        self.render_before_prompt = bool(render_before_prompt)
        self._input = input_stream
        self._output = output_stream
        self.prompt = prompt

    def __call__(self, s: Any) -> Any:
        r"""Ask the user for an action :math:`a` in state ``s``.

        Raises
        ------
        EOFError
            If the input ends first (Ctrl-D in a terminal).
        ValueError
            If the env's ``available_actions`` is empty (the game is over).
        """
        output = self._output or sys.stdout
        if self.render_before_prompt:
            text = self.env.render()
            if isinstance(text, str):
                output.write(text if text.endswith("\n") else text + "\n")
        available = self._available_actions()
        while True:
            output.write(self._prompt(self._space, available))
            output.flush()
            line = (self._input or sys.stdin).readline()
            if not line:
                raise EOFError("UserInputPolicy: the input ended before a valid action was given")
            action = _parse(line.strip(), self._space)
            if action is None:
                output.write(f"invalid action {line.strip()!r}; try again\n")
            elif available is not None and action not in available:
                output.write(f"action {action} is not available now; choose one of {available}\n")
            else:
                return action

    def greedy(self, s: Any) -> Any:
        """The user's choice is taken to be greedy: the same as :meth:`__call__`."""
        return self(s)

    def _available_actions(self) -> list[int] | None:
        """The env's ``available_actions`` now (wrappers included), or None if it has none."""
        if not isinstance(self._space, gym.spaces.Discrete):
            return None
        available = get_env_attr(self.env, "available_actions", None)
        if available is None:
            return None
        available = [int(a) for a in available]
        if not available:
            raise ValueError("env.available_actions: expected at least one action, got none "
                             "(is the game over?)")
        return available

    def _prompt(self, space: gym.spaces.Discrete | gym.spaces.Box, available: list[int] | None) -> str:
        if available is not None:
            return f"{self.prompt} in {available}: "
        if isinstance(space, gym.spaces.Discrete):
            return f"{self.prompt} in {{{space.start}, ..., {space.start + space.n - 1}}}: "
        return f"{self.prompt}: {int(np.prod(space.shape))} numbers in [{space.low}, {space.high}]: "


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
