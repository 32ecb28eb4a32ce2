"""The audit trail: who did what to which assessment, when, with what result (never free text)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, select

from bot.store.engine import Database
from bot.store.schema import audit

_NEW_AUDIT = audit.insert().values(at=bindparam("at"), actor=bindparam("actor"),
                                   assessment_key=bindparam("assessment_key"), action=bindparam("action"),
                                   result=bindparam("result"), detail=bindparam("detail"), log_id=bindparam("log_id"))


@dataclass(frozen=True)
class AuditEntry:
    at: float
    actor: str
    assessment_key: str | None
    action: str
    result: str
    detail: dict
    log_id: str | None


class Audit(Database):
    """Append and read audit entries."""

    def record(self, actor: str, assessment_key: str | None, action: str, result: str, detail: dict | None = None,
               log_id: str | None = None) -> None:
        """Append one audit entry (who, what, when, result; never free text)."""
        now = self.clock()
        with self.transaction() as conn:
            self._audit(conn, now, actor, assessment_key, action, result, detail or {}, log_id)

    def _audit(self, conn: Connection, now: float, actor: str, assessment_key: str | None, action: str, result: str,
               detail: dict, log_id: str | None) -> None:
        self.hot.run("audit", _NEW_AUDIT, conn, {
            "at": now, "actor": actor, "assessment_key": assessment_key, "action": action, "result": result,
            "detail": json.dumps(detail, ensure_ascii=False), "log_id": log_id})

    def last_write(self, assessment_key: str) -> AuditEntry | None:
        """The assessment's last successful write (who submitted what Feishu holds, and when)."""
        query = (select(audit).where(audit.c.assessment_key == assessment_key, audit.c.action == "write",
                                     audit.c.result == "ok").order_by(audit.c.id.desc()).limit(1))
        with self._reading() as conn:
            r = conn.execute(query).first()
        return None if r is None else AuditEntry(r.at, r.actor, r.assessment_key, r.action, r.result,
                                                 json.loads(r.detail), r.log_id)

    def history(self, assessment_key: str | None = None, actor: str | None = None, limit: int = 200
                ) -> list[AuditEntry]:
        """Audit entries, newest first."""
        query = select(audit).order_by(audit.c.id.desc()).limit(limit)
        if assessment_key is not None:
            query = query.where(audit.c.assessment_key == assessment_key)
        if actor is not None:
            query = query.where(audit.c.actor == actor)
        with self._reading() as conn:
            rows = conn.execute(query).all()
        return [AuditEntry(r.at, r.actor, r.assessment_key, r.action, r.result, json.loads(r.detail), r.log_id)
                for r in rows]
