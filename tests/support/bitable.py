"""A Bitable table as a stateful `responses` mock: its fields, records/search paged as Feishu pages it (page_size
at most 500, a page_token while has_more), record updates, the drive subscription; and answers to queue."""

from __future__ import annotations

import json
import re

import responses

from tests.support.ids import DOMAIN

BASE = "/open-apis/bitable/v1/apps"


class FakeTable:
    """One table of one base: `fields` as the field list gives them, `records` by record_id (fields by name)."""

    def __init__(self, mock: responses.RequestsMock, app_token: str, table_id: str, fields: list[dict]):
        self.mock, self.app_token, self.table_id, self.fields = mock, app_token, table_id, fields
        self.records: dict[str, dict] = {}
        self.failures: dict[str, list[tuple[int, int]]] = {"search": [], "update": [], "fields": [],
                                                           "subscribe": []}
        where = f"{BASE}/{app_token}/tables/{table_id}"
        mock.add_callback(responses.POST, _re(f"{where}/records/search"), self._search)
        mock.add_callback(responses.GET, _re(f"{where}/fields"), self._fields)
        mock.add_callback(responses.PUT, _re(f"{where}/records/[^/?]+"), self._update)
        mock.add_callback(responses.POST, _re(f"/open-apis/drive/v1/files/{app_token}/subscribe"), self._subscribe)

    def put(self, record_id: str, **fields: object) -> None:
        self.records[record_id] = dict(fields)

    def fail(self, call: str, *answers: tuple[int, int]) -> None:
        """The next calls of `call` (search, update, fields, subscribe) answer (HTTP status, code), in turn; code 0
        answers as usual."""
        self.failures[call] += list(answers)

    def _failure(self, call: str):
        if not self.failures[call]:
            return None
        status, code = self.failures[call].pop(0)
        if code == 0:
            return None
        return status, {"X-Tt-Logid": f"LOGFAIL{code}"}, json.dumps({"code": code, "msg": f"refused ({code})"})

    def _search(self, request):
        if failed := self._failure("search"):
            return failed
        query = dict(p.split("=", 1) for p in request.url.split("?", 1)[1].split("&")) if "?" in request.url else {}
        size = int(query.get("page_size", 20))
        assert 1 <= size <= 500, size
        start = int(query.get("page_token", "0"))
        ids = list(self.records)
        page = ids[start:start + size]
        more = start + size < len(ids)
        data = {"items": [{"record_id": rid, "fields": self.records[rid]} for rid in page], "has_more": more,
                "total": len(ids), **({"page_token": str(start + size)} if more else {})}
        return 200, {"X-Tt-Logid": "LOGSEARCH"}, json.dumps({"code": 0, "msg": "success", "data": data})

    def _fields(self, request):
        if failed := self._failure("fields"):
            return failed
        data = {"items": self.fields, "has_more": False, "total": len(self.fields)}
        return 200, {}, json.dumps({"code": 0, "msg": "success", "data": data})

    def _update(self, request):
        if failed := self._failure("update"):
            return failed
        record_id = request.url.split("?")[0].rsplit("/", 1)[1]
        self.records.setdefault(record_id, {}).update(json.loads(request.body)["fields"])
        data = {"record": {"record_id": record_id, "fields": self.records[record_id]}}
        return 200, {"X-Tt-Logid": "LOGUPDATE"}, json.dumps({"code": 0, "msg": "success", "data": data})

    def _subscribe(self, request):
        if failed := self._failure("subscribe"):
            return failed
        return 200, {}, json.dumps({"code": 0, "msg": "success", "data": {}})

    def searches(self) -> list[tuple[str, dict]]:
        """Each records/search as (query string, body)."""
        return [(c.request.url.split("?", 1)[1], json.loads(c.request.body or "{}")) for c in self.mock.calls
                if "/records/search" in c.request.url]

    def updates(self) -> list[tuple[str, dict]]:
        """Each record update as (record_id, body), in order (failed ones included)."""
        return [(c.request.url.split("?")[0].rsplit("/", 1)[1], json.loads(c.request.body)) for c in self.mock.calls
                if c.request.method == "PUT" and "/records/" in c.request.url]


def _re(path: str):
    return re.compile(re.escape(DOMAIN) + path + r"(\?.*)?$")
