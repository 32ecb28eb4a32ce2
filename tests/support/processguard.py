"""A pytest plugin: a test that starts a process must be in tests/system/ (marked `system` by its folder), so
`make test-quick` starts none.

While a test that is not marked `system` is set up and run, starting Python, gunicorn or `assessbot` through
`subprocess` (how the bot, the sandbox, the worker and the command line are started), or forking (as a
pseudo-terminal does), fails that test with the reason. A system tool a library runs (`file`, say) is let be.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Generator

import pytest

_REAL = subprocess.Popen._execute_child  # type: ignore[attr-defined]
OURS = {"gunicorn", "assessbot", os.path.basename(sys.executable)}  # besides any python: what the tests start
_REAL_FORKS = {name: getattr(os, name) for name in ("fork", "forkpty")}


class StartedAProcess(Exception):
    """A test not marked `system` started a process."""


def _program(args: object) -> str:
    """The name of the program a Popen call starts."""
    first = args if isinstance(args, str | bytes | os.PathLike) else next(iter(args), "")  # type: ignore[call-overload]
    words = os.fsdecode(first).split()
    return os.path.basename(words[0]) if words else ""


def _refuse(self: subprocess.Popen, args: object, *rest: object, **kwargs: object) -> None:
    program = _program(args)
    if program.startswith("python") or program in OURS:
        raise StartedAProcess(f"this test starts a process ({args!r}): put it in tests/system/")
    _REAL(self, args, *rest, **kwargs)  # a system tool a library asks (platform runs `file`, for one)


def _refuse_fork(*args: object) -> None:
    raise StartedAProcess("this test forks a process: put it in tests/system/")


def _guarded(item: pytest.Item) -> bool:
    return item.get_closest_marker("system") is None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    return (yield from _around(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    return (yield from _around(item))


def _around(item: pytest.Item) -> Generator[None, None, None]:
    if not _guarded(item):
        return (yield)
    subprocess.Popen._execute_child = _refuse  # type: ignore[attr-defined]
    for name in _REAL_FORKS:
        setattr(os, name, _refuse_fork)
    try:
        return (yield)
    finally:
        subprocess.Popen._execute_child = _REAL  # type: ignore[attr-defined]
        for name, real in _REAL_FORKS.items():
            setattr(os, name, real)
