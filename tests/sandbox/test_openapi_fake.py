"""The sandbox Open API behaves like Feishu's for the calls the bot makes, driven by the real lark-oapi client."""

from __future__ import annotations

import copy
import json
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import lark_oapi as lark
import pytest
import requests
from lark_oapi.api.contact.v3 import GetUserRequest
from lark_oapi.api.hire.v1 import (
    ExternalInterviewAssessment,
    ExternalInterviewAssessmentDimension,
    PatchExternalInterviewAssessmentRequest,
)
from lark_oapi.api.im.v1 import (
    CreateMessageRequest,
    CreateMessageRequestBody,
    PatchMessageRequest,
    PatchMessageRequestBody,
    ReplyMessageRequest,
    ReplyMessageRequestBody,
)
from lark_oapi.core.cache import LocalCache
from lark_oapi.core.token.manager import TokenManager

from bot.sandbox.openapi import FakeOpenAPI, main, serve
from bot.sandbox.openapi.checks import card_problems
from bot.sandbox.openapi.faults import Faults, make_fault
from tests.support.ids import AID, SANDBOX_APP_ID, SANDBOX_APP_SECRET

LOG_ID = re.compile(r"^\d{14}[0-9A-F]{20}$")
CARD = {"schema": "2.0", "config": {"update_multi": True},
        "header": {"title": {"tag": "plain_text", "content": "面评已保存 / Saved"}, "template": "green"},
        "body": {"elements": [{"tag": "markdown", "content": "**Conclusion**: pass"}]}}
PATCH_PATH = f"/open-apis/hire/v1/external_interview_assessments/{AID}"


class Clock:
    """A wall clock tests move by hand."""

    def __init__(self, now: float = 1_795_600_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def fresh_token_cache():
    """lark-oapi caches tenant tokens process-wide; each test starts without one."""
    TokenManager.cache = LocalCache()
    yield
    TokenManager.cache = LocalCache()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sandbox(clock):
    with serve(api=FakeOpenAPI(users={"ou_alice": "Alice Zhang"}, clock=clock)) as running:
        yield running


@pytest.fixture
def client(sandbox) -> lark.Client:
    return (lark.Client.builder().app_id(SANDBOX_APP_ID).app_secret(SANDBOX_APP_SECRET).domain(sandbox.url).timeout(5)
            .log_level(lark.LogLevel.ERROR).build())


def token(url: str) -> str:
    answer = requests.post(f"{url}/open-apis/auth/v3/tenant_access_token/internal",
                           json={"app_id": SANDBOX_APP_ID, "app_secret": SANDBOX_APP_SECRET}, timeout=5)
    return answer.json()["tenant_access_token"]


def call(url: str, method: str, path: str, body: object = None, **kwargs) -> requests.Response:
    """A raw request with a valid tenant token: for bodies the SDK's builders cannot produce."""
    headers = {"Authorization": f"Bearer {token(url)}", "Content-Type": "application/json; charset=utf-8"}
    return requests.request(method, url + path, data=None if body is None else json.dumps(body), headers=headers,
                            timeout=5, **kwargs)


def patch_request(conclusion: int = 2, score: int = 4, aid: str = AID) -> PatchExternalInterviewAssessmentRequest:
    body = (ExternalInterviewAssessment.builder().conclusion(conclusion)
            .assessment_dimension_list([ExternalInterviewAssessmentDimension.builder().assessment_type(1)
                                        .title("沟通").score(score).build()]).build())
    return (PatchExternalInterviewAssessmentRequest.builder().external_interview_assessment_id(aid)
            .request_body(body).build())


def reply_request(message_id: str, card: dict, uuid: str | None = None) -> ReplyMessageRequest:
    body = ReplyMessageRequestBody.builder().msg_type("interactive").content(json.dumps(card, ensure_ascii=False))
    if uuid:
        body = body.uuid(uuid)
    return ReplyMessageRequest.builder().message_id(message_id).request_body(body.build()).build()


def card_update(client: lark.Client, callback_token: str, card: dict) -> lark.BaseResponse:
    request = (lark.BaseRequest.builder().http_method(lark.HttpMethod.POST)
               .uri("/open-apis/interactive/v1/card/update").token_types({lark.AccessTokenType.TENANT})
               .headers({"Content-Type": "application/json; charset=utf-8"})
               .body({"token": callback_token, "card": card}).build())
    return client.request(request)


# --- tenant tokens ------------------------------------------------------------------------------------------


def test_the_token_endpoint_hands_out_one_token_for_two_hours(sandbox):
    """It answers the documented shape and the same token while 30 minutes or more remain."""
    url = f"{sandbox.url}/open-apis/auth/v3/tenant_access_token/internal"
    app = json.dumps({"app_id": SANDBOX_APP_ID, "app_secret": SANDBOX_APP_SECRET})
    first = requests.post(url, data=app, timeout=5)
    second = requests.post(url, data=app, timeout=5)
    assert first.status_code == 200
    assert set(first.json()) == {"code", "msg", "tenant_access_token", "expire"}
    assert (first.json()["code"], first.json()["msg"], first.json()["expire"]) == (0, "ok", 7200)
    assert first.json()["tenant_access_token"].startswith("t-")
    assert second.json()["tenant_access_token"] == first.json()["tenant_access_token"]
    assert LOG_ID.match(first.headers["X-Tt-Logid"])


def test_a_token_with_less_than_30_minutes_left_is_replaced_and_both_stay_valid(sandbox, clock):
    """Feishu's overlap rule: under 30 minutes left, a new token comes back and the old one still works."""
    old = token(sandbox.url)
    clock.now += 7200 - 1000
    new = token(sandbox.url)
    assert new != old
    for each in (old, new):
        answer = requests.get(f"{sandbox.url}/open-apis/bot/v3/info", headers={"Authorization": f"Bearer {each}"},
                              timeout=5)
        assert answer.json()["code"] == 0


def test_a_wrong_app_secret_gets_no_token(sandbox):
    """It answers 10014 with HTTP 400, and the SDK raises for it."""
    answer = requests.post(f"{sandbox.url}/open-apis/auth/v3/tenant_access_token/internal",
                           json={"app_id": SANDBOX_APP_ID, "app_secret": "wrong"}, timeout=5)
    assert answer.status_code == 400
    assert (answer.json()["code"], answer.json()["msg"]) == (10014, "app secret invalid")
    wrong = lark.Client.builder().app_id(SANDBOX_APP_ID).app_secret("wrong").domain(sandbox.url).build()
    with pytest.raises(lark.core.exception.ObtainAccessTokenException):
        wrong.hire.v1.external_interview_assessment.patch(patch_request())


def test_a_request_without_a_token_is_refused(sandbox):
    """No Authorization header: 99991661, HTTP 400."""
    answer = requests.patch(sandbox.url + PATCH_PATH, json={}, timeout=5)
    assert answer.status_code == 400
    assert answer.json()["code"] == 99991661
    assert answer.json()["msg"].startswith("Missing access token for authorization")
    assert answer.json()["error"]["log_id"] == answer.headers["X-Tt-Logid"]


def test_a_request_with_an_unknown_token_is_refused(sandbox):
    """A token the sandbox never issued: 99991663, HTTP 400."""
    answer = requests.patch(sandbox.url + PATCH_PATH, json={}, headers={"Authorization": "Bearer t-nope"}, timeout=5)
    assert answer.status_code == 400
    assert answer.json()["code"] == 99991663
    assert answer.json()["msg"] == ("Invalid access token for authorization. "
                                    "Please make a request with token attached.")


def test_invalidated_tokens_are_refused_until_the_client_fetches_a_new_one(sandbox, client):
    """The SDK keeps its cached token and sees 99991663; a fresh token works."""
    assert client.hire.v1.external_interview_assessment.patch(patch_request()).code == 0
    sandbox.api.fault("all", "invalidate_tokens")
    refused = client.hire.v1.external_interview_assessment.patch(patch_request(conclusion=3))
    assert (refused.code, refused.raw.status_code) == (99991663, 400)
    TokenManager.cache = LocalCache()  # what the bot does when Feishu rejects its token
    assert client.hire.v1.external_interview_assessment.patch(patch_request(conclusion=3)).code == 0
    assert sandbox.api.assessments()[AID]["conclusion"] == 3
    assert len(sandbox.api.calls("token")) == 2


# --- assessments --------------------------------------------------------------------------------------------


def test_a_valid_patch_through_the_sdk_is_stored_and_answered_with_a_log_id(sandbox, client):
    """The write lands in the state, the answer echoes it, and the log id is in the header and the call log."""
    response = client.hire.v1.external_interview_assessment.patch(patch_request())
    expected = {"id": AID, "external_interview_id": f"sandbox-{AID}", "conclusion": 2,
                "assessment_dimension_list": [{"score": 4, "assessment_type": 1, "title": "沟通"}]}
    assert response.success()
    assert sandbox.api.assessments() == {AID: expected}
    assert json.loads(response.raw.content)["data"]["external_interview_assessment"] == expected
    assert LOG_ID.match(response.get_log_id())
    [logged] = sandbox.api.calls("patch")
    assert logged["log_id"] == response.get_log_id()
    assert (logged["method"], logged["path"], logged["status"], logged["code"], logged["applied"]) == (
        "PATCH", PATCH_PATH, 200, 0, True)
    assert logged["body"] == {"conclusion": 2,
                              "assessment_dimension_list": [{"score": 4, "assessment_type": 1, "title": "沟通"}]}


def test_fields_left_out_keep_their_values_and_a_given_dimension_list_replaces_the_stored_one(sandbox):
    """'没有填写的字段不会被更新'; the list is replaced whole (the stricter reading of an undocumented point)."""
    first = {"username": "Alice", "conclusion": 2, "content": "solid",
             "assessment_dimension_list": [{"assessment_type": 1, "title": "coding", "score": 4},
                                           {"assessment_type": 3, "title": "notes", "content": "ok"}]}
    assert call(sandbox.url, "PATCH", PATCH_PATH, first).json()["code"] == 0
    second = {"conclusion": 3, "assessment_dimension_list": [{"assessment_type": 1, "title": "coding", "score": 5}]}
    answer = call(sandbox.url, "PATCH", PATCH_PATH, second)
    expected = {"id": AID, "external_interview_id": f"sandbox-{AID}", "username": "Alice", "conclusion": 3,
                "content": "solid",
                "assessment_dimension_list": [{"assessment_type": 1, "title": "coding", "score": 5}]}
    assert answer.json()["data"]["external_interview_assessment"] == expected
    assert sandbox.api.assessments()[AID] == expected


def test_an_empty_patch_is_accepted_and_changes_nothing(sandbox):
    """{} is a valid PATCH body."""
    call(sandbox.url, "PATCH", PATCH_PATH, {"conclusion": 1})
    answer = call(sandbox.url, "PATCH", PATCH_PATH, {})
    assert (answer.status_code, answer.json()["code"], answer.json()["msg"]) == (200, 0, "success")
    assert sandbox.api.assessments()[AID] == {"id": AID, "external_interview_id": f"sandbox-{AID}", "conclusion": 1}


@pytest.mark.parametrize(("body", "what"), [
    ({"conclusion": 2, "score": 4}, "score: unknown field"),
    ({"id": AID}, "id: unknown field"),
    ({"external_interview_id": "1"}, "external_interview_id: unknown field"),
    ({"conclusion": "2"}, "conclusion: must be an integer, not a string"),
    ({"conclusion": 4}, "conclusion: 4 is not one of 1, 2, 3"),
    ({"conclusion": 0}, "conclusion: 0 is not one of 1, 2, 3"),
    ({"conclusion": True}, "conclusion: must be an integer, not a boolean"),
    ({"conclusion": 2.0}, "conclusion: must be an integer, not a number"),
    ({"username": None}, "username: must not be null"),
    ({"username": 7}, "username: must be a string, not an integer"),
    ({"content": ["a"]}, "content: must be a string, not a list"),
    ({"assessment_dimension_list": {"score": 1}}, "assessment_dimension_list: must be a list, not an object"),
    ({"assessment_dimension_list": [{"assessment_type": 5}]},
     "assessment_dimension_list[0].assessment_type: 5 is not one of 1, 2, 3, 4"),
    ({"assessment_dimension_list": [{"score": "4"}]},
     "assessment_dimension_list[0].score: must be an integer, not a string"),
    ({"assessment_dimension_list": [{"score": 2**63}]},
     "assessment_dimension_list[0].score: must be an integer, not an integer"),
    ({"assessment_dimension_list": [{"options": ["a", 1]}]},
     "assessment_dimension_list[0].options[1]: must be a string, not an integer"),
    ({"assessment_dimension_list": [{"title": "t", "weight": 2}]},
     "assessment_dimension_list[0].weight: unknown field"),
    ({"assessment_dimension_list": ["coding"]}, "assessment_dimension_list[0]: must be an object, not a string"),
    ({"assessment_dimension_list": [{"option": None}]}, "assessment_dimension_list[0].option: must not be null"),
])
def test_a_patch_body_that_breaks_the_documented_fields_is_refused_with_1002002(sandbox, body, what):
    """Strict field-by-field validation: HTTP 400, code 1002002, the problem named; nothing is written."""
    answer = call(sandbox.url, "PATCH", PATCH_PATH, body)
    assert answer.status_code == 400
    assert answer.json()["code"] == 1002002
    assert answer.json()["msg"] == f"参数错误 / invalid parameter: {what}"
    assert sandbox.api.assessments() == {}


def test_a_patch_body_that_is_not_a_json_object_is_refused_with_1002002(sandbox):
    """A list, or something that is not JSON at all."""
    assert call(sandbox.url, "PATCH", PATCH_PATH, [1]).json()["msg"] == (
        "参数错误 / invalid parameter: the body is not a JSON object")
    broken = requests.patch(sandbox.url + PATCH_PATH, data=b"{conclusion:", timeout=5,
                            headers={"Authorization": f"Bearer {token(sandbox.url)}"})
    assert (broken.status_code, broken.json()["code"]) == (400, 1002002)


def test_without_auto_create_only_created_or_seeded_assessments_can_be_patched(clock):
    """An unknown id is a parameter error; POST creates one (idempotent on external_id)."""
    api = FakeOpenAPI(auto_create=False, assessments={"111": {"id": "111", "external_interview_id": "e1"}},
                      clock=clock)
    with serve(api=api) as sandbox:
        unknown = call(sandbox.url, "PATCH", PATCH_PATH, {"conclusion": 2})
        assert (unknown.status_code, unknown.json()["code"]) == (400, 1002002)
        assert unknown.json()["msg"] == (f"参数错误 / invalid parameter: external_interview_assessment_id {AID} "
                                         "does not exist")
        assert call(sandbox.url, "PATCH", "/open-apis/hire/v1/external_interview_assessments/111",
                    {"conclusion": 1}).json()["code"] == 0
        create = {"external_id": "ext-1", "external_interview_id": "6986199832494934316", "username": "Bob"}
        created = call(sandbox.url, "POST", "/open-apis/hire/v1/external_interview_assessments", create).json()
        again = call(sandbox.url, "POST", "/open-apis/hire/v1/external_interview_assessments", create).json()
        new_id = created["data"]["external_interview_assessment"]["id"]
        assert created["data"]["external_interview_assessment"] == {
            "id": new_id, "external_interview_id": "6986199832494934316", "username": "Bob"}
        assert again["data"]["external_interview_assessment"]["id"] == new_id
        assert call(sandbox.url, "PATCH", f"/open-apis/hire/v1/external_interview_assessments/{new_id}",
                    {"conclusion": 2}).json()["code"] == 0
        assert api.assessments() == {
            "111": {"id": "111", "external_interview_id": "e1", "conclusion": 1},
            new_id: {"id": new_id, "external_interview_id": "6986199832494934316", "username": "Bob",
                     "conclusion": 2}}


def test_creating_an_assessment_needs_its_external_interview_id(sandbox):
    """external_interview_id is required by the create page."""
    answer = call(sandbox.url, "POST", "/open-apis/hire/v1/external_interview_assessments", {"username": "Bob"})
    assert answer.json()["msg"] == "参数错误 / invalid parameter: external_interview_id: required"


# --- messages and cards -------------------------------------------------------------------------------------


def test_a_reply_with_a_valid_card_is_stored_in_the_chat_of_the_message_it_answers(sandbox, client, clock):
    """The reply's data has Feishu's shape; the message keeps the card, parent and uuid."""
    sandbox.api.record_user_message("om_user1", "oc_chat1", "ou_alice", "/assess 1 pass")
    response = client.im.v1.message.reply(reply_request("om_user1", CARD, uuid="reply-om_user1"))
    assert response.success(), response.msg
    data = json.loads(response.raw.content)["data"]
    assert re.fullmatch(r"om_[0-9a-f]{32}", data["message_id"])
    assert {k: data[k] for k in ("chat_id", "parent_id", "root_id", "upper_message_id", "msg_type", "create_time")} == {
        "chat_id": "oc_chat1", "parent_id": "om_user1", "root_id": "om_user1", "upper_message_id": "om_user1",
        "msg_type": "interactive", "create_time": str(int(clock.now * 1000))}
    assert json.loads(data["body"]["content"]) == CARD
    assert data["sender"] == {"id": SANDBOX_APP_ID, "id_type": "app_id", "sender_type": "app", "tenant_key": "sandbox"}
    user, bot = sandbox.api.messages("oc_chat1")
    assert (user["sender"], user["text"]) == ("ou_alice", "/assess 1 pass")
    assert (bot["message_id"], bot["sender"], bot["card"], bot["uuid"], bot["parent_id"]) == (
        data["message_id"], "app", CARD, "reply-om_user1", "om_user1")
    assert bot["history"] == [{"via": "reply", "time": clock.now, "card": CARD}]


def test_a_card_with_an_undocumented_property_is_refused_with_230099(sandbox, client):
    """JSON 2.0 rejects unknown properties; nothing is stored."""
    card = copy.deepcopy(CARD)
    card["body"]["elements"][0]["colour"] = "red"
    response = client.im.v1.message.reply(reply_request("om_user1", card))
    assert (response.code, response.raw.status_code) == (230099, 400)
    assert response.msg == ("Failed to create card content, ext=ErrCode: 200621; "
                            "ErrMsg: body.elements[0]: unknown property 'colour'")
    assert sandbox.api.messages() == []


def test_a_card_over_30_kb_is_refused_with_230025(sandbox, client):
    """Too long is its own error."""
    card = copy.deepcopy(CARD)
    card["body"]["elements"][0]["content"] = "x" * 30_000
    response = client.im.v1.message.reply(reply_request("om_user1", card))
    assert (response.code, response.raw.status_code) == (230025, 400)
    size = len(lark.JSON.marshal(reply_request("om_user1", card).body).encode())
    assert response.msg == f"message is too long: a {size}-byte request body, a card message may have 30000"


def test_the_request_body_is_measured_not_the_card(sandbox, client):
    """A 22 KB card of quotes and newlines is a 38 KB request body once escaped into `content`: refused."""
    card = copy.deepcopy(CARD)
    card["body"]["elements"][0]["content"] = '"\n' * 5_500
    assert len(json.dumps(card, ensure_ascii=False).encode()) < 23_000
    response = client.im.v1.message.reply(reply_request("om_user1", card))
    assert (response.code, response.raw.status_code) == (230025, 400)
    card["body"]["elements"][0]["content"] = '"\n' * 4_000
    assert client.im.v1.message.reply(reply_request("om_user1", card)).code == 0


def test_more_than_200_elements_counting_text_is_refused(sandbox, client):
    """Feishu counts plain_text parts as elements: 100 divs and a title are 201."""
    card = copy.deepcopy(CARD)
    card["body"]["elements"] = [{"tag": "div", "text": {"tag": "plain_text", "content": "x"}}] * 100
    response = client.im.v1.message.reply(reply_request("om_user1", card))
    assert (response.code, response.raw.status_code) == (230099, 400)
    assert response.msg == ("Failed to create card content, ext=ErrCode: 11310; ErrMsg: element exceeds the limit: "
                            "201 elements, at most 200")


def test_content_that_is_not_a_card_is_refused_with_230099(sandbox):
    """The content string must hold a JSON object."""
    answer = call(sandbox.url, "POST", "/open-apis/im/v1/messages/om_user1/reply",
                  {"msg_type": "interactive", "content": "{not json"})
    assert answer.json()["msg"] == "Failed to create card content, ext=ErrCode: 200621; ErrMsg: unmarshal card failed"


def test_without_the_card_checker_only_the_schema_and_size_are_checked(monkeypatch):
    """The fallback when bot.sandbox.cardcheck cannot be imported."""
    monkeypatch.setitem(sys.modules, "bot.sandbox.cardcheck", None)  # makes the import raise ImportError
    assert card_problems({**CARD, "colour": "red"}) == []
    assert card_problems({**CARD, "schema": "1.0"}) == ["schema: must be \"2.0\", not '1.0'"]


def test_the_same_uuid_within_an_hour_creates_one_message(sandbox, client, clock):
    """A repeat answers code 0 with the first message; after an hour the uuid is free again."""
    first = client.im.v1.message.reply(reply_request("om_user1", CARD, uuid="u-1"))
    again = client.im.v1.message.reply(reply_request("om_user1", CARD, uuid="u-1"))
    assert (first.code, again.code) == (0, 0)
    assert again.data.message_id == first.data.message_id
    assert len(sandbox.api.messages()) == 1
    assert [c["applied"] for c in sandbox.api.calls("reply")] == [True, False]
    clock.now += 3601
    later = client.im.v1.message.reply(reply_request("om_user1", CARD, uuid="u-1"))
    assert later.data.message_id != first.data.message_id
    assert len(sandbox.api.messages()) == 2


def test_a_uuid_over_50_characters_is_refused(sandbox):
    """The reply page limits uuid to 50 characters."""
    answer = call(sandbox.url, "POST", "/open-apis/im/v1/messages/om_user1/reply",
                  {"msg_type": "interactive", "content": json.dumps(CARD), "uuid": "u" * 51})
    assert (answer.status_code, answer.json()["code"]) == (400, 99992402)


def test_a_text_sent_to_a_person_lands_in_one_chat_per_person(sandbox, client):
    """Send by open_id: every message to the same person shares a chat id."""
    def send(text: str) -> lark.BaseResponse:
        body = (CreateMessageRequestBody.builder().receive_id("ou_alice").msg_type("text")
                .content(json.dumps({"text": text})).build())
        return client.im.v1.message.create(CreateMessageRequest.builder().receive_id_type("open_id")
                                           .request_body(body).build())

    first, second = send("hello"), send("again")
    assert (first.code, second.code) == (0, 0)
    assert first.data.chat_id == second.data.chat_id
    assert [(m["text"], m["receive_id"], m["receive_id_type"]) for m in sandbox.api.messages(first.data.chat_id)] == [
        ("hello", "ou_alice", "open_id"), ("again", "ou_alice", "open_id")]


def test_sending_needs_a_documented_receive_id_type(sandbox):
    """receive_id_type is open_id, union_id, user_id, email or chat_id."""
    answer = call(sandbox.url, "POST", "/open-apis/im/v1/messages?receive_id_type=phone",
                  {"receive_id": "1", "msg_type": "text", "content": json.dumps({"text": "hi"})})
    assert (answer.status_code, answer.json()["code"]) == (400, 99992402)


def test_patching_a_sent_card_replaces_it(sandbox, client):
    """PATCH /im/v1/messages/:id with a valid card; an unknown message is 230001."""
    sent = client.im.v1.message.reply(reply_request("om_user1", CARD))
    new_card = copy.deepcopy(CARD)
    new_card["header"]["template"] = "red"

    def patch(message_id: str) -> lark.BaseResponse:
        body = PatchMessageRequestBody.builder().content(json.dumps(new_card)).build()
        return client.im.v1.message.patch(PatchMessageRequest.builder().message_id(message_id)
                                          .request_body(body).build())

    assert patch(sent.data.message_id).code == 0
    [message] = sandbox.api.messages()
    assert (message["card"], message["updated"]) == (new_card, True)
    assert [h["via"] for h in message["history"]] == ["reply", "message_patch"]
    missing = patch("om_missing")
    assert (missing.code, missing.raw.status_code) == (230001, 400)


def test_a_callback_token_updates_its_card_twice_and_no_more(sandbox, client):
    """Delayed update: two uses, the third is 300040."""
    sent = client.im.v1.message.reply(reply_request("om_user1", CARD))
    callback_token = sandbox.api.issue_callback_token(sent.data.message_id)
    assert re.fullmatch(r"c-[0-9a-f]{32}", callback_token)
    cards = [copy.deepcopy(CARD) for _ in range(3)]
    for n, card in enumerate(cards):
        card["body"]["elements"][0]["content"] = f"version {n}"
    answers = [card_update(client, callback_token, card) for card in cards]
    assert [(a.code, a.msg) for a in answers] == [(0, "ok"), (0, "ok"), (300040, "token used more than 2 times")]
    [message] = sandbox.api.messages()
    assert message["card"] == cards[1]
    assert [h["via"] for h in message["history"]] == ["reply", "card_update", "card_update"]


def test_a_callback_token_expires_after_30_minutes_and_an_unknown_one_is_refused(sandbox, client, clock):
    """300030 past 30 minutes; 300020 for a token the sandbox did not issue."""
    sent = client.im.v1.message.reply(reply_request("om_user1", CARD))
    callback_token = sandbox.api.issue_callback_token(sent.data.message_id)
    clock.now += 1801
    assert card_update(client, callback_token, CARD).code == 300030
    assert card_update(client, "c-madeup", CARD).code == 300020


def test_a_delayed_update_with_an_invalid_card_is_refused_and_spends_no_use(sandbox, client):
    """The card is checked like any other; a refused update leaves both uses."""
    sent = client.im.v1.message.reply(reply_request("om_user1", CARD))
    callback_token = sandbox.api.issue_callback_token(sent.data.message_id)
    refused = card_update(client, callback_token, {**CARD, "schema": "1.0"})
    assert (refused.code, refused.msg) == (11311, "card format error: schema: must be \"2.0\", not '1.0'")
    assert [card_update(client, callback_token, CARD).code for _ in range(2)] == [0, 0]


# --- contacts and the bot -----------------------------------------------------------------------------------


def test_a_known_person_is_found_by_open_id_and_an_unknown_one_is_41050(sandbox, client):
    """GET /contact/v3/users/:open_id from the configured directory."""
    found = client.contact.v3.user.get(GetUserRequest.builder().user_id("ou_alice").user_id_type("open_id").build())
    assert (found.code, found.data.user.name, found.data.user.en_name, found.data.user.open_id) == (
        0, "Alice Zhang", "Alice Zhang", "ou_alice")
    missing = client.contact.v3.user.get(GetUserRequest.builder().user_id("ou_nobody").user_id_type("open_id").build())
    assert (missing.code, missing.raw.status_code) == (41050, 400)


def test_an_app_without_the_contact_scope_gets_99991672_naming_it(sandbox, client):
    """The no_scope fault answers as Feishu does when a permission is not granted."""
    sandbox.api.fault("contact", "no_scope")
    answer = client.contact.v3.user.get(GetUserRequest.builder().user_id("ou_alice").user_id_type("open_id").build())
    assert (answer.code, answer.raw.status_code) == (99991672, 400)
    assert "contact:user.base:readonly" in answer.msg


def test_the_bot_info_names_the_bot(sandbox):
    """GET /bot/v3/info answers the bot's open_id at the top level."""
    answer = call(sandbox.url, "GET", "/open-apis/bot/v3/info").json()
    assert answer == {"code": 0, "msg": "ok", "bot": {"activate_status": 2, "app_name": "assessbot",
                                                      "avatar_url": "", "ip_white_list": [],
                                                      "open_id": "ou_bot0000000000000000000000000000"}}


def test_an_unknown_path_is_404_with_a_feishu_error(sandbox):
    """Anything the sandbox does not implement fails loudly."""
    answer = requests.get(f"{sandbox.url}/open-apis/hire/v1/external_interview_assessments/1", timeout=5)
    assert answer.status_code == 404
    assert answer.json()["code"] == 99991201
    assert LOG_ID.match(answer.headers["X-Tt-Logid"])


# --- faults -------------------------------------------------------------------------------------------------


def test_an_error_burst_answers_1002001_then_the_call_goes_through(sandbox, client):
    """Two 500s with 1002001, then success; nothing is written by the failed ones."""
    sandbox.api.fault("patch", "error", count=2)
    answers = [client.hire.v1.external_interview_assessment.patch(patch_request()) for _ in range(3)]
    assert [(a.code, a.raw.status_code) for a in answers] == [(1002001, 500), (1002001, 500), (0, 200)]
    assert answers[0].msg == "系统错误 / system error"
    assert [c["applied"] for c in sandbox.api.calls("patch")] == [False, False, True]
    assert [c["faults"] for c in sandbox.api.calls("patch")] == [["error"], ["error"], []]


def test_an_error_can_be_a_gateway_html_page(sandbox, client):
    """A 502 with an HTML body: the SDK's typed call cannot parse it."""
    sandbox.api.fault("patch", "error", status=502, html=True)
    with pytest.raises(json.JSONDecodeError):
        client.hire.v1.external_interview_assessment.patch(patch_request())
    [logged] = sandbox.api.calls("patch")
    assert (logged["status"], logged["code"]) == (502, None)


def test_a_rate_limit_answers_429_with_the_reset_header(sandbox, client):
    """99991400, HTTP 429, x-ogw-ratelimit-limit and -reset; then the call goes through."""
    sandbox.api.fault("patch", "ratelimit", reset=3, limit=20)
    limited = client.hire.v1.external_interview_assessment.patch(patch_request())
    assert (limited.code, limited.msg, limited.raw.status_code) == (99991400, "request trigger frequency limit", 429)
    assert (limited.raw.headers["x-ogw-ratelimit-limit"], limited.raw.headers["x-ogw-ratelimit-reset"]) == ("20", "3")
    assert client.hire.v1.external_interview_assessment.patch(patch_request()).code == 0


def test_the_legacy_rate_limit_answers_http_400(sandbox):
    """Some older APIs answer 400 with the same body and headers."""
    sandbox.api.fault("message", "ratelimit", status=400)
    answer = call(sandbox.url, "POST", "/open-apis/im/v1/messages/om_1/reply",
                  {"msg_type": "interactive", "content": json.dumps(CARD)})
    assert (answer.status_code, answer.json()["code"], answer.headers["x-ogw-ratelimit-reset"]) == (400, 99991400, "1")


def test_a_dropped_connection_is_a_connection_error_and_the_server_keeps_serving(sandbox):
    """drop closes the socket without an answer; the next request is answered."""
    sandbox.api.fault("patch", "drop")
    with pytest.raises(requests.exceptions.ConnectionError):
        call(sandbox.url, "PATCH", PATCH_PATH, {"conclusion": 2})
    assert call(sandbox.url, "PATCH", PATCH_PATH, {"conclusion": 2}).json()["code"] == 0
    assert [(c["status"], c["faults"]) for c in sandbox.api.calls("patch")] == [(None, ["drop"]), (200, [])]


def test_apply_then_fail_writes_the_change_and_tells_the_client_it_failed(sandbox, client):
    """The write happened; the client sees 1002001 (or a dropped connection) and cannot know."""
    sandbox.api.fault("patch", "apply_then_fail")
    failed = client.hire.v1.external_interview_assessment.patch(patch_request(conclusion=1))
    assert (failed.code, failed.raw.status_code) == (1002001, 500)
    assert sandbox.api.assessments()[AID]["conclusion"] == 1
    sandbox.api.fault("patch", "apply_then_fail", then="drop")
    with pytest.raises(requests.exceptions.ConnectionError):
        client.hire.v1.external_interview_assessment.patch(patch_request(conclusion=3))
    assert sandbox.api.assessments()[AID]["conclusion"] == 3
    assert [c["applied"] for c in sandbox.api.calls("patch")] == [True, True]


def test_latency_delays_the_answer(sandbox, client):
    """The answer comes no sooner than the latency asked for, and only while the fault lasts."""
    sandbox.api.fault("patch", "latency", seconds=0.3, count=1)
    started = time.monotonic()
    assert client.hire.v1.external_interview_assessment.patch(patch_request()).code == 0
    assert time.monotonic() - started >= 0.3
    assert sandbox.api.faults.describe() == []  # used up: the next answer comes at once
    assert client.hire.v1.external_interview_assessment.patch(patch_request()).code == 0


def test_faults_on_all_hit_the_token_endpoint_too(sandbox, client):
    """The SDK cannot get a token while the token endpoint fails."""
    sandbox.api.fault("all", "error", code=2200, status=500)
    with pytest.raises(lark.core.exception.ObtainAccessTokenException):
        client.hire.v1.external_interview_assessment.patch(patch_request())
    assert [c["endpoint"] for c in sandbox.api.calls()] == ["token"]


def test_the_enforced_patch_rate_limit_refuses_the_request_over_it_and_counts_it(clock):
    """patch_rate_limit=3: a fourth PATCH within a second is 429, and `throttled` says so."""
    with serve(patch_rate_limit=3, clock=clock) as sandbox:
        headers = {"Authorization": f"Bearer {token(sandbox.url)}"}
        answers = [requests.patch(sandbox.url + PATCH_PATH, json={}, headers=headers, timeout=5) for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert answers[3].json()["code"] == 99991400
        assert sandbox.api.throttled == 1
        assert sandbox.api.calls("patch")[3]["faults"] == ["patch_rate_limit"]


def test_concurrent_patches_are_each_applied_and_logged_once(sandbox):
    """The server is threaded; the state and the call log stay consistent under parallel writers."""
    headers = {"Authorization": f"Bearer {token(sandbox.url)}"}

    def write(n: int) -> int:
        path = f"/open-apis/hire/v1/external_interview_assessments/{n % 8}"
        return requests.patch(sandbox.url + path, json={"content": str(n)}, headers=headers, timeout=5).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(write, range(40)))
    assert statuses == [200] * 40
    assert sorted(sandbox.api.assessments()) == [str(n) for n in range(8)]
    assert len(sandbox.api.calls("patch")) == 40
    assert len({c["log_id"] for c in sandbox.api.calls("patch")}) == 40


def test_a_fault_with_an_unknown_kind_endpoint_or_parameter_is_refused():
    """Typos in a fault fail loudly instead of silently doing nothing."""
    with pytest.raises(ValueError, match="unknown kind 'eror'"):
        make_fault("patch", "eror", {})
    with pytest.raises(ValueError, match="unknown endpoint 'patches'"):
        make_fault("patches", "error", {})
    with pytest.raises(ValueError, match="error takes no parameter seconds"):
        make_fault("patch", "error", {"seconds": 1})
    with pytest.raises(ValueError, match="bad value for count=0"):
        make_fault("patch", "error", {"count": 0})
    with pytest.raises(ValueError, match="apply_then_fail only applies to the endpoints 'patch' and 'create'"):
        make_fault("reply", "apply_then_fail", {})
    with pytest.raises(ValueError, match="bad value for after=-1"):
        make_fault("patch", "error", {"after": -1})


def test_a_fault_after_n_lets_that_many_requests_through_first():
    """`after=2`: the first two requests it would hit are answered as usual, the third fails, the fourth is fine."""
    faults = Faults()
    faults.add(make_fault("patch", "error", {"after": 2}))
    assert [faults.take("patch", "error") is not None for _ in range(4)] == [False, False, True, False]
    assert faults.describe() == []


# --- the admin endpoints and the state file -----------------------------------------------------------------


def test_the_admin_endpoints_drive_the_sandbox_over_http(sandbox):
    """Faults, users, user messages, callback tokens, state, calls and reset, from another process's view."""
    admin = f"{sandbox.url}/_sandbox"
    added = requests.post(f"{admin}/faults", json={"endpoint": "reply", "kind": "error", "count": 1}, timeout=5)
    assert added.json() == {
        "faults": [{"endpoint": "reply", "kind": "error", "count": 1, "code": 1002001, "status": 500, "msg": None,
                    "html": False, "after": 0}]}
    bad = requests.post(f"{admin}/faults", json={"endpoint": "reply", "kind": "boom"}, timeout=5)
    assert bad.status_code == 400 and bad.json()["error"].startswith("unknown kind 'boom'")
    assert requests.delete(f"{admin}/faults", timeout=5).json() == {"faults": []}
    assert requests.post(f"{admin}/users", json={"ou_bob": "Bob Li"}, timeout=5).json()["users"] == {
        "ou_alice": "Alice Zhang", "ou_bob": "Bob Li"}
    requests.post(f"{admin}/messages", timeout=5,
                  json={"message_id": "om_u1", "chat_id": "oc_c1", "sender": "ou_bob", "text": "/help"})
    reply = call(sandbox.url, "POST", "/open-apis/im/v1/messages/om_u1/reply",
                 {"msg_type": "interactive", "content": json.dumps(CARD)}).json()["data"]
    messages = requests.get(f"{admin}/messages", params={"chat_id": "oc_c1"}, timeout=5).json()["messages"]
    assert [(m["message_id"], m["sender"]) for m in messages] == [("om_u1", "ou_bob"), (reply["message_id"], "app")]
    issued = requests.post(f"{admin}/callback_tokens", json={"message_id": reply["message_id"]}, timeout=5).json()
    assert call(sandbox.url, "POST", "/open-apis/interactive/v1/card/update",
                {"token": issued["token"], "card": CARD}).json() == {"code": 0, "msg": "ok"}
    assert requests.post(f"{admin}/callback_tokens", json={"message_id": "om_x"}, timeout=5).status_code == 404
    call(sandbox.url, "PATCH", PATCH_PATH, {"conclusion": 2})
    assert requests.get(f"{admin}/state", timeout=5).json() == {
        "assessments": {AID: {"id": AID, "external_interview_id": f"sandbox-{AID}", "conclusion": 2}},
        "throttled": 0}
    calls = requests.get(f"{admin}/calls", params={"endpoint": "patch"}, timeout=5).json()["calls"]
    assert [(c["method"], c["status"], c["code"]) for c in calls] == [("PATCH", 200, 0)]
    assert set(calls[0]) == {"time", "monotonic", "method", "path", "query", "endpoint", "status", "code", "body",
                             "log_id", "faults", "applied"}
    assert requests.post(f"{admin}/reset", timeout=5).json() == {"reset": True}
    assert requests.get(f"{admin}/state", timeout=5).json() == {"assessments": {}, "throttled": 0}
    assert sandbox.api.messages() == [] and sandbox.api.calls() == []


def test_the_token_endpoint_call_is_logged_without_the_secret(sandbox):
    """The call log shows the app_id but masks the app_secret."""
    token(sandbox.url)
    [logged] = sandbox.api.calls("token")
    assert logged["body"] == {"app_id": SANDBOX_APP_ID, "app_secret": "***"}


def test_the_state_file_mirrors_the_state_and_is_read_back(tmp_path, clock):
    """A person can read what was written; a restarted sandbox starts from it."""
    state_file = tmp_path / "sandbox.json"
    with serve(state_file=str(state_file), clock=clock) as sandbox:
        call(sandbox.url, "PATCH", PATCH_PATH, {"conclusion": 2, "content": "思路清晰"})
        call(sandbox.url, "POST", "/open-apis/im/v1/messages/om_1/reply",
             {"msg_type": "interactive", "content": json.dumps(CARD), "uuid": "u-1"})
    saved = json.loads(state_file.read_text(encoding="utf-8"))
    assert saved["assessments"] == {AID: {"id": AID, "external_interview_id": f"sandbox-{AID}", "conclusion": 2,
                                          "content": "思路清晰"}}
    assert [m["card"] for m in saved["messages"]] == [CARD]
    with serve(state_file=str(state_file), clock=clock) as again:
        assert again.api.assessments() == saved["assessments"]
        repeat = call(again.url, "POST", "/open-apis/im/v1/messages/om_1/reply",
                      {"msg_type": "interactive", "content": json.dumps(CARD), "uuid": "u-1"})
        assert repeat.json()["data"]["message_id"] == saved["messages"][0]["message_id"]


# --- the command line ---------------------------------------------------------------------------------------




def test_the_command_line_rejects_a_bad_option():
    """argparse's usage error, exit status 2."""
    with pytest.raises(SystemExit) as exited:
        main(["--port", "not-a-number"])
    assert exited.value.code == 2
