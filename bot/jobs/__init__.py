"""After the 200: the job runner, its retry table, one executor per job kind (bot/contract.py names the kinds and
their payloads) and delivery."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.jobs import bitable, form, forms, names, panel, remind, send, uploads, write

if TYPE_CHECKING:
    from bot.jobs.base import Executor
    from bot.services import Context

EXECUTORS: tuple[type[Executor], ...] = (write.WriteAssessment, form.SendFormCard, send.SendCard, remind.SendReminder,
                                         remind.SendDigest, panel.Refresh, panel.NudgeMissing, panel.ShareSummary,
                                         names.LearnNamesOf, forms.SyncFormsFromHire, names.LearnPeopleOf,
                                         uploads.ReadUpload, uploads.ImportPreviewed, bitable.ReadTable,
                                         bitable.WriteStatuses)


def executors(ctx: Context) -> dict[str, Executor]:
    """One executor per job kind, by the kind's name."""
    return {kind.payload.kind: kind(ctx) for kind in EXECUTORS}
