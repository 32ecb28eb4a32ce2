"""The write job: PATCH the assessment with everything submitted since the last success, then confirm."""

from __future__ import annotations

import logging
from functools import reduce
from typing import TYPE_CHECKING

from bot.actions import OpenForm
from bot.assessment import Assessment, Submission, changes, patch_body
from bot.feishu.client import FeishuError, Written
from bot.jobs.delivery import Purpose, Target, deliver_instead, deliver_result, target
from bot.jobs.errors import explain
from bot.jobs.retry import Failure, refusal, transient
from bot.store import Assignment, Job, Pace
from bot.views import WRITE, interview_for, submitter, when
from cards.confirmation import confirmation_card, saved_card, saved_text, unchanged_card
from cards.elements import toast
from cards.errors import write_failed_card
from cards.notice import text_card

if TYPE_CHECKING:
    from bot.services import Context

log = logging.getLogger("assessbot.jobs.write")

KIND = WRITE
PATCH_LIMIT = "patch"  # the shared rate limit of the assessment PATCH and create (20/s each; one bucket)
LATE_AT_MOST = 0.02  # seconds a call may leave after the slot booked with its claim, else it books another


class WriteAssessment:
    """Versioned writes of one assessment: a later job carries every earlier job's fields not yet applied."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.limit = Pace(PATCH_LIMIT, ctx.settings.assessbot_patch_rate, ctx.settings.assessbot_patch_window)

    def run(self, job: Job) -> bool:
        """Write (unless a newer job already carried this one) and confirm; True when the job is recorded done."""
        ctx, aid = self.ctx, job.assessment_id
        assert aid is not None and job.version is not None
        if job.stage == "start":
            known = ctx.store.known(aid)
            if known.applied_version < job.version:
                pending = [sub for _, sub in ctx.store.unapplied(aid, job.version)]
                change = reduce(Submission.merged_with, pending, Submission())
                body = patch_body(change, known.state.dimensions, ctx.rubric)
                state = change.merged_into(known.state)
                unchanged = known.applied_version > 0 and state == known.state
                detail = {"actor": job.payload["actor"], "version": job.version,
                          "fields": changes(known.state, state, ctx.rubric)}
                if unchanged:  # nothing changed: no PATCH
                    if ctx.store.record_write(job, state, detail, None):
                        self._unchanged(job, aid)
                    return False
                written = self._send(job, aid, body, state)
                log.info("assessment written", extra={"job_id": job.id, "event_id": job.payload.get("event_id"),
                                                       "assessment_id": aid, "log_id": written.log_id,
                                                       "version": job.version})
                if ctx.answers.get(job.id) is not None:  # a card callback waits: what it shows is recorded first
                    if ctx.store.record_write(job, state, detail, written.log_id):
                        self._confirm(job, aid, state)
                    return False
                # Otherwise one transaction records the write and finishes the job once the confirmation is out
                # (a write transaction fewer per job); if the confirmation must be retried, the write is recorded
                # first, so the retry does not PATCH again.
                try:
                    self._confirm(job, aid, state)
                except BaseException:
                    ctx.store.record_write(job, state, detail, written.log_id)
                    raise
                return ctx.store.record_write(job, state, detail, written.log_id, done=True)
            # else: a newer submission already carried this one's fields; only the confirmation is left
        self._confirm(job, aid, ctx.store.known(aid).state)
        return False

    def _confirm(self, job: Job, aid: str, state: Assessment) -> None:
        """The confirmation card, where the submission asked for its answers (briefer if Feishu refuses it)."""
        ctx = self.ctx
        ctx.in_flight.lull()  # not time-critical, unlike the PATCH: requests in flight go first
        by = submitter(ctx, job.payload["actor"])
        interview = interview_for(ctx, aid)
        shown = interview.reference if interview else aid  # the bot's key of a created assessment is not Feishu's id
        card = confirmation_card(shown, state, ctx.rubric, by=by, at=when(ctx, job.created_at),
                                 edit_value=OpenForm(aid).encode(), interview=interview)
        saved = toast("success", "面评已保存", "Assessment saved")
        to = target(job.payload["target"])
        try:
            deliver_result(ctx, job.id, to, card, saved, Purpose.CONFIRMED)
        except FeishuError as err:
            if refusal(err) is None:
                raise  # Feishu may take it later: retried, in the notify stage (no second PATCH)
            self._confirm_briefly(job, state, to, err)

    def _confirm_briefly(self, job: Job, state: Assessment, refused: Target, err: FeishuError) -> None:
        """The assessment is saved whatever Feishu thinks of the card: say so in fewer words."""
        ctx, aid = self.ctx, job.assessment_id
        assert aid is not None
        told = deliver_instead(ctx, refused, err, job.payload["actor"],
                               saved_card(aid, state, edit_value=OpenForm(aid).encode()), saved_text(aid, state))
        log.warning("confirmation refused; the assessment is saved",
                    extra={"job_id": job.id, "assessment_id": aid, "code": err.code, "log_id": err.log_id,
                           "told": told})

    def _unchanged(self, job: Job, aid: str) -> None:
        """A write whose fields were already saved: say so rather than "saved" (nothing was sent to Feishu)."""
        ctx = self.ctx
        card = unchanged_card(aid, ctx.store.known(aid).state, ctx.rubric, by=submitter(ctx, job.payload["actor"]),
                              at=when(ctx, job.created_at), edit_value=OpenForm(aid).encode())
        note = toast("info", "没有改动", "Nothing changed")
        deliver_result(ctx, job.id, target(job.payload["target"]), card, note, Purpose.CONFIRMED)

    def _send(self, job: Job, key: str, body: dict, state: Assessment) -> Written:
        """PATCH the assessment, or create it first when it belongs to an assignment Feishu has no id for yet."""
        ctx = self.ctx
        slot = job.slot_at  # booked with the claim, for the first call
        assignment = ctx.store.assignment(key)
        feishu_id = key if assignment is None else assignment.assessment_id
        if feishu_id is None and assignment is not None and job.attempts > 1:
            feishu_id, slot = self._created_before(assignment, state, slot), None
        self._wait_for_slot(slot)
        if feishu_id is not None:
            return ctx.feishu.patch_assessment(feishu_id, body)
        assert assignment is not None
        # A new assessment carries everything known, not only the change; the external_id makes a repeated
        # create (a retry, or a crash after Feishu answered) return the one already made.
        full = {**patch_body(Submission(**state.model_dump()), {}, ctx.rubric),
                "external_interview_id": assignment.interview_id, "external_id": assignment.external_id}
        written = ctx.feishu.create_assessment(full)
        created = (written.data.get("external_interview_assessment") or {}).get("id")
        if created:
            ctx.store.learn_assessment_id(key, created)
            log.info("assessment created", extra={"job_id": job.id, "assessment_id": key, "log_id": written.log_id})
        return written

    def _created_before(self, assignment: Assignment, state: Assessment, slot: float | None) -> str | None:
        """After a failed attempt: an assessment Feishu already holds for this interview with what was sent."""
        self._wait_for_slot(slot)
        for held in self.ctx.feishu.interview_assessments(assignment.interview_id):
            same = (held.get("username") == state.username and held.get("content") == state.content
                    and held.get("conclusion") == (int(state.conclusion) if state.conclusion else None))
            if same and held.get("id"):
                self.ctx.store.learn_assessment_id(assignment.key, held["id"])
                return str(held["id"])
        return None

    def _wait_for_slot(self, booked: float | None) -> None:
        """Until the call's turn under the shared limit: a slot booked with the claim, or the next one free."""
        ctx = self.ctx
        delay = None if booked is None else booked - ctx.store.clock()
        if delay is not None and delay >= -LATE_AT_MOST:
            ctx.sleep(max(delay, 0.0))
            return
        # None booked, or the job was slow to get here and its slot has passed: a call that late could land in
        # the same second as later slots' calls, so it takes the next free slot instead (the passed one stays
        # counted: the limit is never exceeded, a little of it is wasted).
        ctx.store.wait_for_slot(self.limit.name, self.limit.limit, self.limit.window, ctx.sleep)

    def retrying(self, job: Job, error: Failure) -> None:
        """Every write attempt is audited, failed ones too."""
        self.ctx.store.record(job.payload.get("actor", "?"), job.assessment_id, "write", "retry",
                              {"version": job.version, "attempt": job.attempts, "code": error.code}, error.log_id)

    def dead(self, job: Job, error: Failure | None) -> None:
        ctx, aid = self.ctx, job.assessment_id
        assert aid is not None
        if job.version is not None and ctx.store.known(aid).applied_version >= job.version:
            # written (by this job or a later one carrying it): only the confirmation failed; never "not saved"
            log.error("confirmation not delivered; the assessment is saved",
                      extra={"job_id": job.id, "assessment_id": aid, "code": error.code if error else None,
                             "log_id": error.log_id if error else None})
            return
        retryable = error is None or transient(error) or error.rate_limited
        ctx.store.record(job.payload["actor"], aid, "write", "failed",
                         {"version": job.version, "code": error.code if error else None},
                         error.log_id if error else None)
        said = explain(error, aid, written_before=ctx.store.known(aid).applied_version > 0)
        card = write_failed_card(aid, code=error.code if error else None,
                                 msg=error.msg if error else "internal error", log_id=error.log_id if error else None,
                                 retryable=retryable, advice=(said.zh, said.en),
                                 retry_value=OpenForm(aid, job.id).encode() if said.retry_helps else None)
        failed = toast("error", "保存失败", "Could not save")
        to = target(job.payload["target"])
        try:
            deliver_result(ctx, job.id, to, card, failed, Purpose.FAILED)
        except FeishuError as err:
            if refusal(err) is None:
                raise
            code = error.code if error else None
            zh = f"面评 {aid} 未保存（错误 {code}）。请重新提交。"
            en = f"Assessment {aid} was not saved (error {code}). Please submit it again."
            deliver_instead(ctx, to, err, job.payload["actor"], text_card(zh, en, "red"), f"{zh}\n{en}")
