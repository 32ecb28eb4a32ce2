"""Small builders every card uses: text, markdown, header, button, divider, the card itself, a toast.

Card JSON 2.0: https://open.feishu.cn/document/feishu-cards/card-json-v2-structure
Text that people typed only ever goes into `plain_text` (through `user_text`); markdown is for the bot's own words.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime

from cards.limits import TOAST_CHARS, fits

TOAST_LIMIT = TOAST_CHARS
SHORTENED = ("内容较多，部分内容已缩短或隐藏，以符合飞书卡片的大小限制。",
             "Shortened to fit Feishu's card limits: some text is cut or hidden.")
TOO_BIG = ("这张卡片的内容超出了飞书卡片的大小限制，无法显示。",
           "This card holds more than a Feishu card can show.")

Element = dict


def _translation() -> dict[int, int | str | None]:
    table: dict[int, int | str | None] = {c: None for c in (*range(0x00, 0x20), *range(0x7F, 0xA0))}
    del table[ord("\n")], table[ord("\t")]
    # bidi embeddings/overrides/isolates reorder the text around them and can make a value read as another
    table.update({c: None for c in (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))})
    table.update({c: None for c in (0x200B, 0x2060, 0xFEFF)})  # invisible; ZWJ/ZWNJ stay, emoji need them
    table.update({0x2028: "\n", 0x2029: "\n"})
    # a lone surrogate cannot be encoded as UTF-8: the whole card would fail to serialize
    table.update({c: "\ufffd" for c in range(0xD800, 0xE000)})
    return table


_CLEAN = _translation()


def user_text(s: str | None, limit: int = 1500, *, one_line: bool = False) -> str:
    """Typed text made safe to show: control and bidi characters removed, cut to `limit` characters with "…"."""
    if not s:
        return ""
    clean = s[: limit * 4 + 16].translate(_CLEAN)  # cut first: a 50 KB comment needs no full pass
    if one_line:
        clean = " ".join(clean.split())
    if len(clean) <= limit:
        return clean
    return clean[: max(limit - 1, 0)].rstrip() + "…" if limit > 0 else ""


def i18n(zh: str, en: str) -> dict[str, str]:
    """The `i18n_content` of a bilingual text."""
    return {"zh_cn": zh, "en_us": en}


def plain(zh: str, en: str | None = None) -> dict:
    """A plain_text text object; bilingual when `en` is given, else shown the same in every language."""
    obj: dict = {"tag": "plain_text", "content": zh}
    if en is not None:
        obj["i18n_content"] = i18n(zh, en)
    return obj


def text(zh: str, en: str | None = None, *, size: str | None = None, color: str | None = None) -> Element:
    """A plain_text div; `en=None` for language-neutral text such as what a person typed."""
    obj = plain(zh, en)
    if size:
        obj["text_size"] = size
    if color:
        obj["text_color"] = color
    return {"tag": "div", "text": obj}


def note(zh: str, en: str | None = None) -> Element:
    """A small grey line: labels, footers, hints."""
    return text(zh, en, size="notation", color="grey")


def md(zh: str, en: str, *, size: str | None = None) -> Element:
    """Markdown the bot wrote itself; never put typed text here."""
    element: Element = {"tag": "markdown", "content": zh, "i18n_content": i18n(zh, en)}
    if size:
        element["text_size"] = size
    return element


def header(zh: str, en: str, template: str, subtitle: str | None = None) -> dict:
    """The card header; the subtitle is shown as given (ids, names) on one line."""
    head: dict = {"title": plain(zh, en), "template": template}
    if subtitle:
        head["subtitle"] = plain(user_text(subtitle, 80, one_line=True))
    return head


def button(zh: str, en: str, value: dict | None, type: str = "default", *, name: str | None = None,
           form_action_type: str | None = None) -> Element:
    """A button; `value` comes back in the callback and must be an object (the SDK cannot read a string)."""
    element: Element = {"tag": "button", "text": plain(zh, en), "type": type}
    if name:
        element["name"] = name
    if form_action_type:
        element["form_action_type"] = form_action_type
    if value is not None:
        if not isinstance(value, dict):
            raise TypeError("a button's callback value must be a dict")
        element["behaviors"] = [{"type": "callback", "value": value}]
    return element


def buttons(*items: Element) -> Element:
    """Buttons side by side."""
    columns = [{"tag": "column", "width": "auto", "elements": [item]} for item in items]
    return {"tag": "column_set", "horizontal_spacing": "8px", "columns": columns}


def hr() -> Element:
    """A divider."""
    return {"tag": "hr"}


def card(head: dict, elements: Sequence[Element], summary: tuple[str, str] | None = None) -> dict:
    """A whole card; the chat-list preview says `summary`, or the title."""
    zh, en = summary or (head["title"]["content"], head["title"]["i18n_content"]["en_us"])
    return {
        "schema": "2.0",
        "config": {"update_multi": True, "summary": {"content": zh, "i18n_content": i18n(zh, en)}},
        "header": head,
        "body": {"elements": list(elements)},
    }


def toast(kind: str, zh: str, en: str) -> dict:
    """A callback toast (`info`, `success`, `error`, `warning`) in both languages."""
    zh, en = user_text(zh, TOAST_LIMIT, one_line=True), user_text(en, TOAST_LIMIT, one_line=True)
    return {"type": kind, "content": zh, "i18n": i18n(zh, en)}


def size(built: dict) -> int:
    """Bytes of the card itself; what Feishu limits is the request body around it (cards.limits)."""
    return len(json.dumps(built, ensure_ascii=False).encode("utf-8"))


def fit(build: Callable[[int], dict], levels: int, *, fallback: Callable[[], dict] | None = None) -> dict:
    """The fullest version of a card within Feishu's limits as Feishu counts them (cards.limits).

    `build(0)` shows most; each next level shows less, and a shortened card says so at its top. When even the
    last level is too big, `fallback()` (or a card that says it is too big to show) is returned instead.
    """
    built: dict = {}
    for level in range(levels):
        built = build(level)
        if level:
            built = _shortened(built)
        if fits(built):
            return built
    if fallback is not None and fits(last := fallback()):
        return last
    return too_big_card(built.get("header"))  # a header (title, 80-character subtitle) and one line: always fits


def _shortened(built: dict) -> dict:
    body = built["body"]
    return {**built, "body": {**body, "elements": [note(*SHORTENED), *body["elements"]]}}


def too_big_card(head: dict | None, zh: str = TOO_BIG[0], en: str = TOO_BIG[1]) -> dict:
    """What is sent instead of a card that cannot fit: the same header and a line saying why."""
    return card(head or header("面评助手", "Assessment bot", "grey"), [text(zh, en)])


def when(at: datetime) -> str:
    """`YYYY-MM-DD HH:MM` with the zone, e.g. `2024-05-01 14:30 CST (UTC+08:00)`."""
    stamp = at.strftime("%Y-%m-%d %H:%M")
    offset = at.utcoffset()
    if offset is None:
        return stamp
    minutes = int(offset.total_seconds()) // 60
    sign, minutes = ("+" if minutes >= 0 else "-"), abs(minutes)
    utc = f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"
    name = at.tzname()
    if not minutes:
        return f"{stamp} UTC"
    return f"{stamp} {name} ({utc})" if name and name != utc else f"{stamp} ({utc})"
