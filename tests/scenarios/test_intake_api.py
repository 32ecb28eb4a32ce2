"""POST /api/interviews: the bearer token, every problem at once, counts, and nothing private in the logs."""

from __future__ import annotations

import json

import pytest

from bot.flows.interviews import authorized
from tests.support.ids import INTAKE, make_settings
from tests.support.jobs import pending_work

LI_NA = "ou_lina0001"
GOOD = [{"interview_id": "7412358746023518273", "interviewer": "li.na@example.com", "candidate": "张伟",
         "job": "Backend Engineer", "round": "Technical 1", "start": "2026-12-07 10:00", "end": "2026-12-07 11:00"},
        {"面试ID": "7412358746023518274", "面试官": LI_NA, "候选人": "王芳", "开始时间": "2026-12-08T09:30:00+08:00",
         "结束时间": "2026-12-08T10:30:00+08:00"}]


@pytest.fixture
def settings(database_url):
    return make_settings(database_url, assessbot_intake_token=INTAKE)


def post(client, body, token: str | None = INTAKE, **headers):
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    return client.post("/api/interviews", data=data, headers=headers, content_type="application/json")


def test_interviews_are_taken_in_and_counted(app, ctx, feishu, logs):
    feishu.people({"li.na@example.com": LI_NA})
    client = app.test_client()
    response = post(client, GOOD)
    assert (response.status_code, response.get_json()) == (
        200, {"new": 2, "updated": 0, "unchanged": 0, "withdrawn": [], "cancelled": [], "warnings": []})
    assert [a.candidate for a in ctx.store.assignments_of(LI_NA)] == ["张伟", "王芳"]
    assert pending_work(ctx.store) == {"pending": 2}
    changed = [GOOD[0] | {"round": "Technical 2"}, GOOD[1]]
    assert post(client, changed).get_json() == {"new": 0, "updated": 1, "unchanged": 1, "withdrawn": [],
                                                "cancelled": [], "warnings": []}
    assert len(feishu.lookups()) == 1
    assert INTAKE not in logs.getvalue() and "张伟" not in logs.getvalue()


def test_every_problem_is_listed_and_nothing_is_taken_in(app, ctx, feishu):
    feishu.people({})
    body = [GOOD[0], {"interview_id": "1", "interviewer": LI_NA, "candidate": "", "start": "2026-12-07 10:00",
                      "end": "soon", "colour": "red"}, "text"]
    response = post(app.test_client(), body)
    assert response.status_code == 400
    assert response.get_json() == {
        "problems": [
            {"row": 1, "column": "interviewer",
             "zh": "飞书中找不到邮箱为“li.na@example.com”的用户（或此人不在应用的通讯录权限范围内）。",
             "en": "nobody in Feishu has the email 'li.na@example.com' (or they are outside the app's contacts "
                   "range)."},
            {"row": 2, "column": "candidate", "zh": "不能为空。", "en": "is empty."},
            {"row": 2, "column": "end", "zh": "“soon”不是时间；请写成 2026-12-01 14:00 或 2026-12-01T14:00:00+08:00。",
             "en": "'soon' is not a time; write 2026-12-01 14:00 or 2026-12-01T14:00:00+08:00."},
            {"row": 3, "column": None, "zh": "应为一个 JSON 对象（{…}）。", "en": "not a JSON object ({…})."},
        ],
        "warnings": [{"row": 2, "column": "colour", "zh": "未知的列，已忽略。", "en": "unknown column, ignored."}],
    }
    assert ctx.store.jobs_by_status() == {} and ctx.store.assignments_of(LI_NA) == []


def test_a_body_that_is_not_a_json_list_is_a_problem(app):
    client = app.test_client()
    assert post(client, b"{not json").get_json() == {"problems": [
        {"row": 1, "column": None,
         "zh": "不是有效的 JSON（第 2 个字符：Expecting property name enclosed in double quotes）。",
         "en": "not valid JSON (Expecting property name enclosed in double quotes at character 2)."}], "warnings": []}
    assert post(client, {"interviews": []}).get_json()["problems"] == [
        {"row": None, "column": None, "zh": "应为一个 JSON 列表。", "en": "Expected a JSON list of interviews."}]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {INTAKE}"},
                                     {"Authorization": f"Bearer {INTAKE}x"}, {"Authorization": "Bearer"}])
def test_without_the_token_it_is_401_and_nothing_happens(app, ctx, headers):
    response = post(app.test_client(), GOOD, token=None, **headers)
    assert (response.status_code, response.get_json()) == (401, {"error": "unauthorized"})
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="assessbot"'
    assert ctx.store.jobs_by_status() == {}


def test_without_a_configured_token_the_endpoint_does_not_exist(app, ctx, database_url):
    ctx.settings = make_settings(database_url)
    for token in (None, "", INTAKE):
        response = post(app.test_client(), GOOD, token=token)
        assert (response.status_code, response.get_json()) == (404, {"error": "not found"})


def test_a_body_over_the_limit_is_refused_like_an_event(app, ctx):
    big = [GOOD[1] | {"interview_id": str(n)} for n in range(ctx.settings.assessbot_max_body_bytes // 100)]
    response = post(app.test_client(), big)
    assert (response.status_code, response.get_json()) == (413, {"error": "body too large"})
    assert ctx.store.jobs_by_status() == {}


def test_feishu_failing_the_lookup_is_503_and_nothing_is_taken_in(app, ctx, feishu):
    feishu.api.fault("user_ids", "no_scope")
    response = post(app.test_client(), GOOD)
    assert (response.status_code, response.get_json()["error"]) == (503, "feishu unavailable")
    assert ctx.store.jobs_by_status() == {}


def logged(logs, msg: str) -> list[dict]:
    """The fields of each JSON log record with this message (time, level and logger left out)."""
    records = [json.loads(line) for line in logs.getvalue().splitlines()]
    return [{k: v for k, v in r.items() if k not in ("ts", "level", "logger", "msg")}
            for r in records if r["msg"] == msg]


def test_a_refused_lookup_is_logged_with_feishus_code_and_words(app, ctx, feishu, logs):
    feishu.api.fault("user_ids", "no_scope")
    assert post(app.test_client(), GOOD).status_code == 503
    [refused] = feishu.api.calls("user_ids")
    assert logged(logs, "people lookup failed") == [
        {"reason": "Access denied. One of the following scopes is required: [contact:user.id:readonly]. "
                   "应用尚未开通所需的应用身份权限", "code": 99991672, "status": 400, "log_id": refused["log_id"]}]


def test_an_unreachable_feishu_is_logged_with_the_reason_and_no_empty_code(app, ctx, feishu, logs):
    feishu.api.fault("all", "drop", count=None)  # nothing answers at the domain
    assert post(app.test_client(), GOOD).status_code == 503
    assert logged(logs, "people lookup failed") == [{"reason": "cannot reach Feishu: ConnectionError"}]


def test_the_token_is_compared_whole_and_only_as_a_bearer():
    assert authorized("s3cret", "Bearer s3cret") and authorized("s3cret", "bearer  s3cret ")
    assert not authorized("s3cret", "Bearer s3cre") and not authorized("", "Bearer ")
    assert not authorized("s3cret", "Bearer s3crét") and not authorized("s3cret", None)


@pytest.mark.parametrize("body", [
    b"[" * 100_000 + b"]" * 100_000,  # deeper than the JSON parser recurses: it was a 500
    b'[{"n": ' + b"9" * 5000 + b"}]",  # more digits than Python turns into an integer
], ids=["nested", "digits"])
def test_json_too_deep_or_too_long_to_read_is_a_problem_not_a_crash(app, body):
    response = post(app.test_client(), body)
    assert response.status_code == 400
    assert response.get_json()["problems"][0]["en"] == (
        "the JSON is nested too deep or holds a number too long to read.")


def test_a_lone_surrogate_in_a_field_is_a_problem_and_nothing_is_taken_in(app, ctx, logs):
    # "\ud800" in the candidate's name was stored, and then the answer, which names the value, failed to encode: a
    # 500 after the write, so the sender tried again
    body = json.dumps([{**GOOD[1], "候选人": "王\ud800芳"}]).encode()
    response = post(app.test_client(), body)
    assert response.status_code == 400
    assert ctx.store.assignments_of(LI_NA) == []
    assert "Exception on" not in logs.getvalue()
