"""`assessbot forms`: the feedback forms the bot knows (as last read from Feishu Hire) and how many interviews use
each; `assessbot forms sync`: read them from Hire now (needs the scope hire:interview:readonly)."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from bot.forms.mapping import FormMap
    from bot.rubric import Rubric
    from bot.store import Store


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("verb", nargs="?", choices=("list", "sync"), default="list",
                        help="list (default): the forms known and how many interviews use each; sync: read them "
                             "from Feishu Hire now")
    parser.add_argument("--env-file", default=".env", help="settings file read besides the environment (sync)")


def run(args: argparse.Namespace, out: Callable[[str], None] = print) -> int:
    """0 when done; 1 when the database or Feishu cannot be used; 2 when the settings have problems."""
    return sync(args, out) if args.verb == "sync" else listing(out)


def listing(out: Callable[[str], None]) -> int:
    from bot import rubric, settings
    from bot.forms import mapping
    from bot.store import Misconfigured, SchemaTooNew, Store, Unavailable, explain

    config = settings.command_settings_for("forms")
    if config is None:
        return 2
    try:
        local, form_map = rubric.load(config.assessbot_rubric), mapping.load(config.assessbot_forms)
    except (rubric.RubricError, mapping.MappingError) as exc:
        print(f"assessbot forms: {exc}", file=sys.stderr)
        return 2
    store = None
    try:
        store = Store(config.database_url)
        for line in describe(store, local, form_map, ZoneInfo(config.assessbot_timezone), str(config.assessbot_rubric)):
            out(line)
        return 0
    except (SchemaTooNew, Unavailable, Misconfigured) as exc:
        print(f"assessbot forms: {explain(exc, config.database_url)}", file=sys.stderr)
        return 1
    finally:
        if store is not None:
            store.dispose()


def describe(store: Store, local: Rubric, form_map: FormMap, zone: ZoneInfo, rubric_file: str) -> list[str]:
    """The listing's lines: how the last sync went, each current form with its uses, older versions in use."""
    from bot.forms.catalogue import Catalogue, pick

    store.create_schema()
    rows = store.stored_forms()
    uses: Counter[str] = Counter()
    for pinned, chosen, position, round_ in store.form_choices():
        if pinned:
            uses[pinned] += 1
            continue
        word = chosen or form_map.pick(position, round_)
        found = pick(word, rows, local, retired=True) if word else None
        uses[found.id if found is not None else local.id] += 1
    status = store.form_status()
    lines = []
    if status is None:
        lines.append("Feedback forms from Feishu Hire: never read yet (`assessbot forms sync` reads them now)")
    elif status.ok:
        lines.append(f"Feedback forms from Feishu Hire, read {_at(status.synced_at, zone)}: {status.forms} form(s)")
    else:
        since = f"; last read {_at(status.synced_at, zone)}" if status.synced_at else ""
        lines.append(f"Feedback forms from Feishu Hire: the last read failed {_at(status.failed_at, zone)}: "
                     f"{status.reason}{since}")
    forms = Catalogue(store, local)
    current = [r for r in rows if r.origin == "hire" and r.current]
    for row in current:
        lines += _form(row.name, row.name_en, row.id, row.version, forms.version(row.id), uses[row.id])
    local_row = next((r for r in rows if r.id == local.id), None)
    lines += _form(local.name, local.name_en, local.id, local_row.version if local_row else None, local,
                   uses[local.id], f"the local rubric, {rubric_file}: interviews no form or mapping names use it")
    older = [r for r in rows if not r.current and uses[r.id]]
    if older:
        lines.append("Older versions still used by the interviews opened with them:")
        for row in older:
            gone = "" if row.origin == "local" or any(set(row.names) & set(c.names) for c in current) else \
                " (this form is no longer in Hire)"
            lines.append(f"  {row.name} · version {row.version} · id {row.id} · {_count(uses[row.id])}{gone}")
    if form_map.rules:
        lines.append(f"Mapping ({form_map.source}):")
        for rule in form_map.rules:
            found = pick(rule.form, rows, local)
            lines.append(f"  job {rule.job!r}, round {rule.round!r} → {rule.form}"
                         + ("" if found is not None else "  ✗ no such form: these interviews use the local rubric"))
    return lines


def _form(name: str, name_en: str | None, form_id: str, version: int | None, rubric: Rubric | None, used: int,
          note: str = "") -> list[str]:
    title = name + (f" / {name_en}" if name_en and name_en != name else "")
    parts = [f"id {form_id}", f"version {version if version is not None else '—'}"]
    if rubric is not None:
        parts.append(f"{len(rubric.dimensions)} dimension{'s' if len(rubric.dimensions) != 1 else ''}")
    parts.append(_count(used))
    lines = [f"  {title}" + (f"  ({note})" if note else ""), "      " + " · ".join(parts)]
    if rubric is not None and rubric.unsupported:
        lines.append("      not carried by an external assessment: " + ", ".join(rubric.unsupported))
    return lines


def _count(n: int) -> str:
    return f"{n} interview{'s' if n != 1 else ''}"


def _at(at: float | None, zone: ZoneInfo) -> str:
    return "—" if at is None else datetime.fromtimestamp(at, zone).strftime("%Y-%m-%d %H:%M %Z")


def sync(args: argparse.Namespace, out: Callable[[str], None]) -> int:
    from bot import rubric
    from bot import settings as settings_module
    from bot.store import Misconfigured, SchemaTooNew, Store, Unavailable, explain

    try:
        settings = settings_module.load(args.env_file)
        local = rubric.load(settings.assessbot_rubric)
    except settings_module.SettingsError as exc:
        print(f"assessbot forms sync: the configuration has problems:\n{exc}", file=sys.stderr)
        return 2
    except rubric.RubricError as exc:
        print(f"assessbot forms sync: {exc}", file=sys.stderr)
        return 2
    from bot.feishu.client import Feishu  # the SDK's import only for a sync
    from bot.forms.sync import sync as read_forms

    store = None
    try:
        store = Store(settings.database_url)
        store.create_schema()
        feishu = Feishu(settings.feishu_app_id, settings.feishu_app_secret, settings.feishu_domain,
                        settings.assessbot_api_timeout)
        done = read_forms(store, feishu, local)
    except (SchemaTooNew, Unavailable, Misconfigured) as exc:
        print(f"assessbot forms sync: {explain(exc, settings.database_url)}", file=sys.stderr)
        return 1
    finally:
        if store is not None:
            store.dispose()
    if not done.ok:
        print(f"assessbot forms sync: cannot read the forms from {settings.feishu_domain}: {done.reason}",
              file=sys.stderr)
        return 1
    out(f"read {len(done.forms)} feedback form{'s' if len(done.forms) != 1 else ''} from Feishu Hire "
        f"({done.new} new version{'s' if done.new != 1 else ''}):")
    for name, version, form_id in done.forms:
        out(f"  {name} · version {version} · id {form_id}")
    for form_id in done.unreadable:
        out(f"  ✗ form {form_id} cannot be read by this release: left out")
    return 0
