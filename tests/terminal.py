"""A ``plugrl`` command run in a pseudo-terminal, for tests of what a person types and sees."""

from __future__ import annotations

import codecs
import fcntl
import os
import re
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Sequence

#: Colours and cursor movements that rich may write to a terminal.
_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


class Terminal:
    """``python -m plugrl.cli ARGS`` with a pseudo-terminal as its stdin, stdout and stderr.

    Attributes
    ----------
    text : str
        Everything the command wrote (with the echo of what was typed), escapes removed and line
        ends as ``"\\n"``.
    position : int
        Where in ``text`` the last :meth:`read_until` match ended.
    match : re.Match
        That match.
    """

    def __init__(self, process: subprocess.Popen, fd: int) -> None:
        self.process, self.fd = process, fd
        self.text, self.position = "", 0
        self.match: re.Match | None = None
        self._raw = ""
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")

    @classmethod
    def spawn(cls, args: Sequence[str], src: str) -> Terminal:
        """Start ``plugrl ARGS`` (plugrl imported from ``src``) in a 40 x 160 terminal."""
        controller, terminal = os.openpty()
        # a wide terminal: rich would otherwise wrap at the default of 80 columns
        fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
        process = subprocess.Popen([sys.executable, "-m", "plugrl.cli", *args], stdin=terminal,
                                   stdout=terminal, stderr=terminal, env=env, close_fds=True)
        os.close(terminal)
        return cls(process, controller)

    def __enter__(self) -> Terminal:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        os.close(self.fd)

    def send(self, line: str) -> None:
        """Type ``line`` and Enter."""
        os.write(self.fd, line.encode() + b"\n")

    def send_eof(self) -> None:
        """Type Ctrl-D at the start of a line: the end of input."""
        os.write(self.fd, b"\x04")

    def read_until(self, *patterns: str, timeout: float = 180.0) -> str:
        """Read until one of the regular expressions ``patterns`` matches after :attr:`position`;
        return it (and move :attr:`position` past the match).

        Raises
        ------
        AssertionError
            If none matches within ``timeout`` seconds or before the command ends.
        """
        deadline = time.monotonic() + timeout
        while True:
            for pattern in patterns:
                match = re.compile(pattern).search(self.text, self.position)
                if match is not None:
                    self.match, self.position = match, match.end()
                    return pattern
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no {patterns} within {timeout} s in:\n{self.text[self.position:]}"
            if not self._read(remaining):
                raise AssertionError(f"the command ended without {patterns}:\n{self.text[self.position:]}")

    def wait(self, timeout: float = 60.0) -> int:
        """Read to the end; the exit code."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._read(deadline - time.monotonic()):
            pass
        return self.process.wait(max(deadline - time.monotonic(), 1.0))

    def _read(self, timeout: float) -> bool:
        """Read what is there (waiting up to ``timeout``); False once the command has ended."""
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # EIO: the command closed the terminal
            data = b""
        if not data:
            return False
        self._raw += self._decoder.decode(data)
        self.text = _ESCAPES.sub("", self._raw).replace("\r\n", "\n")
        return True
