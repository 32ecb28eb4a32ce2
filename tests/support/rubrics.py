"""Rubrics built for the tests."""

from __future__ import annotations

from bot.rubric import Rubric, load, parse
from tests.support.ids import ROOT

SHIPPED = load(ROOT / "config" / "rubric.toml")  # the rubric the bot ships with (config/rubric.toml)


def thirty_dimensions() -> Rubric:
    """30 dimensions of every type, long titles and descriptions, some score ranges too wide for a select."""
    dims = []
    for i in range(30):
        entry: dict = {"key": f"d{i}", "title": f"维度{i}" + "很长的标题" * 20, "title_en": f"Dimension {i} " * 10,
                       "description": "说明" * 300, "required": i % 3 == 0}
        kind = ("score", "single", "multi", "text", "score")[i % 5]
        entry["type"] = kind
        if kind == "score":
            entry.update(min=0, max=100 if i % 10 == 0 else 10)
        elif kind in ("single", "multi"):
            entry["options"] = [f"选项{j}" + "长" * 6 for j in range(8)]
        dims.append(entry)
    return parse({"dimensions": dims})
