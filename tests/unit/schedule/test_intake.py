"""Taking a schedule in: people resolved through a cache in batches, unknown people as problems, counted upserts."""

from __future__ import annotations

import pytest

from bot.schedule import validate_records
from bot.schedule.intake import REFRESH, take_in
from bot.schedule.planner import Planner
from bot.store import Upserted
from tests.support.clock import FakeClock
from tests.support.ids import SHANGHAI, START, make_settings
from tests.support.jobs import pending_work

LI_NA = "ou_lina0000000000000000000000000000"


def record(n: int, interviewer: str = "li.na@example.com", **extra) -> dict:
    return {"interview_id": str(7000 + n), "interviewer": interviewer, "candidate": f"候选人{n}",
            "start": "2026-12-07 10:00", "end": "2026-12-07 11:00", **extra}


class Directory:
    """Feishu's batch_get_id as a function: records each call, knows some people."""

    def __init__(self, known: dict[str, str]):
        self.known = known
        self.calls: list[tuple[list[str], list[str]]] = []

    def __call__(self, emails: list[str], mobiles: list[str]) -> dict[str, str]:
        self.calls.append((emails, mobiles))
        return {ref: self.known[ref] for ref in (*emails, *mobiles) if ref in self.known}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def planner(database_url, clock):
    return Planner(make_settings(database_url), clock())


def take(store, records, lookup, clock, **kwargs):
    assignments, problems = validate_records(records, SHANGHAI)
    return take_in(assignments, problems, store, Planner(make_settings("sqlite://"), clock()), lookup=lookup,
                   now=clock(), **kwargs)


def test_upsert_counts_new_updated_and_unchanged_rows(store, planner):
    row = {"interview_id": "1", "interviewer": LI_NA, "candidate": "张伟", "position": None, "round": None,
           "start_at": START + 3600, "end_at": START + 7200, "recruiter": None, "application_id": None,
           "feishu_assessment_id": None}
    assert store.upsert_assignments([row, {**row, "interview_id": "2"}], planner) == Upserted(2, 0, 0)
    assert store.upsert_assignments([row, {**row, "interview_id": "2", "round": "二面"}], planner) == Upserted(0, 1, 1)
    assert pending_work(store) == {"pending": 2}  # one reminder each; the round changed nothing about it


def test_a_dry_run_upsert_counts_and_writes_nothing(store, planner):
    row = {"interview_id": "1", "interviewer": LI_NA, "candidate": "张伟", "start_at": START + 3600,
           "end_at": START + 7200}
    assert store.upsert_assignments([row], planner, dry_run=True) == Upserted(1, 0, 0)
    assert store.assignments_of(LI_NA) == [] and store.jobs_by_status() == {}


def test_people_are_looked_up_in_batches_of_fifty_and_cached(store, clock):
    emails = [f"p{n:03d}@example.com" for n in range(120)]
    directory = Directory({e: f"ou_p{n:03d}" for n, e in enumerate(emails)} | {"13800138000": "ou_mobile"})
    records = [record(n, e) for n, e in enumerate(emails)] + [record(200, "+86 138 0013 8000")]
    taken = take(store, records, directory, clock)
    assert (taken.new, taken.errors) == (121, [])
    assert [(len(e), m) for e, m in directory.calls] == [(50, ["13800138000"]), (50, []), (20, [])]
    assert {a.interviewer for a in store.assignments_of("ou_mobile")} == {"ou_mobile"}

    again = take(store, records, directory, clock)
    assert (again.new, again.unchanged, len(directory.calls)) == (0, 121, 3)  # all from the cache
    clock.advance(REFRESH + 1)
    take(store, records[:1], directory, clock)
    assert directory.calls[-1] == (["p000@example.com"], [])  # a week later, asked again


def test_unknown_people_are_problems_with_their_row_and_column(store, clock):
    directory = Directory({"li.na@example.com": LI_NA})
    records = [record(1), record(2, "nobody@example.com"), record(3, recruiter="ghost@example.com"),
               record(4, "+1 415 555 0100")]
    taken = take(store, records, directory, clock)
    assert [(p.row, p.column, p.en) for p in taken.errors] == [
        (2, "interviewer", "nobody in Feishu has the email 'nobody@example.com' (or they are outside the app's "
                           "contacts range)."),
        (3, "recruiter", "nobody in Feishu has the email 'ghost@example.com' (or they are outside the app's "
                         "contacts range)."),
        (4, "interviewer", "nobody in Feishu has the mobile number '+14155550100' (or they are outside the app's "
                           "contacts range)."),
    ]
    assert taken.errors[0].zh == "飞书中找不到邮箱为“nobody@example.com”的用户（或此人不在应用的通讯录权限范围内）。"
    assert not taken.applied and store.assignments_of(LI_NA) == []
    skipping = take(store, records, directory, clock, skip_invalid=True)
    assert (skipping.new, skipping.skipped, skipping.applied) == (1, 3, True)


def test_an_email_and_an_open_id_for_the_same_person_on_one_interview_is_a_problem(store, clock):
    directory = Directory({"li.na@example.com": LI_NA})
    taken = take(store, [record(1), record(1, LI_NA)], directory, clock)
    assert [(p.row, p.column, p.en) for p in taken.errors] == [
        (2, "interviewer", f"same interview and interviewer as item 1 (li.na@example.com and {LI_NA} are one person)."),
    ]


def test_a_dry_run_resolves_people_but_caches_nothing(store, clock):
    directory = Directory({"li.na@example.com": LI_NA})
    assert take(store, [record(1)], directory, clock, dry_run=True).new == 1
    assert store.people(["li.na@example.com"], 0) == {} and store.assignments_of(LI_NA) == []


def test_an_acknowledgement_commits_its_assignments_with_everything_else_or_not_at_all(store, planner):
    row = {"interview_id": "1", "interviewer": LI_NA, "candidate": "张伟", "start_at": START + 3600,
           "end_at": START + 7200}
    assert store.accept(["message:1"], [], new_assignments=[row], plan=planner) == []
    assert store.accept(["message:1"], [], new_assignments=[row | {"candidate": "王芳"}], plan=planner) is None
    assert [a.candidate for a in store.assignments_of(LI_NA)] == ["张伟"]
    assert pending_work(store) == {"pending": 1}  # its reminder, planned once
    with pytest.raises(ValueError, match="need a plan"):
        store.accept([], [], new_assignments=[row])
