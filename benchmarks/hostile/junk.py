"""Hostile values from one seeded `random.Random`: wrong types, unicode junk, deep nesting, mutated structures."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterator
from typing import Any

# Text that breaks naive code: NUL, lone surrogates, direction marks, zero widths, combining marks, a BOM, CJK,
# emoji, newlines, formula-looking and markup-looking text, very long words.
WEIRD = ["\x00", "\ud800", "\udfff", "\u202e", "\u200b", "\u200d", "\ufeff", "\u0301" * 50, "面试官", "🤖👩‍💻",
         "\r\n", "\t", "=HYPERLINK(\"http://x\")", "<script>", "${jndi:x}", "%s%n", "'; DROP TABLE jobs;--",
         "\\u0000", "ou_", "@_user_1", "NaN", "-1", "1e999", "9" * 5000, " ", ""]


def text(rng: random.Random, most: int = 40) -> str:
    """A short string mixing printable, weird and random code points."""
    parts = []
    for _ in range(rng.randint(0, 6)):
        roll = rng.random()
        if roll < 0.35:
            parts.append(rng.choice(WEIRD))
        elif roll < 0.7:
            parts.append("".join(chr(rng.randint(0x20, 0x7E)) for _ in range(rng.randint(0, most))))
        else:
            parts.append("".join(chr(rng.randint(0, 0x10FFFF)) for _ in range(rng.randint(0, 8))))
    return "".join(parts)


def value(rng: random.Random, depth: int = 0) -> Any:
    """One value of a random type (what JSON can carry and a little more: NaN, infinities, huge integers)."""
    roll = rng.randrange(14 if depth < 3 else 10)
    if roll == 0:
        return None
    if roll == 1:
        return rng.random() < 0.5
    if roll == 2:
        return rng.choice([0, -1, 1, 2**31, -(2**63), 2**64, 10**30, rng.randint(-10**6, 10**6)])
    if roll == 3:
        return rng.choice([float("nan"), float("inf"), -float("inf"), 1e308, -0.0, 0.5, rng.uniform(-1e12, 1e12)])
    if roll == 4:
        return rng.choice(WEIRD)
    if roll in (5, 6, 7):
        return text(rng)
    if roll == 8:
        return "x" * rng.choice([1000, 100_000])
    if roll == 9:
        return rng.choice([[], {}, "", "{}", "[]", "null", '{"text": 1}'])
    if roll in (10, 11):
        return [value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {text(rng, 8): value(rng, depth + 1) for _ in range(rng.randint(0, 4))}


def nested(rng: random.Random, depth: int) -> str:
    """JSON nested `depth` deep (lists or objects), as text: json.dumps would recurse itself."""
    if rng.random() < 0.5:
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


def paths(node: Any, at: tuple = ()) -> Iterator[tuple]:
    """Every path to a value in a JSON-like structure (keys and indexes), the root excluded."""
    if isinstance(node, dict):
        for key, child in node.items():
            yield (*at, key)
            yield from paths(child, (*at, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield (*at, index)
            yield from paths(child, (*at, index))


def mutate(rng: random.Random, template: Any, times: int = 1) -> Any:
    """A deep copy of `template` with `times` of its values replaced by junk, removed, or given a stranger."""
    found = copy.deepcopy(template)
    every = list(paths(found))
    for path in rng.sample(every, min(times, len(every))):
        parent = found
        try:
            for step in path[:-1]:
                parent = parent[step]
            roll = rng.random()
            if roll < 0.75:
                parent[path[-1]] = value(rng)
            elif roll < 0.9 and isinstance(parent, dict):
                del parent[path[-1]]
            elif isinstance(parent, dict):
                parent[text(rng, 8)] = value(rng)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed or replaced the way there
    return found


def dumps(payload: Any) -> bytes:
    """JSON as a careless sender writes it: NaN and infinities allowed, lone surrogates escaped."""
    return json.dumps(payload, ensure_ascii=True, allow_nan=True).encode()


def garbage(rng: random.Random, most: int = 2000) -> bytes:
    """Random bytes, sometimes nearly JSON."""
    data = rng.randbytes(rng.randint(0, most))
    roll = rng.random()
    if roll < 0.2:
        return b"{" + data
    if roll < 0.3:
        return b'{"encrypt": "' + data.hex().encode() + b'"}'
    return data


def flip(rng: random.Random, data: bytes, times: int = 1) -> bytes:
    """`data` with a few bytes changed, cut short, or grown."""
    if not data:
        return rng.randbytes(4)
    found = bytearray(data)
    for _ in range(times):
        roll = rng.random()
        if not found:
            found += rng.randbytes(4)
        elif roll < 0.6:
            found[rng.randrange(len(found))] = rng.randrange(256)
        elif roll < 0.8:
            del found[rng.randrange(len(found)):]
        else:
            at = rng.randrange(len(found) + 1)
            found[at:at] = rng.randbytes(rng.randint(1, 16))
    return bytes(found)
