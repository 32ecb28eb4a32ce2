"""Nothing recorded is stranded: values keep the titles they were recorded with (/history, the panel, the export)
whatever happens to the local rubric or a form afterwards, and interviewers of different forms are compared per
shared dimension title."""

from __future__ import annotations

import argparse
import csv
import io

from bot import panel
from bot.assessment import Assessment, Conclusion
from bot.cli import export
from bot.forms.catalogue import Catalogue
from bot.forms.hire import HireForm, to_rubric
from bot.rubric import parse
from bot.store import PanelState
from tests.support.cards import shown
from tests.support.ids import AID, ALICE, START

ANOTHER = parse({"name": "新评分表", "dimensions": [
    {"key": "craft", "title": "工艺", "title_en": "Craft", "type": "score", "min": 1, "max": 3}]})


def hire_form(form_id: str, *dims: tuple[str, str, int, list]) -> HireForm:
    """A scored form whose dimensions are (title, English title, type, [(option, English, score)])."""
    return HireForm.model_validate({"id": form_id, "version": 1, "name": {"zh_cn": form_id}, "type": 2,
                                    "score_calculation_config": {"enabled": True, "calculation_mode": 1},
                                    "modules": [{"id": "m", "type": 2, "dimensions": [
                                        {"id": f"{form_id}{n}", "name": {"zh_cn": zh, "en_us": en}, "type": kind,
                                         "enabled": True, "option_items": [
                                             {"id": f"{form_id}{n}{m}", "name": {"zh_cn": o, "en_us": oe},
                                              "score_val": s} for m, (o, oe, s) in enumerate(options)],
                                         "score_dimension_config": {"lower_limit_score": 1, "upper_limit_score": 10}}
                                        for n, (zh, en, kind, options) in enumerate(dims)]}]})


def test_history_keeps_the_titles_a_write_used_after_the_local_rubric_changes(ctx, push, feishu):
    push.message(f"/assess {AID} pass coding=4")
    ctx.runner.drain()
    ctx.rubric = ANOTHER  # the rubric file replaced, the bot restarted
    ctx.forms = Catalogue(ctx.store, ANOTHER)
    push.message(f"/history {AID}")
    push.message(f"/assess {AID} coding=5")  # the assessment keeps the version it was written with
    ctx.runner.drain()
    history, confirmed = (shown(c["card"]) for c in feishu.sent_cards()[-2:])
    assert "Coding: — → 4" in history and "coding:" not in history
    assert "Coding: 5 / 5" in confirmed
    assert feishu.patches()[-1]["assessment_dimension_list"][0]["title"] == "编码能力"


def test_the_panel_compares_interviewers_of_different_forms_per_shared_title():
    one = to_rubric(hire_form("f1", ("代码质量", "Code quality", 6, [("好", "Good", 4), ("差", "Poor", 1)]),
                              ("沟通", "Communication", 7, [])))
    two = to_rubric(hire_form("f2", ("沟通", "Communication", 7, []), ("产品感", "Product sense", 7, [])))
    seats = tuple(panel.Seat(n, f"k{n}", f"ou_{n}", f"面试官{n}", None, START, START + 1, START + 2, False, a)
                  for n, a in enumerate([
                      Assessment(conclusion=Conclusion.PASS, dimensions={one.dimensions[0].key: 4,
                                                                         one.dimensions[1].key: 9}),
                      Assessment(conclusion=Conclusion.PASS, dimensions={two.dimensions[0].key: 3,
                                                                         two.dimensions[1].key: 7})]))
    found = panel.Panel("app", "张伟", None, (), seats, PanelState("app"))
    summary = panel.summarise(found, lambda seat: one if seat.assignment == 0 else two)
    assert [(r.title, r.cells, r.spread) for r in summary.rows] == [
        ("代码质量", ("好（4）", "—"), None), ("沟通", ("9", "3"), 6), ("产品感", ("—", "7"), None),
        ("总分", ("13", "10"), None)]


def test_the_export_puts_each_assessment_under_the_titles_it_was_written_with(ctx, push, feishu, capsys,
                                                                               monkeypatch, tmp_path, settings):
    push.message(f"/assess {AID} pass coding=4")
    ctx.runner.drain()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("ASSESSBOT_RUBRIC", str(tmp_path / "rubric.toml"))
    (tmp_path / "rubric.toml").write_text('[[dimensions]]\nkey = "craft"\ntitle = "工艺"\ntitle_en = "Craft"\n'
                                          'type = "score"\nmin = 1\nmax = 3\n', encoding="utf-8")
    parser = argparse.ArgumentParser()
    export.configure(parser)
    assert export.run(parser.parse_args(["--format", "csv", "--lang", "en"])) == 0
    heading, row = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert heading[10:18] == ["Craft", "Coding", "System design", "Communication", "Suggested level", "Strengths",
                              "Interview notes", "Comment"]
    assert row[10:12] == ["", "4"] and ALICE in row
