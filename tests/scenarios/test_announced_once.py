"""Each interview is announced once a round, as the interviewer reads it: by its own reminder or by a line of the
day's digest, never both; a batch that comes due together goes into one digest; the next working day's digest lists
what is still due. Crashes at every commit point of the reminder and digest jobs change none of it."""

from __future__ import annotations

from collections import Counter
from contextlib import contextmanager
from datetime import datetime

import pytest

from bot.actions import OpenForm
from bot.jobs.remind import SendDigest, SendReminder
from bot.schedule.planner import Planner
from tests.support.ids import ALICE, SHANGHAI

RECRUITER = "ou_recruiter0000000000000000000000"
PEOPLE = [f"ou_interviewer{n:020d}" for n in range(6)]


def local(day: int, clock: str) -> float:
    """A wall-clock time in the deployment's zone (November 2026: the 25th is a Wednesday)."""
    hours, minutes = map(int, clock.split(":"))
    return datetime(2026, 11, day, hours, minutes, tzinfo=SHANGHAI).timestamp()


def row(interview: str, end: float, interviewer: str = ALICE) -> dict:
    return {"interview_id": interview, "interviewer": interviewer, "candidate": f"候选人{interview}",
            "position": "Backend Engineer", "round": "Onsite", "start_at": end - 3600, "end_at": end,
            "recruiter": RECRUITER}


def schedule(ctx, rows: list[dict]) -> None:
    ctx.store.upsert_assignments(rows, Planner(ctx.settings, ctx.clock()))


def drain_until(ctx, clock, moment: float, step: float = 60.0) -> None:
    """Run what is due, minute by minute up to `moment` (retries after a crash come due meanwhile)."""
    while True:
        ctx.runner.drain()
        if clock.now >= moment:
            return
        clock.now = min(clock.now + step, moment)


def told(ctx, feishu) -> dict[str, list[tuple[str, str]]]:
    """Per interview: the (kind, uuid) of each distinct message that names it (Feishu posts one message per uuid).

    A card names an interview when it holds that interview's Fill in feedback button: a reminder (uuid …:r) or a
    digest line (…:g)."""
    buttons = {}
    for person in {*PEOPLE, ALICE}:
        for a in ctx.store.assignments_of(person):
            buttons[str(OpenForm(a.key).encode())] = a.interview_id
    found: dict[str, list[tuple[str, str]]] = {}
    seen = set()
    for sent in feishu.sent_cards():
        if sent["uuid"] in seen or sent["uuid"] is None:
            continue
        seen.add(sent["uuid"])
        for interview in {buttons.get(str(v)) for v in button_values(sent["card"])} - {None}:
            found.setdefault(interview, []).append(({"r": "reminder", "g": "digest"}[sent["uuid"][-1]],
                                                    sent["uuid"]))
    return found


def button_values(node) -> list:
    """The values every button of a card sends."""
    if isinstance(node, list):
        return [v for item in node for v in button_values(item)]
    if not isinstance(node, dict):
        return []
    own = [b.get("value") for b in node.get("behaviors", [])] if node.get("tag") == "button" else []
    return own + [v for value in node.values() for v in button_values(value)]


def test_four_interviews_of_one_interviewer_that_ended_two_hours_ago_make_one_digest(ctx, clock, feishu):
    clock.now = local(25, "14:00")
    schedule(ctx, [row(f"90{n}", local(25, "12:00")) for n in range(4)])
    drain_until(ctx, clock, local(25, "19:59"))
    once = told(ctx, feishu)
    assert sorted(once) == ["900", "901", "902", "903"]
    assert {kind for each in once.values() for kind, _ in each} == {"digest"}
    assert all(len(each) == 1 for each in once.values())  # one digest names all four; no reminder card
    assert len(feishu.sent_cards()) == 1
    drain_until(ctx, clock, local(26, "10:00"))  # the next working day's digest lists what is still due
    again = told(ctx, feishu)
    assert all(len(each) == 2 and each[1][1].endswith("2026-11-26:g") for each in again.values())


def test_three_interviews_that_ended_two_hours_ago_get_their_own_reminders_and_no_digest_that_day(
        ctx, clock, feishu):
    clock.now = local(25, "14:00")
    schedule(ctx, [row(f"91{n}", local(25, "12:00")) for n in range(3)])
    drain_until(ctx, clock, local(25, "19:59"))
    once = told(ctx, feishu)
    assert sorted(once) == ["910", "911", "912"]
    assert all([kind for kind, _ in each] == ["reminder"] for each in once.values())
    drain_until(ctx, clock, local(26, "10:00"))
    assert all([kind for kind, _ in each] == ["reminder", "digest"] for each in told(ctx, feishu).values())


def test_a_reminder_due_with_the_daily_digest_is_one_of_its_lines_not_a_card_of_its_own(ctx, clock, feishu):
    clock.now = local(24, "18:30")
    schedule(ctx, [row("920", local(24, "18:00"))])  # reminded at 19:00, in the digest from the 25th
    drain_until(ctx, clock, local(25, "09:00"))
    schedule(ctx, [row("921", local(25, "09:00"))])  # its reminder is due at 10:00, with the digest
    drain_until(ctx, clock, local(25, "10:30"))
    once = told(ctx, feishu)
    assert [kind for kind, _ in once["920"]] == ["reminder", "digest"]
    assert len(once["921"]) == 1, once["921"]  # at 10:00: in the digest or by its own card, not both


class Crash(Exception):
    """A process dying right after a commit (the database's or Feishu's)."""


@contextmanager
def crashing(ctx, monkeypatch):
    """Attempt n of each reminder or digest job dies right after its n-th commit (a transaction of the database or
    a message Feishu accepted), so every commit point of every job is crashed after once; the runner retries the
    job as it would after its lease ran out. Yields the number of crashes so far (a one-item list)."""
    crashes = [0]
    state = {"job": None, "attempt": 0, "points": 0}
    real_transaction, real_send = ctx.store.transaction, ctx.feishu.send_card

    def point() -> None:
        if state["job"] is None:
            return
        state["points"] += 1
        if state["points"] == state["attempt"]:
            crashes[0] += 1
            raise Crash(f"crashed after commit {state['points']}")

    @contextmanager
    def transaction(*args, **kwargs):
        with real_transaction(*args, **kwargs) as conn:
            yield conn
        point()

    def send_card(*args, **kwargs):
        answer = real_send(*args, **kwargs)
        point()
        return answer

    def watched(run):
        def wrapper(self, job):
            state.update(job=job.id, attempt=job.attempts, points=0)  # counted when claimed
            try:
                return run(self, job)
            finally:
                state["job"] = None
        return wrapper

    monkeypatch.setattr(ctx.store, "transaction", transaction)
    monkeypatch.setattr(ctx.feishu, "send_card", send_card)
    monkeypatch.setattr(SendReminder, "run", watched(SendReminder.run))
    monkeypatch.setattr(SendDigest, "run", watched(SendDigest.run))
    yield crashes


@pytest.mark.parametrize("each", [4, 3], ids=["digests", "reminders"])
def test_24_interviews_of_6_interviewers_are_each_announced_once_with_a_crash_after_every_commit(
        ctx, clock, feishu, monkeypatch, each):
    """Six interviewers with `each` interviews that ended two hours ago (4: one digest each, 3: one reminder
    each); every job crashes once after each of its commits in turn."""
    clock.now = local(25, "14:00")
    rows = [row(f"93{p}{n}", local(25, "12:00"), interviewer) for p, interviewer in enumerate(PEOPLE)
            for n in range(each)]
    with crashing(ctx, monkeypatch) as crashes:
        schedule(ctx, rows)
        drain_until(ctx, clock, local(25, "19:59"))
    once = told(ctx, feishu)
    assert sorted(once) == sorted(r["interview_id"] for r in rows)
    assert Counter(len(each) for each in once.values()) == {1: len(rows)}, once
    assert crashes[0] >= 3 * len(PEOPLE)  # every job crashed after each of its commits
    assert ctx.store.jobs_by_status().get("dead", 0) == 0
    sent = Counter(c["uuid"] for c in feishu.sent_cards())
    assert sum(sent.values()) > len(sent)  # some messages were sent again after a crash, under the same uuid
