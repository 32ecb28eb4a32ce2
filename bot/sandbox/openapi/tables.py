"""The sandbox's Bitables: bases of tables with fields and records, read with records/search as Feishu pages it,
written one record at a time, wiki nodes that hold a base, and subscriptions to record-changed events.

Search: https://open.feishu.cn/document/docs/bitable-v1/app-table-record/search (page_size at most 500, default
20; people as open_ids). Fields: https://open.feishu.cn/document/server-docs/docs/bitable-v1/app-table-field/list.
Update: https://open.feishu.cn/document/server-docs/docs/bitable-v1/app-table-record/update. A base not shared with
the app answers 91403 (https://open.feishu.cn/document/faq/trouble-shooting/how-to-add-permissions-to-app). The
codes for an unknown table or record (1254004, 1254043) are the sandbox's choice: the docs list many.
"""

from __future__ import annotations

import copy
import secrets
import threading
from collections.abc import Callable, Mapping

from bot.sandbox.openapi.wire import OpenAPIError, field_invalid

MAX_PAGE = 500
DEFAULT_PAGE = 20
NO_ACCESS = OpenAPIError(403, 91403, "Forbidden: the document is not shared with this app")


class Bitables:
    """Every base the sandbox holds; guarded by the sandbox's lock."""

    def __init__(self, lock: threading.RLock, clock: Callable[[], float]):
        self.lock, self.clock = lock, clock
        self.clear()

    def clear(self) -> None:
        self.bases: dict[str, dict] = {}  # app_token -> {"shared", "subscribed", "tables": {id: {fields, records}}}
        self.wiki: dict[str, str] = {}  # wiki node -> app_token
        self.writing = 0  # record updates in flight (a base is written one at a time by a well-behaved app)
        self.most_at_once = 0

    def load(self, saved: Mapping) -> None:
        self.bases.update(copy.deepcopy(saved.get("bases", {})))
        self.wiki.update(saved.get("wiki", {}))

    def snapshot(self) -> dict:
        return {"bases": copy.deepcopy(self.bases), "wiki": dict(self.wiki)}

    def put_table(self, app_token: str, table_id: str, fields: list[dict], records: Mapping[str, dict], *,
                  shared: bool = True, wiki: str | None = None) -> None:
        """Create or replace a table (its fields: `{field_name, type}`; its records: record_id -> fields by name)."""
        with self.lock:
            base = self.bases.setdefault(app_token, {"shared": shared, "subscribed": False, "tables": {}})
            base["shared"] = shared
            fields = [{"field_id": f.get("field_id") or "fld" + secrets.token_hex(5), **f} for f in fields]
            base["tables"][table_id] = {"fields": copy.deepcopy(fields), "records": copy.deepcopy(dict(records))}
            if wiki:
                self.wiki[wiki] = app_token

    def table(self, app_token: str, table_id: str) -> dict:
        """A table as stored (a copy)."""
        with self.lock:
            return copy.deepcopy(self._table(app_token, table_id))

    def _table(self, app_token: str, table_id: str) -> dict:
        base = self.bases.get(app_token)
        if base is None or not base["shared"]:
            raise NO_ACCESS
        table = base["tables"].get(table_id)
        if table is None:
            raise OpenAPIError(400, 1254004, f"table {table_id} not found")
        return table

    def search(self, app_token: str, table_id: str, args: Mapping[str, str], body: Mapping) -> dict:
        """One page of records, as records/search answers."""
        size = args.get("page_size", str(DEFAULT_PAGE))
        if not size.isdigit() or not 1 <= int(size) <= MAX_PAGE:
            raise field_invalid(f"page_size: must be 1 to {MAX_PAGE} (got {size!r})")
        if args.get("user_id_type", "open_id") != "open_id":
            raise field_invalid("the sandbox knows people by open_id only")
        token = args.get("page_token", "0")
        if not token.isdigit():
            raise field_invalid(f"page_token: {token!r} is not one this table gave")
        unknown = set(body) - {"view_id", "field_names", "sort", "filter", "automatic_fields"}
        if unknown:
            raise field_invalid(f"body: unknown fields {sorted(unknown)}")
        with self.lock:
            records = self._table(app_token, table_id)["records"]
            ids = list(records)
            start, count = int(token), int(size)
            page = [{"record_id": rid, "fields": copy.deepcopy(records[rid])} for rid in ids[start:start + count]]
        more = start + count < len(ids)
        return {"items": page, "has_more": more, "total": len(ids), **({"page_token": str(start + count)} if more
                                                                       else {})}

    def fields(self, app_token: str, table_id: str) -> dict:
        with self.lock:
            fields = copy.deepcopy(self._table(app_token, table_id)["fields"])
        return {"items": fields, "has_more": False, "total": len(fields)}

    def update(self, app_token: str, table_id: str, record_id: str, body: Mapping) -> dict:
        """Write cells of one record (only fields the table has)."""
        given = body.get("fields")
        if not isinstance(given, dict):
            raise field_invalid("fields: an object of field name -> value is required")
        with self.lock:
            self.writing += 1
            self.most_at_once = max(self.most_at_once, self.writing)
        try:
            with self.lock:
                table = self._table(app_token, table_id)
                names = {f["field_name"] for f in table["fields"]}
                if set(given) - names:
                    raise OpenAPIError(400, 1254045, f"field not found: {sorted(set(given) - names)}")
                if record_id not in table["records"]:
                    raise OpenAPIError(400, 1254043, f"record {record_id} not found")
                table["records"][record_id].update(copy.deepcopy(given))
                return {"record": {"record_id": record_id, "fields": copy.deepcopy(table["records"][record_id])}}
        finally:
            with self.lock:
                self.writing -= 1

    def subscribe(self, app_token: str, file_type: str | None) -> dict:
        if file_type != "bitable":
            raise field_invalid(f"file_type: {file_type!r} (a base is subscribed with file_type=bitable)")
        with self.lock:
            base = self.bases.get(app_token)
            if base is None or not base["shared"]:
                raise NO_ACCESS
            base["subscribed"] = True
        return {}

    def node(self, token: str) -> dict:
        """A wiki node: the base it holds."""
        with self.lock:
            app_token = self.wiki.get(token)
        if app_token is None:
            raise OpenAPIError(400, 131005, f"wiki node {token} not found")
        return {"node": {"node_token": token, "obj_type": "bitable", "obj_token": app_token, "title": "Schedule"}}
