"""Reading the tenant's feedback forms from Feishu Hire into the database: the job's work, and `assessbot forms sync`.

Every form's newest version is listed (paged; an older version stays in the database for the interviews pinned
to it). A form this release cannot read is left out and named; without the scope or the network the bot keeps its
local rubric, and says so once (the log, `assessbot doctor`, /readyz).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from pydantic import ValidationError

from bot.feishu.errors import FeishuError
from bot.forms.catalogue import local_form
from bot.forms.hire import HireForm, to_rubric
from bot.store import NewForm

if TYPE_CHECKING:
    from bot.rubric import Rubric
    from bot.store import Store

log = logging.getLogger("assessbot.forms")
SCOPE = "hire:interview:readonly"
NO_SCOPE = 99991672  # Feishu's "Access denied. One of the following scopes is required"


class Lister(Protocol):
    def feedback_forms(self) -> list[dict]: ...


@dataclass(frozen=True)
class Synced:
    """What one sync did: the forms read (name, version, id), how many versions were new, what was left out."""

    ok: bool
    forms: tuple[tuple[str, int | None, str], ...] = ()
    new: int = 0
    unreadable: tuple[str, ...] = ()
    reason: str = ""
    code: int | None = None
    first_failure: bool = False  # the syncs were fine (or never tried) until this one


def why(exc: FeishuError) -> str:
    """A failed list call in an operator's words."""
    if exc.code == NO_SCOPE:
        return f"the app lacks the scope {SCOPE} (or hire:interview): every interview uses the local rubric"
    if exc.code is None:
        return f"{exc.msg}: every interview uses the local rubric until Feishu answers"
    return f"Feishu refused: code {exc.code} ({exc.msg}); every interview uses the local rubric"


def sync(store: Store, feishu: Lister, local: Rubric) -> Synced:
    """List every form, keep new versions, mark the current ones; the local rubric's version is kept too."""
    store.remember_local_form(local_form(local))
    try:
        items = feishu.feedback_forms()
    except FeishuError as exc:
        reason = why(exc)
        first = store.forms_failed(exc.code, reason)
        if first:
            log.warning("feedback forms cannot be read from Feishu Hire", extra=exc.log_fields())
        return Synced(False, reason=reason, code=exc.code, first_failure=first)
    found, unreadable, kept = [], [], []
    for item in items:
        try:
            form = HireForm.model_validate(item)
            rubric = to_rubric(form)
        except (ValidationError, ValueError) as exc:
            unreadable.append(str(item.get("id") or "?"))
            log.warning("a feedback form cannot be read; it is left out", extra={"form_id": item.get("id"),
                                                                                   "reason": str(exc)[:300]})
            continue
        kept.append(NewForm(form.id, form.version, rubric.name, rubric.name_en, item))
        found.append((rubric.name, form.version, form.id))
    new = store.remember_forms(kept)
    log.info("feedback forms synced", extra={"forms": len(found), "new_versions": new})
    return Synced(True, tuple(found), new, tuple(unreadable))
