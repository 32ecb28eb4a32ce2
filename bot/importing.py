"""`assessbot import FILE`: check a schedule file whole, then bring its interviews into the bot's database.

Every problem is listed with its row and column, in English and Chinese; with any, nothing is imported
(unless --skip-invalid). Re-importing the same or a changed file never duplicates an interview.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.schedule.intake import Lookup, Taken, take_in

if TYPE_CHECKING:
    from bot.settings import Settings

PROGRESS_FROM = 200  # rows; smaller files finish before a bar would be worth drawing


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="a schedule: .csv (UTF-8 or GB18030), .xlsx, .jsonl or .json")
    parser.add_argument("--skip-invalid", action="store_true", help="import the rows without problems, skip the rest")
    parser.add_argument("--dry-run", action="store_true", help="check and count, but write nothing")
    parser.add_argument("--env-file", default=".env", help="settings file read besides the environment")


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None,
        clock: Callable[[], float] | None = None) -> int:
    """0 when the file was imported (or, dry, would be); 1 when it has problems; 2 when the settings do."""
    import time

    from bot import settings as settings_module
    from bot.jobs.remind import Planner
    from bot.schedule.files import read_file
    from bot.store import Store

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
    assignments, problems = read_file(args.file, zone)
    bar = Bar(err) if err.isatty() and len(assignments) > PROGRESS_FROM else None
    store = Store(settings.database_url, clock or time.time)
    try:
        store.create_schema()
        now = store.clock()
        try:
            taken = take_in(assignments, problems, store, Planner(settings, now), lookup=_lookup(settings), now=now,
                            skip_invalid=args.skip_invalid, dry_run=args.dry_run, progress=bar)
        except Exception as exc:
            if not _from_feishu(exc):
                raise
            if bar:
                bar.done()
            say(f"飞书无法查询邮箱和手机号（{exc.code}：{exc.msg}），没有导入任何内容。"
                "应用需要 contact:user.id:readonly 权限。",
                f"Feishu could not look up emails and mobiles ({exc.code}: {exc.msg}; log id {exc.log_id}); "
                "nothing was imported. The app needs the contact:user.id:readonly scope.")
            return 1
    finally:
        store.dispose()
    if bar:
        bar.done()
    return report(taken, args, len(assignments), say)


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


def _from_feishu(exc: Exception) -> bool:
    """Whether Feishu refused or could not be reached (its client is imported only once someone needs resolving)."""
    client = sys.modules.get("bot.feishu.client")
    return client is not None and isinstance(exc, client.FeishuError)


def report(taken: Taken, args: argparse.Namespace, rows: int, say: Callable[[str, str], None]) -> int:
    """Print the problems and what was done; the exit status."""
    name = args.file.name
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
    counts = f"{taken.new} new, {taken.updated} updated, {taken.unchanged} unchanged"
    counts_zh = f"新增 {taken.new}，更新 {taken.updated}，未变 {taken.unchanged}"
    if args.dry_run:
        say(f"{name}：试运行，未写入任何内容；若导入将会：{counts_zh}。",
            f"{name}: dry run, nothing written; importing would give {counts}.")
    else:
        say(f"{name}：{counts_zh}。", f"{name}: {counts}.")
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
