"""The tenant's feedback forms (面试评价表) as the sandbox's Hire holds them: three forms, every version kept, and an
edit that makes a new version with new ids for everything, as Hire does.

GET /open-apis/hire/v1/interview_feedback_forms:
https://open.feishu.cn/document/hire-v1/recruitment-related-configuration/interview-settings/list-3
Paged (page_size 1–100, required here: Feishu's default is 0) it lists each form's newest version; with
`interview_feedback_form_ids` (at most 100) it returns exactly those versions, older ones too, unpaged.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterator, Mapping, Sequence

from bot.sandbox.openapi.wire import invalid_param

MAX_PAGE = 100
MAX_IDS = 100
ENGINEERING, SALES, HR = "工程师面试评价表", "销售岗位面评表", "HR 面试评价表"


def _i18n(zh: str, en: str) -> dict:
    return {"zh_cn": zh, "en_us": en}


def _options(*labels: tuple[str, str, int]) -> list[dict]:
    return [{"id": "", "name": _i18n(zh, en), "description": _i18n("", ""), "score_val": score}
            for zh, en, score in labels]


def _dimension(zh: str, en: str, kind: int, *, required: bool = False, enabled: bool = True,
               options: list[dict] | None = None, limits: tuple[int, int] | None = None, described: str = "",
               described_en: str = "", when: tuple[str, int, list[str]] | None = None) -> dict:
    dim: dict = {"id": "", "name": _i18n(zh, en), "description": _i18n(described, described_en), "type": kind,
                 "enabled": enabled, "sequence": 0, "is_required": required, "weight": 1,
                 "option_items": options or [], "ability_list": []}
    if limits is not None:
        dim["score_dimension_config"] = {"score_dimension_type": 2, "lower_limit_score": limits[0],
                                         "upper_limit_score": limits[1]}
    if kind == 5:
        dim["display_not_evident"] = True
    if when is not None:  # (the other dimension's Chinese title, operator, its options' Chinese labels): ids later
        dim["_when"] = when
    return dim


def _module(zh: str, en: str, kind: int, dimensions: list[dict], described: str = "", described_en: str = "",
            weight: float = 1) -> dict:
    return {"id": "", "name": _i18n(zh, en), "description": _i18n(described, described_en), "type": kind,
            "sequence": 0, "weight": weight, "dimensions": dimensions}


def _conclusion_module(notes: str = "面试记录", notes_en: str = "Interview notes", score: bool = False) -> dict:
    dims = [_dimension("面试结论", "Interview result", 10, required=True,
                       options=_options(("通过", "Pass", 0), ("不通过", "Fail", 0), ("待定", "Pending", 0)))]
    if score:
        dims.append(_dimension("得分", "Score", 11))
    dims.append(_dimension(notes, notes_en, 12))
    return _module("面试结论", "Interview conclusion", 1, dims)


def seed_forms() -> list[dict]:
    """The three forms the sandbox starts with, in Hire's shape (ids filled in by `Forms`)."""
    engineering = {
        "name": _i18n(ENGINEERING, "Engineering interview form"), "type": 2,
        "score_calculation_config": {"enabled": True, "calculation_mode": 1},
        "modules": [
            _module("专业能力", "Technical skills", 2, [
                _dimension("代码质量", "Code quality", 6, required=True, described="代码的正确性、可读性与测试",
                           described_en="Correctness, readability and tests",
                           options=_options(("优秀", "Excellent", 5), ("良好", "Good", 4), ("合格", "Fair", 3),
                                            ("待提高", "Needs work", 2), ("不合格", "Poor", 1))),
                _dimension("系统设计", "System design", 7, required=True, limits=(1, 10),
                           described="1–10 分", described_en="1 to 10"),
                _dimension("技术亮点", "Technical strengths", 2,
                           options=_options(("算法", "Algorithms", 0), ("架构", "Architecture", 0),
                                            ("工程质量", "Engineering quality", 0), ("调试", "Debugging", 0))),
                _dimension("技术评价", "Technical notes", 3),
            ], "评估候选人的工程能力", "How well the candidate builds software"),
            _module("职级", "Level", 2, [_dimension("职级建议", "Suggested level", 5)]),
            _conclusion_module(score=True),
        ],
    }
    sales = {
        "name": _i18n(SALES, "Sales interview form"), "type": 1,
        "modules": [
            _module("销售能力", "Sales skills", 2, [
                _dimension("客户沟通", "Client communication", 1, required=True,
                           options=_options(("强", "Strong", 0), ("中", "Medium", 0), ("弱", "Weak", 0))),
                _dimension("抗压能力", "Resilience", 1, enabled=False,
                           options=_options(("强", "Strong", 0), ("弱", "Weak", 0))),
                _dimension("业绩潜力", "Sales potential", 7, limits=(1, 5)),
                _dimension("销售案例", "Sales case", 3),
            ]),
            _conclusion_module("综合评价", "Overall notes"),
        ],
    }
    hr = {
        "name": _i18n(HR, "HR interview form"), "type": 1,
        "modules": [
            _module("综合评估", "Overall", 2, [
                _dimension("是否推荐录用", "Recommend hiring", 1, required=True,
                           options=_options(("推荐", "Recommend", 0), ("不推荐", "Do not recommend", 0))),
                _dimension("推荐理由", "Why recommend", 3, required=True, when=("是否推荐录用", 1, ["推荐"])),
                _dimension("不推荐原因", "Why not", 3, required=True, when=("是否推荐录用", 1, ["不推荐"])),
                _dimension("关注点", "Concerns", 2,
                           options=_options(("薪资期望", "Salary expectations", 0), ("稳定性", "Stability", 0),
                                            ("文化匹配", "Culture fit", 0))),
            ]),
            _conclusion_module(),
        ],
    }
    return [engineering, sales, hr]


class Forms:
    """Every version of every form; the newest of each is what the paged list shows."""

    def __init__(self, forms: Sequence[dict] | None = None, first_id: int = 7_400_000_000_000_000_001):
        self._ids: Iterator[int] = itertools.count(first_id)
        self.versions: dict[str, dict] = {}
        self.newest: list[str] = []  # the newest version's id of each form, in the order the forms were made
        for form in seed_forms() if forms is None else forms:
            made = self._made(form, 1)
            self.versions[made["id"]] = made
            self.newest.append(made["id"])

    def listed(self, args: Mapping[str, str], ids: list[str]) -> dict:
        """The list endpoint's `data`."""
        if ids:
            if len(ids) > MAX_IDS:
                raise invalid_param(f"interview_feedback_form_ids: at most {MAX_IDS}")
            return {"items": [public(self.versions[i]) for i in dict.fromkeys(ids) if i in self.versions],
                    "has_more": False}
        size = args.get("page_size", "")
        if not size.isdigit() or not 1 <= int(size) <= MAX_PAGE:
            raise invalid_param(f"page_size: must be 1 to {MAX_PAGE} (got {size!r}; Feishu's default is 0)")
        token = args.get("page_token", "")
        start = int(token) if token.isdigit() else 0
        if token and not token.isdigit():
            raise invalid_param("page_token: not a token this list gave")
        page = [public(self.versions[i]) for i in self.newest[start:start + int(size)]]
        more = start + int(size) < len(self.newest)
        return {"items": page, "has_more": more, **({"page_token": str(start + int(size))} if more else {})}

    def find(self, word: str) -> str | None:
        """The newest version's id of the form a word names (its id, any version's, or its name)."""
        for newest in self.newest:
            form = self.versions[newest]
            if word in (form["name"]["zh_cn"], form["name"]["en_us"], newest) or self._lineage(word) == newest:
                return newest
        return None

    def edit(self, word: str, changes: Mapping[str, object]) -> dict:
        """A new version of a form, as an edit in Hire makes it: new ids for the form and all it holds.

        `changes`: `name` ({zh_cn, en_us}); `add` (dimensions in the documented shape, added to the first custom
        module); `remove` (dimension titles, Chinese or English); nothing else changes but the ids and version."""
        newest = self.find(word)
        if newest is None:
            raise KeyError(word)
        form = copy.deepcopy(self.versions[newest])
        if isinstance(changes.get("name"), dict):
            form["name"] = {**form["name"], **changes["name"]}  # type: ignore[dict-item]
        removed = {str(t) for t in changes.get("remove") or ()}  # type: ignore[union-attr]
        for module in form["modules"]:
            module["dimensions"] = [d for d in module["dimensions"]
                                    if not removed & {d["name"]["zh_cn"], d["name"]["en_us"]}]
        added = [dict(d) for d in changes.get("add") or () if isinstance(d, dict)]  # type: ignore[union-attr]
        custom = next((m for m in form["modules"] if m["type"] == 2), form["modules"][0])
        custom["dimensions"] += added
        made = self._made(form, form["version"] + 1, before=self.versions[newest])
        self.versions[made["id"]] = made
        self.newest[self.newest.index(newest)] = made["id"]
        return public(made)

    def state(self) -> dict:
        return {"versions": copy.deepcopy(self.versions), "newest": list(self.newest)}

    def load(self, saved: Mapping[str, object]) -> None:
        versions, newest = saved.get("versions"), saved.get("newest")
        if isinstance(versions, dict) and isinstance(newest, list) and newest:
            self.versions, self.newest = copy.deepcopy(versions), list(newest)
            self._ids = itertools.count(max(int(i) for i in self.versions if i.isdigit()) + 1)

    def _lineage(self, form_id: str) -> str | None:
        """The newest version of the form an older version's id belongs to."""
        seen = self.versions.get(form_id)
        while seen is not None and seen.get("_next"):
            form_id, seen = seen["_next"], self.versions.get(seen["_next"])
        return form_id if seen is not None else None

    def _made(self, form: dict, version: int, before: dict | None = None) -> dict:
        """The form with fresh ids everywhere, sequences in order, conditions pointing at the new ids."""
        made = copy.deepcopy(form)
        made.pop("_next", None)
        made["id"], made["version"] = str(next(self._ids)), version
        by_title: dict[str, dict] = {}
        for m, module in enumerate(made["modules"], start=1):
            module["id"], module["sequence"] = str(next(self._ids)), m
            for d, dim in enumerate(module["dimensions"], start=1):
                dim["id"], dim["sequence"] = str(next(self._ids)), d
                for option in dim.get("option_items") or ():
                    option["id"] = str(next(self._ids))
                by_title[dim["name"]["zh_cn"]] = dim
        for module in made["modules"]:
            for dim in module["dimensions"]:
                when = dim.pop("_when", None) or dim.pop("_when_kept", None)
                dim.pop("related_dimension_config", None)
                if when is None or when[0] not in by_title:
                    continue
                other = by_title[when[0]]
                chosen = [o["id"] for o in other.get("option_items") or () if o["name"]["zh_cn"] in when[2]]
                dim["related_dimension_config"] = {"type": 1, "related_dimension_settings": [
                    {"dimension_id": other["id"], "related_operator_type": when[1], "dimension_option_ids": chosen}]}
                dim["_when_kept"] = list(when)
        if before is not None:
            before["_next"] = made["id"]
        return made


def public(form: dict) -> dict:
    """A stored version as Hire shows it (the sandbox's own bookkeeping left out)."""
    shown = copy.deepcopy(form)
    shown.pop("_next", None)
    for module in shown.get("modules") or ():
        for dim in module.get("dimensions") or ():
            dim.pop("_when_kept", None)
            dim.pop("_when", None)
    return shown
