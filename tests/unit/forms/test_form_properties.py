"""Any feedback form in the documented shape (whatever its names, types, limits, options and conditions) becomes a
rubric whose cards stay within Feishu's limits and whose filled-in answers make a PATCH body the Open API accepts."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.assessment import Assessment, Conclusion, RawFields, as_raw, validate
from bot.forms.hire import HireForm, to_rubric
from bot.hire_body import patch_body
from bot.rubric import DimensionType, Rubric
from bot.sandbox import cardcheck
from bot.sandbox.openapi.checks import assessment_problems
from cards import limits
from cards.confirmation import confirmation_card
from cards.form import form_card
from cards.help import help_card
from tests.support.ids import AID

SUBMIT = {"a": "submit", "id": AID, "for": "ou_x", "n": "n1", "sig": "s"}
TYPES = st.sampled_from([1, 2, 3, 5, 6, 7, 10, 11, 12]) | st.integers(-3, 20)
words = st.text(max_size=40) | st.text(alphabet="评价维度选项、，, *_\n\"'\\", max_size=300)
i18n = st.fixed_dictionaries({}, optional={"zh_cn": words, "en_us": words})


@st.composite
def forms(draw) -> dict:  # type: ignore[no-untyped-def]
    """A form version in the shape the list endpoint documents, ids unique as Hire makes them."""
    ids = iter(range(10**6, 10**7))

    def option() -> dict:
        return {"id": str(next(ids)), "name": draw(i18n), "description": draw(i18n),
                "score_val": draw(st.integers(-5, 200))}

    def dimension() -> dict:
        dim = {"id": str(next(ids)), "name": draw(i18n), "description": draw(i18n), "type": draw(TYPES),
               "enabled": draw(st.booleans()), "sequence": draw(st.none() | st.integers(0, 30)),
               "is_required": draw(st.booleans()), "weight": draw(st.floats(-1, 10, allow_nan=False)),
               "option_items": [option() for _ in range(draw(st.integers(0, 12)))],
               "display_not_evident": draw(st.booleans()), "ability_list": []}
        if draw(st.booleans()):
            dim["score_dimension_config"] = {"score_dimension_type": draw(st.integers(1, 2)),
                                             "lower_limit_score": draw(st.integers(-100, 100)),
                                             "upper_limit_score": draw(st.integers(-100, 1000))}
        return dim

    modules = [{"id": str(next(ids)), "name": draw(i18n), "description": draw(i18n), "type": draw(st.integers(1, 2)),
                "sequence": draw(st.integers(0, 9)), "weight": draw(st.floats(0, 5, allow_nan=False)),
                "dimensions": [dimension() for _ in range(draw(st.integers(0, 12)))]}
               for _ in range(draw(st.integers(0, 5)))]
    every = [d for m in modules for d in m["dimensions"]]
    for dim in every:
        if every and draw(st.integers(0, 3)) == 0:
            other = draw(st.sampled_from(every))
            picked = [o["id"] for o in other["option_items"] if draw(st.booleans())]
            dim["related_dimension_config"] = {"type": draw(st.integers(1, 3)), "related_dimension_settings": [
                {"dimension_id": other["id"], "related_operator_type": draw(st.integers(0, 7)),
                 "dimension_option_ids": picked}]}
    return {"id": str(next(ids)), "version": draw(st.integers(1, 50)), "name": draw(i18n),
            "type": draw(st.integers(1, 3)),
            "score_calculation_config": {"enabled": draw(st.booleans()), "calculation_mode": draw(st.integers(1, 2))},
            "modules": modules}


def answers(rubric: Rubric) -> RawFields:
    """A valid answer to every question, as the form would send it."""
    given = []
    for dim in rubric.dimensions:
        if dim.computed:
            continue
        if dim.by_option or dim.type is DimensionType.SINGLE:
            given.append((dim.key, dim.options[-1]))
        elif dim.type is DimensionType.SCORE:
            given.append((dim.key, str(dim.max)))
        elif dim.type is DimensionType.MULTI:
            given.append((dim.key, dim.options))
        else:
            given.append((dim.key, "评价 \"quoted\" \\ end"))
    return RawFields(conclusion="2", dimensions=tuple(given), content="综合", username="面试官")


def within_limits(card: dict) -> None:
    assert limits.wire_bytes(card) <= limits.MAX_BODY_BYTES
    assert limits.elements(card) <= limits.MAX_ELEMENTS
    assert cardcheck.problems(card) == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(forms())
def test_any_documented_form_makes_cards_within_limits_and_a_body_the_api_accepts(data):
    rubric = to_rubric(HireForm.model_validate(data))
    within_limits(form_card(AID, rubric, RawFields(), submit_value=SUBMIT))
    help_limits = help_card([], rubric=rubric)
    within_limits(help_limits)
    filled = answers(rubric)
    submission = validate(filled, rubric, complete=True)
    body = patch_body(submission, {}, rubric)
    assert assessment_problems(body) == []
    assert body["conclusion"] == int(Conclusion.PASS)
    state = submission.merged_into(Assessment())
    within_limits(form_card(AID, rubric, as_raw(state), submit_value=SUBMIT))
    within_limits(confirmation_card(AID, state, rubric, by="面试官", at=datetime(2026, 1, 1, tzinfo=UTC),
                                    edit_value={"a": "form", "id": AID}))
    sent = {item["title"] for item in body.get("assessment_dimension_list", [])}
    asked = rubric.asked(state.dimensions)
    assert sent <= {d.title for d in rubric.dimensions if d.key in asked}  # nothing disabled, hidden or unknown
