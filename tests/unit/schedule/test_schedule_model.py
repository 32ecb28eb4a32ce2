"""Specifications of one assignment and of how each of its fields is read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from bot.schedule.model import Invalid, person_kind, read_id, read_person, read_time
from bot.schedule.model import ScheduleRow as Assignment
from tests.support.ids import OPEN_ID, SHANGHAI

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(("typed", "person", "kind"), [
    (OPEN_ID, OPEN_ID, "open_id"),
    ("  Li.Na@Example.COM ", "li.na@example.com", "email"),
    ("13800138000", "+8613800138000", "mobile"),
    ("138 0013 8000", "+8613800138000", "mobile"),
    ("138-0013-8000", "+8613800138000", "mobile"),
    ("+86 138 0013 8000", "+8613800138000", "mobile"),
    ("+86-13800138000", "+8613800138000", "mobile"),
    ("8613800138000", "+8613800138000", "mobile"),
    ("0086 13800138000", "+8613800138000", "mobile"),
    ("１３８００１３８０００", "+8613800138000", "mobile"),
    ("+1 (415) 555-0100", "+14155550100", "mobile"),
    ("+852 6123 4567", "+85261234567", "mobile"),
    (13800138000, "+8613800138000", "mobile"),
    (13800138000.0, "+8613800138000", "mobile"),
])
def test_it_reads_each_kind_of_person_in_one_normal_form(typed, person, kind):
    """It names every interviewer by open_id, a lowercased email, or a mobile number with its country code."""
    assert read_person(typed) == person
    assert person_kind(person) == kind


@pytest.mark.parametrize(("typed", "en"), [
    ("张三", "'张三' is not an open_id (ou_…), an email or a mobile number."),
    ("4155550100", "'4155550100' is not an open_id (ou_…), an email or a mobile number. "
                   "Numbers outside mainland China need + and the country code."),
    ("+86 12345", "'+86 12345' is not an open_id (ou_…), an email or a mobile number."),
    ("li.na@example", "'li.na@example' is not an open_id (ou_…), an email or a mobile number."),
    ("   ", "is empty."),
])
def test_it_refuses_what_names_nobody(typed, en):
    """It says what an interviewer may be when the value is none of them, in both languages."""
    with pytest.raises(Invalid) as caught:
        read_person(typed)
    assert caught.value.en == en
    assert caught.value.zh


@pytest.mark.parametrize(("typed", "quoted"), [
    ("li\x00na@example.com", "li\x00na@example.com"),  # a control character
    ("li\ud800na@example.com", "li?na@example.com"),  # a lone surrogate (JSON's \ud800), quoted as it can be sent
    ("<li.na@example.com>", "<li.na@example.com>"),
    ("li.na@example.com,chen.jie@example.com", "li.na@example.com,chen.jie@example.com"),
    ("li.na@example.com;", "li.na@example.com;"),
    ("a@" + "x" * 250 + ".com", "a@" + "x" * 38 + "…"),  # a domain longer than 253 characters
])
def test_what_only_looks_like_an_email_is_refused_before_feishu_is_asked(typed, quoted):
    with pytest.raises(Invalid) as caught:
        read_person(typed)
    assert caught.value.en == f"'{quoted}' is not an open_id (ou_…), an email or a mobile number."
    caught.value.zh.encode("utf-8")  # a message that can be sent


def test_a_recruiter_is_an_open_id_or_an_email_only():
    """It refuses a mobile number where only an open_id or email will do."""
    with pytest.raises(Invalid) as caught:
        read_person("13800138000", ("open_id", "email"))
    assert caught.value.en == "'13800138000' is not an open_id (ou_…) or an email."


@pytest.mark.parametrize(("typed", "moment"), [
    ("2026-12-07 10:00", datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI)),
    ("2026-12-07 10:00:30", datetime(2026, 12, 7, 10, 0, 30, tzinfo=SHANGHAI)),
    ("2026/12/7 9:05", datetime(2026, 12, 7, 9, 5, tzinfo=SHANGHAI)),
    ("2026/12/07 09:05:00", datetime(2026, 12, 7, 9, 5, tzinfo=SHANGHAI)),
    ("2026-12-07T10:00", datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI)),
    ("2026-12-07T10:00:00+08:00", datetime(2026, 12, 7, 2, 0, tzinfo=UTC)),
    ("2026-12-07T02:00:00Z", datetime(2026, 12, 7, 2, 0, tzinfo=UTC)),
    ("2026-12-07T10:00:00.250+0800", datetime(2026, 12, 7, 2, 0, 0, 250000, tzinfo=UTC)),
    ("2026-12-07 04:00 -05:00", datetime(2026, 12, 7, 9, 0, tzinfo=UTC)),
    (datetime(2026, 12, 7, 10, 0), datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI)),
    (datetime(2026, 12, 7, 3, 0, tzinfo=UTC), datetime(2026, 12, 7, 3, 0, tzinfo=UTC)),
])
def test_it_reads_the_times_people_and_spreadsheets_write(typed, moment):
    """It reads ISO 8601 with or without an offset, and local times in the configured zone."""
    read = read_time(typed, SHANGHAI)
    assert read == moment
    assert read.utcoffset() is not None


def test_local_times_keep_their_zone_across_a_clock_change():
    """It gives Berlin times the offset of their own day, summer or winter."""
    assert read_time("2026-03-27 10:00", BERLIN).utcoffset() == timedelta(hours=1)
    assert read_time("2026-03-30 10:00", BERLIN).utcoffset() == timedelta(hours=2)


@pytest.mark.parametrize(("typed", "en"), [
    ("tomorrow 10am", "'tomorrow 10am' is not a time; write 2026-12-01 14:00 or 2026-12-01T14:00:00+08:00."),
    ("2026-12-07", "'2026-12-07' is not a time; write 2026-12-01 14:00 or 2026-12-01T14:00:00+08:00."),
    ("2026-02-30 10:00", "'2026-02-30 10:00' is not a real date or time."),
    ("2026-12-07 25:00", "'2026-12-07 25:00' is not a real date or time."),
    ("2026-12-07T10:00+25:00",
     "the UTC offset +25:00 in '2026-12-07T10:00+25:00' is not valid (from -14:00 to +14:00, e.g. +08:00)."),
    ("2026-12-07T10:00+8",
     "the UTC offset +8 in '2026-12-07T10:00+8' is not valid (from -14:00 to +14:00, e.g. +08:00)."),
    (46363.5, "'46363.5' is a number, not a time; write 2026-12-01 14:00 (or format the cell as a date)."),
    ("", "is empty."),
])
def test_it_says_why_a_time_cannot_be_read(typed, en):
    """It refuses what is not a whole date and time, and says how to write one."""
    with pytest.raises(Invalid) as caught:
        read_time(typed, SHANGHAI)
    assert caught.value.en == en


def test_a_local_time_the_clocks_skip_is_refused():
    """It refuses 02:30 on the night Berlin moves its clocks forward instead of guessing."""
    with pytest.raises(Invalid) as caught:
        read_time("2026-03-29 02:30", BERLIN)
    assert caught.value.en == "2026-03-29 02:30 does not exist in Europe/Berlin (the clocks skip it)."


def test_a_local_time_needs_a_zone():
    """It refuses a wall-clock time when no time zone is given."""
    with pytest.raises(Invalid, match="has no time zone"):
        read_time("2026-12-07 10:00", None)


def test_ids_stay_text_and_long_numbers_that_lost_digits_are_refused():
    """It keeps ids as text, accepts short whole numbers, and refuses ids a spreadsheet rounded."""
    assert read_id(" 7412358746023518273 ") == "7412358746023518273"
    assert read_id(12345) == "12345"
    with pytest.raises(Invalid, match="lost its last digits"):
        read_id(7.412358746023518e18)
    with pytest.raises(Invalid, match="is not an id"):
        read_id("74123 58746")


def test_an_assignment_is_frozen_and_knows_its_key():
    """It builds an assignment from aware datetimes and exposes what makes it unique."""
    start = datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI)
    assignment = Assignment(interview_id="7412358746023518273", interviewer="LI.NA@example.com", candidate=" 张伟 ",
                            start=start, end=start + timedelta(hours=1), recruiter=OPEN_ID, feishu_assessment_id="",
                            position="", round="Technical  1")
    assert assignment.key == ("7412358746023518273", "li.na@example.com")
    assert (assignment.candidate, assignment.position, assignment.round) == ("张伟", None, "Technical 1")
    assert assignment.feishu_assessment_id is None
    assert (assignment.interviewer_kind, assignment.recruiter_kind) == ("email", "open_id")
    with pytest.raises(ValidationError):
        assignment.candidate = "someone else"  # type: ignore[misc]


def test_an_assignment_ends_no_earlier_than_it_starts():
    """It refuses an end before the start, on the end field, and accepts an interview of no length."""
    start = datetime(2026, 12, 7, 10, 0, tzinfo=timezone(timedelta(hours=8)))
    fields = {"interview_id": "1", "interviewer": OPEN_ID, "candidate": "张伟", "start": start}
    assert Assignment(**fields, end=start).end == start
    with pytest.raises(ValidationError) as caught:
        Assignment(**fields, end=start - timedelta(minutes=1))
    (error,) = caught.value.errors()
    assert error["loc"] == ("end",)
    assert error["ctx"]["error"].en == "ends before the interview starts (2026-12-07 10:00)."


def test_an_assignment_reads_local_times_only_with_a_zone():
    """It reads text times in the zone given as validation context, and refuses them without one."""
    record = {"interview_id": "1", "interviewer": OPEN_ID, "candidate": "张伟",
              "start": "2026-12-07 10:00", "end": "2026-12-07 11:00"}
    assignment = Assignment.model_validate(record, context={"zone": SHANGHAI})
    assert assignment.end == datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
    with pytest.raises(ValidationError, match="has no time zone"):
        Assignment.model_validate(record)
