"""Specifications of the sandbox's seeded panel."""

from __future__ import annotations

import json

from bot.sandbox import seed
from tests.support.ids import ALICE


def test_the_sandbox_seeds_a_panel_once_and_panel_shows_it(ctx, clock, feishu_http, push):
    """It puts a three-interview panel with the console's person as recruiter, once; the card and /panel follow."""
    assert seed.seed(ctx.settings, ALICE, now=clock())
    assert not seed.seed(ctx.settings, ALICE, now=clock() + 60)
    rows = ctx.store.application(seed.APPLICATION)
    assert [(r.interviewer, r.recruiter) for r in rows] == [(seed.COLLEAGUES[0], ALICE), (ALICE, ALICE),
                                                            (seed.COLLEAGUES[1], ALICE)]
    ctx.runner.drain()
    clock.advance(3)
    ctx.runner.drain()
    push.message("/panel 张伟", sender=ALICE)
    ctx.runner.drain()
    titles = [c["card"]["header"]["title"]["i18n_content"]["en_us"] for c in feishu_http.sent_cards()]
    assert "Panel progress: 张伟" in titles and titles[-1] == "Calibration summary: 张伟"
    progress = next(c["card"] for c in feishu_http.sent_cards() if "progress" in json.dumps(c["card"]))
    assert "Submitted 0 of 3" in json.dumps(progress, ensure_ascii=False)
