"""/whoami: the person's open_id and whether they are an admin (for setting ASSESSBOT_ADMINS)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from bot import auth
from bot.commands.base import Command, Outcome, Request
from bot.commands.registry import command
from bot.contract import Purpose
from bot.rubric import Rubric
from cards.whoami import whoami_card


@command
@dataclass(frozen=True)
class Whoami(Command):
    """Tell a person their open_id and whether they are an admin."""

    name: ClassVar[str] = "whoami"
    aliases: ClassVar[tuple[str, ...]] = ("我是谁",)
    usage: ClassVar[str] = "/whoami"
    summary_zh: ClassVar[str] = "显示你的 open_id，以及你是否为管理员。"
    summary_en: ClassVar[str] = "Show your open_id and whether you are an administrator."
    examples: ClassVar[tuple[str, ...]] = ("/whoami", "我是谁")

    @classmethod
    def read(cls, args: str, mentions: Mapping[str, str], rubric: Rubric | None) -> Whoami:
        return cls()

    def handle(self, req: Request) -> Outcome:
        card = whoami_card(req.actor, auth.is_admin(req.ctx.settings, req.actor))
        return Outcome(jobs=[req.send(card, Purpose.WHOAMI, private=True)])
