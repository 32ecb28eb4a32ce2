"""Specifications of the sandbox's seeded panel."""

from __future__ import annotations

import json

from bot.sandbox import seed
from tests.support.ids import ALICE


def test_the_sandbox_seeds_a_panel_once_and_panel_shows_it(ctx, clock, feishu, push):
    """It puts a three-interview panel with the console's person as recruiter, once; the card and /panel follow."""
    assert seed.seed_panel(ctx.settings, ALICE, now=clock())
    assert not seed.seed_panel(ctx.settings, ALICE, now=clock() + 60)
    rows = ctx.store.application(seed.APPLICATION)
    assert [(r.interviewer, r.recruiter) for r in rows] == [(person, ALICE) for person in seed.COLLEAGUES]
    ctx.runner.drain()
    assert feishu.sent_cards() == []  # nothing arrives unasked while the console starts
    push.message("/panel", sender=ALICE)
    push.message("/panel 陈静", sender=ALICE)
    ctx.runner.drain()
    cards = [c["card"] for c in feishu.sent_cards()]
    assert [c["header"]["title"]["i18n_content"]["en_us"] for c in cards] == [
        "Your candidates' panels", "Calibration summary: 陈静"]
    assert "0 of 3 submitted · 0 due" in json.dumps(cards[0], ensure_ascii=False)
    clock.advance(2 * 3600 + 3)
    ctx.runner.drain()
    clock.advance(3)
    ctx.runner.drain()
    progress = feishu.sent_cards()[-1]["card"]
    assert "Submitted 0 of 3" in json.dumps(progress, ensure_ascii=False)
