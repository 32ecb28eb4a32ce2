"""What the sandbox Open API accepts: assessment bodies field by field, and cards.

The assessment fields follow the PATCH page exactly:
https://open.feishu.cn/document/hire-v1/get-candidates/import-external-system-information/import-external-interview-info/patch
"""

from __future__ import annotations

from cards import limits

CONCLUSIONS = (1, 2, 3)  # 1 不通过 (fail), 2 通过 (pass), 3 待定 (pending)
ASSESSMENT_TYPES = (1, 2, 3, 4)  # 1 打分题 (score), 2 单选题 (single), 3 描述题 (text), 4 多选题 (multiple)
_INT64 = range(-(2**63), 2**63)  # Feishu's backend parses into 64-bit integers

ASSESSMENT_FIELDS: dict[str, str] = {"username": "str", "conclusion": "conclusion",
                                     "assessment_dimension_list": "dimensions", "content": "str"}
CREATE_FIELDS: dict[str, str] = {**ASSESSMENT_FIELDS, "external_id": "str", "external_interview_id": "str"}
DIMENSION_FIELDS: dict[str, str] = {"score": "int", "option": "str", "options": "strings", "content": "str",
                                    "assessment_type": "assessment_type", "title": "str", "description": "str"}


def assessment_problems(body: object, fields: dict[str, str] = ASSESSMENT_FIELDS) -> list[str]:
    """Everything wrong with a PATCH (or create) body; empty when Feishu would accept it."""
    return _object(body, fields, "body")


def _object(value: object, fields: dict[str, str], path: str) -> list[str]:
    if not isinstance(value, dict):
        return [f"{path}: must be an object, not {kind_of(value)}"]
    found: list[str] = []
    for key, item in value.items():
        where = key if path == "body" else f"{path}.{key}"
        if key not in fields:
            found.append(f"{where}: unknown field")
        else:
            found.extend(_field(item, fields[key], where))
    return found


def _field(value: object, kind: str, path: str) -> list[str]:
    if value is None:
        return [f"{path}: must not be null"]
    if kind == "str":
        return [] if isinstance(value, str) else [f"{path}: must be a string, not {kind_of(value)}"]
    if kind == "strings":
        if not isinstance(value, list):
            return [f"{path}: must be a list of strings, not {kind_of(value)}"]
        return [f"{path}[{i}]: must be a string, not {kind_of(v)}"
                for i, v in enumerate(value) if not isinstance(v, str)]
    if kind == "dimensions":
        if not isinstance(value, list):
            return [f"{path}: must be a list, not {kind_of(value)}"]
        return [p for i, v in enumerate(value) for p in _object(v, DIMENSION_FIELDS, f"{path}[{i}]")]
    # int-valued: bool is an int in Python but not in JSON, and 4.0 does not parse into an int field
    if type(value) is not int or value not in _INT64:
        return [f"{path}: must be an integer, not {kind_of(value)}"]
    allowed = {"conclusion": CONCLUSIONS, "assessment_type": ASSESSMENT_TYPES}.get(kind)
    if allowed and value not in allowed:
        return [f"{path}: {value} is not one of {', '.join(map(str, allowed))}"]
    return []


def kind_of(value: object) -> str:
    """How a JSON value is called in an error message."""
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list",
             dict: "an object", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def card_problems(card: object, *, wire: bool = True) -> list[str]:
    """What Feishu would refuse in a card JSON 2.0; the full check when bot.sandbox.cardcheck is there.

    `wire`: also the limits for the largest request body the card may travel in (cards.limits); False when
    the caller measures the request body it actually received (`body_problems`).
    """
    try:
        from bot.sandbox.cardcheck import problems
    except ImportError:
        return _minimal_card_problems(card, wire)
    return problems(card, wire=wire)


def _minimal_card_problems(card: object, wire: bool) -> list[str]:
    if not isinstance(card, dict):
        return ["card: not an object"]
    found = [] if card.get("schema") == "2.0" else [f"schema: must be \"2.0\", not {card.get('schema')!r}"]
    return found + (limits.card_problems(card) if wire else [])
