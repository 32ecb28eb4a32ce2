"""Filling in a form card from the terminal, field by field, into the `form_value` Feishu would submit."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from bot.sandbox.console.render import Control
from bot.sandbox.console.text import text

Value = str | tuple[str, ...] | None
CLEAR = "-"


class Cancelled(Exception):
    """The person gave up on the form (Ctrl-C, end of input, or "n" at the end)."""


def prefilled(controls: Sequence[Control]) -> dict[str, Value]:
    """What each field holds before anyone touches it."""
    return {c.name: c.value for c in controls}


def form_value(controls: Sequence[Control], values: dict[str, Value]) -> dict:
    """The callback's `form_value`: every input (empty as ""), multi-selects as lists, chosen selects."""
    submitted: dict = {}
    for control in controls:
        value = values.get(control.name)
        if control.kind == "input":
            submitted[control.name] = value or ""
        elif control.kind == "multi":
            submitted[control.name] = list(value or ())
        elif value:
            submitted[control.name] = value
    return submitted


def fill_form(controls: Sequence[Control], numbers: Sequence[int], ask: Callable[[str], str],
              write: Callable[[str], None], lang: str) -> dict[str, Value]:
    """Ask for each field (all, or the numbered ones) and confirm; the values to submit. Raises Cancelled."""
    values = prefilled(controls)
    wanted = [n for n in numbers if 1 <= n <= len(controls)] or list(range(1, len(controls) + 1))
    write(text("fill_intro", lang))
    for number in wanted:
        control = controls[number - 1]
        values[control.name] = _field(number, control, values[control.name], ask, write, lang)
    if ask(text("submit", lang)).strip().lower() not in ("", "y", "yes", "是"):
        raise Cancelled
    return values


def _field(number: int, control: Control, current: Value, ask: Callable[[str], str],
           write: Callable[[str], None], lang: str) -> Value:
    mark = " *" if control.required else ""
    write(f"({number}) {control.label}{mark} [{control.shown(current, lang)}]")
    if control.options:
        listed = "   ".join(f"{i}) {shown}" for i, (_, shown) in enumerate(control.options, start=1))
        hint = text("choose_one" if control.kind == "select" else "choose_any", lang)
        write(f"    {listed}   ({hint})")
    elif control.multiline:
        write(f"    ({text('newline', lang)})")
    while True:
        typed = ask("    › ").strip()
        try:
            value = _parse(control, typed, lang) if typed else current
        except ValueError as exc:
            write(f"    {exc}")
            continue
        if control.required and not value:  # Feishu's client will not submit the form without it
            write(f"    {text('required', lang)}")
            continue
        return value


def missing(controls: Sequence[Control], values: dict[str, Value]) -> list[int]:
    """The numbers of required fields left empty (Feishu's client refuses to submit such a form)."""
    return [n for n, c in enumerate(controls, start=1) if c.required and not values.get(c.name)]


def _parse(control: Control, typed: str, lang: str) -> Value:
    """A typed answer as the field's value; ValueError says what is wrong with it."""
    if typed == CLEAR:
        return () if control.kind == "multi" else None if control.kind == "select" else ""
    if control.kind == "input":
        value = typed.replace("\\n", "\n") if control.multiline else typed
        if control.max_length and len(value) > control.max_length:
            raise ValueError(text("too_long", lang, n=control.max_length))
        return value
    parts = [typed] if control.kind == "select" else [p for p in re.split(r"[,，、\s]+", typed) if p]
    chosen = tuple(dict.fromkeys(_option(control, part, lang) for part in parts))
    return chosen[0] if control.kind == "select" else chosen


def _option(control: Control, typed: str, lang: str) -> str:
    """An option's value from its value or text (any case), else from its number (scores 0–4: "1" is 1)."""
    for value, shown in control.options:
        if typed.casefold() in (value.casefold(), shown.casefold()):
            return value
    if typed.isdigit() and 1 <= int(typed) <= len(control.options):
        return control.options[int(typed) - 1][0]
    raise ValueError(text("bad_choice", lang, value=typed))
