"""One assignment — one interviewer on one external interview — and the readers for each of its fields."""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

PersonKind = Literal["open_id", "email", "mobile"]

_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")
_OPEN_ID = re.compile(r"ou_[0-9A-Za-z]{1,64}")
# An email as Feishu can look one up: at most 64 characters before the @ and 253 after, none of them a space, a
# control character, a lone surrogate or a character that separates or wraps addresses in a list.
_NOT_IN_EMAIL = r"@\s\x00-\x1f\x7f<>()\[\]\\,;:\"\ud800-\udfff"
_EMAIL = re.compile(rf"[^{_NOT_IN_EMAIL}]{{1,64}}@(?=[^@]{{1,253}}\Z)[^{_NOT_IN_EMAIL}.]+(?:\.[^{_NOT_IN_EMAIL}.]+)+")
_MAINLAND_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_INTERNATIONAL = re.compile(r"\+[1-9][0-9]{6,14}")
_PHONE_PUNCTUATION = str.maketrans("", "", " -().\u00a0\u3000")
_FULLWIDTH = str.maketrans("０１２３４５６７８９＋－（）＠．", "0123456789+-()@.")
_TIME = re.compile(
    r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"
    r"(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,6}))?)?)?"
    r"\s*(Z|[+-][0-9:]+)?",
    re.IGNORECASE | re.ASCII,
)
_OFFSET = re.compile(r"([+-])(\d{2})(?::?(\d{2}))?", re.ASCII)
# Spreadsheets keep 15 significant digits; a longer id stored as a number has lost its tail.
_SAFE_NUMBER = 10**15
TEXT_LIMIT = 100
FORM_LIMIT = 200  # a form's name as Hire gives it
_KINDS_ZH = {"open_id": "open_id（ou_…）", "email": "邮箱", "mobile": "手机号"}
_KINDS_EN = {"open_id": "an open_id (ou_…)", "email": "an email", "mobile": "a mobile number"}


class Invalid(ValueError):
    """A value a person typed cannot be used; says why in Chinese and English."""

    def __init__(self, zh: str, en: str):
        super().__init__(en)
        self.zh, self.en = zh, en


def read_id(value: object) -> str:
    """A Feishu Hire id as text: digits, letters, _ or -; numbers from spreadsheets are accepted when whole."""
    text = _plain(value)
    if not text:
        raise Invalid("不能为空。", "is empty.")
    if not _ID.fullmatch(text):
        raise Invalid(f"“{_snippet(text)}”不是有效的 ID（应为数字、字母、_ 或 -）。",
                      f"'{_snippet(text)}' is not an id (use digits, letters, _ or -).")
    return text


def read_optional_id(value: object) -> str | None:
    """An id, or None for an empty cell."""
    return read_id(value) if _plain(value) else None


def read_person(value: object, kinds: tuple[PersonKind, ...] = ("open_id", "email", "mobile")) -> str:
    """An open_id, a lowercased email or a mobile number in +<country><number> form."""
    text = _plain(value).translate(_FULLWIDTH)
    if not text:
        raise Invalid("不能为空。", "is empty.")
    if _OPEN_ID.fullmatch(text) and "open_id" in kinds:
        return text
    if _EMAIL.fullmatch(text) and "email" in kinds:
        return text.lower()
    mobile = _mobile(text)
    if mobile and "mobile" in kinds:
        return mobile
    zh_kinds = _either([_KINDS_ZH[k] for k in kinds], "、", "或")
    en_kinds = _either([_KINDS_EN[k] for k in kinds], ", ", " or ")
    hint_zh = hint_en = ""
    if "mobile" in kinds and text.isdigit():
        hint_zh = "中国大陆以外的手机号请加 + 和国家代码。"
        hint_en = " Numbers outside mainland China need + and the country code."
    raise Invalid(f"“{_snippet(text)}”不是{zh_kinds}。{hint_zh}", f"'{_snippet(text)}' is not {en_kinds}.{hint_en}")


def _either(words: list[str], comma: str, last: str) -> str:
    return words[0] if len(words) == 1 else comma.join(words[:-1]) + last + words[-1]


def person_kind(person: str) -> PersonKind:
    """Which kind of identifier a value returned by read_person is."""
    if person.startswith("ou_"):
        return "open_id"
    return "mobile" if person.startswith("+") else "email"


def read_time(value: object, zone: tzinfo | None) -> datetime:
    """An aware datetime from ISO 8601 or `YYYY-MM-DD HH:MM[:SS]` (also with /), local times read in `zone`."""
    if isinstance(value, datetime):
        return _localise(value, zone, value.strftime("%Y-%m-%d %H:%M"))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise Invalid(f"“{value}”是数字而不是时间；请写成 2026-12-01 14:00 的格式（表格中设为日期格式）。",
                      f"'{value}' is a number, not a time; write 2026-12-01 14:00 (or format the cell as a date).")
    text = _plain(value).translate(_FULLWIDTH)
    if not text:
        raise Invalid("不能为空。", "is empty.")
    match = _TIME.fullmatch(text)
    if not match or match.group(4) is None:
        raise Invalid(f"“{_snippet(text)}”不是时间；请写成 2026-12-01 14:00 或 2026-12-01T14:00:00+08:00。",
                      f"'{_snippet(text)}' is not a time; write 2026-12-01 14:00 or 2026-12-01T14:00:00+08:00.")
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    try:
        naive = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0),
                         int((fraction or "0").ljust(6, "0")))
    except ValueError:
        raise Invalid(f"“{_snippet(text)}”不是存在的日期或时间。",
                      f"'{_snippet(text)}' is not a real date or time.") from None
    if offset is None:
        return _localise(naive, zone, text)
    return naive.replace(tzinfo=_offset(offset, text))


def _offset(offset: str, text: str) -> tzinfo:
    if offset.upper() == "Z":
        return UTC
    match = _OFFSET.fullmatch(offset)
    if match and int(match.group(2)) <= 14 and int(match.group(3) or 0) <= 59:
        delta = timedelta(hours=int(match.group(2)), minutes=int(match.group(3) or 0))
        return timezone(-delta if match.group(1) == "-" else delta)
    raise Invalid(f"“{_snippet(text)}”中的时区偏移 {offset} 无效（应在 -14:00 到 +14:00 之间，如 +08:00）。",
                  f"the UTC offset {offset} in '{_snippet(text)}' is not valid (from -14:00 to +14:00, e.g. +08:00).")


def _localise(moment: datetime, zone: tzinfo | None, text: str) -> datetime:
    """A wall-clock time placed in `zone`; a time skipped by a clock change is refused rather than guessed."""
    if moment.tzinfo is not None:
        return moment
    if zone is None:
        raise Invalid(f"“{_snippet(text)}”没有时区。", f"'{_snippet(text)}' has no time zone.")
    placed = moment.replace(tzinfo=zone)
    if placed.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != moment:
        raise Invalid(f"{_snippet(text)} 因夏令时调整在 {zone} 不存在。",
                      f"{_snippet(text)} does not exist in {zone} (the clocks skip it).")
    return placed


# What the status column says of an interview that will not take place (compared as `status_word` makes them).
CANCELLED = ("cancelled", "canceled", "cancel", "已取消", "取消")


def status_word(value: object) -> str:
    """A status cell as compared: case, full-width letters and spaces do not matter; not text is empty."""
    try:
        text = _plain(value)
    except Invalid:
        return ""
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def is_cancelled(value: object) -> bool:
    """Whether a status cell says the interview is cancelled (`cancelled` / `已取消`)."""
    return status_word(value) in CANCELLED


def near_cancelled(value: object) -> str | None:
    """The cancellation word a status cell was probably meant to be (a typo such as `canceld`), if any."""
    word = status_word(value)
    if not word or word in CANCELLED:
        return None
    close = difflib.get_close_matches(word, CANCELLED, n=1, cutoff=0.75)
    return close[0] if close else None


def is_blank(value: object) -> bool:
    """An empty cell (None, or only spaces)."""
    return value is None or (isinstance(value, str) and not value.strip())


@dataclass(frozen=True)
class Cancellation:
    """A schedule saying an interview will not take place: every interviewer's part in it, or one's."""

    interview_id: str
    interviewer: str | None = None  # None: the whole interview; else an open_id, email or mobile as read_person gives


def read_text(value: object, *, required: bool, limit: int = TEXT_LIMIT) -> str | None:
    """A short free text (name, job, round), whitespace collapsed; None when empty and not required."""
    text = " ".join(_plain(value).split())
    if not text:
        if required:
            raise Invalid("不能为空。", "is empty.")
        return None
    if len(text) > limit:
        raise Invalid(f"太长（{len(text)} 个字符，最多 {limit}）。",
                      f"is too long ({len(text)} characters, at most {limit}).")
    return text


def _plain(value: object) -> str:
    """A cell as text: None is empty, whole numbers lose their `.0`, long numbers that lost digits are refused."""
    if value is None:
        return ""
    if isinstance(value, bool):
        raise Invalid(f"“{value}”不是文本。", f"'{value}' is not text.")
    if isinstance(value, float):
        if not value.is_integer():
            raise Invalid(f"“{value}”是小数，不是 ID 或文本。", f"'{value}' is a fraction, not an id or text.")
        value = int(value)
        if abs(value) >= _SAFE_NUMBER:
            raise Invalid("表格把这个 ID 存成了数字，末几位已经丢失；请把该列设为文本格式后重新填写。",
                          "the spreadsheet stored this id as a number and lost its last digits; "
                          "format the column as text and enter it again.")
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str):
        raise Invalid("不是文本。", f"is not text ({type(value).__name__}).")
    return value.strip()


def _mobile(text: str) -> str | None:
    """+86… for mainland numbers written with or without the country code; +<digits> for the rest."""
    digits = text.translate(_PHONE_PUNCTUATION)
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    if digits.startswith("+86"):
        return digits if _MAINLAND_MOBILE.fullmatch(digits[3:]) else None
    if _MAINLAND_MOBILE.fullmatch(digits):
        return "+86" + digits
    if digits.startswith("86") and _MAINLAND_MOBILE.fullmatch(digits[2:]):
        return "+" + digits
    if _INTERNATIONAL.fullmatch(digits):
        return digits
    return None


def _snippet(text: str, limit: int = 40) -> str:
    """A cell as an error message quotes it: one line, at most `limit` characters, a lone surrogate as "?" (it
    could not be sent)."""
    text = " ".join(text.encode("utf-8", "replace").decode("utf-8").split())
    return text if len(text) <= limit else text[:limit] + "…"


class ScheduleRow(BaseModel):
    """One interviewer on one external interview, as a schedule (file, intake API, /assign) states it; pass
    `context={"zone": ZoneInfo(...)}` to read local times."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    interview_id: str
    feishu_assessment_id: str | None = None
    interviewer: str
    candidate: str
    position: str | None = None
    round: str | None = None
    start: datetime
    end: datetime
    recruiter: str | None = None
    application_id: str | None = None
    form: str | None = None  # a feedback form's name (Chinese or English) or id; checked against the forms known

    @field_validator("interview_id", mode="before")
    @classmethod
    def _interview_id(cls, value: Any) -> str:
        return read_id(value)

    @field_validator("feishu_assessment_id", "application_id", mode="before")
    @classmethod
    def _optional_id(cls, value: Any) -> str | None:
        return read_optional_id(value)

    @field_validator("interviewer", mode="before")
    @classmethod
    def _interviewer(cls, value: Any) -> str:
        return read_person(value)

    @field_validator("recruiter", mode="before")
    @classmethod
    def _recruiter(cls, value: Any) -> str | None:
        return read_person(value, ("open_id", "email")) if _plain(value) else None

    @field_validator("candidate", mode="before")
    @classmethod
    def _candidate(cls, value: Any) -> str | None:
        return read_text(value, required=True)

    @field_validator("position", "round", mode="before")
    @classmethod
    def _text(cls, value: Any) -> str | None:
        return read_text(value, required=False)

    @field_validator("form", mode="before")
    @classmethod
    def _form(cls, value: Any) -> str | None:
        return read_text(value, required=False, limit=FORM_LIMIT)

    @field_validator("start", "end", mode="before")
    @classmethod
    def _time(cls, value: Any, info: ValidationInfo) -> datetime:
        return read_time(value, (info.context or {}).get("zone"))

    @field_validator("end")
    @classmethod
    def _ends_after_start(cls, value: datetime, info: ValidationInfo) -> datetime:
        start = info.data.get("start")
        if start is not None and value < start:
            raise Invalid(f"结束时间早于开始时间（{start:%Y-%m-%d %H:%M}）。",
                          f"ends before the interview starts ({start:%Y-%m-%d %H:%M}).")
        return value

    @property
    def key(self) -> tuple[str, str]:
        """What makes an assignment unique: the interview and the interviewer."""
        return self.interview_id, self.interviewer

    @property
    def interviewer_kind(self) -> PersonKind:
        """Whether the interviewer is named by open_id, email or mobile (the last two need resolving)."""
        return person_kind(self.interviewer)

    @property
    def recruiter_kind(self) -> PersonKind | None:
        """Whether the recruiter is named by open_id or email, if there is one."""
        return person_kind(self.recruiter) if self.recruiter else None
