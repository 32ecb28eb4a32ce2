"""Which rubric an assessment uses, decided in one place.

1. the form version its assignment pinned (when the interviewer first opened or wrote it: an edit in Hire never
   changes a form under someone halfway through it);
2. else the version its last write used (an assessment typed by id, with no schedule behind it; one written before
   forms existed was written with the local rubric);
3. else the newest version of the form its schedule row chose (`form` / 面评表), or of the form the mapping gives
   for its job title and round (ASSESSBOT_FORMS);
4. else the local rubric (ASSESSBOT_RUBRIC), which is named like a form.

Forms are read from the database only (the sync job fills it), never from Feishu. A version never changes once
made (an edit in Hire makes a new id), so each is converted once per process and kept.
"""

from __future__ import annotations

import difflib
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import ValidationError

from bot.forms.hire import HireForm, to_rubric
from bot.forms.mapping import FormMap
from bot.rubric import Rubric, fold

if TYPE_CHECKING:
    from bot.store import Assignment, FormRow, Known, NewForm, Store

log = logging.getLogger("assessbot.forms")
KEPT = 256  # form versions kept converted in one process


@dataclass(frozen=True)
class Chosen:
    """The rubric of an assessment, and the pin to record when this is its assignment's first look at it."""

    rubric: Rubric
    pin: tuple[int, str] | None = None  # (assignment id, version id)


class _Versions:
    """Converted versions by id, the most recently used kept."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: OrderedDict[str, Rubric] = OrderedDict()

    def get(self, form_id: str) -> Rubric | None:
        with self._lock:
            found = self._kept.get(form_id)
            if found is not None:
                self._kept.move_to_end(form_id)
            return found

    def put(self, rubric: Rubric) -> Rubric:
        with self._lock:
            self._kept[rubric.id] = rubric
            while len(self._kept) > KEPT:
                self._kept.popitem(last=False)
        return rubric


_MISSING = object()


def rubric_of(row: FormRow) -> Rubric:
    """The rubric a stored version is (raises ValueError when its JSON cannot be read)."""
    data = json.loads(row.data)
    if row.origin == "local":
        return Rubric.model_validate({**data, "id": row.id, "version": row.version})
    try:
        return to_rubric(HireForm.model_validate(data))
    except ValidationError as exc:
        raise ValueError(f"form {row.id}: {exc.error_count()} problem(s)") from None


def local_form(rubric: Rubric) -> NewForm:
    """The local rubric as the database keeps it."""
    from bot.store import NewForm

    return NewForm(rubric.id, None, rubric.name, rubric.name_en, rubric.model_dump(mode="json", exclude={"id"}))


def pick(word: str, rows: Sequence[FormRow], local: Rubric, *, retired: bool = False) -> FormRow | Rubric | None:
    """What a schedule's or the mapping's word names: the local rubric (by its name or the id of any of its
    versions), else the newest current version of the form with that id or name (Chinese or English, case and width
    ignored).

    An id of an older version names its form's newest version (every edit in Hire makes a new id); with `retired`,
    a version whose form is gone from Hire still names itself (an interview set up with it keeps it).
    """
    word = word.strip()
    folded = fold(word)
    if not folded:
        return None
    if word == local.id or folded in {fold(n) for n in (local.name, local.name_en) if n}:
        return local
    hire = [r for r in rows if r.origin == "hire"]
    by_id = next((r for r in rows if r.id == word), None)
    if by_id is not None and by_id.origin == "local":
        return local  # the local rubric, as the file now says
    names = {fold(n) for n in by_id.names} if by_id is not None else {folded}
    current = [r for r in hire if r.current and ({fold(n) for n in r.names} & names)]
    if by_id is not None and by_id.current:
        return by_id
    if current:
        return max(current, key=lambda r: (r.version or 0, r.seen_at))
    return by_id if retired else None


class Catalogue:
    """The rubrics the bot knows — the local one, Hire's forms as last synced, the mapping — and the choice."""

    def __init__(self, store: Store, local: Rubric, mapping: FormMap | None = None):
        self.store, self.local, self.mapping = store, local, mapping or FormMap()
        self._versions = _Versions()  # of this database's forms
        self._warned: set[str] = set()

    def version(self, form_id: str | None) -> Rubric | None:
        """One version by its id (None: not known here)."""
        if not form_id:
            return None
        if form_id == self.local.id:
            return self.local
        found = self._versions.get(form_id)
        if found is not None:
            return found
        row = self.store.stored_form(form_id)
        if row is None:
            return None
        try:
            return self._versions.put(rubric_of(row))
        except ValueError:
            log.exception("a stored form cannot be read", extra={"form_id": form_id})
            return None

    def cached(self, form_id: str | None) -> Rubric | None:
        """A version already converted by this process (nothing is read)."""
        return self._versions.get(form_id) if form_id else None

    def find(self, word: str, *, retired: bool = False) -> Rubric | None:
        """The newest version of the form a word names (see `pick`)."""
        found = pick(word, self.store.stored_forms(), self.local, retired=retired)
        if found is None or isinstance(found, Rubric):
            return found
        return self.version(found.id)

    def names(self) -> list[str]:
        """The names a schedule may give: every current form's, and the local rubric's."""
        rows = self.store.stored_forms(current_only=True)
        return list(dict.fromkeys([*(n for r in rows if r.origin == "hire" for n in r.names),
                                   *(n for n in (self.local.name, self.local.name_en) if n)]))

    def suggest(self, word: str) -> str | None:
        """The form name closest to a mistyped one."""
        names = self.names()
        folded = {fold(n): n for n in names}
        hits = difflib.get_close_matches(fold(word), list(folded), n=1, cutoff=0.5)
        return folded[hits[0]] if hits else None

    def choose(self, key: str, assignment: Assignment | None | object = _MISSING,
               known: Known | None = None) -> Chosen:
        """The rubric of one assessment (the module's order), and the pin to record on its first look.

        `assignment` and `known` (what the bot knows of the assessment): as the caller already read them."""
        found = self.store.assignment(key) if assignment is _MISSING else assignment
        a: Assignment | None = found  # type: ignore[assignment]
        if a is not None and a.form_id:
            pinned = self.version(a.form_id)
            if pinned is not None:
                return Chosen(pinned)
        known = known or self.store.known(key)
        before = self.version(known.form_id) if known.form_id else self.local if known.applied_version else None
        if before is not None:
            return Chosen(before, (a.id, before.id) if a is not None else None)
        rubric = self.local
        if a is not None:
            word = a.form or self.mapping.pick(a.position, a.round)
            chosen = self.find(word, retired=True) if word else None
            if word and chosen is None and word not in self._warned:
                self._warned.add(word)
                log.warning("an interview's form is unknown; the local rubric is used",
                            extra={"form": word, "assessment_key": key})
            rubric = chosen or self.local
        return Chosen(rubric, (a.id, rubric.id) if a is not None else None)

    def rubric_for(self, key: str) -> Rubric:
        """The rubric of one assessment."""
        return self.choose(key).rubric
