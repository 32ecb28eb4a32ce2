"""Faults the sandbox Open API can inject: slow answers, error bursts, rate limits, dropped connections."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

# The classes of Open API request a fault can target (each route of the sandbox belongs to exactly one).
ENDPOINTS = ("token", "patch", "create", "interviews", "forms", "reply", "send", "message_patch", "card_update",
             "contact", "user_ids", "bot", "resource", "message_get", "records", "fields", "record_update", "subscribe",
             "wiki_node", "other")
GROUPS = {"all": frozenset(ENDPOINTS), "message": frozenset({"reply", "send"}),
          "bitable": frozenset({"records", "fields", "record_update", "subscribe"})}


def _count(value: object) -> bool:
    return value is None or (type(value) is int and value >= 1)


def _seconds(value: object) -> bool:
    return type(value) in (int, float) and value >= 0  # type: ignore[operator]


def _status(value: object) -> bool:
    return type(value) is int and 100 <= value <= 599


def _int(value: object) -> bool:
    return type(value) is int


_CHECKS: dict[str, Callable[[object], bool]] = {
    "count": _count, "seconds": _seconds, "reset": _seconds, "status": _status, "code": _int, "limit": _int,
    "msg": lambda v: v is None or isinstance(v, str), "html": lambda v: isinstance(v, bool),
    "then": lambda v: v in ("error", "drop"),
    "after": lambda v: type(v) is int and v >= 0,
}
COMMON: dict[str, object] = {"after": 0}  # every kind: this many requests it would hit go through untouched first

# kind -> its parameters with their defaults; None for `count` means "every request until cleared".
KINDS: dict[str, dict[str, object]] = {
    "latency": {"seconds": 1.0, "count": None},
    "error": {"count": 1, "code": 1002001, "status": 500, "msg": None, "html": False},
    "ratelimit": {"count": 1, "reset": 1, "limit": 50, "status": 429},
    "drop": {"count": 1},
    "apply_then_fail": {"count": 1, "then": "error", "code": 1002001, "status": 500},
    "no_scope": {"count": None},
}


@dataclass
class Fault:
    """One injected fault: which requests it hits, what it does, how many more times."""

    endpoint: str
    kind: str
    params: dict[str, object] = field(default_factory=dict)

    def hits(self, endpoint: str) -> bool:
        return endpoint in GROUPS.get(self.endpoint, {self.endpoint})

    def describe(self) -> dict[str, object]:
        return {"endpoint": self.endpoint, "kind": self.kind, **self.params}


def check_endpoint(endpoint: str) -> None:
    """ValueError unless `endpoint` names an endpoint class or a group of them."""
    if endpoint not in ENDPOINTS and endpoint not in GROUPS:
        raise ValueError(f"unknown endpoint {endpoint!r}; one of {', '.join((*GROUPS, *ENDPOINTS))}")


def make_fault(endpoint: str, kind: str, params: dict[str, object]) -> Fault:
    """A fault from its wire description; ValueError says what is wrong with it."""
    check_endpoint(endpoint)
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; one of {', '.join((*KINDS, 'invalidate_tokens'))}")
    if kind == "apply_then_fail" and endpoint not in ("patch", "create"):
        raise ValueError("apply_then_fail only applies to the endpoints 'patch' and 'create'")
    takes = {**KINDS[kind], **COMMON}
    unknown = sorted(set(params) - set(takes))
    if unknown:
        raise ValueError(f"{kind} takes no parameter {', '.join(unknown)}; it takes {', '.join(takes)}")
    merged = {**takes, **params}
    bad = [name for name, value in merged.items() if not _CHECKS[name](value)]
    if bad:
        raise ValueError(f"bad value for {', '.join(f'{name}={merged[name]!r}' for name in bad)}")
    return Fault(endpoint, kind, merged)


class Faults:
    """The active faults, consumed in the order they were added; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[Fault] = []

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._items.append(fault)

    def take(self, endpoint: str, kind: str) -> Fault | None:
        """The first active fault of this kind for this endpoint, one use of it spent."""
        with self._lock:
            for fault in self._items:
                if fault.kind == kind and fault.hits(endpoint):
                    if fault.params["after"]:  # not yet: this request goes through
                        fault.params["after"] -= 1  # type: ignore[operator]
                        continue
                    count = fault.params["count"]
                    if count is not None:
                        fault.params["count"] = count - 1  # type: ignore[operator]
                        if count == 1:
                            self._items.remove(fault)
                    return Fault(fault.endpoint, fault.kind, dict(fault.params))
            return None

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def describe(self) -> list[dict[str, object]]:
        with self._lock:
            return [fault.describe() for fault in self._items]
