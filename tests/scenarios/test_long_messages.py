"""Nothing typed disappears: the largest message Feishu sends is read and answered."""

from __future__ import annotations

import json
import logging

from tests.support.cards import shown
from tests.support.ids import AID


def test_a_70_kb_message_is_answered_with_too_long(push, feishu, ctx):
    payload = push.message_payload(f"/assess {AID} pass comment=" + "很" * (70_000 // 3))  # 70 KB of UTF-8
    assert len(json.dumps(payload, ensure_ascii=False).encode()) > 64 * 1024
    assert push.post(payload).status_code == 200
    ctx.runner.drain()
    assert feishu.patches() == []
    card = feishu.sent_cards()[-1]["card"]
    assert "Overall comment is too long (at most 10000 characters)" in shown(card)
    assert "综合记录过长（最多 10000 字）" in shown(card, "zh_cn")


def test_the_largest_text_message_feishu_can_send_is_read(push, feishu, ctx):
    """150 KB of content, all quotes (each escaped twice over): still under the default limit, still answered."""
    text = f"/assess {AID} pass comment=「" + '"' * (150 * 1024 - 60) + "」"
    payload = push.message_payload(text)
    assert len(payload["event"]["message"]["content"].encode()) >= 150 * 1024
    assert push.post(payload).status_code == 200
    ctx.runner.drain()
    assert "too long" in shown(feishu.sent_cards()[-1]["card"])


def test_a_push_larger_than_any_feishu_sends_is_refused_and_logged(push, app, caplog):
    with caplog.at_level(logging.WARNING, logger="assessbot.web"):
        response = push.post(push.message_payload("x" * 1_100_000))
    assert response.status_code == 413 and response.get_json() == {"error": "body too large", "limit": 1024 * 1024}
    assert "push refused: body too large" in caplog.text
