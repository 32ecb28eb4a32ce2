"""A schedule file sent in chat: download it (within the size the bot reads), check it as `assessbot import` does and
answer with a preview; once its sender presses Import, import it and show what changed where the preview was.

Nothing is imported before Import: the preview is a dry run (people are looked up, and cached, for it). The file is
kept in the database until then, so Import works after a restart; a large file is answered at once ("checking 2,000
rows…") and the preview replaces that card. The file's contents are never logged.
"""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from bot import display
from bot.actions import DropFile, ImportFile
from bot.contract import CheckUpload, ImportUpload, Job, Purpose, target_of, target_value
from bot.feishu.errors import FeishuError, TooLarge
from bot.jobs.base import Executor
from bot.jobs.delivery import deliver
from bot.jobs.retry import transient
from bot.schedule.files import CHAT_KINDS, count_rows, kind_of, read_bytes, unpacked_size
from bot.schedule.intake import MISSING_SCOPE, counts_words, lookup_failed, people_in, resolve, stop_words, take_in
from bot.schedule.planner import Planner
from bot.store import Upload
from bot.store.uploads import DROPPED, FAILED, IMPORTED, IMPORTING, RECEIVED
from cards.reminder import Interview
from cards.schedule import (
    checking_card,
    imported_card,
    importing_card,
    not_a_schedule_card,
    not_imported_card,
    preview_card,
    reply_to_a_file_card,
    unreadable_card,
)

log = logging.getLogger("assessbot.jobs.uploads")

LARGE = 200  # rows: a file this long is answered at once, and its preview replaces that answer
MAX_ROWS = 20_000  # rows a file sent in chat may have
UNPACKED = 64  # a workbook may unpack to at most this many times the size the bot downloads
FIRST_ROWS = 5
# Why Feishu would not give a file, in words for the person who sent it (the message resource's error codes).
REFUSED = {
    234003: ("这个文件已不在那条消息中。", "The file is no longer in that message."),
    234004: ("我不在那个会话中，无法读取其中的文件。", "I am not in that chat, so I cannot read its files."),
    234009: ("外部群中的文件无法下载，请直接发给我。",
             "Files in external groups cannot be downloaded; send it to me directly."),
    234037: ("文件超过 100 MB，飞书不提供下载。",
             "The file is larger than 100 MB, which Feishu does not let apps download."),
    234038: ("会话开启了保密或防泄密模式，文件不能下载。",
             "The chat is confidential or restricted: files cannot be downloaded."),
    234040: ("我看不到这个会话的历史消息，无法读取文件。",
             "The chat hides its history from me, so I cannot read the file."),
    230110: ("那条消息已被删除。", "That message was deleted."),
    MISSING_SCOPE: ("机器人缺少读取消息中文件的权限（im:message:readonly），请联系管理员开通。",
                    "The bot lacks the scope to read files in messages (im:message:readonly); ask your admin."),
}


def _size(count: int) -> str:
    """A size as people say it: 5 MB, 64 KB."""
    return f"{count / 1024 / 1024:.0f} MB" if count >= 1024 * 1024 else f"{count / 1024:.0f} KB"


class Unusable(Exception):
    """The file cannot become a preview; the words say why (zh, en), or `card` does."""

    def __init__(self, zh: str, en: str, card: dict | None = None):
        super().__init__(en)
        self.zh, self.en, self.card = zh, en, card


class ReadUpload(Executor):
    """Download, check and preview one file; the preview's buttons import it or drop it."""

    payload = CheckUpload

    def run(self, job: Job) -> None:
        asked = job.payload
        assert isinstance(asked, CheckUpload)
        ctx = self.ctx
        upload = ctx.store.begin_upload(asked.upload, asked.uploader, asked.message_id, asked.file_key or None,
                                        asked.file_name or None, target_value(asked.target))
        if upload.state != RECEIVED:
            return  # previewed (or dropped) already: a job run again after it answered
        try:
            upload = self._file(upload)
            self._preview(upload)
        except Unusable as why:
            self._show(upload, why.card or unreadable_card(upload.file_name or "", (why.zh, why.en)))
            ctx.store.keep_upload(upload.id, state=FAILED, data=None)
            log.info("schedule file not usable", extra={"job_id": job.id, "upload": upload.id})

    def _file(self, upload: Upload) -> Upload:
        """The upload with its file: its name and key read from the message a reply pointed at, then downloaded."""
        ctx = self.ctx
        if upload.data is not None:
            return upload
        key, name = upload.file_key, upload.file_name
        if key is None:
            kind, content = self._call(lambda: ctx.feishu.message_content(upload.message_id))
            if kind != "file" or not isinstance(content.get("file_key"), str):
                raise Unusable("回复的消息中没有文件。", "The message replied to holds no file.",
                               reply_to_a_file_card())
            key, name = content["file_key"], str(content.get("file_name") or "")
            if kind_of(name, CHAT_KINDS) is None:
                raise Unusable("不是面试安排文件。", "Not a schedule file.", not_a_schedule_card(name))
        limit = ctx.settings.assessbot_schedule_file_max_bytes
        try:
            got = self._call(lambda: ctx.feishu.message_file(upload.message_id, key, limit))
        except TooLarge:
            raise Unusable(f"文件超过 {_size(limit)}，我不读取这么大的文件；请拆分后再发。",
                           f"The file is larger than the {_size(limit)} I read; split it and send the parts.") from None
        ctx.store.keep_upload(upload.id, data=got.data, file_key=key, file_name=name)
        return ctx.store.upload(upload.id) or upload

    def _call(self, call):  # type: ignore[no-untyped-def]
        """A Feishu call whose refusal for good is told to the sender; anything that may pass is retried."""
        try:
            return call()
        except FeishuError as err:
            if transient(err) or err.rate_limited or err.token_invalid:
                raise
            zh, en = REFUSED.get(err.code or 0, (f"飞书没有提供这个文件（错误 {err.code}）。",
                                                 f"Feishu did not give the file (error {err.code})."))
            raise Unusable(zh, en) from None

    def _preview(self, upload: Upload) -> None:
        ctx = self.ctx
        name, data = upload.file_name or "", upload.data or b""
        kind = kind_of(name, CHAT_KINDS)
        if kind is None:
            raise Unusable("不是面试安排文件（CSV、.xlsx 或 JSON Lines）。",
                           "Not a schedule file (CSV, .xlsx or JSON Lines).")
        limit = ctx.settings.assessbot_schedule_file_max_bytes * UNPACKED
        unpacked = unpacked_size(data) if kind == "xlsx" else None
        if unpacked is not None and unpacked > limit:
            raise Unusable("这个 Excel 文件解压后过大，可能已损坏；请另存为 .xlsx 或 CSV 后再发。",
                           "This workbook unpacks to far more than it holds and may be damaged; save it again as .xlsx "
                           "or CSV and send that.")
        rows = count_rows(data, kind, MAX_ROWS)
        if rows > MAX_ROWS:
            raise Unusable(f"文件超过 {MAX_ROWS:,} 行；请拆分后再发。",
                           f"The file has more than {MAX_ROWS:,} rows; split it and send the parts.")
        if rows >= LARGE and upload.card_message_id is None:
            sent = self._show(upload, checking_card(name, rows))
            if sent:
                ctx.store.keep_upload(upload.id, card_message_id=sent)
                upload = ctx.store.upload(upload.id) or upload
        zone, now = ZoneInfo(ctx.settings.assessbot_timezone), ctx.clock()
        assignments, problems = read_bytes(data, kind, zone)
        try:  # the people are looked up (and cached) now, so the preview names the ones Feishu does not know
            resolve(people_in(assignments), ctx.store, ctx.feishu.open_ids, now)
            taken = take_in(assignments, problems, ctx.store, Planner(ctx.settings, now), lookup=ctx.feishu.open_ids,
                            now=now, skip_invalid=True, dry_run=True,  # with problems: what the valid rows would do
                            forms=ctx.forms)
        except FeishuError as err:
            if transient(err) or err.rate_limited or err.token_invalid:
                raise
            raise Unusable(*lookup_failed(err, ctx.settings.feishu_domain)) from None
        names = display.Names(ctx, live=True)
        first = [Interview(key="", assignment=0, candidate=a.candidate, position=a.position, round=a.round,
                           start=a.start.astimezone(zone), end=a.end.astimezone(zone))
                 for a in list(assignments)[:FIRST_ROWS]]
        card = preview_card(
            name, counts=counts_words(taken),
            stops=[stop_words(s, names(s.interviewer), dry=True) for s in taken.stopped],
            first=first, rows=len(assignments), problems=[(p.zh_text, p.en_text, p.warning) for p in taken.problems],
            errors=len(taken.errors), import_all=ImportFile(upload.id).encode() if not taken.errors else None,
            import_valid=ImportFile(upload.id, True).encode() if taken.errors and taken.applied else None,
            drop=DropFile(upload.id).encode())
        sent = self._show(upload, card)
        ctx.store.previewed(upload.id, sent or upload.card_message_id)
        log.info("schedule file previewed", extra={"upload": upload.id, "rows": len(assignments),
                                                   "problems": len(taken.errors), **taken.counts()})

    def _show(self, upload: Upload, card: dict) -> str | None:
        """The card in place of the upload's last one, else as the answer to the file; the new message's id."""
        if upload.card_message_id:
            self.ctx.feishu.update_card(upload.card_message_id, card)
            return upload.card_message_id
        return deliver(self.ctx, target_of(upload.target), card, Purpose.PREVIEW)


class ImportPreviewed(Executor):
    """Import a previewed file (its valid rows only, when asked) and show what changed in place of the preview."""

    payload = ImportUpload

    def run(self, job: Job) -> None:
        asked = job.payload
        assert isinstance(asked, ImportUpload)
        ctx = self.ctx
        upload = ctx.store.upload(asked.upload)
        if upload is None or upload.state in (DROPPED, FAILED):
            return  # expired (purged) or given up meanwhile
        name = upload.file_name or ""
        by = display.Names(ctx, live=True)(asked.actor)
        if upload.state == IMPORTED and upload.result is not None:  # recorded, the card not delivered: again
            deliver(ctx, asked.target, self._card(name, upload.result, by), Purpose.PREVIEW)
            return
        if upload.state != IMPORTING or upload.data is None:
            return
        kind = kind_of(name, CHAT_KINDS)
        assert kind is not None
        zone, now = ZoneInfo(ctx.settings.assessbot_timezone), ctx.clock()
        assignments, problems = read_bytes(upload.data, kind, zone)
        if len(assignments) >= LARGE:
            deliver(ctx, asked.target, importing_card(name, len(assignments)), Purpose.PREVIEW)
        try:
            taken = take_in(assignments, problems, ctx.store, Planner(ctx.settings, now), lookup=ctx.feishu.open_ids,
                            now=now, skip_invalid=asked.valid_only, forms=ctx.forms)
        except FeishuError as err:
            if transient(err) or err.rate_limited or err.token_invalid:
                raise
            zh, en = lookup_failed(err, ctx.settings.feishu_domain)
            self._not_imported(upload, asked, [(zh, en, False)], 1)
            return
        if not taken.applied:
            self._not_imported(upload, asked, [(p.zh_text, p.en_text, p.warning) for p in taken.problems],
                               len(taken.errors))
            return
        names = display.Names(ctx, live=True)
        result = {**taken.counts(), "skipped": taken.skipped, "counts": list(counts_words(taken)),
                  "stops": [list(stop_words(s, names(s.interviewer))) for s in taken.stopped]}
        ctx.store.keep_upload(upload.id, state=IMPORTED, result=result, data=None)  # the file is not kept longer
        ctx.store.record(asked.actor, None, "import", "ok", {"upload": upload.id, **taken.counts(),
                                                            "withdrawn": len(taken.withdrawn),
                                                            "cancelled": len(taken.cancelled),
                                                            "skipped": taken.skipped})
        log.info("schedule file imported", extra={"job_id": job.id, "upload": upload.id, **taken.counts()})
        if ctx.runner is not None:
            ctx.runner.wake()
        deliver(ctx, asked.target, self._card(name, result, by), Purpose.PREVIEW)

    def _card(self, name: str, result: dict, by: str) -> dict:
        return imported_card(name, counts=tuple(result["counts"]), stops=[tuple(s) for s in result["stops"]],
                             skipped=result["skipped"], by=by)

    def _not_imported(self, upload: Upload, asked: ImportUpload, problems: list, errors: int) -> None:
        self.ctx.store.keep_upload(upload.id, state=FAILED)
        deliver(self.ctx, asked.target, not_imported_card(upload.file_name or "", problems=problems, errors=errors),
                Purpose.PREVIEW)

