"""`assessbot db upgrade | current`: the database's schema version, and bringing it to this release's."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.store import Store


def configure(parser: argparse.ArgumentParser) -> None:
    verbs = parser.add_subparsers(dest="verb", required=True)
    verbs.add_parser("upgrade", help="upgrade the schema to this release's version (adopts a database made by v1)")
    verbs.add_parser("current", help="print the database's schema version and this release's")


def run(args: argparse.Namespace) -> int:
    from bot import settings
    from bot.store import Misconfigured, SchemaTooNew, Store, Unavailable, explain

    url = settings.database_url_for("db")
    if url is None:
        return 2
    if args.verb == "current" and _missing_file(url):
        print(f"- (no database yet at {_missing_file(url)}: `assessbot db upgrade` or the bot's first start "
              "creates it)")
        return 0
    store = None
    try:
        store = Store(url)
        if args.verb == "upgrade":
            applied = store.create_schema()
            found, head = store.schema_version()
            print(f"upgraded: {', '.join(applied)}; now at {found}" if applied else f"already at {found} (head)")
            return 0
        found, head = store.schema_version()
        print(f"{found or '-'} ({_state(store, found, head)})")
        return 0
    except (SchemaTooNew, Unavailable, Misconfigured) as exc:
        print(f"assessbot db: {explain(exc, url)}", file=sys.stderr)
        return 1
    finally:
        if store is not None:
            store.dispose()


def _state(store: Store, found: str | None, head: str) -> str:
    """How the database's version stands against this release's, in words."""
    if found == head:
        return "head"
    if found is not None:
        return f"behind {head}"
    if store.table_names():
        return f"not versioned: made before versions existed; `assessbot db upgrade` adopts it at {head}"
    return f"empty: no tables yet; `assessbot db upgrade` or the bot's first start creates them at {head}"


def _missing_file(url: str) -> str | None:
    """The SQLite file a URL names when it does not exist yet (showing the version must not create it)."""
    from pathlib import Path

    path = url.removeprefix("sqlite:///")
    if path == url or not path or path == ":memory:" or Path(path).exists():
        return None
    return path
