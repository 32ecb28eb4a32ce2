"""A schedule sent in chat: a file message to the bot, `@bot import` replying to one in a group (/import, 导入), and
the preview's Import, Import the valid rows and Cancel.

At request time nothing is downloaded: a file that is not a schedule, or from someone who may not schedule, is
answered from what the message says; otherwise a job downloads and checks it (bot/jobs/uploads.py). Import moves the
upload from previewed (or received, when the click beats the preview's record: see UNDECIDED) to importing in the
click's own transaction, so pressing it twice imports once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from bot import auth
from bot.actions import DropFile, ImportFile
from bot.commands.base import Command, Outcome, Request
from bot.commands.registry import command, on_action
from bot.contract import CheckUpload, ImportUpload, NewJob, Purpose
from bot.rubric import Rubric
from bot.schedule.files import CHAT_KINDS, kind_of
from bot.store.uploads import DROPPED, IMPORTED, IMPORTING, UNDECIDED
from cards.elements import toast
from cards.notice import group_notice_card
from cards.schedule import dropped_card, not_a_schedule_card, reply_to_a_file_card

IMPORT_AFTER = 1.0  # seconds: the import's card updates the preview after the click has been answered


def file_received(req: Request, file_key: str, file_name: str) -> Outcome:
    """A file sent to the bot: a schedule from someone who may schedule is checked by a job; anything else is
    answered at once, and nothing is downloaded."""
    if not file_key or kind_of(file_name, CHAT_KINDS) is None:
        return Outcome(jobs=[req.send(not_a_schedule_card(file_name), Purpose.HELP)])
    return _check(req, req.message_id, file_key, file_name)


def _check(req: Request, message_id: str, file_key: str, file_name: str) -> Outcome:
    decision = req.may_schedule(auth.IMPORT)
    if not decision.allowed:
        denied = req.deny(None, "import", decision)
        denied.jobs += req.learn_schedulers()
        return denied
    check = CheckUpload(upload=req.message_id, uploader=req.actor, message_id=message_id, file_key=file_key,
                        file_name=file_name, target=req.private(), event_id=req.event_id)
    notice = [req.send(group_notice_card(), Purpose.GROUP_NOTICE)] if req.in_group else []
    return Outcome(jobs=[NewJob(check), *notice])


@command
@dataclass(frozen=True)
class Import(Command):
    """Import the schedule file the message replies to (in a group: `@bot import`, as a reply to the file)."""

    name: ClassVar[str] = "import"
    aliases: ClassVar[tuple[str, ...]] = ("导入",)
    usage: ClassVar[str] = "/import (a reply to the message holding the file; in a group: @bot import)"
    summary_zh: ClassVar[str] = ("（管理员和排期人员）导入面试安排：单聊中直接把 CSV 或 Excel 文件发给我；"
                                 "群聊中回复那条文件消息并 @我 导入。先给出预览，确认后才导入。")
    summary_en: ClassVar[str] = ("(Admins and schedulers) Import a schedule: send me the CSV or Excel file in a "
                                 "private chat; in a group, reply to the file's message with @bot import. You get a "
                                 "preview "
                                 "first; nothing is imported until you confirm.")
    examples: ClassVar[tuple[str, ...]] = ("/import", "导入")

    @classmethod
    def read(cls, args: str, mentions: Mapping[str, str], rubric: Rubric | None) -> Import:
        return cls()

    def handle(self, req: Request) -> Outcome:
        if not req.parent_id:
            return Outcome(jobs=[req.send(reply_to_a_file_card(), Purpose.HELP)])
        return _check(req, req.parent_id, "", "")


_STATE_SAID = {
    IMPORTING: ("正在导入这份文件。", "This file is being imported."),
    IMPORTED: ("这份文件已经导入过了，不会重复导入。", "This file was imported already; nothing is imported twice."),
    DROPPED: ("这份文件已取消；如需导入请重新发送。", "This file was cancelled; send it again to import it."),
}


def decided(state: str | None) -> dict:
    """The toast of a click that finds the upload decided already (pressed twice, or in two places at once)."""
    zh, en = _STATE_SAID.get(state or "", ("这份文件已经处理过了。", "This file was dealt with already."))
    return toast("info", zh, en)


def _mine(req: Request, upload_id: str):  # type: ignore[no-untyped-def]
    """The upload, when the person clicking sent it (or is an admin) and it waits for a decision; else the answer."""
    found = req.ctx.store.upload(upload_id)
    if found is None:
        return Outcome(toast=toast("info", "这份预览已过期，请重新发送文件。",
                                   "This preview has expired; send the file again."))
    if found.uploader != req.actor and not auth.is_admin(req.ctx.settings, req.actor):
        decision = auth.Decision(False, "not the uploader", "只有发送这份文件的人（或管理员）可以导入或取消。",
                                 "Only the person who sent this file (or an admin) can import or cancel it.")
        return req.deny(None, "import", decision)
    if found.state not in UNDECIDED:
        return Outcome(toast=decided(found.state))
    return found


@on_action(ImportFile)
def import_file(req: Request, action: ImportFile) -> Outcome:
    """Import: the upload moves to importing with the job that imports it, or nothing happens at all."""
    found = _mine(req, action.upload)
    if isinstance(found, Outcome):
        return found
    job = ImportUpload(upload=found.id, valid_only=action.valid_only, actor=req.actor, target=req.reply(),
                       event_id=req.event_id)
    audit = {"actor": req.actor, "assessment_key": None, "action": "import", "result": "asked",
             "detail": {"upload": found.id, "valid_only": action.valid_only}}
    return Outcome(jobs=[NewJob(job, delay=IMPORT_AFTER)], audits=[audit],
                   upload_state=(found.id, UNDECIDED, IMPORTING),
                   toast=toast("info", "正在导入，完成后这张卡片会显示结果。",
                               "Importing; this card shows the result when done."))


@on_action(DropFile)
def drop_file(req: Request, action: DropFile) -> Outcome:
    """Cancel: nothing is imported, and the preview says so."""
    found = _mine(req, action.upload)
    if isinstance(found, Outcome):
        return found
    return Outcome(upload_state=(found.id, UNDECIDED, DROPPED), card=dropped_card(found.file_name or ""),
                   toast=toast("info", "已取消，没有导入任何内容。", "Cancelled; nothing was imported."))

