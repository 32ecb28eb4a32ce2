"""The schedule of interviews: assignments, reading them from files and lists, and working time."""

from bot.schedule.model import Invalid, ScheduleRow
from bot.schedule.validation import Problem, validate_records
from bot.schedule.worktime import WorkTime, WorkTimeError

__all__ = ["ScheduleRow", "Invalid", "Problem", "WorkTime", "WorkTimeError", "validate_records"]
