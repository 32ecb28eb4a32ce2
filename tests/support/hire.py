"""Feishu Hire's external assessments as a stateful `responses` mock: create (idempotent by external_id),
batch query and PATCH, and a way to fail an answer after the server has already done the work."""

from __future__ import annotations

import itertools
import json
import re

import responses
from requests.exceptions import ConnectionError as RequestsConnectionError

from tests.support.ids import DOMAIN

BASE = "/open-apis/hire/v1"


class FakeHire:
    """Assessments by id, the id each external_id was given, and the interviews' assessments."""

    def __init__(self, mock: responses.RequestsMock):
        self.assessments: dict[str, dict] = {}
        self.by_external: dict[str, str] = {}
        self.ids = itertools.count(7_100_000_000_000_000_001)
        self.lose_answers = 0  # this many next creates do their work, then the answer is lost (a crash)
        mock.add_callback(responses.POST, _re(f"{BASE}/external_interview_assessments"), self._create)
        mock.add_callback(responses.POST, _re(f"{BASE}/external_interviews/batch_query"), self._query)
        mock.add_callback(responses.PATCH, _re(f"{BASE}/external_interview_assessments/[^/?]+"), self._patch)

    def _create(self, request):
        body = json.loads(request.body)
        made = self.by_external.get(body["external_id"])
        if made is None:
            made = self.by_external[body["external_id"]] = str(next(self.ids))
            self.assessments[made] = {**body, "id": made}
        if self.lose_answers:
            self.lose_answers -= 1
            raise RequestsConnectionError("connection reset after the create was done")
        data = {"external_interview_assessment": self.assessments[made]}
        return 200, {"X-Tt-Logid": "LOGCREATE"}, json.dumps({"code": 0, "msg": "success", "data": data})

    def _query(self, request):
        wanted = json.loads(request.body)["external_interview_id_list"]
        items = [{"id": iid, "interview_assessments": [a for a in self.assessments.values()
                                                         if a["external_interview_id"] == iid]} for iid in wanted]
        return 200, {}, json.dumps({"code": 0, "msg": "success", "data": {"items": items}})

    def _patch(self, request):
        aid = request.url.split("?")[0].rsplit("/", 1)[1]
        if aid not in self.assessments:
            return 200, {}, json.dumps({"code": 1002001, "msg": "assessment not found"})
        self.assessments[aid].update(json.loads(request.body))
        data = {"external_interview_assessment": {"id": aid}}
        return 200, {"X-Tt-Logid": "LOGPATCH"}, json.dumps({"code": 0, "msg": "success", "data": data})


def _re(path: str):
    return re.compile(re.escape(DOMAIN) + path + r"(\?.*)?$")


def nothing_held(mock: responses.RequestsMock) -> None:
    """Feishu holds no assessment for any interview asked about (what the bot reads back before its first write
    to an assessment it was given the id of)."""
    empty = {"code": 0, "msg": "success", "data": {"items": []}}
    mock.add(responses.POST, _re(f"{BASE}/external_interviews/batch_query"), json=empty)
