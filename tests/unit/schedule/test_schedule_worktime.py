"""Specifications of working time: when reminders may go out, snoozes, digests and counting working days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.schedule.worktime import WorkTime, WorkTimeError, parse_days, parse_hours
from tests.support.ids import SHANGHAI

BERLIN = ZoneInfo("Europe/Berlin")
WORK = WorkTime.parse()  # 09:00-20:00, Monday to Friday, Asia/Shanghai


def at(day: int, hour: int, minute: int = 0, month: int = 12, zone: ZoneInfo = SHANGHAI) -> datetime:
    """A wall-clock time in 2026 (December 2026: the 4th is a Friday, the 7th a Monday)."""
    return datetime(2026, month, day, hour, minute, tzinfo=zone)


def test_the_defaults_are_weekdays_nine_to_eight_in_shanghai():
    """It works 09:00-20:00 Monday to Friday in Asia/Shanghai unless told otherwise."""
    assert WorkTime(zone=SHANGHAI, opens=9 * 60, closes=20 * 60, days=frozenset({1, 2, 3, 4, 5})) == WORK


@pytest.mark.parametrize(("text", "days"), [
    ("1-5", {1, 2, 3, 4, 5}),
    ("1,2,3,4,5", {1, 2, 3, 4, 5}),
    ("1-5,7", {1, 2, 3, 4, 5, 7}),
    (" 1 - 3 ， 5 ", {1, 2, 3, 5}),
    ("7-4", {7, 1, 2, 3, 4}),
    ("6", {6}),
])
def test_working_days_are_iso_weekday_numbers_and_ranges(text, days):
    """It reads single days, ranges and lists of them; a range may wrap past Sunday."""
    assert parse_days(text) == days


@pytest.mark.parametrize(("text", "message"), [
    ("", "must be weekday numbers 1 (Monday) to 7 (Sunday) like 1-5 or 1-5,7 (got '')"),
    ("mon-fri", "must be weekday numbers 1 (Monday) to 7 (Sunday) like 1-5 or 1-5,7 (got 'mon-fri')"),
    ("1-5,", "must be weekday numbers 1 (Monday) to 7 (Sunday) like 1-5 or 1-5,7 (got '1-5,')"),
    ("0-4", "names day 0; weekdays are 1 (Monday) to 7 (Sunday) (got '0-4')"),
    ("1-8", "names day 8; weekdays are 1 (Monday) to 7 (Sunday) (got '1-8')"),
])
def test_working_days_that_cannot_be_read_say_how_to_write_them(text, message):
    """It explains what working days should look like."""
    with pytest.raises(WorkTimeError) as caught:
        parse_days(text)
    assert str(caught.value) == message


@pytest.mark.parametrize(("text", "hours"), [
    ("09:00-20:00", (540, 1200)),
    ("9:30 - 18:00", (570, 1080)),
    ("08:00–24:00", (480, 1440)),
    ("00:00~23:59", (0, 1439)),
])
def test_working_hours_are_read(text, hours):
    """It reads opening and closing times, with 24:00 as the end of the day."""
    assert parse_hours(text) == hours


@pytest.mark.parametrize(("text", "message"), [
    ("9-20", "must look like 09:00-20:00 (got '9-20': '9' is not a time of day like 09:00)"),
    ("nine to five", "must look like 09:00-20:00 (got 'nine to five': 'nine' is not a time of day like 09:00)"),
    ("09:00", "must look like 09:00-20:00 (got '09:00')"),
    ("09:00-25:00", "must look like 09:00-20:00 (got '09:00-25:00': '25:00' is not a time of day (00:00 to 24:00))"),
    ("24:00-24:00", "must look like 09:00-20:00 (got '24:00-24:00': '24:00' is not a time of day (00:00 to 23:59))"),
    ("09:60-10:00", "must look like 09:00-20:00 (got '09:60-10:00': '09:60' is not a time of day (00:00 to 23:59))"),
    ("20:00-09:00", "must close after they open on the same day (got '20:00-09:00'; no overnight hours)"),
])
def test_working_hours_that_cannot_be_read_say_how_to_write_them(text, message):
    """It explains what working hours should look like."""
    with pytest.raises(WorkTimeError) as caught:
        parse_hours(text)
    assert str(caught.value) == message


def test_errors_name_the_setting_at_fault():
    """It prefixes each problem with the environment variable that holds it."""
    with pytest.raises(WorkTimeError, match=r"^ASSESSBOT_WORK_DAYS names day 9"):
        WorkTime.parse(days="1-9")
    with pytest.raises(WorkTimeError, match=r"^ASSESSBOT_WORK_HOURS must close after"):
        WorkTime.parse(hours="18:00-09:00")
    with pytest.raises(WorkTimeError, match=r"^ASSESSBOT_TIMEZONE 'Mars/Olympus' is not a known time zone"):
        WorkTime.parse(zone="Mars/Olympus")


@pytest.mark.parametrize(("moment", "working"), [
    (at(4, 9, 0), True),
    (at(4, 19, 59), True),
    (at(4, 20, 0), False),
    (at(4, 8, 59), False),
    (at(5, 12, 0), False),
    (datetime(2026, 12, 4, 11, 59, tzinfo=UTC), True),  # 19:59 in Shanghai
    (datetime(2026, 12, 4, 12, 0, tzinfo=UTC), False),
])
def test_working_time_is_a_half_open_window_on_working_days(moment, working):
    """It counts the opening minute as working time and the closing minute as not."""
    assert WORK.is_working(moment) is working


@pytest.mark.parametrize(("end", "delay", "first"), [
    (at(1, 15, 0), 60, at(1, 16, 0)),
    (at(4, 19, 30), 60, at(7, 9, 0)),   # Friday evening -> Monday morning
    (at(4, 19, 0), 60, at(7, 9, 0)),    # exactly at closing is outside
    (at(4, 18, 59), 60, at(4, 19, 59)),
    (at(5, 10, 0), 60, at(7, 9, 0)),    # Saturday
    (at(7, 7, 0), 60, at(7, 9, 0)),     # before opening
    (at(7, 8, 30), 60, at(7, 9, 30)),
    (at(1, 15, 0), 0, at(1, 15, 0)),
    (at(1, 15, 0), 24 * 60, at(2, 15, 0)),
])
def test_the_first_reminder_waits_the_delay_then_for_working_time(end, delay, first):
    """It reminds `delay` minutes after the interview, or at the next opening when that is outside work."""
    assert WORK.first_reminder(end, delay) == first


def test_sunday_can_be_a_working_day():
    """It honours a working week that includes Sunday."""
    week = WorkTime.parse(days="1-5,7")
    assert week.first_reminder(at(4, 19, 30), 60) == at(6, 9, 0)


def test_the_first_reminder_is_given_in_the_working_zone_whatever_zone_the_end_is_in():
    """It compares absolute times, so an end given in UTC lands on the same Shanghai morning."""
    first = WORK.first_reminder(datetime(2026, 12, 4, 11, 30, tzinfo=UTC), 60)  # 19:30 Friday in Shanghai
    assert first.tzinfo == SHANGHAI
    assert first == at(7, 9, 0)


@pytest.mark.parametrize(("now", "later"), [
    (at(1, 12, 0), at(1, 15, 0)),
    (at(1, 16, 59), at(1, 19, 59)),
    (at(1, 17, 0), at(2, 9, 0)),   # +3 h is closing time
    (at(1, 18, 0), at(2, 9, 0)),
    (at(1, 7, 0), at(1, 9, 0)),    # the morning is sooner than +3 h
    (at(1, 7, 0), at(1, 9, 0)),
    (at(4, 17, 30), at(7, 9, 0)),  # Friday
    (at(5, 11, 0), at(7, 9, 0)),   # Saturday
    (at(1, 22, 0), at(2, 9, 0)),
])
def test_remind_me_later_is_three_hours_or_the_next_morning_whichever_is_sooner(now, later):
    """It snoozes to the next working morning or three hours on, never outside working time."""
    assert WORK.snooze(now) == later


def test_a_snooze_can_be_shorter():
    """It takes another waiting time when asked."""
    assert WORK.snooze(at(1, 12, 0), timedelta(minutes=30)) == at(1, 12, 30)


@pytest.mark.parametrize(("now", "digest"), [
    (at(1, 9, 0), at(1, 10, 0)),
    (at(1, 0, 0), at(1, 10, 0)),
    (at(1, 9, 59), at(1, 10, 0)),
    (at(1, 10, 0), at(2, 10, 0)),   # a digest due now is sent now; the next one is tomorrow
    (at(1, 10, 1), at(2, 10, 0)),
    (at(4, 11, 0), at(7, 10, 0)),   # Friday after the digest -> Monday
    (at(5, 9, 0), at(7, 10, 0)),    # Saturday
])
def test_the_digest_goes_out_once_per_working_day_at_its_time(now, digest):
    """It names today's digest time while it is ahead on a working day, else the next working day's."""
    assert WORK.next_digest(now) == digest


def test_the_digest_time_is_configurable_and_must_be_in_working_hours():
    """It takes another digest time within working hours and refuses one outside them."""
    assert WORK.next_digest(at(1, 12, 0), "14:30") == at(1, 14, 30)
    with pytest.raises(WorkTimeError, match="ASSESSBOT_DIGEST_AT 08:00 must fall within the working hours"):
        WORK.next_digest(at(1, 12, 0), "08:00")
    with pytest.raises(WorkTimeError, match="ASSESSBOT_DIGEST_AT 20:00 must fall within the working hours"):
        WORK.next_digest(at(1, 12, 0), "20:00")


BERLIN_WORK = WorkTime.parse(zone="Europe/Berlin")
ALWAYS = WorkTime.parse(hours="00:00-24:00", days="1-7", zone="Europe/Berlin")


def test_friday_evening_to_monday_morning_across_the_spring_clock_change():
    """It lands on Monday 09:00 summer time (07:00 UTC) after the weekend the clocks go forward."""
    first = BERLIN_WORK.first_reminder(at(27, 19, 30, month=3, zone=BERLIN), 60)
    assert first == at(30, 9, 0, month=3, zone=BERLIN)
    assert first.astimezone(UTC) == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)


def test_friday_evening_to_monday_morning_across_the_autumn_clock_change():
    """It lands on Monday 09:00 winter time (08:00 UTC) after the weekend the clocks go back."""
    first = BERLIN_WORK.first_reminder(at(23, 19, 30, month=10, zone=BERLIN), 60)
    assert first.astimezone(UTC) == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)
    assert BERLIN_WORK.next_digest(at(23, 11, 0, month=10, zone=BERLIN)).astimezone(UTC) == datetime(
        2026, 10, 26, 9, 0, tzinfo=UTC)


def test_three_hours_are_three_real_hours_across_a_clock_change():
    """It adds elapsed time, not wall-clock time, on the nights the clocks move."""
    spring = ALWAYS.snooze(datetime(2026, 3, 29, 0, 0, tzinfo=UTC))  # 01:00 CET
    assert spring.astimezone(UTC) == datetime(2026, 3, 29, 3, 0, tzinfo=UTC)
    assert (spring.hour, spring.utcoffset()) == (5, timedelta(hours=2))
    autumn = ALWAYS.snooze(datetime(2026, 10, 24, 23, 30, tzinfo=UTC))  # 01:30 CEST
    assert autumn.astimezone(UTC) == datetime(2026, 10, 25, 2, 30, tzinfo=UTC)
    assert (autumn.hour, autumn.utcoffset()) == (3, timedelta(hours=1))


def test_an_opening_time_the_clocks_skip_moves_forward():
    """It opens at 03:00 summer time when working hours start at 02:00 on the night the clocks skip it."""
    night = WorkTime.parse(hours="02:00-06:00", days="7", zone="Europe/Berlin")
    opening = night.next_opening(datetime(2026, 3, 28, 12, 0, tzinfo=UTC))
    assert opening.astimezone(UTC) == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize(("earlier", "later", "count"), [
    (at(4, 19, 0), at(4, 23, 0), 0),
    (at(4, 19, 0), at(5, 12, 0), 0),   # Saturday is no working day
    (at(4, 19, 0), at(7, 0, 30), 1),   # Monday counts from its first minute
    (at(4, 19, 0), at(11, 9, 0), 5),
    (at(4, 19, 0), at(21, 9, 0), 11),
    (at(7, 9, 0), at(4, 9, 0), 0),     # backwards
    (datetime(2026, 12, 6, 16, 30, tzinfo=UTC), at(7, 9, 0), 0),  # already Monday 00:30 in Shanghai
])
def test_working_days_are_counted_by_the_calendar_in_the_working_zone(earlier, later, count):
    """It counts working days after the first day up to and including the last, by Shanghai's calendar."""
    assert WORK.working_days_between(earlier, later) == count


def test_working_days_are_counted_across_a_clock_change():
    """It counts the week of the spring clock change like any other."""
    assert BERLIN_WORK.working_days_between(at(27, 23, 30, month=3, zone=BERLIN),
                                            at(3, 0, 30, month=4, zone=BERLIN)) == 5


@given(first=st.dates(date(2020, 1, 1), date(2030, 12, 31)), span=st.integers(-10, 400),
       days=st.sets(st.integers(1, 7), min_size=1))
def test_counting_working_days_agrees_with_walking_the_calendar(first, span, days):
    """It counts as many working days as walking day by day would."""
    work = WorkTime(zone=SHANGHAI, days=frozenset(days))
    start = datetime(first.year, first.month, first.day, 12, tzinfo=SHANGHAI)
    walked = sum((first + timedelta(days=n)).isoweekday() in days for n in range(1, span + 1))
    assert work.working_days_between(start, start + timedelta(days=span)) == walked


def test_naive_times_are_refused():
    """It refuses a datetime with no zone rather than guess one."""
    with pytest.raises(ValueError, match="aware datetime"):
        WORK.first_reminder(datetime(2026, 12, 4, 19, 30), 60)
