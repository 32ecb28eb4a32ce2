"""Dimensions are named as people see them; every help example is understood end to end."""

import re

import pytest

from bot.assessment import validate
from bot.commands.assess import Assess
from bot.commands.registry import declarations, parse
from bot.rubric import RubricError
from bot.rubric import parse as parse_rubric
from tests.support.rubrics import SHIPPED


@pytest.mark.parametrize("word", ["coding", "CODING", "编码", "code", "编码能力", "Coding", " coding ", "ｃｏｄｉｎｇ",
                                  "ＣＯＤＥ", "编码能力　"])
def test_a_dimension_is_found_by_key_alias_and_either_title(word):
    assert SHIPPED.find(word).key == "coding"


def test_every_title_is_a_name():
    for dim in SHIPPED.dimensions:
        assert SHIPPED.find(dim.title) is dim and SHIPPED.find(dim.label_en) is dim


@pytest.mark.parametrize("text,key,value", [
    ("/面评 6930815272790114324 通过 编码能力=4", "coding", 4),
    ("/assess 6930815272790114324 pass Coding=4", "coding", 4),
    ("/面评 6930815272790114324 亮点=算法，架构", "strengths", ("算法", "架构")),
    ("/面评 6930815272790114324 建议职级=p6", "level", "P6"),
])
def test_a_typed_title_writes_that_dimension(text, key, value):
    command = parse(text, {}, SHIPPED)
    assert validate(command.fields, SHIPPED).dimensions == {key: value}


def test_a_key_and_the_title_of_the_same_dimension_are_the_same_field():
    with pytest.raises(Exception) as found:
        parse("/assess 1 coding=4 编码能力=3", {}, SHIPPED)
    assert "the same field" in found.value.en


@pytest.mark.parametrize("example", [ex for entry in declarations() for ex in entry.examples])
def test_every_help_example_is_accepted_with_the_shipped_rubric(example):
    typed = re.sub(r"(?<=\s)@\S+", "@_user_1", example)  # a person picked after @ arrives as a placeholder
    command = parse(typed, {"@_user_1": "ou_someone"}, SHIPPED)
    if isinstance(command, Assess) and not command.fields.is_empty:
        validate(command.fields, SHIPPED)  # raises InvalidFields if the help shows something the bot refuses


def _rubric(*dims: dict) -> dict:
    base = {"type": "score", "min": 1, "max": 5}
    return {"dimensions": [{**base, **d} for d in dims]}


@pytest.mark.parametrize("second", [
    {"key": "style", "title": "编码能力"},
    {"key": "style", "title": "风格", "title_en": "CODING"},
    {"key": "style", "title": "风格", "aliases": ["ｃｏｄｉｎｇ"]},
    {"key": "Coding", "title": "风格"},
])
def test_the_loader_refuses_two_dimensions_sharing_a_name(second):
    with pytest.raises(RubricError, match="already used by 'coding'"):
        parse_rubric(_rubric({"key": "coding", "title": "编码能力", "title_en": "Coding"}, second))


def test_a_dimension_may_repeat_its_own_name():
    rubric = parse_rubric(_rubric({"key": "coding", "title": "coding", "aliases": ["Coding"]}))
    assert rubric.find("CODING").key == "coding"
