"""Nothing but the database before the acknowledgement: no handler calls Feishu while Feishu waits for its answer.

Every command and every button is pushed through the webhook with the Feishu client watched: a call made while
the request is being answered is a failure. People's names come from the database's cache, which jobs fill.
"""

from __future__ import annotations

from bot.actions import NotMine, Nudge, OpenComment, OpenForm, Share, ShowSummary, Snooze
from bot.assessment import Conclusion
from tests.support.cards import shown
from tests.support.ids import ADMIN, AID, ALICE, BOB, START
from tests.support.jobs import write_job
from tests.support.panels import RECRUITER, interviewer, seed_panel, submit

PEOPLE = [interviewer(n) for n in range(2)]
HOUR = 3600.0


class Watched:
    """The Feishu client, noting each call made by a thread that is answering a request."""

    def __init__(self, real, in_flight):
        self.real, self.in_flight, self.at_request_time = real, in_flight, []

    def __getattr__(self, name: str):
        attr = getattr(self.real, name)
        if not callable(attr):
            return attr

        def call(*args, **kwargs):
            if self.in_flight.answering_here():
                self.at_request_time.append(name)
            return attr(*args, **kwargs)

        return call


def test_no_command_or_button_calls_feishu_before_it_is_answered(push, ctx, clock, feishu):
    """It answers from the database alone; names it does not know yet are learnt by a job, for next time."""
    watched = ctx.feishu = Watched(ctx.feishu, ctx.in_flight)
    keys = seed_panel(ctx, "app-rt", PEOPLE, start=START)
    clock.advance(HOUR + 1)
    for text, sender in [("/help", ALICE), ("/todo", PEOPLE[0]), ("/whoami", ALICE), (f"/assess {AID}", ALICE),
                         (f"/assess {AID} pass coding=4", ALICE), (f"/assess {AID} pass coding=4", ALICE),
                         (f"/assess {AID} fail", BOB), (f"/history {AID}", ALICE), ("/panel", RECRUITER),
                         ("/panel 张伟", RECRUITER), (f"/panel {keys[0]}", PEOPLE[0])]:
        push.message(text, sender=sender)
        ctx.runner.drain()
    submit(ctx, keys[0], PEOPLE[0], conclusion=Conclusion.PASS, content="clear")
    [assignment] = ctx.store.assignments_of(PEOPLE[1])
    for value, operator in [(OpenForm(AID).encode(), ALICE), (OpenForm(AID).encode(), BOB),
                            (Snooze(assignment.id).encode(), PEOPLE[1]), (ShowSummary("app-rt").encode(), RECRUITER),
                            (ShowSummary("app-rt", 0, True).encode(), RECRUITER), (Nudge("app-rt").encode(), RECRUITER),
                            (Share("app-rt").encode(), RECRUITER), (OpenComment(assignment.id - 1).encode(), ADMIN),
                            (NotMine(assignment.id).encode(), PEOPLE[1]),
                            (NotMine(assignment.id, True).encode(), PEOPLE[1])]:
        push.card(value, operator=operator)
        ctx.runner.drain()
    assert watched.at_request_time == []


def test_a_refusal_names_the_owner_from_the_cache_and_without_it_gives_their_open_id(push, ctx, feishu):
    """The owner's name is known once their own write was confirmed; a name the bot never learnt is not invented."""
    ctx.store.remember_names({ALICE: "Alice Zhang"})
    push.message(f"/assess {AID} pass", sender=ALICE)
    ctx.runner.drain()
    push.message(f"/assess {AID} fail", sender=BOB)
    ctx.runner.drain()
    refusal = shown(feishu.sent_cards()[-1]["card"])
    assert "Alice Zhang owns this assessment" in refusal and f"/assess {AID} owner=@you" in refusal
    ctx.store.accept([], [write_job("6930815272790114399", BOB, delay=10**9)], actor=BOB, claim_owner=True)
    push.message("/assess 6930815272790114399 fail", sender=ALICE)
    ctx.runner.drain()
    assert f"{BOB} owns this assessment" in shown(feishu.sent_cards()[-1]["card"])


def test_schedule_files_and_followed_tables_are_answered_from_the_database_alone(push, ctx, clock, feishu):
    """A file sent in chat, @bot import, the preview's buttons and a table's change event call nothing."""
    from bot.actions import DropFile, ImportFile
    from bot.store.uploads import PREVIEWED

    watched = ctx.feishu = Watched(ctx.feishu, ctx.in_flight)
    ctx.settings = ctx.settings.model_copy(update={"assessbot_schedulers": (ALICE,)})
    ctx.store.remember_source("bitable:bascnX:tblY", "https://x.feishu.cn/base/bascnX?table=tblY", None, None)
    for upload in ("om_up1", "om_up2"):
        ctx.store.begin_upload(upload, ALICE, upload, "file_k", "a.csv", {"type": "private", "open_id": ALICE})
        ctx.store.keep_upload(upload, state=PREVIEWED, data=b"interview_id\n")
    push.file("file_k", "schedule.xlsx", sender=ALICE)
    push.file("file_k", "photo.png", sender=BOB)
    push.message("/import", sender=ALICE, parent_id="om_somefile")
    push.card(ImportFile("om_up1").encode(), operator=ALICE)
    push.card(DropFile("om_up2").encode(), operator=ALICE)
    push.card(ImportFile("om_up1").encode(), operator=ALICE)
    changed = {"schema": "2.0", "header": {"event_id": "evt-table",
                                           "event_type": "drive.file.bitable_record_changed_v1",
                                           "token": ctx.settings.feishu_verification_token},
               "event": {"file_token": "bascnX", "table_id": "tblY"}}
    assert push.post(changed).status_code == 200
    assert watched.at_request_time == []
    queued = {ctx.store.job(n)["kind"] for n in range(1, 30) if ctx.store.job(n)}
    assert {"upload", "upload-import", "table-sync", "send"} <= queued
    assert (ctx.store.upload("om_up1").state, ctx.store.upload("om_up2").state) == ("importing", "dropped")
