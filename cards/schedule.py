"""Cards about a schedule sent in chat: what the bot does with files, "checking…", the preview with Import /
Import the valid rows / Cancel, and what the import changed. Pure: the words of counts and problems come in made."""

from __future__ import annotations

from collections.abc import Sequence

from cards.elements import Element, button, buttons, card, fit, header, hr, md, note, text, user_text
from cards.reminder import Interview, about

_LIMITS = ((5, 30, 20), (3, 15, 10), (2, 8, 5), (1, 3, 3))  # (rows, problems, stops) shown, fullest first
Said = tuple[str, str]  # (zh, en)

KINDS_ZH, KINDS_EN = "CSV、Excel（.xlsx）或 JSON Lines", "CSV, Excel (.xlsx) or JSON Lines"


def _name(file_name: str) -> str:
    return user_text(file_name, 60, one_line=True) or "?"


def not_a_schedule_card(file_name: str) -> dict:
    """A file the bot does not read: what it does with files."""
    name = _name(file_name)
    return card(header("面评助手", "Assessment bot", "blue"), [text(
        f"“{name}”不是我能读取的面试安排。我读取管理员和排期人员发来的面试安排文件（{KINDS_ZH}，第一行为列名，"
        "如 面试ID、面试官、候选人、开始时间、结束时间），先给出预览，确认后再导入。发送 /help 查看所有命令。",
        f"'{name}' is not a schedule I can read. I take interview schedules from admins and schedulers as {KINDS_EN} "
        "files whose first row names the columns (interview_id, interviewer, candidate, start, end, …), show a "
        "preview, and import them when told to. Send /help for the commands.")])


def reply_to_a_file_card() -> dict:
    """`@bot import` that replies to no file."""
    return card(header("面评助手", "Assessment bot", "orange"), [text(
        "请回复包含面试安排文件的那条消息，并在回复中 @我 导入。",
        "Reply to the message that holds the schedule file, and write @bot import in the reply.")])


def checking_card(file_name: str, rows: int) -> dict:
    """Answered at once for a large file: the preview replaces it when the check is done."""
    name = _name(file_name)
    return card(header(f"正在检查：{name}", f"Checking {name}", "blue"),
                [text(f"正在检查 {rows:,} 行……检查完成后这张卡片会变成预览，确认后才会导入。",
                      f"Checking {rows:,} rows… This card becomes the preview when done; nothing is imported until "
                      "you say so.")])


def importing_card(file_name: str, rows: int) -> dict:
    """Shown while a large import runs."""
    name = _name(file_name)
    return card(header(f"正在导入：{name}", f"Importing {name}", "blue"),
                [text(f"正在导入 {rows:,} 行……完成后这张卡片会显示导入结果。",
                      f"Importing {rows:,} rows… This card shows what changed when done.")])


def _problems(problems: Sequence[tuple[str, str, bool]], limit: int) -> list[Element]:
    """Each problem with its row and column, errors in red and warnings in grey; the rest counted."""
    shown = [text(user_text(zh, 300), user_text(en, 300), size="notation", color="grey" if warning else "red")
             for zh, en, warning in problems[:limit]]
    if len(problems) > limit:
        rest = len(problems) - limit
        shown.append(note(f"……另有 {rest} 条未列出。", f"…and {rest} more not listed."))
    return shown


def _stops(stops: Sequence[Said], limit: int) -> list[Element]:
    if not stops:
        return []
    lines_zh = [user_text(zh, 300) for zh, _ in stops[:limit]]
    lines_en = [user_text(en, 300) for _, en in stops[:limit]]
    if len(stops) > limit:
        lines_zh.append(f"……另有 {len(stops) - limit} 条。")
        lines_en.append(f"…and {len(stops) - limit} more.")
    return [note("\n".join(lines_zh), "\n".join(lines_en))]


def preview_card(file_name: str, *, counts: Said, stops: Sequence[Said], first: Sequence[Interview], rows: int,
                 problems: Sequence[tuple[str, str, bool]], errors: int, import_all: dict | None,
                 import_valid: dict | None, drop: dict) -> dict:
    """What importing the file would do: the counts, who would be withdrawn or cancelled, the first rows as
    interviewers will see them, every problem with its row and column; Import (or Import the valid rows) and Cancel."""
    name = _name(file_name)
    head = header(f"面试安排预览：{name}", f"Schedule preview: {name}", "orange" if errors else "blue")
    if errors and import_valid is not None:
        lead = (f"发现 {errors} 个问题（见下）。请修改后重新发送，或只导入没有问题的行。",
                f"{errors} problem{'s' if errors != 1 else ''} found (below). Fix the file and send it again, or "
                "import the rows without problems.")
    elif errors:
        lead = (f"发现 {errors} 个问题（见下），没有可以导入的行。请修改后重新发送。",
                f"{errors} problem{'s' if errors != 1 else ''} found (below) and no row can be imported. Fix the "
                "file and send it again.")
    else:
        lead = ("检查通过。按“导入”之前不会导入任何内容。", "Checked. Nothing is imported until you press Import.")
    actions = [b for b in (
        button("导入", "Import", import_all, "primary_filled") if import_all is not None else None,
        button("只导入没有问题的行", "Import the valid rows", import_valid, "primary")
        if import_valid is not None else None,
        button("取消", "Cancel", drop)) if b is not None]

    def build(level: int) -> dict:
        shown_rows, shown_problems, shown_stops = _LIMITS[level]
        label = ("只导入没有问题的行", "Importing the valid rows would give") if errors else \
            ("导入后", "Importing would give")
        elements: list[Element] = [text(*lead), md(f"**{label[0]}**：{counts[0]}", f"**{label[1]}**: {counts[1]}"),
                                   *_stops(stops, shown_stops)]
        if first:
            elements += [hr(), md(f"**前 {min(len(first), shown_rows)} 行（共 {rows} 行），面试官看到的样子**",
                                  f"**The first {min(len(first), shown_rows)} of {rows} rows, as interviewers will "
                                  "see them**")]
            for interview in first[:shown_rows]:
                elements += about(interview)
        if problems:
            elements += [hr(), md("**问题**", "**Problems**"), *_problems(problems, shown_problems)]
        return card(head, [*elements, buttons(*actions)],
                    summary=(f"面试安排预览：{name}", f"Schedule preview: {name}"))

    return fit(build, len(_LIMITS))


def imported_card(file_name: str, *, counts: Said, stops: Sequence[Said], skipped: int, by: str) -> dict:
    """What the import changed (in place of the preview)."""
    name = _name(file_name)
    head = header(f"已导入：{name}", f"Imported {name}", "green")

    def build(level: int) -> dict:
        elements: list[Element] = [md(f"**已导入**：{counts[0]}", f"**Imported**: {counts[1]}"),
                                   *_stops(stops, _LIMITS[level][2])]
        if skipped:
            elements.append(text(f"跳过了 {skipped} 行有问题的数据。",
                                 f"Skipped {skipped} row{'s' if skipped != 1 else ''} with problems."))
        elements.append(note(f"由 {user_text(by, 40, one_line=True)} 导入。面试结束后，机器人会提醒面试官填写反馈。",
                             f"Imported by {user_text(by, 40, one_line=True)}. Interviewers are reminded to give "
                             "feedback after each interview."))
        return card(head, elements)

    return fit(build, len(_LIMITS))


def not_imported_card(file_name: str, *, problems: Sequence[tuple[str, str, bool]], errors: int) -> dict:
    """The import found problems the preview had not (someone unknown to Feishu since, say): nothing imported."""
    name = _name(file_name)

    def build(level: int) -> dict:
        return card(header(f"未导入：{name}", f"Not imported: {name}", "red"), [
            text(f"导入时发现 {errors} 个问题，没有导入任何内容。请修改后重新发送。",
                 f"{errors} problem{'s' if errors != 1 else ''} found while importing; nothing was imported. Fix "
                 "the file and send it again."), *_problems(problems, _LIMITS[level][1])])

    return fit(build, len(_LIMITS))


def dropped_card(file_name: str) -> dict:
    """Cancel on the preview."""
    name = _name(file_name)
    return card(header(f"已取消：{name}", f"Cancelled: {name}", "grey"),
                [text("没有导入任何内容。", "Nothing was imported.")])


def unreadable_card(file_name: str, why: Said) -> dict:
    """The file could not be downloaded or read: why, and what to do."""
    name = _name(file_name)
    return card(header(f"无法读取：{name}", f"Could not read {name}", "red"),
                [text(user_text(why[0], 600), user_text(why[1], 600))])
