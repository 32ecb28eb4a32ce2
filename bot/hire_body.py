"""The external assessment's body as Feishu Hire takes and gives it: the PATCH (or create) body of a submission,
and what Feishu holds read back as the bot's state.

https://open.feishu.cn/document/hire-v1/get-candidates/import-external-system-information/import-external-interview-info/patch
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.assessment import Assessment, Conclusion, Submission
from bot.rubric import Dimension, DimensionType, Rubric, Value
from bot.values import InvalidFields, check_value, number


def dimension_item(dim: Dimension, value: Value) -> dict:
    """One entry of `assessment_dimension_list`, with only the field its type uses (a score picked by option
    sends its score; the labels stay on the cards)."""
    item: dict = {"assessment_type": dim.type.assessment_type, "title": dim.title}
    if dim.description:
        item["description"] = dim.description
    field = {DimensionType.SCORE: "score", DimensionType.SINGLE: "option",
             DimensionType.MULTI: "options", DimensionType.TEXT: "content"}[dim.type]
    item[field] = list(value) if isinstance(value, tuple) else value
    return item


def patch_body(change: Submission, known: Mapping[str, Value], rubric: Rubric) -> dict:
    """The PATCH body: exactly the fields given; a given dimension sends the whole known list, changed.

    Feishu does not document whether a list replaces or merges the stored one, so the list is always the
    complete list the bot knows (its last successful write) with the given values on top, in rubric order;
    dimensions whose condition no longer holds are left out, and a form's computed score is sent as the score
    the bot computes (the external assessment computes nothing).
    """
    body: dict = {}
    if change.username is not None:
        body["username"] = change.username
    if change.conclusion is not None:
        body["conclusion"] = int(change.conclusion)
    if change.dimensions:
        merged = {**known, **change.dimensions}
        answered = {k: v for k, v in merged.items() if v != ""}
        asked, total = rubric.asked(answered), rubric.total(answered)
        items = []
        for dim in rubric.dimensions:
            if dim.computed and total is not None and dim.key in asked:
                items.append(dimension_item(dim, round(total)))
            elif dim.key in merged and dim.key in asked and not dim.computed:
                items.append(dimension_item(dim, merged[dim.key]))
        body["assessment_dimension_list"] = items
    if change.content is not None:
        body["content"] = change.content
    return body


def read_back(held: Mapping[str, object], rubric: Rubric) -> tuple[Assessment, int]:
    """What Feishu holds for one assessment (an item of `interview_assessments` from external_interviews/batch_query)
    as the bot's state under `rubric`, and how many of its dimension values fit no question of that rubric.

    Dimensions are matched by title; a value the rubric could not accept is left out (and counted)."""
    conclusion = held.get("conclusion")
    found = Conclusion(conclusion) if conclusion in (1, 2, 3) else None
    by_title = {dim.title: dim for dim in rubric.dimensions}
    values: dict[str, Value] = {}
    misfits = 0
    for item in held.get("assessment_dimension_list") or ():
        dim = by_title.get(item.get("title")) if isinstance(item, dict) else None
        if dim is not None and dim.computed:
            continue  # the form's total: the bot computes it again from the scores
        value = _held_value(dim, item) if dim is not None else None
        if dim is None or value is None:
            misfits += 1
        else:
            values[dim.key] = value
    text = {k: v if isinstance(v, str) else None for k in ("content", "username") for v in [held.get(k)]}
    return Assessment(conclusion=found, dimensions=values, content=text["content"] or None,
                      username=text["username"] or None), misfits


def _held_value(dim: Dimension, item: dict) -> Value | None:
    """One held dimension value, if it is one the dimension accepts."""
    field = {DimensionType.SCORE: "score", DimensionType.SINGLE: "option",
             DimensionType.MULTI: "options", DimensionType.TEXT: "content"}[dim.type]
    if item.get("assessment_type") not in (None, dim.type.assessment_type):
        return None
    raw = item.get(field)
    if raw is None or raw == "" or raw == []:
        return None
    try:
        if dim.type is DimensionType.MULTI:
            return check_value(dim, tuple(str(o) for o in raw)) if isinstance(raw, list) else None
        return check_value(dim, number(raw) if isinstance(raw, int | float) else str(raw))
    except InvalidFields:
        return None
