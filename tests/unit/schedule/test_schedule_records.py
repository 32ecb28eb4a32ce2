"""Specifications of validating a JSON list of interviews, as the intake API and chat commands hand it over."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime

from bot.schedule import validate_records
from tests.support.ids import OPEN_ID, SHANGHAI

GOOD = {"interview_id": "7412358746023518273", "interviewer": OPEN_ID, "candidate": "张伟",
        "start": "2026-12-07T10:00:00+08:00", "end": "2026-12-07T11:00:00+08:00"}


def test_a_list_of_objects_becomes_assignments():
    """It reads objects with English or Chinese keys, nulls as empty optional fields."""
    chinese = {"面试ID": "7412358746023518274", "面试官": "Li.Na@example.com", "候选人": "王芳",
               "开始时间": "2026-12-07 14:00", "结束时间": "2026-12-07 15:00", "面评ID": None, "招聘负责人": None}
    assignments, problems = validate_records([GOOD, chinese], SHANGHAI)
    assert problems == []
    assert [a.key for a in assignments] == [("7412358746023518273", OPEN_ID),
                                            ("7412358746023518274", "li.na@example.com")]
    assert assignments[1].end == datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
    assert assignments[1].feishu_assessment_id is None


def test_every_problem_is_named_by_item_and_field_in_both_languages():
    """It reports missing and wrong fields by item number, ready to be sent back as JSON."""
    missing = {key: value for key, value in GOOD.items() if key not in ("candidate", "end")}
    wrong = GOOD | {"interviewer": True, "start": 1765072800}
    assignments, problems = validate_records([GOOD, missing, "text", wrong, GOOD], SHANGHAI)
    assert [a.candidate for a in assignments] == ["张伟"]
    assert [asdict(p) for p in problems][:2] == [
        {"row": 2, "column": "candidate", "zh": "缺少必填项。", "en": "is required but missing.",
         "place": "item", "field": "candidate", "warning": False},
        {"row": 2, "column": "end", "zh": "缺少必填项。", "en": "is required but missing.",
         "place": "item", "field": "end", "warning": False},
    ]
    assert [p.en_text for p in problems[2:]] == [
        "Item 3: not a JSON object ({…}).",
        "Item 4, 'interviewer': 'True' is not text.",
        "Item 4, 'start': '1765072800' is a number, not a time; write 2026-12-01 14:00 (or format the cell as a date).",
        "Item 5, 'interviewer': same interview and interviewer as item 1 (interview id 7412358746023518273).",
    ]
    assert problems[2].zh_text == "第 3 项：应为一个 JSON 对象（{…}）。"


def test_what_is_not_a_list_or_is_empty_is_one_problem():
    """It answers a body that is not a list, or an empty list, with a single problem."""
    assert [p.en for p in validate_records({"interviews": []}, SHANGHAI)[1]] == [  # type: ignore[arg-type]
        "Expected a JSON list of interviews."]
    assert [p.en for p in validate_records([], SHANGHAI)[1]] == ["There are no interviews in it."]
