"""Schedule files sent in chat: the file, kept until its sender imports or drops it, and where its cards went.

An upload is keyed by the message that asked (the file's own, or a reply asking to import it), so a re-pushed
message is the same upload. Its state moves received → previewed → importing → imported (or dropped, or failed);
the click that moves it on (from previewed, or from received when it beats the preview's record) does so in the
acknowledgement's transaction (Outbox.accept), so a second Import can never import twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import case, select, update

from bot.store.engine import Database
from bot.store.schema import uploads

RECEIVED, PREVIEWED, IMPORTING, IMPORTED, DROPPED, FAILED = (
    "received", "previewed", "importing", "imported", "dropped", "failed")
# States a click on the preview may find: the preview is sent before it is recorded, so a quick click can find the
# upload still received (the click itself shows the preview reached its sender).
UNDECIDED = (RECEIVED, PREVIEWED)


class Moved(Exception):
    """An upload was no longer in the state a click expected (pressed twice, or in two places): nothing written."""

    def __init__(self, upload_id: str, state: str | None):
        super().__init__(f"upload {upload_id} is {state}")
        self.state = state


@dataclass(frozen=True)
class Upload:
    """One file sent to be imported, as far as the bot got with it."""

    id: str
    uploader: str
    message_id: str  # the message holding the file
    file_key: str | None
    file_name: str | None
    target: dict  # where its cards go (a job target, as JSON)
    state: str
    data: bytes | None
    card_message_id: str | None
    result: dict | None
    created_at: float


def _upload(row) -> Upload:  # type: ignore[no-untyped-def]
    result = json.loads(row.result) if row.result else None
    return Upload(row.id, row.uploader, row.message_id, row.file_key, row.file_name, json.loads(row.target),
                  row.state, row.data, row.card_message_id, result, row.created_at)


class Uploads(Database):
    """Uploads: begun by the job that reads them, moved on by their sender's clicks and the jobs those queue."""

    def begin_upload(self, upload_id: str, uploader: str, message_id: str, file_key: str | None,
                     file_name: str | None, target: dict) -> Upload:
        """The upload, created as received unless it exists (a job run again)."""
        now = self.clock()
        with self.transaction() as conn:
            conn.execute(self._insert(uploads).values(
                id=upload_id, uploader=uploader, message_id=message_id, file_key=file_key, file_name=file_name,
                target=json.dumps(target), state=RECEIVED, created_at=now, updated_at=now).on_conflict_do_nothing())
            return _upload(conn.execute(select(uploads).where(uploads.c.id == upload_id)).one())

    def upload(self, upload_id: str) -> Upload | None:
        with self._reading() as conn:
            row = conn.execute(select(uploads).where(uploads.c.id == upload_id)).first()
        return _upload(row) if row is not None else None

    def keep_upload(self, upload_id: str, **values: object) -> None:
        """Record what became of an upload: its file, name, state, card or result."""
        if "result" in values:
            values["result"] = json.dumps(values["result"], ensure_ascii=False)
        with self.transaction() as conn:
            conn.execute(update(uploads).where(uploads.c.id == upload_id).values(updated_at=self.clock(), **values))

    def previewed(self, upload_id: str, card_message_id: str | None) -> None:
        """The preview is out (in message `card_message_id`): the upload waits for a decision, unless a click on
        the preview made one already."""
        with self.transaction() as conn:
            conn.execute(update(uploads).where(uploads.c.id == upload_id).values(
                state=case((uploads.c.state == RECEIVED, PREVIEWED), else_=uploads.c.state),
                card_message_id=card_message_id, updated_at=self.clock()))
