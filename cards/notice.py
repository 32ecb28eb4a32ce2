"""Short messages: the group notice that something was sent privately, and plain bot messages."""

from __future__ import annotations

from cards.elements import card, header, text, user_text

GROUP_NOTICE_ZH = "已私聊发给你，请在与机器人的单聊中查看。"
GROUP_NOTICE_EN = "Sent to you in a private chat with the bot; please look there."


def group_notice_card(zh: str = GROUP_NOTICE_ZH, en: str = GROUP_NOTICE_EN) -> dict:
    """Posted in a group instead of the form or confirmation, which go to the person privately."""
    return card(header("已私聊发送", "Sent privately", "wathet"), [text(user_text(zh, 600), user_text(en, 600))])


def text_card(zh: str, en: str, template: str = "blue") -> dict:
    """A short bot message under the bot's name."""
    return card(header("面评助手", "Assessment bot", template), [text(user_text(zh, 1500), user_text(en, 1500))])


TEXT_ONLY_ZH = "我只读取文字命令。发送 /help 查看所有命令，发送 /todo 查看你待填写的面试反馈。"
TEXT_ONLY_EN = "I read text commands only. Send /help for the commands, or /todo for the interview feedback you owe."


def text_only_card() -> dict:
    """The answer to an image, file, sticker or other message the bot cannot read."""
    return text_card(TEXT_ONLY_ZH, TEXT_ONLY_EN)
