"""/assess: record or change an assessment from a typed command; the id alone opens the form."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from bot import auth
from bot.actions import OpenForm
from bot.assessment import CONCLUSION_WORDS, RawFields, Submission, parse_conclusion, validate
from bot.commands.base import Command, Outcome, Request, Wrong
from bot.commands.grammar import ASSESSMENT_ID, MENTION, Token, missing_id, numeral, snippet, subject, tokens
from bot.commands.registry import command
from bot.contract import NewJob, Purpose, SendForm, Write
from bot.display import interview_for, interview_view, unchanged_for
from bot.feishu.mentions import free_text
from bot.rubric import Rubric
from bot.store import Known
from bot.values import FieldError, InvalidFields, suggest
from cards import errors as error_cards
from cards.notice import group_notice_card, text_card
from cards.reminder import choices_card

# Words for the fields that are not dimensions; every other key is a dimension word, checked by validation.
_FIELD_WORDS = {
    **dict.fromkeys(("conclusion", "结论"), "conclusion"),
    **dict.fromkeys(("comment", "content", "评语", "综合记录", "备注"), "content"),
    **dict.fromkeys(("name", "username", "面试官", "姓名"), "username"),
    **dict.fromkeys(("owner", "负责人"), "owner"),
}


@command
@dataclass(frozen=True)
class Assess(Command):
    """Write the given fields of an assessment (none given: open the form)."""

    name: ClassVar[str] = "assess"
    aliases: ClassVar[tuple[str, ...]] = ("面评",)
    usage: ClassVar[str] = ("/assess <assessment_id> [pass|fail|pending] [<dimension>=<value> ...] [comment=<text>] "
                            "[name=<interviewer name>] [owner=@someone]")
    summary_zh: ClassVar[str] = ("记录或修改面评：结论（通过/不通过/待定）、各维度、综合记录；只写 ID 则打开表单。"
                                 "未写的项保持不变；含空格的值请加引号。")
    summary_en: ClassVar[str] = ("Record or change an assessment: conclusion (pass/fail/pending), dimensions, comment; "
                                 "the id alone opens the form. Fields left out stay as they are; quote values with "
                                 "spaces.")
    examples: ClassVar[tuple[str, ...]] = (
        '/assess 6930815272790114324 pass coding=4 design=3 comment="思路清晰，代码整洁"',
        "/面评 6930815272790114324 通过 编码=4 亮点=算法，架构",
        "/assess 6930815272790114324 coding=5",
        "/assess 6930815272790114324",
    )

    typed_id: str  # what names the assessment: its id (Feishu's), an interview id or a candidate's name
    fields: RawFields
    owner: str | None = None  # open_id of the person the assessment is handed over to
    problems: tuple[FieldError, ...] = ()  # words not understood, said with the values that don't fit

    @classmethod
    def read(cls, args: str, mentions: Mapping[str, str], rubric: Rubric | None) -> Assess:
        found = tokens(args)
        if not found:
            from bot.commands.todo import Todo

            return Todo()  # type: ignore[return-value]  (the id alone opens the form; nothing at all, the inbox)
        first = found[0]
        if first.key is not None or (parse_conclusion(first.value) and not first.value.strip().isdigit()):
            raise _out_of_order(found) or missing_id()
        aid = subject(found[0])
        given: dict[str, str] = {}  # what each field or dimension was called, to catch it given twice
        values: dict[str, str] = {}
        dimensions: list[tuple[str, str]] = []
        problems: list[FieldError] = []  # words not understood: reported with every other mistake at once
        first_conclusion = ""
        for token in found[1:]:
            if token.key is None:
                if "conclusion" in given and not parse_conclusion(numeral(token.value)):
                    problems.append(_problem(token.value, _not_understood(token, rubric, expecting_conclusion=False)))
                    continue
                target, name = "conclusion", token.value
            else:
                name = token.key
                target = _FIELD_WORDS.get(name.casefold()) or _dimension_identity(name, rubric)
            if target in given:
                if target == "conclusion":
                    raise Wrong(f"结论给了两次：“{first_conclusion}”和“{token.value}”。",
                               f"The conclusion is given twice: '{first_conclusion}' and '{token.value}'.")
                raise _twice(given[target], name)
            given[target] = name
            if target == "conclusion":
                first_conclusion = token.value  # as typed: a word not understood has no value to quote
                try:
                    values[target] = _conclusion(token, rubric)
                except Wrong as wrong:
                    problems.append(_problem("conclusion", wrong))
            elif target == "owner":
                values[target] = _owner(token, mentions)
            elif target in ("content", "username"):
                values[target] = free_text(token.value, mentions)  # a placeholder never reaches Feishu Hire
            else:
                dimensions.append((name, free_text(numeral(token.value), mentions)))
        fields = RawFields(conclusion=values.get("conclusion"), dimensions=tuple(dimensions),
                           content=values.get("content"), username=values.get("username"))
        return cls(typed_id=aid, fields=fields, owner=values.get("owner"), problems=tuple(problems))

    def handle(self, req: Request) -> Outcome:
        ctx, settings = req.ctx, req.ctx.settings
        aid = resolve(req, self.typed_id)
        if isinstance(aid, Outcome):
            return aid
        outcome = Outcome()
        known = ctx.store.known(aid)
        owner = known.owner
        if self.owner is not None:
            decision = auth.may_transfer(settings, req.actor)
            if not decision.allowed:
                return req.deny(aid, "transfer", decision)
            outcome.owner_change, owner = (aid, self.owner), self.owner
            outcome.audits.append({"actor": req.actor, "assessment_key": aid, "action": "transfer", "result": "ok",
                                   "detail": {"to": self.owner}})
            if self.fields.is_empty:
                shown = self.typed_id
                outcome.jobs.append(req.send(text_card("已转交面评 " + shown, "Assessment " + shown + " handed over"),
                                             Purpose.HANDED_OVER))
                return outcome
        decision = req.may_write(aid, owner, self.typed_id)
        if not decision.allowed:
            return req.deny(aid, "write", decision)
        if self.problems:  # every mistake at once: the words not understood and the values that don't fit
            return self._invalid(req, aid, known, list(self.problems))
        if self.fields.is_empty:
            form = SendForm(key=aid, opened_for=req.actor, nonce=secrets.token_hex(8), target=req.private(),
                            event_id=req.event_id)
            outcome.jobs += [NewJob(form), *_group_notice(req)]
            return outcome
        chosen = ctx.forms.choose(aid, known=known)
        try:
            submission = validate(self.fields, chosen.rubric, known=known.state.dimensions)
        except InvalidFields as exc:
            return self._invalid(req, aid, known, list(exc.errors))
        outcome.pins = [chosen.pin] if chosen.pin else []
        if (same := ctx.store.unchanged_state(aid, submission, known)) is not None:
            card = unchanged_for(ctx, aid, same, chosen.rubric, req.names)
            outcome.jobs += [req.send(card, Purpose.CONFIRMED), *_group_notice(req)]
            return outcome
        outcome.jobs += [write_job(req, aid, submission), *_group_notice(req)]
        outcome.write, outcome.may_override = True, auth.is_admin(settings, req.actor)
        return outcome


    def _invalid(self, req: Request, aid: str, known: Known, errors: list[FieldError]) -> Outcome:
        """Nothing written: every problem of the command, the values that don't fit the rubric included."""
        ctx = req.ctx
        if self.problems:
            try:
                validate(self.fields, ctx.forms.choose(aid, known=known).rubric, known=known.state.dimensions)
            except InvalidFields as exc:
                errors += [e for e in exc.errors if e not in errors]
        interview = interview_for(ctx, aid)
        card = error_cards.invalid_card(interview.reference if interview else self.typed_id, errors,
                                        usage_zh=self.usage, usage_en=self.usage, interview=interview)
        return Outcome(jobs=[req.send(card, Purpose.INVALID)])


def _problem(field: str, wrong: Wrong) -> FieldError:
    return FieldError(field=field, zh=wrong.zh, en=wrong.en, suggestion=wrong.suggestion)


def resolve(req: Request, word: str) -> str | Outcome:
    """The assessment a typed word names: one of the person's interviews (by assessment id, interview id or the
    candidate's name), or an assessment id as given; several matches are offered as buttons."""
    ctx = req.ctx
    person = None if auth.is_admin(ctx.settings, req.actor) else req.actor
    matches = ctx.store.find_assignments(word, person)
    if len(matches) == 1:
        return matches[0].key
    if len(matches) > 1:
        choices = [(interview_view(ctx, a), OpenForm(a.key).encode()) for a in matches[:10]]
        return Outcome(jobs=[req.send(choices_card(word, choices), Purpose.PROBLEM)])
    if ASSESSMENT_ID.fullmatch(word):
        return word
    card = error_cards.problem_card(f"你的日程中没有候选人“{snippet(word)}”的面试。发送 /todo 查看你的面试。",
                                    f"None of your interviews is with a candidate called '{snippet(word)}'. "
                                    "Send /todo to see yours.", usage_zh=Assess.usage, usage_en=Assess.usage)
    return Outcome(jobs=[req.send(card, Purpose.PROBLEM)])


def write_job(req: Request, key: str, submission: Submission, delay: float = 0.0) -> NewJob:
    """A versioned write of one validated submission, confirmed where the request's private answers go."""
    write = Write(submission=submission, actor=req.actor, actor_name=submission.username, target=req.private(),
                  via=req.via, event_id=req.event_id)
    return NewJob(write, key, versioned=True, delay=delay)


def _group_notice(req: Request) -> list[NewJob]:
    """In a group, the form and the confirmation go privately; the group hears only that."""
    return [req.send(group_notice_card(), Purpose.GROUP_NOTICE)] if req.in_group else []


def _conclusion(token: Token, rubric: Rubric | None) -> str:
    word = numeral(token.value)
    if parse_conclusion(word) is None:
        raise _not_understood(token, rubric, expecting_conclusion=True)
    return word


def _owner(token: Token, mentions: Mapping[str, str]) -> str:
    open_id = mentions.get(token.value) if MENTION.fullmatch(token.value) else None
    if not open_id:
        raise Wrong(f"{token.key}= 后面需要 @ 一个人。", f"{token.key}= needs an @mention.")
    return open_id


def _dimension_identity(word: str, rubric: Rubric | None) -> str:
    dimension = rubric.find(word) if rubric else None
    return "dimension:" + (dimension.key if dimension else word.casefold())


def _out_of_order(found: list[Token]) -> Wrong | None:
    """The id typed after other words (`/assess pass <id>`): say where it goes, with the command reordered."""
    ids = [t for t in found if t.key is None and ASSESSMENT_ID.fullmatch(t.value) and any(c.isdigit() for c in t.value)
           and not parse_conclusion(t.value)]
    if not ids:
        return None
    aid = ids[0]
    rest = " ".join(t.text for t in found if t is not aid)
    fixed = f"/assess {aid.value} {rest}"
    return Wrong(f"面评 ID 要紧跟在命令后面，其他内容写在 ID 之后。应写成：/面评 {aid.value} {rest}",
                 f"The assessment id comes right after the command, before everything else. Write: {fixed}",
                 suggestion=fixed)


def _twice(first: str, second: str) -> Wrong:
    if first.casefold() == second.casefold():
        return Wrong(f"“{second}”给了两次。", f"'{second}' is given twice.")
    return Wrong(f"“{first}”和“{second}”是同一项，只能给一次。",
                 f"'{first}' and '{second}' are the same field; give it once.")


def _not_understood(token: Token, rubric: Rubric | None, *, expecting_conclusion: bool) -> Wrong:
    """A value that is not a conclusion, or a bare word that is no field: say what it probably was."""
    word = snippet(token.value)
    bare = token.key is None
    if bare and MENTION.fullmatch(token.value):
        return Wrong("单独的 @ 无法识别；要转交面评请写 owner=@某人。",
                     "An @mention on its own is not understood; to hand the assessment over, write owner=@someone.")
    if bare and rubric and rubric.find(token.value):
        return Wrong(f"“{word}”缺少值，请写成 {word}=<值>。", f"'{word}' has no value; write {word}=<value>.",
                     suggestion=f"{token.value}=")
    if not expecting_conclusion:
        return Wrong(f"无法识别“{word}”；各项请写成 名称=值。",
                     f"'{word}' is not understood; write fields as name=value.")
    if hint := suggest(token.value, list(CONCLUSION_WORDS)):
        return Wrong(f"结论“{word}”无效。是否想输入 {hint}？",
                     f"'{word}' is not a conclusion. Did you mean {hint}?", suggestion=hint)
    if bare and rubric and (near := suggest(token.value, rubric.all_names)):
        return Wrong(f"结论“{word}”无效。是否想输入 {near}=…？",
                     f"'{word}' is not a conclusion. Did you mean {near}=…?", suggestion=f"{near}=")
    return Wrong(f"结论“{word}”无效。可用：通过 / 不通过 / 待定（或 pass / fail / pending）；其他项请写成 名称=值。",
                 f"'{word}' is not a conclusion. Use pass, fail or pending (通过, 不通过, 待定); "
                  "write other fields as name=value.")
