"""The sandbox's create, interview read-back and open_id lookup, driven by the bot's own Feishu client."""

from __future__ import annotations

import pytest

from bot.feishu.client import FeishuError
from bot.sandbox.openapi import FakeOpenAPI
from tests.support.ids import SANDBOX_APP_ID, SANDBOX_APP_SECRET

BODY = {"external_interview_id": "7001", "external_id": "ab-7001-alice", "username": "Alice", "conclusion": 2,
        "content": "solid", "assessment_dimension_list": [{"assessment_type": 1, "title": "编码能力", "score": 4}]}


@pytest.fixture
def fake():
    fake = FakeOpenAPI(auto_create=False)
    fake.add_contacts({"alice@example.com": "ou_alice", "+8613800000000": "ou_alice"})
    return fake


def test_create_is_idempotent_by_external_id_and_the_interview_reads_it_back(api):
    fake, feishu = api
    first = feishu.create_assessment(BODY).data["external_interview_assessment"]["id"]
    again = feishu.create_assessment(BODY).data["external_interview_assessment"]["id"]
    assert first == again and list(fake.assessments()) == [first]
    feishu.patch_assessment(first, {"content": "solid, and quick"})
    held = feishu.interview_assessments("7001")
    assert held == [{"id": first, "username": "Alice", "conclusion": 2, "content": "solid, and quick",
                     "assessment_dimension_list": [{"assessment_type": 1, "title": "编码能力", "score": 4}]}]
    assert feishu.interview_assessments("7999") == []
    assert [c["endpoint"] for c in fake.calls() if c["endpoint"] != "token"] == \
        ["create", "create", "patch", "interviews", "interviews"]


def test_a_create_without_its_interview_or_with_a_wrong_field_is_refused(api):
    _, feishu = api
    for wrong in ({k: v for k, v in BODY.items() if k != "external_interview_id"}, {**BODY, "conclusion": "pass"},
                  {**BODY, "conclusion": 4}):
        with pytest.raises(FeishuError) as caught:
            feishu.create_assessment(wrong)
        assert caught.value.code == 1002002


def test_open_ids_are_found_by_email_and_mobile_and_unknown_people_are_left_out(api):
    fake, feishu = api
    found = feishu.open_ids(["alice@example.com", "nobody@example.com"], ["+8613800000000"])
    assert found == {"alice@example.com": "ou_alice", "+8613800000000": "ou_alice"}
    sent = [c for c in fake.calls("user_ids")][0]
    assert sent["query"] == {"user_id_type": "open_id"} and sent["body"]["emails"][1] == "nobody@example.com"


def test_the_lookups_are_as_strict_as_feishu(api):
    fake, _ = api
    import json

    from bot.sandbox.openapi.app import make_app

    app = make_app(fake).test_client()
    tok = app.post("/open-apis/auth/v3/tenant_access_token/internal",
                   json={"app_id": SANDBOX_APP_ID, "app_secret": SANDBOX_APP_SECRET}).get_json()["tenant_access_token"]
    auth = {"Authorization": f"Bearer {tok}"}
    too_many = app.post("/open-apis/contact/v3/users/batch_get_id", headers=auth,
                        json={"emails": [f"p{n}@example.com" for n in range(51)]}).get_json()
    assert too_many["code"] == 99992402 and "at most 50" in too_many["msg"]
    page = app.post("/open-apis/hire/v1/external_interviews/batch_query?page_size=21", headers=auth,
                    json={"external_interview_id_list": ["1"]}).get_json()
    assert page["code"] == 1002002
    not_list = app.post("/open-apis/hire/v1/external_interviews/batch_query", headers=auth,
                        data=json.dumps({"external_interview_id_list": "1"})).get_json()
    assert not_list["code"] == 1002002


def test_the_backend_holds_no_web_framework():
    """Only the HTTP front door (app.py, admin.py, server.py) knows Flask or werkzeug; the backend is plain Python."""
    import ast

    from tests.support.ids import ROOT

    package = ROOT / "bot" / "sandbox" / "openapi"
    doors = {"app.py", "admin.py", "server.py", "__init__.py", "__main__.py", "process.py", "longconn.py"}
    framework = {}
    for path in sorted(package.glob("*.py")):
        if path.name in doors:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        names |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        framework[path.name] = sorted(n for n in names if n.split(".")[0] in ("flask", "werkzeug"))
    assert "backend.py" in framework and "endpoints.py" in framework
    assert {name: found for name, found in framework.items() if found} == {}
