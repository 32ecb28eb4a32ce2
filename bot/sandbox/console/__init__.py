"""`assessbot console`: chat with the bot from a terminal, as an interviewer in Feishu would (see chat.py)."""

from bot.sandbox.console.chat import Console, Options, configure, run

__all__ = ["Console", "Options", "configure", "run"]
