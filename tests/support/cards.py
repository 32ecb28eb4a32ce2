"""Reading cards in tests: every text a card shows, per language."""

from __future__ import annotations

import json
from collections.abc import Iterator

READING_ORDER = ("config", "summary", "header", "title", "subtitle", "body")  # before the rest, as a person reads


def shown(card: dict, lang: str = "en_us") -> str:
    """The card's texts in one language (i18n content where given, else the plain content), one per line.

    Read summary, title, subtitle, then the body, whatever order the keys came in (a callback answer's JSON may
    have them sorted).
    """
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            i18n = node.get("i18n_content") or node.get("i18n")
            if isinstance(i18n, dict) and lang in i18n:
                found.append(i18n[lang])
            elif isinstance(node.get("content"), str):
                found.append(node["content"])
            keys = [k for k in READING_ORDER if k in node] + [k for k in node if k not in READING_ORDER]
            for key in keys:
                if key not in ("i18n_content", "i18n"):
                    walk(node[key])
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card)
    return "\n".join(found)


def raw(card: dict) -> str:
    """The whole card as text, for "contains" checks."""
    return json.dumps(card, ensure_ascii=False)


def nodes(card: object) -> Iterator[dict]:
    """Every object in a card, depth first in document order."""
    if isinstance(card, dict):
        yield card
        for value in card.values():
            yield from nodes(value)
    elif isinstance(card, list):
        for value in card:
            yield from nodes(value)


def filled(card: dict) -> dict[str, str | list[str]]:
    """What each named control of a form shows already entered: its initial option(s) or default text."""
    return {node["name"]: node[key] for node in nodes(card) if "name" in node
            for key in ("initial_option", "selected_values", "default_value") if key in node}
