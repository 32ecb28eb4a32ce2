"""Cards built from what the bot knows, shared by commands and jobs: the form for a person, times, names."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot import auth
from bot.assessment import Assessment, Submission, as_raw, changes_nothing
from cards.form import form_card
from cards.reminder import Interview

if TYPE_CHECKING:
    from bot.services import Context
    from bot.store import Assignment, Known

WRITE = "write"  # the job kind that carries a submission


def when(ctx: Context, at: float) -> datetime:
    """A timestamp in the deployment's time zone, for cards."""
    try:
        zone = ZoneInfo(ctx.settings.assessbot_timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    return datetime.fromtimestamp(at, zone)


def submitter(ctx: Context, actor: str) -> str:
    """Who submitted, as cards name them: their Feishu name, or at worst their open_id.

    The `name=` value is the interviewer name sent to Hire and is shown as such, never as the submitter.
    """
    return ctx.feishu.user_name(actor) or actor


def changes_nothing_known(ctx: Context, assessment_id: str, submission: Submission,
                          known: Known | None = None) -> Assessment | None:
    """The state a submission would leave untouched (what the bot wrote, with writes still queued on top), or None
    when it changes something or the bot has never written this assessment (then Feishu's side is unknown).

    `known`: the assessment as the caller already read it (one read fewer on the acknowledgement's path)."""
    known = known or ctx.store.known(assessment_id)
    if known.applied_version == 0:
        return None
    state = known.state
    for _, queued in ctx.store.unapplied(assessment_id, known.next_version):
        state = queued.merged_into(state)
    return state if changes_nothing(submission, state) else None


def may_write(ctx: Context, actor: str, assessment_id: str, owner: str | None) -> auth.Decision:
    """`auth.may_write`, with the owner named in a refusal (their Feishu name, else their open_id)."""
    decision = auth.may_write(ctx.settings, actor, owner)
    if decision.allowed or owner is None:
        return decision
    return auth.may_write(ctx.settings, actor, owner, owner_name=ctx.feishu.user_name(owner) or owner,
                          assessment_id=assessment_id)


def form_for(ctx: Context, assessment_id: str, opened_for: str, nonce: str, *, draft_job: int | None = None,
             lookup_name: bool = False) -> dict:
    """The form card for one person: the last known values, a kept draft on top, their name as a default."""
    state = ctx.store.known(assessment_id).state
    if draft_job is not None:
        row = ctx.store.job(draft_job)
        if row and row["assessment_id"] == assessment_id and row["kind"] == WRITE:
            state = Submission.model_validate(row["payload"]["submission"]).merged_into(state)
    hint = ctx.feishu.user_name(opened_for) if lookup_name and state.username is None else None
    return form_card(assessment_id, ctx.rubric, as_raw(state),
                     submit_value=auth.sign_form(ctx.settings, assessment_id, opened_for, nonce).encode(),
                     interviewer_hint=hint, interview=interview_for(ctx, assessment_id))


def interview_for(ctx: Context, key: str) -> Interview | None:
    """The scheduled interview an assessment belongs to, as cards show it (None: an id with no assignment)."""
    assignment = ctx.store.assignment(key)
    return interview_view(ctx, assignment) if assignment is not None else None


def interview_view(ctx: Context, assignment: Assignment) -> Interview:
    """An assignment as an interviewer's cards show it, in the deployment's time zone."""
    return Interview(key=assignment.key, assignment=assignment.id, candidate=assignment.candidate, job=assignment.job,
                     round=assignment.round, start=when(ctx, assignment.start_at), end=when(ctx, assignment.end_at),
                     submitted=when(ctx, assignment.submitted_at) if assignment.submitted_at else None,
                     interview_id=assignment.interview_id, assessment_id=assignment.assessment_id)
