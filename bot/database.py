"""`assessbot db upgrade | current`: the database's schema version, and bringing it to this release's."""

from __future__ import annotations

import argparse
import sys


def configure(parser: argparse.ArgumentParser) -> None:
    verbs = parser.add_subparsers(dest="verb", required=True)
    verbs.add_parser("upgrade", help="upgrade the schema to this release's version (adopts a database made by v1)")
    verbs.add_parser("current", help="print the database's schema version and this release's")


def run(args: argparse.Namespace) -> int:
    from bot import settings
    from bot.store import SchemaTooNew, Store, Unavailable

    url = settings.database_url_for("db")
    if url is None:
        return 2
    store = Store(url)
    try:
        if args.verb == "upgrade":
            applied = store.create_schema()
            found, head = store.schema_version()
            print(f"upgraded: {', '.join(applied)}; now at {found}" if applied else f"already at {found} (head)")
            return 0
        found, head = store.schema_version()
        state = "head" if found == head else ("not versioned" if found is None else f"behind {head}")
        print(f"{found or '-'} ({state})")
        return 0
    except SchemaTooNew as exc:
        print(f"assessbot db: {exc}", file=sys.stderr)
        return 1
    except Unavailable as exc:
        print(f"assessbot db: the database is unavailable: {exc}", file=sys.stderr)
        return 1
    finally:
        store.dispose()
