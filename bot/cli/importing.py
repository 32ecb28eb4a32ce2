"""`assessbot import FILE|URL`: check a schedule file (or a Bitable's table) whole, then bring its interviews into the
bot's database.

Every problem is listed with its row and column, in English and Chinese; with any, nothing is imported
(unless --skip-invalid). Re-importing the same or a changed file never duplicates an interview. A Bitable link
(`https://…/base/<app_token>?table=<table_id>`, or a wiki link to one) is read through Feishu and taken in as a file
would be; rows that left the table since it was last read are cancelled.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.schedule.bitable import NotATable, Table, is_table_link, table_of
from bot.schedule.intake import Forms, Lookup, Taken, counts_words, lookup_failed, stop_words, take_in
from bot.schedule.model import read_person

if TYPE_CHECKING:
    from bot.settings import Settings
    from bot.store import Store

PROGRESS_FROM = 200  # rows; smaller files finish before a bar would be worth drawing


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="a schedule: .csv (UTF-8 or GB18030), .xlsx, .jsonl or .json, or a Bitable's link "
                                     "(https://…/base/<app_token>?table=<table_id>)")
    parser.add_argument("--skip-invalid", action="store_true", help="import the rows without problems, skip the rest")
    parser.add_argument("--dry-run", action="store_true", help="check and count, but write nothing")
    parser.add_argument("--env-file", default=".env", help="settings file read besides the environment")


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None,
        clock: Callable[[], float] | None = None) -> int:
    """0 when the file was imported (or, dry, would be); 1 when it has problems, or the database or Feishu cannot be
    used now; 2 when the settings have problems."""
    import time

    from bot import rubric
    from bot import settings as settings_module
    from bot.feishu.errors import FeishuError
    from bot.forms.catalogue import Catalogue
    from bot.schedule.files import read_file
    from bot.schedule.planner import Planner
    from bot.store import Misconfigured, SchemaTooNew, Store, Unavailable, explain

    out, err = out or sys.stdout, err or sys.stderr
    say = _printer(out)
    try:
        settings = settings_module.load(args.env_file)
        zone = ZoneInfo(settings.assessbot_timezone)
    except settings_module.SettingsError as exc:
        print(f"assessbot import: the configuration has problems:\n{exc}", file=err)
        return 2
    except (ZoneInfoNotFoundError, ValueError):
        print(f"assessbot import: ASSESSBOT_TIMEZONE {settings.assessbot_timezone!r} is not a time zone", file=err)
        return 2
    try:
        local = rubric.load(settings.assessbot_rubric)
    except rubric.RubricError as exc:
        print(f"assessbot import: {exc}", file=err)
        return 2
    table = None
    if is_table_link(str(args.file)):
        try:
            table = table_of(str(args.file))
        except NotATable as exc:
            print(f"assessbot import: the link {exc}", file=err)
            return 2
        assignments, problems = [], []
        name = f"table {table.table_id}"
    else:
        assignments, problems = read_file(Path(args.file), zone)
        name = Path(args.file).name
    bar = Bar(err) if err.isatty() and len(assignments) > PROGRESS_FROM else None
    store = offline = None
    try:
        store = Store(settings.database_url, clock or time.time)
        store.create_schema()
        now = store.clock()
        offline = Offline(store) if args.dry_run else None
        forms = Catalogue(store, local)  # the forms as last synced into the database
        if table is not None:
            taken, rows = _take_table(table, store, settings, now, args, offline, say, forms)
            if taken is None:
                return 1
        else:
            taken = take_in(assignments, problems, store, Planner(settings, now), now=now,
                            skip_invalid=args.skip_invalid, lookup=offline or _lookup(settings), dry_run=args.dry_run,
                            progress=bar, forms=forms)
            rows = len(assignments)
        known = store.names({s.interviewer for s in taken.stopped}) if taken.stopped else {}
    except (SchemaTooNew, Unavailable, Misconfigured) as exc:
        if bar:
            bar.done()
        print(f"assessbot import: {explain(exc, settings.database_url)}; nothing was imported", file=err)
        return 1
    except FeishuError as exc:
        if bar:
            bar.done()
        say(*lookup_failed(exc, settings.feishu_domain))
        return 1
    finally:
        if store is not None:
            store.dispose()
    if bar:
        bar.done()
    code = report(taken, args, rows, say, lambda person: known.get(person) or person, name=name)
    if offline is not None and offline.asked:
        say(*offline.summary())
    return code


def _take_table(table: Table, store: Store, settings: Settings, now: float, args: argparse.Namespace,
                offline: Offline | None, say: Callable[[str, str], None],
                forms: Forms | None = None) -> tuple[Taken | None, int]:
    """Read a Bitable and take it in (as the followed table's job does); None after saying why it was not read."""
    from bot.contract import NewJob, WriteStatus
    from bot.feishu.client import Feishu
    from bot.feishu.errors import FeishuError
    from bot.jobs.bitable import BITABLE
    from bot.jobs.pacing import paced
    from bot.schedule.planner import Planner
    from bot.schedule.tables import NotABase, fetch, table_failed, take_table

    client = Feishu(settings.feishu_app_id, settings.feishu_app_secret, settings.feishu_domain,
                    settings.assessbot_api_timeout)
    try:
        fetched = fetch(client, table, lambda: paced(store, BITABLE))
    except (FeishuError, NotABase) as exc:
        say(*table_failed(exc, settings.feishu_domain))
        return None, 0
    taken, read = take_table(fetched, store, Planner(settings, now), zone=ZoneInfo(settings.assessbot_timezone),
                             lookup=offline or client.open_ids, now=now, skip_invalid=args.skip_invalid,
                             dry_run=args.dry_run, forms=forms)
    if taken.applied and not args.dry_run:
        store.remember_source(fetched.table.key, table.url, read.status_field, now)
        if read.status_field:  # the running bot writes each record's state back
            store.accept([], [NewJob(WriteStatus(source=fetched.table.key))])
    return taken, len(read.assignments)


def _lookup(settings: Settings) -> Lookup:
    """Feishu's batch_get_id, the client built only when some person needs resolving."""
    client = None

    def lookup(emails: list[str], mobiles: list[str]) -> dict[str, str]:
        nonlocal client
        if client is None:
            from bot.feishu.client import Feishu

            client = Feishu(settings.feishu_app_id, settings.feishu_app_secret, settings.feishu_domain,
                            settings.assessbot_api_timeout)
        return client.open_ids(emails, mobiles)

    return lookup


class Offline:
    """A dry run's stand-in for Feishu's lookup: asks nobody, remembers who importing would ask.

    Someone the bot resolved before, however long ago, keeps that open_id (a re-import then counts as unchanged);
    anyone else gets a stand-in id, and their rows count as new.
    """

    SHOWN = 20  # people named in the summary; the rest are counted

    def __init__(self, store: Store):
        self.store = store
        self.asked: list[str] = []

    def __call__(self, emails: list[str], mobiles: list[str]) -> dict[str, str]:
        refs = {given: read_person(given, ("email", "mobile")) for given in [*emails, *mobiles]}
        self.asked += refs.values()
        known = self.store.people(refs.values(), 0.0)
        return {given: known.get(ref, f"(to look up) {ref}") for given, ref in refs.items()}

    def summary(self) -> tuple[str, str]:
        """Who importing would look up in Feishu (zh, en)."""
        count = len(self.asked)
        names = ", ".join(self.asked[:self.SHOWN])
        more_en = f" and {count - self.SHOWN} more" if count > self.SHOWN else ""
        more_zh = f" 等 {count} 人" if more_en else ""
        return (f"试运行没有连接飞书。正式导入时将在飞书中查询（需要 contact:user.id:readonly 权限）："
                f"{names}{more_zh}。",
                f"The dry run asked Feishu nothing. Importing will look up {count} "
                f"{'person' if count == 1 else 'people'} by email or mobile in Feishu (scope "
                f"contact:user.id:readonly): {names}{more_en}.")


def report(taken: Taken, args: argparse.Namespace, rows: int, say: Callable[[str, str], None],
           named: Callable[[str], str] = str, name: str | None = None) -> int:
    """Print the problems and what was done (each assignment withdrawn or cancelled named); the exit status."""
    name = name or Path(args.file).name
    errors, warnings = taken.errors, taken.warnings
    for problem in taken.problems:
        say(problem.zh_text, f"{'!' if problem.warning else '✗'} {problem.en_text}")
    if not taken.applied:
        hint_en = "" if args.skip_invalid else ", or pass --skip-invalid to import the rest"
        hint_zh = "" if args.skip_invalid else "，或加上 --skip-invalid 导入其余各行"
        say(f"{name}：发现 {len(errors)} 个问题，没有导入任何内容。请修改后重新导入{hint_zh}。",
            f"{name}: {len(errors)} problem{_s(len(errors))}; nothing was imported. Fix the rows above and import again"
            f"{hint_en}.")
        return 1
    counts_zh, counts = counts_words(taken)
    if args.dry_run:
        say(f"{name}：试运行，未写入任何内容；若导入将会：{counts_zh}。",
            f"{name}: dry run, nothing written; importing would give {counts}.")
    else:
        say(f"{name}：{counts_zh}。", f"{name}: {counts}.")
    for stop in taken.stopped:
        say(*stop_words(stop, named(stop.interviewer), dry=args.dry_run))
    if taken.skipped:
        say(f"跳过了 {taken.skipped} 行有问题的数据（见上）。",
            f"Skipped {taken.skipped} row{_s(taken.skipped)} with problems (listed above).")
    if warnings and not errors:
        say(f"另有 {len(warnings)} 条提示（见上），不影响导入。",
            f"{len(warnings)} warning{_s(len(warnings))} above; they did not stop the import.")
    return 0


def _s(count: int) -> str:
    return "" if count == 1 else "s"


def _printer(out: TextIO) -> Callable[[str, str], None]:
    def say(zh: str, en: str) -> None:
        print(en, file=out)
        print(f"  {zh}", file=out)

    return say


class Bar:
    """A one-line progress bar on a terminal: looking people up, then importing."""

    WIDTH = 30
    LABELS = {"people": "looking people up", "import": "importing"}

    def __init__(self, stream: TextIO):
        self.stream = stream
        self.shown = False

    def __call__(self, stage: str, done: int, total: int) -> None:
        if total <= 0 or (done != total and done % max(total // 100, 1)):
            return  # at most about a hundred redraws
        filled = self.WIDTH * done // total
        label = self.LABELS.get(stage, stage)
        self.stream.write(f"\r[{'#' * filled}{'.' * (self.WIDTH - filled)}] {done}/{total} {label:<20}")
        self.stream.flush()
        self.shown = True

    def done(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()
            self.shown = False

