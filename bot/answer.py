"""What the bot says back to one push or request, whichever door it came through.

One type for every door (Bolt's single response for each adapter): the webhook turns it into an HTTP response,
the long connection into a response frame (a status of 500 or more leaves the push unacknowledged, so Feishu
pushes it again), the intake route into an HTTP response with its headers. `after` runs once the answer is
on the wire (a click's later card must come after it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: Mapping[str, object] = field(default_factory=dict)
    after: Callable[[], None] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

