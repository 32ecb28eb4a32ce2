"""What every kind of job's executor is: the payload model it runs, its rate limit, and what it does on a retry
or when given up (nothing, unless it says otherwise)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar

from bot.contract import Job, Payload
from bot.store.ratelimit import Pace

if TYPE_CHECKING:
    from bot.jobs.retry import Failure
    from bot.services import Context


class Executor(ABC):
    """One kind of job: `payload` is its model in the job contract; `run` does the job.

    `limit` is the shared rate limit its calls count against (paused for everyone when the remote side says
    "too fast"); `retrying` hears of each failed attempt that will be retried; `dead` tells the person when
    the job is given up.
    """

    payload: ClassVar[type[Payload]]
    limit: Pace | None = None

    def __init__(self, ctx: Context):
        self.ctx = ctx

    @abstractmethod
    def run(self, job: Job) -> bool | None:
        """Do the job; True when it also recorded the job done (in the transaction that recorded its effect)."""

    def retrying(self, job: Job, error: Failure) -> None:  # noqa: B027  (a default, not an abstract method)
        """Nothing to record."""

    def dead(self, job: Job, error: Failure | None) -> None:  # noqa: B027
        """Nothing to tell."""
