"""Specifications of the calibration summary and of the blind rule: numbers, disagreements, limits, no leaks."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from bot import auth, panel
from bot.assessment import Assessment, Conclusion
from bot.auth import Sight
from bot.rubric import Dimension, DimensionType, Rubric
from bot.store import PanelState
from cards.limits import card_problems, elements, wire_bytes
from cards.panel import progress_card, summary_card
from tests.support.cards import shown
from tests.support.ids import ADMIN, SHANGHAI, START, make_settings

RECRUITER = "ou_recruiter"
SETTINGS = make_settings("sqlite://", assessbot_admins=ADMIN)
RUBRIC = Rubric(dimensions=(
    Dimension(key="coding", title="编码能力", title_en="Coding", type=DimensionType.SCORE, min=1, max=5),
    Dimension(key="design", title="系统设计", title_en="System design", type=DimensionType.SCORE, min=1, max=5),
    Dimension(key="level", title="建议职级", title_en="Level", type=DimensionType.SINGLE, options=("P5", "P6", "P7")),
    Dimension(key="notes", title="备注", title_en="Notes", type=DimensionType.TEXT),
))


def seat(n: int, assessment: Assessment | None, *, name: str | None = None) -> panel.Seat:
    return panel.Seat(n, f"k{n}", f"ou_i{n}", name or f"面试官{n}", f"R{n}", START, START + 3600,
                      START + 7200 if assessment is not None else None, False, assessment)


def a_panel(assessments: list[Assessment | None], shared: bool = False, **names) -> panel.Panel:
    state = PanelState("app-1", shared_at=START if shared else None)
    return panel.Panel("app-1", "张伟", "Backend Engineer", (RECRUITER,),
                       tuple(seat(n, a) for n, a in enumerate(assessments)), state)


def summary_of(found: panel.Panel, rubric: Rubric = RUBRIC, page: int = 0) -> dict:
    return summary_card(found, panel.summarise(found, rubric), page=page, zone=SHANGHAI, share={"a": "share"},
                        comment=lambda s: {"a": "comment", "as": s.assignment}, turn=lambda n: {"a": "p", "p": n})


def test_the_summary_tallies_conclusions_and_highlights_disagreements():
    """It counts pass/fail/pending, marks a split decision and a score spread of 2 or more, not a spread of 1."""
    crafted = a_panel([
        Assessment(conclusion=Conclusion.PASS, dimensions={"coding": 5, "design": 3, "level": "P6"}, content="a"),
        Assessment(conclusion=Conclusion.FAIL, dimensions={"coding": 2, "design": 4, "level": "P5"}),
        Assessment(conclusion=Conclusion.PASS, dimensions={"coding": 4, "notes": "strong in SQL"}),
        Assessment(conclusion=Conclusion.PENDING, dimensions={"design": 3}),
        None,
    ])
    found = panel.summarise(crafted, RUBRIC)
    assert found.tally == {Conclusion.PASS: 2, Conclusion.FAIL: 1, Conclusion.PENDING: 1}
    assert found.mixed
    assert [(r.key, r.cells, r.spread, r.split) for r in found.rows] == [
        ("coding", ("5", "2", "4", "—", "—"), 3, True),
        ("design", ("3", "4", "—", "3", "—"), 1, False),
        ("level", ("P6", "P5", "—", "—", "—"), None, False),
    ]
    assert [(s.assignment, said) for s, said in found.comments] == [(0, "a"), (2, "备注: strong in SQL")]
    card = summary_of(crafted)
    shown = json.dumps(card, ensure_ascii=False)
    assert card["header"]["template"] == "red"
    assert "**Conclusions**: Pass 2 · Fail 1 · Pending 1 · not submitted 1" in shown
    assert "⚠ Split decision: some pass, some fail." in shown
    assert "⚠ Scores 2 or more apart: Coding" in shown
    red = [e["text"]["i18n_content"]["en_us"] for e in card["body"]["elements"]
           if e.get("tag") == "div" and e["text"].get("text_color") == "red"]
    assert red == ["⚠ Split decision: some pass, some fail.", "⚠ Scores 2 or more apart: Coding", "Coding ⚠ 3 apart"]
    assert "面试官0 5 · 面试官1 2 · 面试官2 4 · 面试官3 — · 面试官4 —" in shown
    assert not card_problems(card)


def test_a_unanimous_panel_is_green():
    """It shows no warning when everyone agrees within a point."""
    calm = a_panel([Assessment(conclusion=Conclusion.PASS, dimensions={"coding": 4}),
                    Assessment(conclusion=Conclusion.PASS, dimensions={"coding": 5})])
    card = summary_of(calm)
    assert card["header"]["template"] == "green" and "⚠" not in json.dumps(card, ensure_ascii=False)


def big_rubric(count: int) -> Rubric:
    return Rubric(dimensions=tuple(
        Dimension(key=f"d{n}", title=f"很长的评价维度名称第{n}项" * 2, title_en=f"A long dimension title number {n}",
                  type=DimensionType.SCORE if n % 3 else DimensionType.MULTI, min=1 if n % 3 else None,
                  max=5 if n % 3 else None, options=() if n % 3 else ("沟通清晰", "逻辑严谨", "代码整洁", "善于协作"))
        for n in range(count)))


def big_panel(seats: int, rubric: Rubric) -> panel.Panel:
    def values(i: int) -> dict:
        return {d.key: (1 + (i + n) % 5 if d.type is DimensionType.SCORE else ("沟通清晰", "逻辑严谨", "代码整洁"))
                for n, d in enumerate(rubric.dimensions)}
    return a_panel([Assessment(conclusion=Conclusion(1 + i % 2), dimensions=values(i), content="评语很长。" * 2000)
                    for i in range(seats)])


def test_an_eight_by_twelve_panel_fits_feishus_limits():
    """It fits 8 interviewers x 12 dimensions with long comments in one card, measured as Feishu counts."""
    rubric = big_rubric(12)
    found = big_panel(8, rubric)
    card = summary_of(found, rubric)
    assert not card_problems(card), (wire_bytes(card), elements(card))
    shown = json.dumps(card, ensure_ascii=False)
    assert shown.count("⚠") >= 1 and shown.count('"Read in full"') == 8
    assert not card_problems(progress_card(found, now=START + 9000, zone=SHANGHAI, nudge={}, summary={}))


def test_a_larger_panel_is_paged_and_says_so():
    """It pages the dimensions of a panel too large for one card, each page within the limits, and says so."""
    rubric = big_rubric(40)
    found = big_panel(20, rubric)
    first, last = summary_of(found, rubric), summary_of(found, rubric, page=99)
    for card in (first, last):
        assert not card_problems(card)
    text = json.dumps(first, ensure_ascii=False)
    assert "too many dimensions for one card" in text and '"Next page"' in text
    assert '"Previous page"' in json.dumps(last, ensure_ascii=False)


def test_the_blind_rule():
    """Recruiters and admins see all; an interviewer sees only their own until shared; anyone else nothing."""
    rule = {"recruiters": [RECRUITER], "interviewers": ["ou_i0", "ou_i1"]}
    assert auth.may_see_panel(SETTINGS, RECRUITER, **rule, shared=False) is Sight.ALL
    assert auth.may_see_panel(SETTINGS, ADMIN, **rule, shared=False) is Sight.ALL
    assert auth.may_see_panel(SETTINGS, "ou_i0", **rule, shared=False) is Sight.OWN
    assert auth.may_see_panel(SETTINGS, "ou_i0", **rule, shared=True) is Sight.ALL
    assert auth.may_see_panel(SETTINGS, "ou_x", **rule, shared=True) is Sight.NONE


MARK = st.integers(min_value=0, max_value=10**6).map(lambda n: f"mark{n:07d}")


@st.composite
def panels(draw) -> tuple[panel.Panel, dict[int, set[str]]]:
    """A random panel whose every value carries a marker unique to its interviewer; the markers by seat."""
    count = draw(st.integers(min_value=2, max_value=8))
    assessments: list[Assessment | None] = []
    marks: dict[int, set[str]] = {}
    for n in range(count):
        if not draw(st.booleans()) and n:
            assessments.append(None)
            continue
        mine = {f"s{n}x{m}" for m in draw(st.lists(MARK, min_size=2, max_size=2, unique=True))}
        content, notes = sorted(mine)
        assessments.append(Assessment(conclusion=draw(st.sampled_from(list(Conclusion))), content=content,
                                      dimensions={"coding": draw(st.integers(1, 5)), "notes": notes,
                                                  "level": draw(st.sampled_from(["P5", "P6", "P7"]))}))
        marks[n] = mine
    return a_panel(assessments), marks


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(panels(), st.integers(min_value=0, max_value=7))
def test_an_interviewer_never_sees_another_interviewers_values(drawn, who):
    """For random panels, every view an interviewer gets carries only their own values until shared."""
    found, marks = drawn
    who %= len(found.seats)
    me = found.seats[who].interviewer
    seen = panel.view(SETTINGS, me, found)
    assert seen is not None and seen.sight is Sight.OWN
    assert all(s.assessment is None for s in seen.seats if s.interviewer != me)
    summary = panel.summarise(seen, RUBRIC)
    others = set().union(*(m for n, m in marks.items() if n != who))
    views = [progress_card(seen, now=START + 9000, zone=SHANGHAI, nudge=None, summary={}),
             summary_of(seen)]
    for card in views:
        shown = json.dumps(card, ensure_ascii=False)
        assert not [m for m in others if m in shown]
    assert all(cell == "—" for row in summary.rows for n, cell in enumerate(row.cells) if n != who)
    assert set(summary.tally.values()) <= {1} and sum(summary.tally.values()) <= 1
    shared = panel.view(SETTINGS, me, a_panel([s.assessment for s in found.seats], shared=True))
    assert shared is not None and shared.sight is Sight.ALL


def test_every_panel_card_is_well_formed_card_json():
    """It builds progress, summary, comment and list cards that Feishu's card schema accepts."""
    from bot.sandbox import cardcheck
    from cards.panel import comment_card, panels_card

    rubric = big_rubric(12)
    found = big_panel(8, rubric)
    cards = [progress_card(found, now=START + 9000, zone=SHANGHAI, nudge={"a": "nudge"}, summary={"a": "s"}),
             summary_of(found, rubric), summary_of(big_panel(20, big_rubric(40)), big_rubric(40), page=1),
             comment_card(found, found.seats[0], "评语很长。" * 5000),
             panels_card([found] * 40, now=START, open_value=lambda p: {"a": "summary"}), panels_card([], now=START,
                                                                                                     open_value=dict)]
    assert [cardcheck.problems(card) for card in cards] == [[]] * len(cards)


def _shown(card: dict, lang: str) -> list[str]:
    """Every line a person reads on the card in one language (not the chat list's preview in its config)."""
    return shown({k: v for k, v in card.items() if k != "config"}, lang).splitlines()


def test_the_panel_cards_name_the_candidate_once_and_people_in_full():
    """The title names the candidate, the subtitle the job; interviewers' names are not cut; English reads English."""
    long = "Sandbox Interviewer 5"
    crafted = panel.Panel("app-1", "张伟", "Backend Engineer", (RECRUITER,), (
        seat(0, Assessment(conclusion=Conclusion.PASS, dimensions={"coding": 4}, content="clear thinker"),
             name=long),
        seat(1, Assessment(conclusion=Conclusion.FAIL, dimensions={"coding": 2}), name="面试官1")),
        PanelState("app-1"))
    progress = progress_card(crafted, now=START + 9000, zone=SHANGHAI, nudge=None, summary=None)
    for card in (summary_of(crafted), progress):
        english = _shown(card, "en_us")
        assert card["header"]["subtitle"]["content"] == "Backend Engineer"
        assert sum("张伟" in line for line in english + _shown(card, "zh_cn")) == 2  # the title, in each language
        assert any(long in line for line in english) and not any("…" in line for line in english)
    english = _shown(summary_of(crafted), "en_us")
    assert f"{long}: clear thinker" in english and not any("：" in line for line in english)
