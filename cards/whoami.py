"""The answer to /whoami: the person's open_id (to copy into ASSESSBOT_ADMINS) and whether they are an admin."""

from __future__ import annotations

from cards.elements import card, header, note, text


def whoami_card(open_id: str, admin: bool) -> dict:
    """Who the bot sees: the open_id as text, the admin status in both languages."""
    role = (("你是管理员（在 ASSESSBOT_ADMINS 中）。", "You are an administrator (listed in ASSESSBOT_ADMINS).")
            if admin else ("你不是管理员。", "You are not an administrator."))
    return card(header("你的身份", "Who you are", "blue"), [
        text("你的 open_id：", "Your open_id:"),
        text(open_id),
        text(*role),
        note("要设为管理员，把这个 open_id 加入 ASSESSBOT_ADMINS（以逗号分隔）并重启。",
             "To make someone an administrator, add their open_id to ASSESSBOT_ADMINS (comma-separated) and restart."),
    ])
