"""Taking a Bitable's schedule in: read the whole table (paged, paced), then as a file — the same validation, the
same rule of stating each named interview whole — and the assignments whose row left the table are cancelled.

The Feishu client and the store are passed in (the job, bot/jobs/bitable.py, and `assessbot import <URL>` share
this). A table read as empty cancels nothing: with advanced permissions Feishu may answer an app that may not see
the rows with none ("调用成功但返回数据为空"), and a schedule is not thrown away on such an answer.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import tzinfo
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from bot.schedule.bitable import Read, Table, gone, read_table
from bot.schedule.intake import Directory, Forms, Lookup, Taken, take_in
from bot.schedule.validation import Problem, in_order

if TYPE_CHECKING:
    from bot.feishu.errors import FeishuError

MAX_PAGES = 200  # 100,000 records: far beyond a schedule; a table that pages on forever is cut off here


class TableApi(Protocol):
    """The Feishu calls a table needs (bot.feishu.client.Feishu)."""

    def wiki_object(self, node_token: str) -> tuple[str, str]: ...
    def table_fields(self, app_token: str, table_id: str) -> list[dict]: ...
    def table_records(self, app_token: str, table_id: str, view_id: str | None = None,
                      page_token: str | None = None) -> tuple[list[dict], str | None]: ...


class TableStore(Directory, Protocol):
    def source_assignments(self, source: str) -> list: ...


class NotABase(Exception):
    """A wiki link whose node is not a Bitable."""


@dataclass(frozen=True)
class Fetched:
    """A whole table as Feishu gave it."""

    table: Table  # with its base known
    fields: list[dict]
    records: list[dict]


def resolve(api: TableApi, table: Table) -> Table:
    """The table with its base known: a wiki node's object, when the link was a wiki link."""
    if table.app_token is not None:
        return table
    kind, token = api.wiki_object(table.wiki or "")
    if kind != "bitable" or not token:
        raise NotABase(f"the wiki page of table {table.table_id} holds {'a ' + kind if kind else 'nothing'}, not a "
                       "Bitable")
    return table.in_base(token)


def fetch(api: TableApi, table: Table, paced: Callable[[], AbstractContextManager[Any]]) -> Fetched:
    """Every field and record of the table, 500 records a page, each call within the shared pace (20 a second)."""
    with paced():
        table = resolve(api, table)
    assert table.app_token is not None
    with paced():
        fields = api.table_fields(table.app_token, table.table_id)
    records: list[dict] = []
    page: str | None = None
    for _ in range(MAX_PAGES):
        with paced():
            items, page = api.table_records(table.app_token, table.table_id, table.view_id, page)
        records += items
        if page is None:
            break
    return Fetched(table, fields, records)


def take_table(fetched: Fetched, store: TableStore, plan, *, zone: tzinfo, lookup: Lookup | None,  # noqa: ANN001
               now: float, skip_invalid: bool = True, dry_run: bool = False,
               forms: Forms | None = None) -> tuple[Taken, Read]:
    """Take the table's schedule in as a file's (each row tagged with the table and its record); the table's
    assignments whose record is gone and whose interview no row names are cancelled."""
    read = read_table(fetched.fields, fetched.records, zone)
    source = fetched.table.key
    rows = read.assignments
    tags = {number: {"source": source, "record_id": record} for number, record in read.records.items()}
    running = [a for a in store.source_assignments(source) if a.stopped is None]
    problems = list(read.problems)
    removed: list[tuple[str, str]] = []
    if fetched.records:
        named = {a.interview_id for a in rows} | set(getattr(rows, "partial", ())) | {
            c.interview_id for c in getattr(rows, "cancelled", ())}
        removed = gone(running, read.records, named)
    elif running:
        problems.append(Problem(None, None, f"表格读出来是空的：{len(running)} 场面试没有取消。若表格开启了高级权限，"
                                            "请给应用“可管理”权限。",
                                f"The table reads as empty: {len(running)} interviews were not cancelled. If the base "
                                "has advanced permissions on, give the app manage permission.", warning=True))
    taken = take_in(rows, in_order(problems), store, plan, lookup=lookup, now=now, skip_invalid=skip_invalid,
                    dry_run=dry_run, tags=tags, gone=removed, forms=forms)
    return taken, read



NO_ACCESS = 91403  # the document is not shared with the app
MISSING_SCOPE = 99991672
SHARE_ZH = ("请在多维表格右上角“…”→“更多”→“添加文档应用”中添加本应用（操作者须为所有者或管理员；表格开启了高级权限时，"
            "请给应用“可管理”权限），或把机器人所在的群添加为协作者")
SHARE_EN = ("in the base, open … → More → Add document app (… → 更多 → 添加文档应用) and add this app (you must be the "
            "base's owner or a manager; with advanced permissions on, give the app manage permission), or add a group "
            "the bot is in as a collaborator")
READ_SCOPES = "bitable:app:readonly (or base:record:retrieve and base:field:read)"


def table_failed(exc: FeishuError | NotABase, domain: str) -> tuple[str, str]:
    """Why a table could not be read, in words for whoever asked (zh, en)."""
    if isinstance(exc, NotABase):
        return f"{exc}。", f"{str(exc)[0].upper()}{str(exc)[1:]}."
    host = urlsplit(domain).netloc or domain
    said = f"code {exc.code}" + (f", log id {exc.log_id}" if exc.log_id else "")
    if exc.code is None:
        why = exc.msg.removeprefix("cannot reach Feishu: ")
        return f"无法连接 {host}（{why}），没有读取表格。", f"Cannot reach {host} ({why}); the table was not read."
    if exc.code == NO_ACCESS:
        return (f"飞书拒绝读取表格（{said}）：多维表格没有共享给应用。{SHARE_ZH}。",
                f"Feishu refused to read the table ({said}): the base is not shared with the app. To share it, "
                f"{SHARE_EN}.")
    if exc.code == MISSING_SCOPE:
        return (f"飞书拒绝读取表格（{said}）：应用缺少权限 {READ_SCOPES}。",
                f"Feishu refused to read the table ({said}): the app lacks the scope {READ_SCOPES}.")
    if exc.credentials or exc.token_invalid:
        return (f"飞书拒绝了应用凭证（{said}）。请检查 FEISHU_APP_ID 和 FEISHU_APP_SECRET。",
                f"Feishu refused the app's credentials ({said}). Check FEISHU_APP_ID and FEISHU_APP_SECRET.")
    return f"飞书没有让读取表格（{said}：{exc.msg}）。", f"Feishu would not let the table be read ({said}: {exc.msg})."
