"""Cards as terminal text, for the console: header, text lines, numbered buttons and numbered form controls.

Pure: a card JSON 2.0 dict in, a `View` out. Only what the bot's cards use is drawn; anything else shows as
`[tag]` so nothing is silently lost. https://open.feishu.cn/document/feishu-cards/card-json-v2-structure
"""

from __future__ import annotations

from dataclasses import dataclass, field

LOCALES = {"zh": "zh_cn", "en": "en_us"}
WORDS = {"zh": {"one": "单选：", "any": "多选：", "empty": "（空）"},
         "en": {"one": "one of: ", "any": "any of: ", "empty": "(empty)"}}
TOASTS = {"success": "✓", "error": "✗", "warning": "!", "info": "i"}


@dataclass(frozen=True)
class Button:
    """A clickable button: its label, callback value (None: no callback) and, inside a form, what it does."""

    label: str
    value: dict | None
    name: str = ""
    form_action: str | None = None  # "submit" | "reset" inside a form


@dataclass(frozen=True)
class Control:
    """A form field: a select, a multi-select or an input, with what it holds now."""

    kind: str  # "select" | "multi" | "input"
    name: str
    label: str
    required: bool = False
    options: tuple[tuple[str, str], ...] = ()  # (value, shown text)
    value: str | tuple[str, ...] | None = None
    multiline: bool = False
    max_length: int | None = None
    placeholder: str = ""

    def shown(self, value: str | tuple[str, ...] | None, lang: str) -> str:
        """A value as a person reads it: option texts rather than option values."""
        texts = dict(self.options)
        if value is None or value == "" or value == ():
            return WORDS[lang]["empty"]
        if isinstance(value, tuple):
            return ", ".join(texts.get(v, v) for v in value)
        if self.kind == "select":
            return texts.get(value, value)
        return value.replace("\n", " ↵ ")


@dataclass
class View:
    """A card drawn as text; buttons and controls are numbered from 1 in the order they appear."""

    lines: list[str] = field(default_factory=list)
    buttons: list[Button] = field(default_factory=list)
    controls: list[Control] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def submit(self) -> Button | None:
        """The form's submit button, if the card has a form."""
        return next((b for b in self.buttons if b.form_action == "submit"), None)


def render(card: dict, lang: str = "en") -> View:
    """Draw a card: a box with the title and subtitle on top, one line per text, buttons as [n], fields as (n)."""
    view = View()
    head = card.get("header") or {}
    title = words(head.get("title"), lang)
    subtitle = words(head.get("subtitle"), lang)
    view.lines.append("┌─ " + " · ".join(part for part in (title, subtitle) if part))
    _Drawer(view, lang).elements((card.get("body") or {}).get("elements") or [])
    view.lines.append("└─")
    return view


def toast_line(toast: dict, lang: str = "en") -> str:
    """A callback's toast as one line: a mark for its kind, then the text."""
    shown = (toast.get("i18n") or {}).get(LOCALES[lang]) or toast.get("content") or ""
    return f"{TOASTS.get(toast.get('type', 'info'), 'i')} {shown}"


def words(obj: object, lang: str) -> str:
    """The text of a plain_text / markdown object (or element) in one language."""
    if not isinstance(obj, dict):
        return ""
    localized = obj.get("i18n_content") or obj.get("i18n") or {}
    return str(localized.get(LOCALES[lang]) or obj.get("content") or "")


class _Drawer:
    """Walks the elements once, keeping the numbering and the label the next form control takes."""

    def __init__(self, view: View, lang: str):
        self.view, self.lang = view, lang
        self.label = ""
        self.in_form = False

    def line(self, text: str, mark: str = "") -> None:
        for part in text.split("\n"):
            self.view.lines.append(f"│ {mark}{part}")

    def elements(self, elements: list) -> None:
        for element in elements:
            if isinstance(element, dict):
                self.element(element)

    def element(self, element: dict) -> None:
        tag = element.get("tag")
        if tag in ("div", "markdown"):
            self.text(element)
        elif tag == "hr":
            self.view.lines.append("│ " + "─" * 24)
        elif tag == "column_set":
            self.columns(element)
        elif tag == "column":
            self.elements(element.get("elements") or [])
        elif tag == "form":
            self.in_form, self.label = True, ""
            self.elements(element.get("elements") or [])
            self.in_form = False
        elif tag == "button":
            self.line(self.button(element))
        elif tag in ("select_static", "multi_select_static", "input"):
            self.control(element)
        else:
            self.line(f"[{tag}]")

    def text(self, element: dict) -> None:
        obj = element.get("text") if element.get("tag") == "div" else element
        shown = words(obj, self.lang)
        if element.get("tag") == "markdown":
            shown = shown.replace("**", "")
        style = obj if isinstance(obj, dict) else {}
        red = style.get("text_color") == "red"
        self.line(shown, "! " if red else "")
        if style.get("text_size") != "notation":  # notes (descriptions, error lines) are not labels
            self.label = shown

    def columns(self, element: dict) -> None:
        """Buttons side by side share one line; anything else in the columns is drawn in order."""
        labels = []
        for column in element.get("columns") or []:
            for inner in column.get("elements") or []:
                if inner.get("tag") == "button":
                    labels.append(self.button(inner))
                else:
                    self.element(inner)
        if labels:
            self.line("   ".join(labels))

    def button(self, element: dict) -> str:
        value = next((b.get("value") for b in element.get("behaviors") or [] if b.get("type") == "callback"), None)
        label = words(element.get("text"), self.lang)
        self.view.buttons.append(Button(label, value if isinstance(value, dict) else None, element.get("name", ""),
                                        element.get("form_action_type") if self.in_form else None))
        return f"[{len(self.view.buttons)}] {label}"

    def control(self, element: dict) -> None:
        tag = element["tag"]
        options = tuple((str(o.get("value")), words(o.get("text"), self.lang)) for o in element.get("options") or [])
        if tag == "select_static":
            kind, value = "select", element.get("initial_option")
        elif tag == "multi_select_static":
            kind, value = "multi", tuple(element.get("selected_values") or ())
        else:
            kind, value = "input", element.get("default_value")
        control = Control(kind, str(element.get("name", "")), self.label.removesuffix(" *"),
                          bool(element.get("required")), options, value,
                          element.get("input_type") == "multiline_text", element.get("max_length"),
                          words(element.get("placeholder"), self.lang))
        self.view.controls.append(control)
        self.label = ""
        shown = control.shown(value, self.lang)
        if kind == "input" and not value and control.placeholder:
            shown += f" — {control.placeholder}"
        if options:
            listed = " / ".join(text for _, text in options)
            shown += f"   ‹{WORDS[self.lang]['one' if kind == 'select' else 'any']}{listed}›"
        self.line(f"  ({len(self.view.controls)}) {shown}")
