"""Working time in one time zone: when a reminder may go out, how far a snooze reaches, when the digest runs.

Arithmetic happens on absolute time (UTC) and wall-clock times are placed with zoneinfo, so a clock change
moves nothing by an hour; results come back in the working time zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_HOURS = "09:00-20:00"
DEFAULT_DAYS = "1-5"
DEFAULT_ZONE = "Asia/Shanghai"
DEFAULT_DIGEST_AT = "10:00"
SNOOZE = timedelta(hours=3)
_DAY = 24 * 60
_CLOCK = re.compile(r"(\d{1,2})[:：](\d{2})", re.ASCII)
_HOURS = re.compile(r"\s*(\S+?)\s*(?:-|–|—|~|～|to)\s*(\S+)\s*", re.ASCII | re.IGNORECASE)
_DAYS_PART = re.compile(r"(\d+)(?:\s*-\s*(\d+))?", re.ASCII)


class WorkTimeError(ValueError):
    """A working-time setting cannot be understood; the message says what it should look like."""


def parse_clock(text: str, *, end_of_day: bool = False) -> int:
    """Minutes after midnight of `HH:MM`; 24:00 only when `end_of_day`."""
    match = _CLOCK.fullmatch(text.strip())
    if not match:
        raise WorkTimeError(f"'{text}' is not a time of day like 09:00")
    hours, minutes = int(match.group(1)), int(match.group(2))
    if minutes > 59 or hours > 24 or (hours == 24 and (minutes or not end_of_day)):
        raise WorkTimeError(f"'{text}' is not a time of day (00:00 to {'24:00' if end_of_day else '23:59'})")
    return hours * 60 + minutes


def parse_hours(text: str) -> tuple[int, int]:
    """Opening and closing minutes of `HH:MM-HH:MM` (closing may be 24:00; overnight hours are refused)."""
    match = _HOURS.fullmatch(text)
    if not match:
        raise WorkTimeError(f"must look like 09:00-20:00 (got '{text}')")
    try:
        opens, closes = parse_clock(match.group(1)), parse_clock(match.group(2), end_of_day=True)
    except WorkTimeError as exc:
        raise WorkTimeError(f"must look like 09:00-20:00 (got '{text}': {exc})") from None
    if closes <= opens:
        raise WorkTimeError(f"must close after they open on the same day (got '{text}'; no overnight hours)")
    return opens, closes


def parse_days(text: str) -> frozenset[int]:
    """ISO weekday numbers (1 = Monday … 7 = Sunday) from `1-5`, `1,2,3,4,5` or `1-5,7`; `6-1` wraps the week."""
    days: set[int] = set()
    for part in text.replace("，", ",").split(","):
        match = _DAYS_PART.fullmatch(part.strip())
        if not match:
            raise WorkTimeError(f"must be weekday numbers 1 (Monday) to 7 (Sunday) like 1-5 or 1-5,7 (got '{text}')")
        first, last = int(match.group(1)), int(match.group(2) or match.group(1))
        if not (1 <= first <= 7 and 1 <= last <= 7):
            wrong = first if not 1 <= first <= 7 else last
            raise WorkTimeError(f"names day {wrong}; weekdays are 1 (Monday) to 7 (Sunday) (got '{text}')")
        days.update((first - 1 + step) % 7 + 1 for step in range((last - first) % 7 + 1))
    return frozenset(days)


def parse_zone(name: str) -> ZoneInfo:
    """The IANA time zone of that name, e.g. Asia/Shanghai."""
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise WorkTimeError(f"'{name}' is not a known time zone (use a name like Asia/Shanghai)") from None


@dataclass(frozen=True)
class WorkTime:
    """Working hours on working days in one time zone; a window runs from `opens` up to, not including, `closes`."""

    zone: ZoneInfo
    opens: int = 9 * 60
    closes: int = 20 * 60
    days: frozenset[int] = frozenset({1, 2, 3, 4, 5})

    def __post_init__(self) -> None:
        if not self.days or not self.days <= frozenset(range(1, 8)):
            raise WorkTimeError("working days must be some of 1 (Monday) to 7 (Sunday)")
        if not 0 <= self.opens < self.closes <= _DAY:
            raise WorkTimeError("working hours must open before they close, within one day")

    @classmethod
    def parse(cls, hours: str = DEFAULT_HOURS, days: str = DEFAULT_DAYS, zone: str = DEFAULT_ZONE) -> WorkTime:
        """Working time from the settings' text; the error names the setting at fault."""
        found = []
        for name, read, value in (("ASSESSBOT_WORK_HOURS", parse_hours, hours),
                                  ("ASSESSBOT_WORK_DAYS", parse_days, days),
                                  ("ASSESSBOT_TIMEZONE", parse_zone, zone)):
            try:
                found.append(read(value))
            except WorkTimeError as exc:
                raise WorkTimeError(f"{name} {exc}") from None
        (opens, closes), work_days, work_zone = found
        return cls(zone=work_zone, opens=opens, closes=closes, days=work_days)

    def is_working(self, moment: datetime) -> bool:
        """Whether `moment` lies inside a working window."""
        return self.earliest(moment) == _utc(moment)

    def earliest(self, moment: datetime) -> datetime:
        """`moment` itself when it is working time, otherwise the next opening."""
        now = _utc(moment)
        for day in self._working_days_from(now):
            opens, closes = self._window(day)
            if now < closes:
                return max(now, opens).astimezone(self.zone)
        raise AssertionError("a week always has a working day")  # pragma: no cover

    def next_opening(self, moment: datetime) -> datetime:
        """The first start of a working window after `moment` (the next working morning)."""
        now = _utc(moment)
        for day in self._working_days_from(now):
            opens, _ = self._window(day)
            if opens > now:
                return opens.astimezone(self.zone)
        raise AssertionError("a week always has a working day")  # pragma: no cover

    def first_reminder(self, end: datetime, delay_minutes: int) -> datetime:
        """When to first remind of an interview that ended at `end`: `delay_minutes` later, in working time."""
        return self.earliest(_utc(end) + timedelta(minutes=delay_minutes))

    def snooze(self, now: datetime, wait: timedelta = SNOOZE) -> datetime:
        """"Remind me later": the next working morning, or `wait` from now if that is sooner and working time."""
        later = self.earliest(_utc(now) + wait)
        morning = self.next_opening(now)
        return min(later, morning, key=_utc)

    def next_digest(self, now: datetime, digest_at: str = DEFAULT_DIGEST_AT) -> datetime:
        """The next digest strictly after `now`: today at `digest_at` if still ahead on a working day, else next."""
        at = parse_clock(digest_at)
        if not self.opens <= at < self.closes:
            raise WorkTimeError(f"ASSESSBOT_DIGEST_AT {digest_at} must fall within the working hours")
        moment = _utc(now)
        for day in self._working_days_from(moment):
            when = self._wall(day, at).astimezone(UTC)
            if when > moment:
                return when.astimezone(self.zone)
        raise AssertionError("a week always has a working day")  # pragma: no cover

    def working_days_between(self, earlier: datetime, later: datetime) -> int:
        """How many working days begin after `earlier`'s day up to and including `later`'s day (0 if none)."""
        first, last = self._date(earlier), self._date(later)
        span = (last - first).days
        if span <= 0:
            return 0
        weeks, rest = divmod(span, 7)
        return weeks * len(self.days) + sum(
            (first + timedelta(days=step)).isoweekday() in self.days for step in range(1, rest + 1))

    def _date(self, moment: datetime) -> date:
        return _utc(moment).astimezone(self.zone).date()

    def _working_days_from(self, moment: datetime) -> list[date]:
        first = self._date(moment)
        return [day for day in (first + timedelta(days=n) for n in range(9)) if day.isoweekday() in self.days]

    def _wall(self, day: date, minutes: int) -> datetime:
        """The wall-clock time `minutes` after midnight of `day`; a time skipped by a clock change moves forward."""
        day += timedelta(days=minutes // _DAY)
        minutes %= _DAY
        return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=self.zone)

    def _window(self, day: date) -> tuple[datetime, datetime]:
        return self._wall(day, self.opens).astimezone(UTC), self._wall(day, self.closes).astimezone(UTC)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("working time needs an aware datetime")
    return moment.astimezone(UTC)
