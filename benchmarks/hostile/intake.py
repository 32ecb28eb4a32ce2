"""POST /api/interviews: wrong or missing tokens, bodies that are not JSON lists, every field of a valid interview
given the wrong type, huge lists, unicode junk, deep nesting. Only a 200 may write; a refused body writes nothing."""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterator

from benchmarks.hostile import junk
from benchmarks.hostile.lab import INTAKE_TOKEN, Lab
from benchmarks.hostile.run import Case

NAME = "intake"
AUTH = {"Authorization": f"Bearer {INTAKE_TOKEN}"}


def interview(rng: random.Random) -> dict:
    """A valid interview, as the README's example."""
    n = rng.randrange(10**6)
    return {"interview_id": str(7412358746023500000 + n), "interviewer": f"ou_hostile{n:06d}", "candidate": "张伟",
            "job": "Backend Engineer", "round": "Technical 1", "start": "2027-12-07T10:00:00+08:00",
            "end": "2027-12-07T11:00:00+08:00", "recruiter": "ou_recruiter", "application_id": str(n)}


def cases(rng: random.Random, count: int) -> Iterator[Case]:
    kinds = ["no token", "wrong token", "garbage", "json", "wrong types", "many wrong types", "unicode junk",
             "deep nesting", "huge list", "valid"]
    weights = [1, 1, 1, 1, 3, 1, 1, 1, 0.02, 1]  # a list of thousands takes a second: one in a few hundred
    for n in range(count):
        kind = kinds[n] if n < len(kinds) else rng.choices(kinds, weights)[0]
        if n == count - 1 and count > 1:
            kind = "huge list"
        body, headers = _request(rng, kind)
        yield Case(kind, (body, headers), len(body))


def _request(rng: random.Random, kind: str) -> tuple[bytes, dict]:
    if kind in ("no token", "wrong token"):
        headers = {} if kind == "no token" else {"Authorization": rng.choice(
            ["Bearer", "Bearer ", "bearer x", "Basic " + INTAKE_TOKEN, "Bearer " + INTAKE_TOKEN[:-1],
             "Bearer " + INTAKE_TOKEN + "\u00e9", "Bearer " + "x" * 5000])}
        return junk.dumps([interview(rng)]), headers
    if kind == "garbage":
        return junk.garbage(rng), AUTH
    if kind == "json":
        return junk.dumps(junk.value(rng)), AUTH
    if kind in ("wrong types", "many wrong types"):
        rows = [interview(rng) for _ in range(rng.randint(1, 5))]
        return junk.dumps(junk.mutate(rng, rows, 1 if kind == "wrong types" else rng.randint(2, 15))), AUTH
    if kind == "unicode junk":
        row = {key: junk.text(rng) for key in interview(rng)}
        return json.dumps([row], ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass"), AUTH
    if kind == "deep nesting":
        return junk.nested(rng, rng.choice([100, 1000, 100_000])).encode(), AUTH
    if kind == "huge list":
        size = rng.choice([1, 1000, 5000])
        return junk.dumps([interview(rng) if size < 5000 else {} for _ in range(size)] + [None] * rng.choice(
            [0, 100_000])), AUTH
    return junk.dumps([interview(rng) for _ in range(rng.randint(1, 3))]), AUTH


def send(lab: Lab, case: Case) -> str:
    body, headers = case.data
    return str(lab.post("/api/interviews", body, dict(headers)))


def may_write(case: Case, outcome: str, tables: Counter[str]) -> bool:
    """Only an accepted list writes."""
    return outcome == "200"


def good(lab: Lab) -> bool:
    """A valid interview is taken in."""
    body = junk.dumps([interview(random.Random(1))])
    response = lab.client.post("/api/interviews", data=body, headers=AUTH, content_type="application/json")
    return response.status_code == 200
