"""The write job: PATCH the assessment with everything submitted since the last success, then confirm."""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager
from functools import reduce
from typing import TYPE_CHECKING

from bot import display
from bot.actions import OpenForm
from bot.assessment import Assessment, Submission, changes
from bot.contract import Job, Purpose, Target, Write
from bot.feishu.errors import FeishuError, Written
from bot.hire_body import patch_body, read_back
from bot.jobs.base import Executor
from bot.jobs.delivery import deliver_instead, deliver_result
from bot.jobs.errors import explain
from bot.jobs.pacing import paced
from bot.jobs.retry import Failure, refusal, transient
from bot.schedule.planner import status_jobs
from bot.store import Assignment, Pace
from cards.confirmation import confirmation_card, saved_card, saved_text
from cards.elements import toast
from cards.errors import write_failed_card
from cards.notice import text_card

if TYPE_CHECKING:
    from bot.rubric import Rubric
    from bot.services import Context

log = logging.getLogger("assessbot.jobs.write")

PATCH_LIMIT = "patch"  # the shared rate limit of the assessment PATCH and create (20/s each; one bucket)


def _write(job: Job) -> Write:
    assert isinstance(job.payload, Write) and job.assessment_key is not None and job.version is not None
    return job.payload


class WriteAssessment(Executor):
    """Versioned writes of one assessment: a later job carries every earlier job's fields not yet applied."""

    payload = Write

    def __init__(self, ctx: Context):
        super().__init__(ctx)
        self.limit = Pace(PATCH_LIMIT, ctx.settings.assessbot_patch_rate, ctx.settings.assessbot_patch_window)

    def run(self, job: Job) -> bool:
        """Write (unless a newer job already carried this one) and confirm; True when the job is recorded done."""
        ctx, aid, write = self.ctx, job.assessment_key, _write(job)
        assert aid is not None and job.version is not None
        if job.stage == "start":
            known = ctx.store.known(aid)
            if known.applied_version < job.version:
                rubric = ctx.forms.choose(aid, known=known).rubric
                pending = [sub for _, sub in ctx.store.unapplied(aid, job.version)]
                change = reduce(Submission.merged_with, pending, Submission())
                assignment = ctx.store.assignment(aid)
                if known.applied_version == 0 and change.dimensions and self._read_back(aid, assignment, rubric):
                    known = ctx.store.known(aid)  # the list goes whole: Feishu's other dimensions go with it
                body = patch_body(change, known.state.dimensions, rubric)
                state = change.merged_into(known.state)
                # answers to questions no longer asked (their condition stopped holding) are not kept
                state = state.model_copy(update={"dimensions": rubric.prune(state.dimensions)})
                unchanged = known.applied_version > 0 and state == known.state
                detail = {"actor": write.actor, "version": job.version,
                          "fields": changes(known.state, state, rubric), "form": rubric.id}
                if unchanged:  # nothing changed: no PATCH
                    if ctx.store.record_write(job, state, detail, None, form_id=rubric.id):
                        self._unchanged(job, aid)
                    return False
                created = assignment is not None and assignment.feishu_assessment_id is None
                written = self._send(job, aid, body, state, rubric, assignment)
                log.info("assessment written", extra={"job_id": job.id, "event_id": write.event_id,
                                                       "assessment_key": aid, "log_id": written.log_id,
                                                       "version": job.version})
                if ctx.inline.waiting(job.id):  # a card callback waits: what it shows is recorded first
                    if ctx.store.record_write(job, state, detail, written.log_id, form_id=rubric.id):
                        self._confirm(job, aid, state, created=created)
                    return False
                # Otherwise one transaction records the write and finishes the job once the confirmation is out
                # (a write transaction fewer per job); if the confirmation must be retried, the write is recorded
                # first, so the retry does not PATCH again.
                try:
                    self._confirm(job, aid, state, rubric, created=created)
                except BaseException:
                    ctx.store.record_write(job, state, detail, written.log_id, form_id=rubric.id)
                    raise
                return ctx.store.record_write(job, state, detail, written.log_id, done=True, form_id=rubric.id)
            # else: a newer submission already carried this one's fields; only the confirmation is left
        self._confirm(job, aid, ctx.store.known(aid).state)
        return False

    def _confirm(self, job: Job, aid: str, state: Assessment, rubric: Rubric | None = None,
                 created: bool = False) -> None:
        """The confirmation card, where the submission asked for its answers (briefer if Feishu refuses it);
        `created`: this write made the assessment in Feishu."""
        ctx, write = self.ctx, _write(job)
        ctx.in_flight.lull()  # not time-critical, unlike the PATCH: requests in flight go first
        rubric = rubric or ctx.forms.rubric_for(aid)
        assignment = ctx.store.assignment(aid)
        if assignment is not None and assignment.source:  # submitted: the table it came from says so
            ctx.store.accept([], status_jobs([assignment]))
        by = display.Names(ctx, live=True)(write.actor)
        interview = display.interview_for(ctx, aid)
        shown = interview.reference if interview else aid  # the bot's key of a created assessment is not Feishu's id
        card = confirmation_card(shown, state, rubric, by=by, at=display.when(ctx, job.created_at),
                                 edit_value=OpenForm(aid).encode(), interview=interview, created=created)
        saved = toast("success", "面评已保存", "Assessment saved")
        to = write.target
        try:
            deliver_result(ctx, job.id, to, card, saved, Purpose.CONFIRMED)
        except FeishuError as err:
            if refusal(err) is None:
                raise  # Feishu may take it later: retried, in the notify stage (no second PATCH)
            self._confirm_briefly(job, state, to, err)

    def _confirm_briefly(self, job: Job, state: Assessment, refused: Target, err: FeishuError) -> None:
        """The assessment is saved whatever Feishu thinks of the card: say so in fewer words."""
        ctx, aid = self.ctx, job.assessment_key
        assert aid is not None
        told = deliver_instead(ctx, refused, err, _write(job).actor,
                               saved_card(aid, state, edit_value=OpenForm(aid).encode()), saved_text(aid, state))
        log.warning("confirmation refused; the assessment is saved",
                    extra={"job_id": job.id, "assessment_key": aid, "code": err.code, "log_id": err.log_id,
                           "told": told})

    def _unchanged(self, job: Job, aid: str) -> None:
        """A write whose fields were already saved: say so rather than "saved" (nothing was sent to Feishu)."""
        ctx, write = self.ctx, _write(job)
        card = display.unchanged_for(ctx, aid, ctx.store.known(aid).state, ctx.forms.rubric_for(aid),
                                     display.Names(ctx, live=True))
        note = toast("info", "没有改动", "Nothing changed")
        deliver_result(ctx, job.id, write.target, card, note, Purpose.CONFIRMED)

    def _send(self, job: Job, key: str, body: dict, state: Assessment, rubric: Rubric,
              assignment: Assignment | None) -> Written:
        """PATCH the assessment, or create it first when it belongs to an assignment Feishu has no id for yet."""
        ctx = self.ctx
        feishu_id = key if assignment is None else assignment.feishu_assessment_id
        if feishu_id is None and assignment is not None and job.attempts > 1:
            feishu_id = self._created_before(assignment, state)
        if feishu_id is not None:
            with self._paced():
                return ctx.feishu.patch_assessment(feishu_id, body)
        assert assignment is not None
        # A new assessment carries everything known, not only the change; the external_id makes a repeated
        # create (a retry, or a crash after Feishu answered) return the one already made.
        full = {**patch_body(Submission(**state.model_dump()), {}, rubric),
                "external_interview_id": assignment.interview_id, "external_id": assignment.external_id}
        with self._paced():
            written = ctx.feishu.create_assessment(full)
        created = (written.data.get("external_interview_assessment") or {}).get("id")
        if created:
            ctx.store.learn_feishu_id(key, created)
            log.info("assessment created", extra={"job_id": job.id, "assessment_key": key, "log_id": written.log_id})
        return written

    def _created_before(self, assignment: Assignment, state: Assessment) -> str | None:
        """After a failed attempt: an assessment Feishu already holds for this interview with what was sent."""
        with self._paced():
            held_now = self.ctx.feishu.interview_assessments(assignment.interview_id)
        for held in held_now:
            same = (held.get("username") == state.username and held.get("content") == state.content
                    and held.get("conclusion") == (int(state.conclusion) if state.conclusion else None))
            if same and held.get("id"):
                self.ctx.store.learn_feishu_id(assignment.key, held["id"])
                return str(held["id"])
        return None

    def _read_back(self, key: str, assignment: Assignment | None, rubric: Rubric) -> bool:
        """Before the first write to an assessment made outside the bot: learn what Feishu holds (True if learned)."""
        if assignment is None or not assignment.feishu_assessment_id or not assignment.interview_id:
            return False
        try:
            with self._paced():
                held = [a for a in self.ctx.feishu.interview_assessments(assignment.interview_id)
                        if a.get("id") == assignment.feishu_assessment_id]
        except FeishuError as err:
            if transient(err) or err.rate_limited:
                raise  # tried again with the write
            log.warning("assessment not read back before its first write",
                        extra={"assessment_key": key, "code": err.code, "log_id": err.log_id})
            return False
        return bool(held) and self.ctx.store.learn_state(key, read_back(held[0], rubric)[0])

    def _paced(self) -> AbstractContextManager[None]:
        """One call under the shared limit: it starts when there is room, and counts until a window after its end."""
        return paced(self.ctx.store, self.limit, self.ctx.sleep)

    def retrying(self, job: Job, error: Failure) -> None:
        """Every write attempt is audited, failed ones too."""
        self.ctx.store.record(_write(job).actor, job.assessment_key, "write", "retry",
                              {"version": job.version, "attempt": job.attempts, "code": error.code}, error.log_id)

    def dead(self, job: Job, error: Failure | None) -> None:
        ctx, aid, write = self.ctx, job.assessment_key, _write(job)
        assert aid is not None
        if job.version is not None and ctx.store.known(aid).applied_version >= job.version:
            # written (by this job or a later one carrying it): only the confirmation failed; never "not saved"
            log.error("confirmation not delivered; the assessment is saved",
                      extra={"job_id": job.id, "assessment_key": aid, "code": error.code if error else None,
                             "log_id": error.log_id if error else None})
            return
        retryable = error is None or transient(error) or error.rate_limited
        ctx.store.record(write.actor, aid, "write", "failed",
                         {"version": job.version, "code": error.code if error else None},
                         error.log_id if error else None)
        said = explain(error, aid, written_before=ctx.store.known(aid).applied_version > 0)
        card = write_failed_card(aid, code=error.code if error else None,
                                 msg=error.msg if error else "internal error", log_id=error.log_id if error else None,
                                 retryable=retryable, advice=(said.zh, said.en),
                                 retry_value=OpenForm(aid, job.id).encode() if said.retry_helps else None)
        failed = toast("error", "保存失败", "Could not save")
        to = write.target
        try:
            deliver_result(ctx, job.id, to, card, failed, Purpose.FAILED)
        except FeishuError as err:
            if refusal(err) is None:
                raise
            code = error.code if error else None
            zh = f"面评 {aid} 未保存（错误 {code}）。请重新提交。"
            en = f"Assessment {aid} was not saved (error {code}). Please submit it again."
            deliver_instead(ctx, to, err, write.actor, text_card(zh, en, "red"), f"{zh}\n{en}")
