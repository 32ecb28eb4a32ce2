"""The audit trail: who did what to which assessment, when, with what result (never free text)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Connection, select

from bot.store.engine import Database
from bot.store.schema import audit

_NEW_AUDIT = audit.insert()


@dataclass(frozen=True)
class AuditEntry:
    at: float
    actor: str
    assessment_id: str | None
    action: str
    result: str
    detail: dict
    log_id: str | None


class Audit(Database):
    """Append and read audit entries."""

    def record(self, actor: str, assessment_id: str | None, action: str, result: str, detail: dict | None = None,
               log_id: str | None = None) -> None:
        """Append one audit entry (who, what, when, result; never free text)."""
        now = self.clock()
        with self.transaction() as conn:
            self._audit(conn, now, actor, assessment_id, action, result, detail or {}, log_id)

    def _audit(self, conn: Connection, now: float, actor: str, assessment_id: str | None, action: str, result: str,
               detail: dict, log_id: str | None) -> None:
        conn.execute(_NEW_AUDIT, {"at": now, "actor": actor, "assessment_id": assessment_id, "action": action,
                                  "result": result, "detail": json.dumps(detail, ensure_ascii=False),
                                  "log_id": log_id})

    def history(self, assessment_id: str | None = None, actor: str | None = None, limit: int = 200
                ) -> list[AuditEntry]:
        """Audit entries, newest first."""
        query = select(audit).order_by(audit.c.id.desc()).limit(limit)
        if assessment_id is not None:
            query = query.where(audit.c.assessment_id == assessment_id)
        if actor is not None:
            query = query.where(audit.c.actor == actor)
        with self._reading() as conn:
            rows = conn.execute(query).all()
        return [AuditEntry(r.at, r.actor, r.assessment_id, r.action, r.result, json.loads(r.detail), r.log_id)
                for r in rows]
