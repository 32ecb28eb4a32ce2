"""Cards for what went wrong: a command not understood, values that do not fit, a failed write, a denial."""

from __future__ import annotations

from collections.abc import Sequence

from bot.values import FieldError
from cards.elements import Element, button, card, fit, header, note, text, user_text
from cards.reminder import Interview, about, subtitle

MAX_ERRORS_SHOWN = 30
_LIMITS = (600, 300, 150, 60)  # characters of each message that quotes typed text, fullest first


def error_line(error: FieldError, limit: int) -> Element:
    """One wrong value in red, both languages, with the suggestion when the message does not already ask."""
    zh, en = error.zh, error.en
    if error.suggestion and "did you mean" not in en.casefold():
        zh += f"（是否想输入“{error.suggestion}”？）"
        en += f" (did you mean '{error.suggestion}'?)"
    return text(user_text(zh, limit), user_text(en, limit), size="notation", color="red")


def problem_card(zh: str, en: str, *, usage_zh: str | None = None, usage_en: str | None = None,
                 suggestion: str | None = None) -> dict:
    """A command that could not be read: what was wrong, "did you mean", and how it is written."""
    head = header("没看懂这条命令", "Couldn't read that command", "orange")

    def build(level: int) -> dict:
        limit = _LIMITS[level]
        elements = [text(user_text(zh, limit), user_text(en, limit))]
        if suggestion and suggestion not in en:  # a message that already asks "did you mean …" is not repeated
            hint = user_text(suggestion, limit, one_line=True)
            elements.append(text(f"是否想输入：{hint}", f"Did you mean: {hint}"))
        elements += _usage(usage_zh, usage_en, limit)
        return card(head, elements)

    return fit(build, len(_LIMITS))


def invalid_card(reference: str, errors: Sequence[FieldError], *, usage_zh: str | None = None,
                 usage_en: str | None = None, interview: Interview | None = None) -> dict:
    """Values that do not fit the rubric, one line each; nothing was written. For a scheduled interview it
    leads with the candidate, job, round and time."""
    head = header("有些值不符合评分表", "Some values don't fit the rubric", "orange",
                  subtitle(interview) if interview else reference)
    lead = about(interview) if interview else []

    def build(level: int) -> dict:
        limit = _LIMITS[level]
        elements = [*lead, text("未写入任何内容，请修改后重新发送。",
                                "Nothing was written; fix these values and send again.")]
        elements += [error_line(e, limit) for e in errors[:MAX_ERRORS_SHOWN]]
        if len(errors) > MAX_ERRORS_SHOWN:
            more = len(errors) - MAX_ERRORS_SHOWN
            elements.append(text(f"……另有 {more} 处", f"…and {more} more", size="notation", color="red"))
        return card(head, [*elements, *_usage(usage_zh, usage_en, limit)])

    return fit(build, len(_LIMITS))


def write_failed_card(reference: str, *, code: int | None, msg: str, log_id: str | None, retryable: bool,
                      retry_value: dict | None, advice: tuple[str, str] | None = None) -> dict:
    """Feishu refused or failed the write: what it said, what to do next (`advice` when the error table has
    words for it), and a Try again button only when `retry_value` is given (when trying again can help)."""
    head = header("面评未能保存", "The assessment was not saved", "red", reference)
    if advice is not None:
        advice_text = text(*advice)
    elif retryable:
        advice_text = text("飞书暂时没能保存。填写的内容已保留，请重试。",
                           "Feishu could not save it just now. Your values are kept; try again.")
    else:
        advice_text = text("飞书没有接受这些值，面评没有任何改动。请检查填写的内容后重试。",
                           "Feishu did not accept these values and nothing was changed. Check the values and try "
                           "again.")
    zh, en = [], []
    if code is not None:
        zh.append(f"错误码：{code}")
        en.append(f"Error code: {code}")
    said = user_text(msg, 500)
    zh.append(f"信息：{said}")
    en.append(f"Message: {said}")
    if log_id:
        shown = user_text(log_id, 100, one_line=True)
        zh.append(f"日志 ID：{shown}")
        en.append(f"Log ID: {shown}")
    elements = [advice_text, note("\n".join(zh), "\n".join(en))]
    if retry_value is not None:
        elements.append(button("重试", "Try again", retry_value, "primary"))
    return card(head, elements)


def denied_card(zh: str, en: str) -> dict:
    """Not allowed: why, in both languages."""
    return card(header("没有权限", "Not allowed", "red"), [text(user_text(zh, 600), user_text(en, 600))])


def _usage(usage_zh: str | None, usage_en: str | None, limit: int) -> list[Element]:
    if not usage_zh and not usage_en:
        return []
    zh, en = usage_zh or usage_en or "", usage_en or usage_zh or ""
    # usage reads like `/assess <id> …`: markdown would take `<id>` for a tag, so it stays plain text
    return [note("用法", "Usage"), text(user_text(zh, limit), user_text(en, limit))]
