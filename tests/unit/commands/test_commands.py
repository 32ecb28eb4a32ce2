"""The chat command grammar: what each typed message becomes, and what each mistake says."""

import re
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.assessment import RawFields
from bot.commands.assess import Assess
from bot.commands.base import CommandProblem
from bot.commands.help import Help
from bot.commands.history import History
from bot.commands.registry import declarations, parse, usage
from bot.commands.todo import Todo
from tests.support.rubrics import SHIPPED

MENTIONS = {"@_user_1": "ou_first", "@_user_2": "ou_second"}


def assess(assessment_id: str = "123", owner: str | None = None, **fields) -> Assess:
    return Assess(typed_id=assessment_id, fields=RawFields(**fields), owner=owner)


def problem(text: str, **kwargs) -> CommandProblem | SimpleNamespace:
    """The mistake the command is answered with: refused while reading it, or (a word not understood by /assess)
    kept to be said beside every value that doesn't fit, with the command's usage."""
    try:
        found = parse(text, **kwargs)
    except CommandProblem as refused:
        return refused
    [first] = found.problems
    return SimpleNamespace(zh=first.zh, en=first.en, suggestion=first.suggestion, command=found.name,
                           usage=usage(found.name))


@pytest.mark.parametrize(("word", "typed"), [
    ("pass", "pass"), ("PASS", "PASS"), ("Pass", "Pass"), ("通过", "通过"), ("2", "2"), ("２", "2"),
    ("fail", "fail"), ("Fail", "Fail"), ("不通过", "不通过"), ("1", "1"), ("１", "1"),
    ("pending", "pending"), ("PENDING", "PENDING"), ("待定", "待定"), ("3", "3"), ("３", "3"),
])
def test_every_conclusion_word_is_kept_as_typed_with_full_width_digits_made_ascii(word, typed):
    assert parse(f"/assess 123 {word}") == assess(conclusion=typed)


@pytest.mark.parametrize("word", [
    "/assess", "/Assess", "/ASSESS", "assess", "面评", "/面评", "／面评", "／assess",
])
def test_the_assess_command_answers_to_its_words_in_any_case_with_or_without_slash(word):
    assert parse(f"{word} 123 pass") == assess(conclusion="pass")


@pytest.mark.parametrize(("text", "expected"), [
    # the id alone opens the form; fields left out are not given
    ("/assess 123", assess()),
    ("  /assess 123 \n", assess()),
    ("/assess 6930815272790114324", assess("6930815272790114324")),
    ("/assess abc_DEF-9", assess("abc_DEF-9")),
    ("/assess 123 coding=4", assess(dimensions=(("coding", "4"),))),
    ("/assess 123 pass coding=4 design=3",
     assess(conclusion="pass", dimensions=(("coding", "4"), ("design", "3")))),
    ("/assess 123 coding=4 pass design=3",
     assess(conclusion="pass", dimensions=(("coding", "4"), ("design", "3")))),
    ("/面评 123 通过 编码=4 亮点=算法", assess(conclusion="通过", dimensions=(("编码", "4"), ("亮点", "算法")))),
    # the conclusion as a field
    ("/assess 123 conclusion=fail", assess(conclusion="fail")),
    ("/assess 123 结论=不通过", assess(conclusion="不通过")),
    ("/assess 123 结论：待定", assess(conclusion="待定")),
    ("/assess 123 Conclusion=２", assess(conclusion="2")),
    # full-width input: separators, digits in ids and numbers, the ideographic space
    ("/assess 123 coding＝４", assess(dimensions=(("coding", "4"),))),
    ("/assess 123 coding：4", assess(dimensions=(("coding", "4"),))),
    ("/assess 123 coding:4", assess(dimensions=(("coding", "4"),))),
    ("/assess １２３ 通过", assess(conclusion="通过")),
    ("/assess\u3000123\u3000通过\u3000coding＝５", assess(conclusion="通过", dimensions=(("coding", "5"),))),
    ("/assess 123 level=Ｐ５", assess(dimensions=(("level", "Ｐ５"),))),
    # multi-option values stay raw: validation splits them
    ("/assess 123 strengths=算法，架构、学习能力,工程质量",
     assess(dimensions=(("strengths", "算法，架构、学习能力,工程质量"),))),
    # every quote style; inside quotes spaces, separators and newlines are kept
    ('/assess 123 comment="good code = clear mind"', assess(content="good code = clear mind")),
    ("/assess 123 comment='good code: clear'", assess(content="good code: clear")),
    ("/assess 123 comment=“思路 清晰，代码整洁”", assess(content="思路 清晰，代码整洁")),
    ("/assess 123 comment=‘a b’", assess(content="a b")),
    ("/assess 123 comment=「第一行\n第二行 = 好」", assess(content="第一行\n第二行 = 好")),
    ("/assess 123 comment=『引用“原话”』", assess(content="引用“原话”")),
    ('/assess 123 comment="" pass', assess(conclusion="pass", content="")),
    ('/assess 123 notes="two  spaces"', assess(dimensions=(("notes", "two  spaces"),))),
    ('/assess "123" "pass"', assess(conclusion="pass")),
    # free text is never normalised; only the first separator splits
    ("/assess 123 comment=思路清晰，代码整洁。", assess(content="思路清晰，代码整洁。")),
    ("/assess 123 comment=１２３", assess(content="１２３")),
    ("/assess 123 备注：时间：10:30", assess(content="时间：10:30")),
    ("/assess 123 content=ok", assess(content="ok")),
    ("/assess 123 评语=好", assess(content="好")),
    ("/assess 123 综合记录=好", assess(content="好")),
    # the interviewer's name
    ('/assess 123 name="Zhang San"', assess(username="Zhang San")),
    ("/assess 123 username=李四", assess(username="李四")),
    ("/assess 123 面试官=王五", assess(username="王五")),
    ("/assess 123 姓名：赵六", assess(username="赵六")),
    # keys are case-insensitive words, dimension words are kept as typed
    ("/assess 123 COMMENT=x Coding=4", assess(content="x", dimensions=(("Coding", "4"),))),
])
def test_assess_text_becomes_exactly_these_fields(text, expected):
    assert parse(text, MENTIONS) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("/assess 123 owner=@_user_2", assess(owner="ou_second")),
    ("/assess 123 pass 负责人：@_user_1", assess(owner="ou_first", conclusion="pass")),
    ("/assess 123 owner=“@_user_2”", assess(owner="ou_second")),
])
def test_owner_is_the_open_id_of_the_mentioned_person(text, expected):
    assert parse(text, MENTIONS) == expected


@pytest.mark.parametrize("text", ["/todo", "todo", "/my", "待办", "/我的面试", "/assess", "/assess   ", "/面评"])
def test_the_inbox_answers_to_its_words_and_to_assess_alone(text):
    assert parse(text) == Todo()


@pytest.mark.parametrize("text", [
    "/help", "help", "HELP", "/Help", "帮助", "/帮助", "?", "？", "/?", "/help assess", '? "unclosed',
])
def test_help_answers_to_its_words_and_ignores_what_follows(text):
    """What follows may name an interview (its form is shown); otherwise the help is the same."""
    assert isinstance(parse(text), Help)


@pytest.mark.parametrize("text", ["/history 123", "history 123", "/History 123", "历史 123", "/记录 １２３"])
def test_history_takes_one_assessment_id(text):
    assert parse(text) == History(typed_id="123")


@pytest.mark.parametrize("text", [
    "", "   ", "hello", "assessment 123 pass", "asess 123 pass", "@_user_1 /assess 123 pass",
    "/", "/x", "/deploy now", "/会议 123", "123 pass", "通过",
])
def test_text_without_a_command_word_is_not_a_command(text):
    assert parse(text) is None


@pytest.mark.parametrize(("text", "zh", "en", "suggestion", "command"), [
    ("/asess 123 pass", "没有“/asess”这个命令，是否想输入 /assess？",
     "There is no command '/asess'. Did you mean /assess?", "/assess", "assess"),
    ("/Assesment 123", "没有“/Assesment”这个命令，是否想输入 /assess？",
     "There is no command '/Assesment'. Did you mean /assess?", "/assess", "assess"),
    ("/hlep", "没有“/hlep”这个命令，是否想输入 /help？",
     "There is no command '/hlep'. Did you mean /help?", "/help", "help"),
    ("/histroy 123", "没有“/histroy”这个命令，是否想输入 /history？",
     "There is no command '/histroy'. Did you mean /history?", "/history", "history"),
])
def test_a_slashed_near_miss_of_a_command_word_suggests_the_command(text, zh, en, suggestion, command):
    found = problem(text)
    assert (found.zh, found.en, found.suggestion, found.command, found.usage) == (
        zh, en, suggestion, command, usage(command))


MISSING_ID = ("缺少面评 ID（紧跟在命令后面）。", "The assessment id is missing (it comes right after the command).",
              None)
NOT_A_CONCLUSION = "可用：通过 / 不通过 / 待定（或 pass / fail / pending）；其他项请写成 名称=值。"
USE_CONCLUSIONS = "Use pass, fail or pending (通过, 不通过, 待定); write other fields as name=value."
AFTER_QUOTE_ZH = "请在引号后加空格，或用另一种引号（如「…」）括起含引号的内容。"
AFTER_QUOTE_EN = "put a space after the quote, or wrap a value that holds quotes in other quotes such as 「…」."


@pytest.mark.parametrize(("text", "zh", "en", "suggestion"), [
    ("/assess coding=4", *MISSING_ID),
    ("/assess pass coding=4", *MISSING_ID),
    ("/assess 12#3 pass", "“12#3”不是有效的面评 ID（应为数字、字母、_ 或 -）。",
     "'12#3' is not an assessment id (use digits, letters, _ or -).", None),
    ("/assess 评估123", "“评估123”不是有效的面评 ID（应为数字、字母、_ 或 -）。",
     "'评估123' is not an assessment id (use digits, letters, _ or -).", None),
    ("/assess " + "1" * 65, f"“{'1' * 24}…”不是有效的面评 ID（应为数字、字母、_ 或 -）。",
     f"'{'1' * 24}…' is not an assessment id (use digits, letters, _ or -).", None),
    ("/assess 123 pas", "结论“pas”无效。是否想输入 pass？", "'pas' is not a conclusion. Did you mean pass?", "pass"),
    ("/assess 123 PENDNG", "结论“PENDNG”无效。是否想输入 pending？",
     "'PENDNG' is not a conclusion. Did you mean pending?", "pending"),
    ("/assess 123 conclusion=pas", "结论“pas”无效。是否想输入 pass？",
     "'pas' is not a conclusion. Did you mean pass?", "pass"),
    ("/assess 123 4", f"结论“4”无效。{NOT_A_CONCLUSION}", f"'4' is not a conclusion. {USE_CONCLUSIONS}", None),
    ("/assess 123 pass fail", "结论给了两次：“pass”和“fail”。",
     "The conclusion is given twice: 'pass' and 'fail'.", None),
    ("/assess 123 通过 结论=２", "结论给了两次：“通过”和“２”。",
     "The conclusion is given twice: '通过' and '２'.", None),
    ("/assess 123 0 1", "结论给了两次：“0”和“1”。", "The conclusion is given twice: '0' and '1'.", None),
    ("/assess 123 结论=2 通过", "结论给了两次：“2”和“通过”。", "The conclusion is given twice: '2' and '通过'.", None),
    ("/assess 123 pass great", "无法识别“great”；各项请写成 名称=值。",
     "'great' is not understood; write fields as name=value.", None),
    ("/assess 123 coding=4 coding=5", "“coding”给了两次。", "'coding' is given twice.", None),
    ("/assess 123 coding=4 CODING=5", "“CODING”给了两次。", "'CODING' is given twice.", None),
    ("/assess 123 comment=a 评语=b", "“comment”和“评语”是同一项，只能给一次。",
     "'comment' and '评语' are the same field; give it once.", None),
    ("/assess 123 name=a username=b", "“name”和“username”是同一项，只能给一次。",
     "'name' and 'username' are the same field; give it once.", None),
    ("/assess 123 coding=", "“coding=”缺少值。", "'coding=' has no value.", None),
    ("/assess 123 coding= 4", "“coding=”缺少值。", "'coding=' has no value.", None),
    ("/assess 123 备注：", "“备注：”缺少值。", "'备注：' has no value.", None),
    ("/assess 123 =4", "“=4”在“=”前面缺少名称。", "'=4' has no name before '='.", None),
    ('/assess 123 comment="思路清晰', "引号 \" 没有结束：“comment=\"思路清晰”。",
     "The quote \" is never closed: 'comment=\"思路清晰'.", None),
    ("/assess 123 comment=“思路清晰", "引号 “ 没有结束：“comment=“思路清晰”。",
     "The quote “ is never closed: 'comment=“思路清晰'.", None),
    ("/assess 123 「pass", "引号 「 没有结束：“「pass”。", "The quote 「 is never closed: '「pass'.", None),
    ('/assess 123 comment="he said "hi""', f"“comment=\"he said \"hi\"\"”中引号结束后紧跟着“hi\"\"”；{AFTER_QUOTE_ZH}",
     f"'hi\"\"' follows the closing quote in 'comment=\"he said \"hi\"\"'; {AFTER_QUOTE_EN}", None),
    ("/assess 123 owner=zhang", "owner= 后面需要 @ 一个人。", "owner= needs an @mention.", None),
    ("/assess 123 负责人=@_user_9", "负责人= 后面需要 @ 一个人。", "负责人= needs an @mention.", None),
    ('/assess 123 owner=""', "owner= 后面需要 @ 一个人。", "owner= needs an @mention.", None),
    ("/assess 123 @_user_2", "单独的 @ 无法识别；要转交面评请写 owner=@某人。",
     "An @mention on its own is not understood; to hand the assessment over, write owner=@someone.", None),
])
def test_assess_mistakes_say_exactly_what_is_wrong(text, zh, en, suggestion):
    found = problem(text, mentions=MENTIONS)
    assert (found.zh, found.en, found.suggestion, found.command, found.usage) == (
        zh, en, suggestion, "assess", usage("assess"))


@pytest.mark.parametrize(("text", "zh", "en", "suggestion"), [
    ("/assess 123 coding", "“coding”缺少值，请写成 coding=<值>。", "'coding' has no value; write coding=<value>.",
     "coding="),
    ("/assess 123 pass 编码", "“编码”缺少值，请写成 编码=<值>。", "'编码' has no value; write 编码=<value>.", "编码="),
    ("/assess 123 desgn", "结论“desgn”无效。是否想输入 design=…？",
     "'desgn' is not a conclusion. Did you mean design=…?", "design="),
    ("/assess 123 pas", "结论“pas”无效。是否想输入 pass？", "'pas' is not a conclusion. Did you mean pass?", "pass"),
    ("/assess 123 coding=4 code=3", "“coding”和“code”是同一项，只能给一次。",
     "'coding' and 'code' are the same field; give it once.", None),
])
def test_with_the_rubric_dimension_words_sharpen_the_hints(text, zh, en, suggestion):
    found = problem(text, rubric=SHIPPED)
    assert (found.zh, found.en, found.suggestion, found.command) == (zh, en, suggestion, "assess")


def test_without_the_rubric_aliases_of_one_dimension_are_left_to_validation():
    assert parse("/assess 123 coding=4 code=3") == assess(dimensions=(("coding", "4"), ("code", "3")))


@pytest.mark.parametrize(("text", "zh", "en"), [
    ("/history", *MISSING_ID[:2]),
    ("/history 123 456", "多余的内容“456”。", "Unexpected '456'."),
    ("/history a/b", "“a/b”不是有效的面评 ID（应为数字、字母、_ 或 -）。",
     "'a/b' is not an assessment id (use digits, letters, _ or -)."),
])
def test_history_mistakes_say_exactly_what_is_wrong(text, zh, en):
    found = problem(text)
    assert (found.zh, found.en, found.suggestion, found.command, found.usage) == (
        zh, en, None, "history", "/history <assessment_id>")


def test_help_entries_cover_every_command_once_with_usage_and_summaries():
    entries = declarations()
    assert [e.name for e in entries] == ["assess", "todo", "history", "assign", "import", "panel", "help", "whoami"]
    assert [e.aliases for e in entries] == [("面评",), ("my", "待办", "我的面试"), ("历史", "记录"), ("安排",),
                                            ("导入",), ("面板", "汇总", "summary"), ("帮助", "?"), ("我是谁",)]
    for entry in entries:
        assert entry.usage.startswith(f"/{entry.name}")
        assert entry.summary_zh and entry.summary_en and entry.examples
        assert usage(entry.name) == entry.usage
        assert all(usage(alias) == entry.usage for alias in entry.aliases)


@pytest.mark.parametrize("example", [ex for entry in declarations() for ex in entry.examples])
def test_every_help_example_parses_to_its_command(example):
    entry = next(e for e in declarations() if usage(example.split()[0]) == e.usage)
    typed = re.sub(r"(?<=\s)@\S+", "@_user_1", example)  # a person picked after @ arrives as a placeholder
    assert type(parse(typed, MENTIONS, rubric=SHIPPED)).name == entry.name


@given(st.text())
def test_parse_never_fails_with_anything_but_a_command_problem(text):
    for candidate in (text, f"/assess {text}", f"/assess 123 {text}", f"/history {text}"):
        try:
            parse(candidate, MENTIONS, SHIPPED)
        except CommandProblem as found:
            assert found.zh and found.en and found.usage


@given(st.text().filter(lambda s: "」" not in s))
def test_any_text_inside_corner_quotes_is_kept_exactly(text):
    assert parse(f"/assess 123 comment=「{text}」") == assess(content=text)


@pytest.mark.parametrize("text,conclusion,dimensions,content", [
    ("/assess 1 通过，编码=4", "通过", (("编码", "4"),), None),
    ("/assess 1 通过， coding＝4，design：3", "通过", (("coding", "4"), ("design", "3")), None),
    ("/assess 1 tags=算法，架构", None, (("tags", "算法，架构"),), None),
    ("/assess 1 tags=算法,架构,design=3", None, (("tags", "算法,架构"), ("design", "3")), None),
    ("/assess 1 pass comment=“很好”，coding=4", "pass", (("coding", "4"),), "很好"),
    ("/assess 1 comment=好，很好", None, (), "好，很好"),
])
def test_a_comma_between_fields_separates_them_but_not_inside_a_value(text, conclusion, dimensions, content):
    command = parse(text, {}, SHIPPED)
    assert command.fields == RawFields(conclusion=conclusion, dimensions=dimensions, content=content)
