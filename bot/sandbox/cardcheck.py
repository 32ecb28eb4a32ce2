"""A strict structural check of card JSON 2.0, for tests and the local Open API: what Feishu would refuse.

JSON 2.0 rejects unknown properties instead of ignoring them, so every object is checked against the
properties its documentation lists: https://open.feishu.cn/document/feishu-cards/card-json-v2-structure
Only the components this bot uses (and a few common ones) are known; anything else is reported.
"""

from __future__ import annotations

import json
import re

from cards import limits

MAX_INPUT_LENGTH = 1000

LOCALES = frozenset({"zh_cn", "en_us", "zh_hk", "zh_tw", "ja_jp", "id_id", "vi_vn", "th_th", "pt_br", "es_es",
                     "ko_kr", "de_de", "fr_fr", "it_it", "ru_ru", "ms_my"})
TEMPLATES = frozenset({"blue", "wathet", "turquoise", "green", "yellow", "orange", "red", "carmine", "violet",
                       "purple", "indigo", "grey", "default"})
BUTTON_TYPES = frozenset({"default", "primary", "danger", "text", "primary_text", "danger_text", "primary_filled",
                          "danger_filled", "laser"})
_ELEMENT_ID = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,19}")
_PROPERTY_TAGS = frozenset({"plain_text", "lark_md", "standard_icon", "custom_icon"})  # parts of a component

_TOP = {"schema", "config", "card_link", "header", "body"}
_CONFIG = {"streaming_mode", "streaming_config", "summary", "locales", "enable_forward", "update_multi",
           "width_mode", "use_custom_translation", "enable_forward_interaction", "style"}
_HEADER = {"title", "subtitle", "text_tag_list", "i18n_text_tag_list", "template", "icon", "padding"}
_BODY = {"direction", "padding", "horizontal_spacing", "horizontal_align", "vertical_spacing", "vertical_align",
         "elements"}
_URLS = {"url", "android_url", "ios_url", "pc_url"}
_SUMMARY = {"content", "i18n_content"}
_TITLE = {"tag", "content", "i18n_content", "i18n"}
_TEXT = {"tag", "content", "i18n_content", "text_size", "text_color", "text_align", "lines"}
_PLAIN = {"tag", "content", "i18n_content"}
_ICON = {"tag", "token", "color", "img_key"}
_TEXT_TAG = {"tag", "element_id", "text", "color"}
_OPTION = {"text", "icon", "value"}
_CONFIRM = {"title", "text"}

_COMMON = {"tag", "element_id", "margin"}
_SPACING = {"horizontal_spacing", "horizontal_align", "vertical_spacing", "vertical_align", "direction", "padding"}
_COMPONENTS: dict[str, set[str]] = {
    "div": _COMMON | {"width", "text", "icon"},
    "markdown": _COMMON | {"content", "i18n_content", "text_size", "text_align", "icon"},
    "hr": _COMMON,
    "column_set": _COMMON | {"horizontal_spacing", "horizontal_align", "flex_mode", "background_style", "action",
                             "columns"},
    "column": _COMMON | _SPACING | {"background_style", "width", "weight", "action", "elements"},
    "form": _COMMON | _SPACING | {"name", "elements"},
    "input": _COMMON | {"name", "required", "placeholder", "default_value", "i18n_default_value", "disabled",
                        "disabled_tips", "width", "behaviors", "max_length", "input_type", "rows", "auto_resize",
                        "max_rows", "show_icon", "label", "label_position", "value", "confirm"},
    "select_static": _COMMON | {"type", "name", "required", "disabled", "initial_option", "initial_index",
                                "placeholder", "width", "behaviors", "options", "confirm"},
    "multi_select_static": _COMMON | {"type", "name", "required", "disabled", "placeholder", "width", "behaviors",
                                      "selected_values", "options", "confirm"},
    "button": _COMMON | {"type", "size", "width", "text", "icon", "hover_tips", "disabled", "disabled_tips",
                         "confirm", "behaviors", "name", "form_action_type", "action_type"},
}
_CONTROLS = {"input", "select_static", "multi_select_static", "button"}


def problems(card: object, *, wire: bool = True) -> list[str]:
    """Everything Feishu would reject in this card; an empty list means it is valid.

    `wire`: also the limits as Feishu counts them (cards.limits) for the largest body the card may travel in;
    False when the caller measures the actual request body itself (the local Open API).
    """
    return _Checker(wire).check(card)


def count_components(card: object) -> int:
    """Components in the card: every object with a `tag`, at any depth, except text and icon parts."""
    if isinstance(card, dict):
        own = 1 if isinstance(card.get("tag"), str) and card["tag"] not in _PROPERTY_TAGS else 0
        return own + sum(count_components(v) for v in card.values())
    if isinstance(card, list):
        return sum(count_components(v) for v in card)
    return 0


class _Checker:
    def __init__(self, wire: bool = True) -> None:
        self.wire = wire
        self.found: list[str] = []
        self.names: set[str] = set()
        self.element_ids: set[str] = set()
        self.submits = 0

    def problem(self, path: str, message: str) -> None:
        self.found.append(f"{path}: {message}")

    def check(self, card: object) -> list[str]:
        if not isinstance(card, dict):
            return ["card: not an object"]
        self.keys(card, _TOP, "card")
        if card.get("schema") != "2.0":
            self.problem("schema", f"must be \"2.0\", not {card.get('schema')!r}")
        self.config(card.get("config"))
        if "card_link" in card:
            self.keys(card["card_link"], _URLS, "card_link")
        if "header" in card:
            self.header(card["header"])
        body = card.get("body")
        if self.keys(body, _BODY, "body"):
            self.elements(body.get("elements"), "body.elements", in_form=False, root=True)
        else:
            self.problem("body", "missing")
        try:
            json.dumps(card, ensure_ascii=False).encode("utf-8")
        except (TypeError, ValueError, UnicodeEncodeError) as exc:
            self.problem("card", f"cannot be serialized ({exc})")
        else:
            if self.wire:
                self.found.extend(limits.card_problems(card))
        return self.found

    def keys(self, obj: object, allowed: set[str], path: str) -> bool:
        """Report unknown properties; False when `obj` is not an object at all."""
        if not isinstance(obj, dict):
            if obj is not None:
                self.problem(path, "not an object")
            return False
        for key in obj:
            if key not in allowed:
                self.problem(path, f"unknown property {key!r}")
        return True

    def config(self, config: object) -> None:
        if not self.keys(config, _CONFIG, "config") or config.get("update_multi") is not True:  # type: ignore[union-attr]
            self.problem("config.update_multi", "must be true (JSON 2.0 cards are shared)")
            if not isinstance(config, dict):
                return
        if "summary" in config and self.keys(config["summary"], _SUMMARY, "config.summary"):
            self.i18n(config["summary"].get("i18n_content"), "config.summary.i18n_content")
        locales = config.get("locales", [])
        if not isinstance(locales, list) or any(loc not in LOCALES for loc in locales):
            self.problem("config.locales", f"only documented locales: {locales!r}")

    def header(self, head: object) -> None:
        if not self.keys(head, _HEADER, "header"):
            return
        if "title" not in head:  # type: ignore[operator]
            self.problem("header.title", "missing")
        for part in ("title", "subtitle"):
            if part in head:  # type: ignore[operator]
                self.text(head[part], f"header.{part}", _TITLE, ("plain_text", "lark_md"))  # type: ignore[index]
        template = head.get("template", "default")  # type: ignore[union-attr]
        if template not in TEMPLATES:
            self.problem("header.template", f"{template!r} is not a documented colour")
        if "icon" in head:  # type: ignore[operator]
            self.keys(head["icon"], _ICON, "header.icon")  # type: ignore[index]
        for i, tag in enumerate(head.get("text_tag_list", [])):  # type: ignore[union-attr]
            if self.keys(tag, _TEXT_TAG, f"header.text_tag_list[{i}]"):
                self.element_id(tag, f"header.text_tag_list[{i}]")
                self.text(tag.get("text"), f"header.text_tag_list[{i}].text", _PLAIN, ("plain_text",))

    def text(self, obj: object, path: str, allowed: set[str], tags: tuple[str, ...]) -> None:
        if not self.keys(obj, allowed, path):
            self.problem(path, "missing")
            return
        if obj.get("tag") not in tags:  # type: ignore[union-attr]
            self.problem(f"{path}.tag", f"must be one of {', '.join(tags)}")
        if not isinstance(obj.get("content", ""), str):  # type: ignore[union-attr]
            self.problem(f"{path}.content", "must be a string")
        for key in ("i18n_content", "i18n"):
            if key in obj:  # type: ignore[operator]
                self.i18n(obj[key], f"{path}.{key}")  # type: ignore[index]

    def i18n(self, value: object, path: str) -> None:
        if value is None:
            return
        if not isinstance(value, dict):
            self.problem(path, "not an object")
            return
        for locale, content in value.items():
            if locale not in LOCALES:
                self.problem(path, f"unknown locale {locale!r}")
            if not isinstance(content, str):
                self.problem(f"{path}.{locale}", "must be a string")

    def element_id(self, element: dict, path: str) -> None:
        if "element_id" not in element:
            return
        eid = element["element_id"]
        if not isinstance(eid, str) or not _ELEMENT_ID.fullmatch(eid):
            self.problem(f"{path}.element_id", f"{eid!r}: letters, digits and _, a letter first, at most 20")
        elif eid in self.element_ids:
            self.problem(f"{path}.element_id", f"{eid!r} is used twice")
        else:
            self.element_ids.add(eid)

    def name(self, element: dict, path: str) -> None:
        name = element.get("name")
        if not isinstance(name, str) or not name.strip():
            self.problem(f"{path}.name", "missing (every form control needs a unique name)")
        elif name in self.names:
            self.problem(f"{path}.name", f"{name!r} is used twice")
        else:
            self.names.add(name)

    def elements(self, elements: object, path: str, *, in_form: bool, root: bool = False) -> None:
        if not isinstance(elements, list):
            self.problem(path, "must be a list")
            return
        for i, element in enumerate(elements):
            if isinstance(element, dict) and element.get("tag") == "column":
                self.problem(f"{path}[{i}]", "a column must sit in a column_set")
            else:
                self.element(element, f"{path}[{i}]", in_form=in_form, root=root)

    def element(self, element: object, path: str, *, in_form: bool, root: bool) -> None:
        if not isinstance(element, dict):
            self.problem(path, "not an object")
            return
        tag = element.get("tag")
        if tag not in _COMPONENTS:
            self.problem(path, f"unsupported component {tag!r}")
            return
        self.keys(element, _COMPONENTS[tag], path)
        self.element_id(element, path)
        if "icon" in element:
            self.keys(element["icon"], _ICON, f"{path}.icon")
        if tag == "div":
            if "text" in element:
                self.text(element["text"], f"{path}.text", _TEXT, ("plain_text", "lark_md"))
        elif tag == "markdown":
            if not isinstance(element.get("content"), str):
                self.problem(f"{path}.content", "missing")
            self.i18n(element.get("i18n_content"), f"{path}.i18n_content")
        elif tag == "form":
            self.form(element, path, in_form=in_form, root=root)
        elif tag == "column_set":
            columns = element.get("columns")
            if not isinstance(columns, list):
                self.problem(f"{path}.columns", "must be a list")
                return
            for i, column in enumerate(columns):
                where = f"{path}.columns[{i}]"
                if isinstance(column, dict) and column.get("tag") != "column":
                    self.problem(where, "a column_set holds only columns")
                else:
                    self.element(column, where, in_form=in_form, root=False)
        elif tag == "column":
            self.elements(element.get("elements", []), f"{path}.elements", in_form=in_form)
        if tag in _CONTROLS:
            self.control(element, path, in_form=in_form)

    def form(self, element: dict, path: str, *, in_form: bool, root: bool) -> None:
        if in_form:
            self.problem(path, "a form cannot hold another form")
        elif not root:
            self.problem(path, "a form must sit directly in body.elements")
        self.name(element, path)
        before = self.submits
        self.elements(element.get("elements"), f"{path}.elements", in_form=True)
        if self.submits == before:
            self.problem(path, "a form needs a button with form_action_type \"submit\"")

    def control(self, element: dict, path: str, *, in_form: bool) -> None:
        tag = element["tag"]
        if in_form:
            self.name(element, path)
        elif tag == "multi_select_static":
            self.problem(path, "multi_select_static only works inside a form")
        elif "required" in element:
            self.problem(f"{path}.required", "only allowed inside a form")
        for part in ("placeholder", "label", "disabled_tips", "hover_tips"):
            if part in element:
                self.text(element[part], f"{path}.{part}", _PLAIN, ("plain_text",))
        placeholder = element.get("placeholder")
        if isinstance(placeholder, dict) and len(str(placeholder.get("content", ""))) > 100:
            self.problem(f"{path}.placeholder", "longer than 100 characters")
        if "confirm" in element and self.keys(element["confirm"], _CONFIRM, f"{path}.confirm"):
            for part in ("title", "text"):
                self.text(element["confirm"].get(part), f"{path}.confirm.{part}", _PLAIN, ("plain_text",))
        if "behaviors" in element:
            self.behaviors(element["behaviors"], f"{path}.behaviors")
        if tag in ("select_static", "multi_select_static"):
            self.options(element, path)
        elif tag == "input":
            self.input(element, path)
        elif tag == "button":
            self.button(element, path, in_form=in_form)

    def behaviors(self, behaviors: object, path: str) -> None:
        if not isinstance(behaviors, list):
            self.problem(path, "must be a list")
            return
        for i, behavior in enumerate(behaviors):
            where = f"{path}[{i}]"
            kind = behavior.get("type") if isinstance(behavior, dict) else None
            if kind == "callback":
                self.keys(behavior, {"type", "value"}, where)
                if not isinstance(behavior.get("value"), dict):  # type: ignore[union-attr]
                    self.problem(f"{where}.value", "a callback value must be an object")
            elif kind == "open_url":
                self.keys(behavior, {"type", "default_url", "pc_url", "ios_url", "android_url"}, where)
            else:
                self.problem(where, f"unknown behaviour {kind!r}")

    def options(self, element: dict, path: str) -> None:
        options = element.get("options", [])
        if not isinstance(options, list):
            self.problem(f"{path}.options", "must be a list")
            return
        values: list[object] = []
        for i, option in enumerate(options):
            where = f"{path}.options[{i}]"
            if self.keys(option, _OPTION, where):
                self.text(option.get("text"), f"{where}.text", _PLAIN, ("plain_text",))
                if not isinstance(option.get("value"), str):
                    self.problem(f"{where}.value", "must be a string")
                values.append(option.get("value"))
        duplicates = sorted({str(v) for v in values if values.count(v) > 1})
        if duplicates:
            self.problem(f"{path}.options", f"values used more than once: {', '.join(duplicates)}")
        if "initial_option" in element and element["initial_option"] not in values:
            self.problem(f"{path}.initial_option", f"{element['initial_option']!r} is not an option value")
        selected = element.get("selected_values", [])
        if not isinstance(selected, list) or any(v not in values for v in selected):
            self.problem(f"{path}.selected_values", "every value must be an option value")

    def input(self, element: dict, path: str) -> None:
        limit = element.get("max_length", MAX_INPUT_LENGTH)
        if not isinstance(limit, int) or not 1 <= limit <= MAX_INPUT_LENGTH:
            self.problem(f"{path}.max_length", f"must be 1 to {MAX_INPUT_LENGTH}")
            limit = MAX_INPUT_LENGTH
        default = element.get("default_value", "")
        if not isinstance(default, str):
            self.problem(f"{path}.default_value", "must be a string")
        elif len(default) > limit:
            self.problem(f"{path}.default_value", f"{len(default)} characters, more than max_length {limit}")
        if element.get("input_type", "text") not in ("text", "multiline_text", "password"):
            self.problem(f"{path}.input_type", f"unknown input type {element.get('input_type')!r}")
        if element.get("label_position", "top") not in ("top", "left"):
            self.problem(f"{path}.label_position", "must be top or left")
        self.i18n(element.get("i18n_default_value"), f"{path}.i18n_default_value")

    def button(self, element: dict, path: str, *, in_form: bool) -> None:
        label = element.get("text")
        if label is not None:
            self.text(label, f"{path}.text", _PLAIN, ("plain_text",))
            if isinstance(label, dict) and len(str(label.get("content", ""))) > 100:
                self.problem(f"{path}.text", "longer than 100 characters")
        if element.get("type", "default") not in BUTTON_TYPES:
            self.problem(f"{path}.type", f"unknown button type {element.get('type')!r}")
        action = element.get("form_action_type")
        if action is not None and action not in ("submit", "reset"):
            self.problem(f"{path}.form_action_type", "must be submit or reset")
        if (action is not None or "action_type" in element) and not in_form:
            self.problem(path, "form_action_type only works inside a form")
        if in_form and (action == "submit" or element.get("action_type") == "form_submit"):
            self.submits += 1
