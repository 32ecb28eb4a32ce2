"""A Hire feedback form as a rubric: every dimension type mapped onto the external assessment, said exactly as the
PATCH body carries it; conditions, required questions, limits and what has no equivalent."""

from __future__ import annotations

import pytest

from bot.assessment import Assessment, RawFields, Submission, validate
from bot.forms.hire import HireForm, to_rubric
from bot.hire_body import patch_body
from bot.rubric import DimensionType
from bot.sandbox.openapi.checks import assessment_problems
from bot.values import InvalidFields
from tests.support.ids import load_payload


def i18n(zh: str, en: str = "") -> dict:
    return {"zh_cn": zh, "en_us": en}


def option(oid: str, zh: str, en: str, score: int = 0) -> dict:
    return {"id": oid, "name": i18n(zh, en), "description": i18n(""), "score_val": score}


def dim(did: str, zh: str, en: str, kind: int, **more) -> dict:
    return {"id": did, "name": i18n(zh, en), "description": i18n(more.pop("described", "")), "type": kind,
            "enabled": True, "sequence": int(did[1:]), "is_required": False, "weight": 1, **more}


def form(*dims: dict, kind: int = 2, mode: int | None = 1, modules: list[dict] | None = None) -> HireForm:
    data = {"id": "7000000000000000001", "version": 3, "name": i18n("研发面评表", "R&D form"), "type": kind,
            "modules": modules or [{"id": "m1", "name": i18n("能力", "Skills"), "description": i18n(""), "type": 2,
                                    "sequence": 1, "weight": 1, "dimensions": list(dims)}]}
    if mode is not None:
        data["score_calculation_config"] = {"enabled": True, "calculation_mode": mode}
    return HireForm.model_validate(data)


EVERY_TYPE = form(
    dim("d1", "沟通", "Communication", 1, is_required=True,
        option_items=[option("o11", "清晰", "Clear"), option("o12", "一般", "So-so")]),
    dim("d2", "亮点", "Strengths", 2,
        option_items=[option("o21", "算法", "Algorithms"), option("o22", "沟通、协作", "Teamwork")]),
    dim("d3", "评价", "Notes", 3),
    dim("d4", "职级建议", "Level", 5, display_not_evident=True),
    dim("d5", "代码", "Code", 6, option_items=[option("o51", "优秀", "Excellent", 5), option("o52", "合格", "Fair", 3)],
        score_dimension_config={"score_dimension_type": 1, "lower_limit_score": 1, "upper_limit_score": 5}),
    dim("d6", "设计", "Design", 7,
        score_dimension_config={"score_dimension_type": 2, "lower_limit_score": 1, "upper_limit_score": 10}),
    dim("d7", "结论", "Result", 10, is_required=True),
    dim("d8", "得分", "Score", 11),
    dim("d9", "记录", "Record", 12, is_required=True),
    dim("d10", "停用", "Off", 3, enabled=False),
    dim("d11", "未知", "Unknown", 9),
)


def write(rubric, typed: dict, known: dict | None = None) -> dict:  # type: ignore[no-untyped-def]
    """The PATCH body of a typed command (names and values as people type them)."""
    change = validate(RawFields(dimensions=tuple(typed.items())), rubric, known=known or {})
    body = patch_body(change, known or {}, rubric)
    assert assessment_problems(body) == []
    return body


def test_every_dimension_type_maps_onto_the_external_assessment():
    rubric = to_rubric(EVERY_TYPE)
    assert (rubric.id, rubric.version, rubric.name, rubric.name_en, rubric.hire) == (
        "7000000000000000001", 3, "研发面评表", "R&D form", True)
    assert [(d.title, d.type, d.required, d.by_option, d.computed) for d in rubric.dimensions] == [
        ("沟通", DimensionType.SINGLE, True, False, False), ("亮点", DimensionType.MULTI, False, False, False),
        ("评价", DimensionType.TEXT, False, False, False), ("职级建议", DimensionType.TEXT, False, False, False),
        ("代码", DimensionType.SCORE, False, True, False), ("设计", DimensionType.SCORE, False, False, False),
        ("得分", DimensionType.SCORE, False, False, True)]
    assert (rubric.conclusion.title, rubric.conclusion.required) == ("结论", True)
    assert (rubric.notes.title, rubric.notes.required) == ("记录", True)
    assert rubric.unsupported == ("未知",)  # named on the form, never sent; the disabled one is gone altogether
    body = write(rubric, {"Communication": "clear", "亮点": "算法，沟通、协作", "评价": "Good.", "Level": "P6",
                          "代码": "Excellent", "Design": "8"})
    assert body == {"assessment_dimension_list": [
        {"assessment_type": 2, "title": "沟通", "option": "清晰"},
        {"assessment_type": 4, "title": "亮点", "options": ["算法", "沟通、协作"]},
        {"assessment_type": 3, "title": "评价", "content": "Good."},
        {"assessment_type": 3, "title": "职级建议", "content": "P6",
         "description": "职级建议：外部面评没有职级选项，请以文字填写建议的职级（如 P6，或 P5–P6）。"},
        {"assessment_type": 1, "title": "代码", "score": 5},
        {"assessment_type": 1, "title": "设计", "score": 8},
        {"assessment_type": 1, "title": "得分", "score": 13},  # computed by the bot: Hire computes nothing here
    ]}


def test_a_score_by_option_takes_its_label_in_either_language_or_its_score():
    rubric = to_rubric(EVERY_TYPE)
    for word in ("优秀", "excellent", "5"):
        assert write(rubric, {"代码": word})["assessment_dimension_list"][0]["score"] == 5
    with pytest.raises(InvalidFields) as refused:
        write(rubric, {"代码": "4"})
    assert refused.value.errors[0].en == "'Code' takes one of Excellent (5), Fair (3), not '4'"


def test_a_typed_score_outside_its_limits_is_refused_with_the_range():
    with pytest.raises(InvalidFields) as refused:
        write(to_rubric(EVERY_TYPE), {"设计": "11"})
    assert [e.en for e in refused.value.errors] == ["'Design' takes a whole number from 1 to 10, not '11'"]
    assert refused.value.errors[0].zh == "“设计”的分数应为 1 到 10 之间的整数，收到“11”"


def test_the_computed_score_and_a_dimension_of_another_form_are_refused():
    with pytest.raises(InvalidFields) as refused:
        write(to_rubric(EVERY_TYPE), {"得分": "12", "客户沟通": "强"})
    assert [e.en for e in refused.value.errors] == [
        "'Score' is computed from the form's scores (the total); it cannot be given",
        "The form 'R&D form' has no dimension called '客户沟通'; did you mean 沟通?"]


def test_the_form_insists_on_its_required_dimensions_and_notes_but_a_typed_command_does_not():
    rubric = to_rubric(EVERY_TYPE)
    with pytest.raises(InvalidFields) as refused:
        validate(RawFields(conclusion="pass"), rubric, complete=True)
    assert [e.en for e in refused.value.errors] == ["'Communication' is required", "'Record' is required"]
    assert validate(RawFields(dimensions=(("设计", "3"),)), rubric).dimensions == {"d_d6": 3}


@pytest.mark.parametrize(("scoring", "mode", "kind", "total"), [
    ("total", 1, 2, 8.0), ("average", 2, 2, 4.0), ("weighted", None, 3, (5 * 3 + 3 * 1) / 4)])
def test_a_scored_or_weighted_form_adds_its_scores_up(scoring, mode, kind, total):
    rubric = to_rubric(form(
        dim("d1", "代码", "Code", 7, weight=3,
            score_dimension_config={"lower_limit_score": 1, "upper_limit_score": 5}),
        dim("d2", "设计", "Design", 7, weight=1,
            score_dimension_config={"lower_limit_score": 1, "upper_limit_score": 5}),
        dim("d3", "得分", "Score", 11), kind=kind, mode=mode))
    assert rubric.scoring == scoring
    body = write(rubric, {"代码": "5", "设计": "3"})
    assert rubric.total({"d_d1": 5, "d_d2": 3}) == total
    assert body["assessment_dimension_list"][-1] == {"assessment_type": 1, "title": "得分", "score": round(total)}


def test_a_plain_form_has_no_total_and_its_score_question_is_named_as_not_carried():
    rubric = to_rubric(form(dim("d1", "得分", "Score", 11), dim("d2", "评价", "Notes", 3), kind=1, mode=None))
    assert (rubric.scoring, rubric.unsupported, [d.title for d in rubric.dimensions]) == (None, ("得分",), ["评价"])


HR = form(
    dim("d1", "是否推荐", "Recommend", 1, is_required=True,
        option_items=[option("o1", "推荐", "Yes"), option("o2", "不推荐", "No")]),
    dim("d2", "推荐理由", "Why", 3, is_required=True, related_dimension_config={
        "type": 1, "related_dimension_settings": [{"dimension_id": "d1", "related_operator_type": 1,
                                                   "dimension_option_ids": ["o1"]}]}),
    dim("d3", "不推荐原因", "Why not", 3, is_required=True, related_dimension_config={
        "type": 2, "related_dimension_settings": [{"dimension_id": "d1", "related_operator_type": 1,
                                                   "dimension_option_ids": ["o2"]}]}),
    dim("d4", "补充", "More", 3, related_dimension_config={
        "type": 1, "related_dimension_settings": [{"dimension_id": "d3", "related_operator_type": 6}]}),
    kind=1, mode=None)


def test_conditions_decide_what_is_asked_and_required_when_submitted():
    rubric = to_rubric(HR)
    with pytest.raises(InvalidFields) as refused:
        validate(RawFields(conclusion="fail", dimensions=(("d_d1", "不推荐"),)), rubric, complete=True)
    assert [e.en for e in refused.value.errors] == ["'Why not' is required"]
    passed = validate(RawFields(conclusion="pass", dimensions=(("d_d1", "推荐"), ("d_d2", "Sharp."),
                                                               ("d_d3", "ignored"))), rubric, complete=True)
    assert passed.dimensions == {"d_d1": "推荐", "d_d2": "Sharp."}  # hidden by its condition, as in Hire: not sent
    assert rubric.when(rubric.get("d_d3")) == ("“是否推荐”为 不推荐", "'Recommend' is No")


def test_a_typed_answer_to_a_question_not_asked_is_refused_saying_when_it_is():
    rubric = to_rubric(HR)
    with pytest.raises(InvalidFields) as refused:
        validate(RawFields(dimensions=(("Why not", "Slow."),)), rubric, known={"d_d1": "推荐"})
    assert [e.en for e in refused.value.errors] == ["'Why not' is only asked when 'Recommend' is No"]
    allowed = validate(RawFields(dimensions=(("Recommend", "No"), ("Why not", "Slow."))), rubric,
                       known={"d_d1": "推荐", "d_d2": "Sharp."})
    assert patch_body(allowed, {"d_d1": "推荐", "d_d2": "Sharp."}, rubric)["assessment_dimension_list"] == [
        {"assessment_type": 2, "title": "是否推荐", "option": "不推荐"},
        {"assessment_type": 3, "title": "不推荐原因", "content": "Slow."}]  # the reason for "yes" is no longer asked


def test_a_chain_of_conditions_follows_the_questions_asked():
    rubric = to_rubric(HR)
    assert rubric.asked({"d_d1": "不推荐", "d_d3": "x", "d_d4": "y"}) >= {"d_d3", "d_d4"}
    assert "d_d4" not in rubric.asked({"d_d1": "推荐", "d_d3": "x", "d_d4": "y"})


def test_the_documented_sample_becomes_a_rubric_and_a_valid_body():
    [item] = load_payload("interview_feedback_forms.json")["data"]["items"]
    rubric = to_rubric(HireForm.model_validate(item))
    [only] = rubric.dimensions
    assert (only.title, only.title_en, only.type, only.options, only.required, only.condition) == (
        "默认评价维度", "default dimension", DimensionType.SINGLE, ("默认选项",), True, None)  # no waiting on itself
    assert (rubric.name, rubric.scoring, [s.title for s in rubric.sections]) == (
        "默认面试评价表", None, ["默认面试评价表模块"])  # a plain form: its calculation does not apply
    body = patch_body(Submission(dimensions={only.key: "默认选项"}), {}, rubric)
    assert body == {"assessment_dimension_list": [{"assessment_type": 2, "title": "默认评价维度",
                                                   "description": "可以用于完整评价的维度", "option": "默认选项"}]}


def test_values_recorded_under_a_form_read_back_with_its_labels():
    from bot.values import shown

    rubric = to_rubric(EVERY_TYPE)
    state = Assessment(dimensions={"d_d5": 3, "d_d1": "一般", "d_d2": ("算法",)})
    assert [shown(rubric.get(k), v) for k, v in state.dimensions.items()] == [
        ("合格（3）", "Fair (3)"), ("一般", "So-so"), ("算法", "Algorithms")]
