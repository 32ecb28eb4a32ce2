"""What jobs do once acknowledged: write an assessment, open a form, deliver a card — and where cards go.

Delivery is decided here and only here: a reply in the command's thread, a private message, or the card
a person clicked (in the callback's answer when it is still open, else by delayed update, else by
updating the message).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from functools import reduce
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot import auth
from bot.assessment import Submission, as_raw, changes, patch_body
from bot.feishu.client import FeishuError
from bot.jobs.runner import Executor, transient
from bot.services import Context
from bot.store import Job
from cards.confirmation import confirmation_card
from cards.elements import toast
from cards.errors import write_failed_card
from cards.form import form_card

log = logging.getLogger("assessbot.work")

CARD_TOKEN_LIFETIME = 29 * 60  # Feishu's callback token lives 30 minutes; leave a margin


def deliver(ctx: Context, target: dict, card: dict, purpose: str) -> None:
    """Put a card where the target says; repeated deliveries of one purpose post once (uuid)."""
    kind = target["type"]
    uuid = f"{target.get('source', '')}:{purpose}"[-50:]
    if kind == "reply":
        ctx.feishu.reply_card(target["message_id"], card, uuid)
    elif kind == "private":
        ctx.feishu.send_card(target["open_id"], card, uuid)
    elif kind == "card":
        _update_clicked_card(ctx, target, card)
    else:  # pragma: no cover - targets are built by this package
        raise ValueError(f"unknown delivery target {kind!r}")


def _update_clicked_card(ctx: Context, target: dict, card: dict) -> None:
    fresh = ctx.clock() - float(target.get("at", 0)) < CARD_TOKEN_LIFETIME
    if fresh and target.get("token"):
        try:
            ctx.feishu.delayed_update(target["token"], card)
            return
        except FeishuError as err:
            if transient(err) or err.rate_limited or err.token_invalid or not target.get("message_id"):
                raise
            log.warning("delayed update refused; updating the message instead", extra={"code": err.code})
    ctx.feishu.update_card(target["message_id"], card)


def when(ctx: Context, at: float) -> datetime:
    """A timestamp in the deployment's time zone, for cards."""
    try:
        zone = ZoneInfo(ctx.settings.assessbot_timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    return datetime.fromtimestamp(at, zone)


def edit_value(assessment_id: str, job_id: int | None = None) -> dict:
    """The callback value of an "Edit" or "Try again" button: open the form for this assessment."""
    value: dict = {"a": "form", "id": assessment_id}
    if job_id is not None:
        value["job"] = job_id
    return value


class WriteAssessment(Executor):
    """PATCH the assessment with everything submitted since the last success, then confirm."""

    def __init__(self, ctx: Context):
        self.ctx = ctx

    def run(self, job: Job) -> None:
        ctx, aid = self.ctx, job.assessment_id
        assert aid is not None and job.version is not None
        if job.stage == "start":
            known = ctx.store.known(aid)
            if known.applied_version < job.version:
                pending = [sub for _, sub in ctx.store.unapplied(aid, job.version)]
                change = reduce(Submission.merged_with, pending, Submission())
                body = patch_body(change, known.state.dimensions, ctx.rubric)
                assert ctx.runner is not None
                ctx.runner.wait_for_slot(ctx.settings.assessbot_patch_rate, ctx.settings.assessbot_patch_window)
                written = ctx.feishu.patch_assessment(aid, body)
                state = change.merged_into(known.state)
                detail = {"actor": job.payload["actor"], "version": job.version,
                          "fields": changes(known.state, state, ctx.rubric)}
                if not ctx.store.record_write(job, state, detail, written.log_id):
                    return
                log.info("assessment written", extra={"job_id": job.id, "event_id": job.payload.get("event_id"),
                                                       "assessment_id": aid, "log_id": written.log_id,
                                                       "version": job.version})
            # else: a newer submission already carried this one's fields; only the confirmation is left
        state = ctx.store.known(aid).state
        card = confirmation_card(aid, state, ctx.rubric, by=submitter(ctx, job.payload),
                                 at=when(ctx, job.created_at), edit_value=edit_value(aid))
        self._notify(job, card, toast("success", "面评已保存", "Assessment saved"), "c")

    def dead(self, job: Job, error: FeishuError | None) -> None:
        ctx, aid = self.ctx, job.assessment_id
        assert aid is not None
        retryable = error is None or transient(error) or error.rate_limited
        ctx.store.record(job.payload["actor"], aid, "write", "failed",
                         {"version": job.version, "code": error.code if error else None},
                         error.log_id if error else None)
        card = write_failed_card(aid, code=error.code if error else None,
                                 msg=error.msg if error else "internal error", log_id=error.log_id if error else None,
                                 retryable=retryable, retry_value=edit_value(aid, job.id))
        self._notify(job, card, toast("error", "保存失败", "Could not save"), "f")

    def _notify(self, job: Job, card: dict, note: dict, purpose: str) -> None:
        slot = self.ctx.slots.get(job.id)
        if slot is not None:
            if slot.offer(card, note):
                return
            slot.responded.wait(5.0)  # a delayed update must come after the callback's answer
        deliver(self.ctx, job.payload["target"], card, purpose)


def submitter(ctx: Context, payload: dict) -> str:
    """Who to name on a card: the name they gave, their Feishu name, or at worst their open_id."""
    return payload.get("actor_name") or ctx.feishu.user_name(payload["actor"]) or payload["actor"]


class OpenForm(Executor):
    """Build the form for one assessment, prefilled, and send it to the person it is for."""

    def __init__(self, ctx: Context):
        self.ctx = ctx

    def run(self, job: Job) -> None:
        card = form_for(self.ctx, job.payload["id"], job.payload["for"], job.payload["nonce"],
                        draft_job=job.payload.get("job"), lookup_name=True)
        deliver(self.ctx, job.payload["target"], card, "form")


def form_for(ctx: Context, assessment_id: str, opened_for: str, nonce: str, *, draft_job: int | None = None,
             lookup_name: bool = False) -> dict:
    """The form card for one person: the last known values, a kept draft on top, their name as a default."""
    state = ctx.store.known(assessment_id).state
    if draft_job is not None:
        row = ctx.store.job(draft_job)
        if row and row["assessment_id"] == assessment_id and row["kind"] == "write":
            state = Submission.model_validate(row["payload"]["submission"]).merged_into(state)
    hint = ctx.feishu.user_name(opened_for) if lookup_name and state.username is None else None
    return form_card(assessment_id, ctx.rubric, as_raw(state),
                     submit_value=auth.form_value(ctx.settings, assessment_id, opened_for, nonce),
                     interviewer_hint=hint)


class SendCard(Executor):
    """Deliver a card built when the command was acknowledged (help, problems, denials, notices)."""

    def __init__(self, ctx: Context):
        self.ctx = ctx

    def run(self, job: Job) -> None:
        deliver(self.ctx, job.payload["target"], job.payload["card"], job.payload.get("purpose", "m"))


def executors(ctx: Context) -> dict[str, Executor]:
    return {"write": WriteAssessment(ctx), "form": OpenForm(ctx), "send": SendCard(ctx)}
