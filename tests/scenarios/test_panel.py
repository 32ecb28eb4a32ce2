"""Specifications of the recruiter's view: the live progress card, the nudge, the calibration summary, /panel."""

from __future__ import annotations

import json

import pytest

from bot.actions import Nudge, Share, ShowSummary
from bot.assessment import Conclusion
from bot.settings import Settings
from tests.support.ids import ADMIN, START, make_settings
from tests.support.panels import RECRUITER, STRANGER, interviewer, seed_panel, submit

PEOPLE = [interviewer(n) for n in range(4)]
OTHER_RECRUITER = "ou_other_recruiter"
HOUR = 3600.0


@pytest.fixture
def settings(database_url) -> Settings:
    return make_settings(database_url, assessbot_remind_after_minutes=600)


@pytest.fixture(autouse=True)
def directory(feishu) -> None:
    """The panel's people are in the tenant's contact directory, each under a name of their own."""
    feishu.api.add_users({RECRUITER: "Recruiter Chen", OTHER_RECRUITER: "Recruiter Sun", STRANGER: "Stranger Wu",
                          **{person: f"Interviewer {n}" for n, person in enumerate(PEOPLE)}})


def sent(feishu, person: str | None = None) -> list[dict]:
    """Cards posted as new messages (to `person`, when given): receive_id, uuid, the card."""
    found = []
    for call in feishu.calls("POST", "/open-apis/im/v1/messages"):
        if call.request.url.split("?")[0].endswith("/messages"):
            body = json.loads(call.request.body)
            if person is None or body["receive_id"] == person:
                found.append({"to": body["receive_id"], "uuid": body["uuid"], "card": json.loads(body["content"])})
    return found


def updates(feishu) -> list[tuple[str, dict]]:
    """Cards updated in place: (message id, card)."""
    return [(c.request.url.split("/messages/")[1].split("?")[0], json.loads(json.loads(c.request.body)["content"]))
            for c in feishu.calls("PATCH", "/open-apis/im/v1/messages/")]


def texts(card: dict) -> str:
    """Every string of a card, joined: what a reader could see in any language."""
    return json.dumps(card, ensure_ascii=False)


def title(card: dict) -> str:
    return card["header"]["title"]["i18n_content"]["en_us"]


def test_the_progress_card_is_sent_once_and_updated_in_place_as_submissions_arrive(ctx, clock, feishu, push):
    """It sends the recruiter one card when the first interview ends and PATCHes it as four submit out of order."""
    keys = seed_panel(ctx, "app-1", PEOPLE, start=START, gap=HOUR)  # interviews end at +1h, +2h, +3h, +4h
    # the assessments' ids come with the schedule: Feishu holds them (empty), and refuses any other id
    feishu.api.auto_create = False
    feishu.api.add_assessments({key: {"external_interview_id": f"app-1-i{n}"} for n, key in enumerate(keys)})
    ctx.runner.drain()
    assert sent(feishu) == []  # nothing has ended yet
    clock.advance(HOUR + 1)
    ctx.runner.drain()
    assert sent(feishu) == []  # the refresh waits a moment, to take what comes with it
    clock.advance(3)
    ctx.runner.drain()
    [first] = sent(feishu, RECRUITER)
    assert title(first["card"]) == "Panel progress: 张伟"
    assert "Submitted 0 of 4" in texts(first["card"]) and "due since" in texts(first["card"])
    assert texts(first["card"]).count("upcoming") == 3
    message = "om_reply0001"
    clock.advance(4 * HOUR)
    ctx.runner.drain()
    clock.advance(3)
    ctx.runner.drain()
    for n, (who, score) in enumerate([(2, 4), (0, 5), (3, 2), (1, 4)], start=1):
        reply = push.message(f"/assess {keys[who]} pass coding={score} design=3", sender=PEOPLE[who])
        assert reply.status_code == 200
        ctx.runner.drain()  # the write; its refresh waits to coalesce
        clock.advance(3)
        ctx.runner.drain()
        progress = [card for mid, card in updates(feishu) if mid == message]
        assert len(progress) == n + 1  # the +2h/+3h/+4h refreshes came as one, then one per submission
        assert f"Submitted {n} of 4" in texts(progress[-1])
    assert len(sent(feishu, RECRUITER)) == 2  # the progress card once, then the summary once complete
    summary = sent(feishu, RECRUITER)[1]["card"]
    assert title(summary) == "Calibration summary: 张伟"
    assert texts(progress[-1]).count(": submitted") == 4 and "Pass" in texts(progress[-1])


def test_a_burst_of_submissions_gives_one_update(ctx, clock, feishu):
    """It coalesces changes that come together into one PATCH."""
    keys = seed_panel(ctx, "app-2", PEOPLE, start=START)
    clock.advance(HOUR + 1)
    ctx.runner.drain()
    clock.advance(3)
    ctx.runner.drain()
    for key, person in zip(keys, PEOPLE, strict=True):
        submit(ctx, key, person, conclusion=Conclusion.PASS)
    clock.advance(3)
    ctx.runner.drain()
    assert len(updates(feishu)) == 1
    assert "Submitted 4 of 4" in texts(updates(feishu)[0][1])


def test_nothing_is_sent_before_the_first_interview_ends_and_admins_follow_too(database_url, clock, feishu,
                                                                                logs):
    """It sends the card to the recruiter and each admin, privately, only once the first interview has ended."""
    from bot import create_app

    app = create_app(make_settings(database_url, assessbot_admins=ADMIN), clock=clock, start_runner=False)
    ctx = app.extensions["assessbot"]
    try:
        seed_panel(ctx, "app-3", PEOPLE[:2], start=START + HOUR)
        clock.advance(HOUR)
        ctx.runner.drain()
        assert sent(feishu) == []
        clock.advance(HOUR + 1)
        ctx.runner.drain()
        clock.advance(3)
        ctx.runner.drain()
        assert sorted(c["to"] for c in sent(feishu)) == sorted([RECRUITER, ADMIN])
    finally:
        ctx.inline.shutdown(wait=True)
        ctx.store.dispose()


def test_the_nudge_reminds_only_those_due_once_an_hour_and_is_audited(ctx, clock, feishu, push):
    """It sends the reminder card to the due interviewers, refuses a second nudge within the hour, audits both."""
    keys = seed_panel(ctx, "app-4", PEOPLE, start=START, gap=HOUR)
    clock.advance(2 * HOUR + 1)  # two interviews have ended
    ctx.runner.drain()
    clock.advance(3)
    ctx.runner.drain()
    submit(ctx, keys[0], PEOPLE[0], conclusion=Conclusion.PASS)
    before = len(sent(feishu))
    answer = push.card(Nudge("app-4").encode(), operator=RECRUITER)
    assert answer.get_json()["toast"]["i18n"]["en_us"] == "Reminding 1 interviewer."
    ctx.runner.drain()
    reminded = sent(feishu)[before:]
    assert [c["to"] for c in reminded] == [PEOPLE[1]]
    assert title(reminded[0]["card"]) == "Your interview feedback is due"
    again = push.card(Nudge("app-4").encode(), operator=RECRUITER)
    assert "Already reminded within the hour" in again.get_json()["toast"]["i18n"]["en_us"]
    stranger = push.card(Nudge("app-4").encode(), operator=PEOPLE[1])
    assert stranger.get_json()["toast"]["type"] == "error"
    ctx.runner.drain()
    assert [c["to"] for c in sent(feishu)[before:] if c["to"] != RECRUITER] == [PEOPLE[1]]
    audits = [(e.actor, e.action, e.result) for e in reversed(ctx.store.history(limit=50))
              if e.action in ("panel_nudge", "panel")]
    assert audits == [(RECRUITER, "panel_nudge", "ok"), (RECRUITER, "panel_nudge", "sent"),
                      (RECRUITER, "panel_nudge", "limited"), (PEOPLE[1], "panel", "denied")]
    clock.advance(HOUR)
    later = push.card(Nudge("app-4").encode(), operator=RECRUITER)
    assert later.get_json()["toast"]["i18n"]["en_us"] == "Reminding 2 interviewers."


def test_unauthorised_panel_is_refused_and_audited(ctx, clock, feishu, push):
    """It answers a stranger's /panel <candidate> as a refusal (unknown names alike) and audits it."""
    seed_panel(ctx, "app-5", PEOPLE[:2], start=START)
    for word in ("张伟", "app-5", "nobody"):
        push.message(f"/panel {word}", sender=STRANGER)
    ctx.runner.drain()
    refusals = [c["card"] for c in feishu.sent_cards()]
    assert len(refusals) == 3
    assert all("recruiter, interviewers or an administrator" in texts(card) for card in refusals)
    assert [(e.actor, e.action, e.result, e.detail["reason"]) for e in ctx.store.history(limit=10)] == [
        (STRANGER, "panel", "denied", "not on the panel")] * 3


def test_panel_lists_the_recruiters_open_candidates_and_names_one(ctx, clock, feishu, push):
    """It lists only the recruiter's open applications; /panel <name> (面板, 汇总) sends the summary."""
    seed_panel(ctx, "app-6", PEOPLE[:2], start=START, candidate="王芳")
    seed_panel(ctx, "app-7", PEOPLE[2:], start=START, candidate="李娜", recruiter=OTHER_RECRUITER)
    clock.advance(HOUR + 1)
    push.message("/panel", sender=RECRUITER)
    push.message("面板 王芳", sender=RECRUITER)
    push.message("汇总 app-6", sender=RECRUITER)
    ctx.runner.drain()
    replies = [c["card"] for c in feishu.sent_cards() if c["via"] == "reply"]
    listed = texts(replies[0])
    assert "王芳" in listed and "李娜" not in listed and "0 of 2 submitted · 2 due" in listed
    assert [title(c) for c in replies[1:]] == ["Calibration summary: 王芳"] * 2


def test_sharing_lets_the_panel_see_the_summary(ctx, clock, feishu, push):
    """It refuses an interviewer the others' values until the recruiter shares; then each interviewer gets it."""
    keys = seed_panel(ctx, "app-8", PEOPLE[:2], start=START)
    clock.advance(HOUR + 1)
    submit(ctx, keys[0], PEOPLE[0], conclusion=Conclusion.PASS, content="clear thinker alpha")
    submit(ctx, keys[1], PEOPLE[1], conclusion=Conclusion.FAIL, content="weak on design beta")
    ctx.runner.drain()
    push.card(ShowSummary("app-8").encode(), operator=PEOPLE[1])
    assert push.card(Share("app-8").encode(), operator=PEOPLE[1]).get_json()["toast"]["type"] == "error"
    answer = push.card(Share("app-8").encode(), operator=RECRUITER)
    assert answer.get_json()["toast"]["i18n"]["en_us"] == "Shared with the panel."
    clock.advance(3)
    ctx.runner.drain()
    shared = {c["to"]: c["card"] for c in sent(feishu) if c["to"] in PEOPLE}
    assert set(shared) == set(PEOPLE[:2])
    assert "clear thinker alpha" in texts(shared[PEOPLE[1]]) and "Shared with the panel at" in texts(shared[PEOPLE[1]])
    assert [e.action for e in ctx.store.history(limit=20) if e.action == "panel_share"] == ["panel_share"]


def test_no_view_an_interviewer_can_ask_for_shows_another_interviewers_values(ctx, clock, feishu, push):
    """It keeps every interviewer blind through every command and button until the recruiter shares."""
    from bot.actions import OpenComment, OpenForm

    keys = seed_panel(ctx, "app-9", PEOPLE, start=START)
    clock.advance(HOUR + 1)
    for n, (key, person) in enumerate(zip(keys, PEOPLE, strict=True)):
        submit(ctx, key, person, conclusion=Conclusion.FAIL if n % 2 else Conclusion.PASS,
               dimensions={"coding": n + 1, "strengths": f"secret-strength-{n}"}, content=f"secret-comment-{n}")
    clock.advance(3)
    ctx.runner.drain()
    rows = ctx.store.application("app-9")
    for n, person in enumerate(PEOPLE):
        start = len(feishu.mock.calls)
        answers = [push.message(text, sender=person) for text in
                   ("/todo", "/panel", "/panel 张伟", "/panel app-9", *(f"/history {k}" for k in keys))]
        answers += [push.card(value, operator=person) for value in (
            ShowSummary("app-9").encode(), ShowSummary("app-9", fresh=True).encode(),
            *(OpenComment(a.id).encode() for a in rows), *(OpenForm(k).encode() for k in keys))]
        ctx.runner.drain()
        seen = json.dumps([a.get_json() for a in answers if a.is_json], ensure_ascii=False)
        seen += json.dumps([c.request.body.decode() if isinstance(c.request.body, bytes) else c.request.body
                            for c in feishu.mock.calls[start:]], ensure_ascii=False)
        leaked = [m for other in range(4) if other != n
                  for m in (f"secret-comment-{other}", f"secret-strength-{other}") if m in seen]
        assert leaked == [], person
        assert f"secret-comment-{n}" in seen  # their own is theirs to see


def test_a_card_too_old_to_update_is_sent_anew_and_followed_from_then_on(ctx, clock, feishu):
    """It sends a new progress card when Feishu says the old one can no longer be updated, and keeps its id."""
    keys = seed_panel(ctx, "app-10", PEOPLE[:2], start=START)
    clock.advance(HOUR + 3)
    ctx.runner.drain()
    clock.advance(3)
    ctx.runner.drain()
    assert ctx.store.panel_messages("app-10") == {(RECRUITER, "progress"): "om_reply0001"}
    feishu.api.fault("message_patch", "error", status=400, code=230031,
                     msg="The message has exceeded the time limit for editing.")
    submit(ctx, keys[0], PEOPLE[0], conclusion=Conclusion.PASS)
    clock.advance(3)
    ctx.runner.drain()
    refused = [(c["path"].rsplit("/", 1)[1], c["code"]) for c in feishu.api.calls("message_patch") if c["faults"]]
    assert refused == [("om_reply0001", 230031)]  # the old card was tried first
    assert [c["to"] for c in sent(feishu, RECRUITER)] == [RECRUITER, RECRUITER]
    assert ctx.store.panel_messages("app-10") == {(RECRUITER, "progress"): "om_reply0002"}
