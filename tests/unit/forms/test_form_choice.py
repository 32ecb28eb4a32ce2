"""Which form an interview uses, and which version: the schedule's choice, else the mapping by job title and round,
else the local rubric; a version pinned on first look; the forms kept with every version, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from bot.assessment import Assessment
from bot.forms import mapping
from bot.forms.catalogue import Catalogue, pick
from bot.forms.sync import sync
from bot.sandbox.openapi.forms import ENGINEERING, HR, SALES
from bot.store import Known, Store
from tests.support.ids import ROOT
from tests.support.openapi import Hire
from tests.support.rubrics import SHIPPED


@pytest.fixture
def hire(store) -> Hire:
    found = Hire()
    assert sync(store, found, SHIPPED).ok
    return found


def assign(store: Store, interview: str, *, job: str | None = None, round_: str | None = None,
           form: str | None = None) -> str:
    store.upsert_assignments([{"interview_id": interview, "interviewer": "ou_alice", "candidate": "张伟",
                               "position": job, "round": round_, "start_at": 0.0, "end_at": 3600.0, "form": form}],
                             lambda after, before: (None, []))
    return store.find_assignments(interview)[0].key


def test_the_sync_keeps_every_version_and_marks_the_newest(store, hire):
    first = {r.name: r.id for r in store.stored_forms(current_only=True) if r.origin == "hire"}
    assert set(first) == {ENGINEERING, SALES, HR}
    hire.forms.edit(SALES, {})
    synced = sync(store, hire, SHIPPED)
    assert (synced.ok, synced.new) == (True, 1)
    rows = store.stored_forms()
    sales = [r for r in rows if r.name == SALES]
    assert [(r.version, r.current) for r in sales] == [(2, True), (1, False)]
    assert sales[1].id == first[SALES]
    assert [r.version for r in rows if r.origin == "local"] == [1]


def test_a_form_is_named_by_its_name_in_either_language_or_any_version_id(store, hire):
    forms = Catalogue(store, SHIPPED)
    old = forms.find(ENGINEERING)
    assert forms.find("engineering INTERVIEW form") == old and forms.find(old.id) == old
    hire.forms.edit(ENGINEERING, {})
    sync(store, hire, SHIPPED)
    new = forms.find(ENGINEERING)
    assert (new.version, forms.find(old.id)) == (2, new)  # an older id names its form's newest version
    assert forms.find("本地评分表") == SHIPPED == forms.find("local rubric")
    assert forms.find("销售面评表") is None and forms.suggest("销售面评表") == SALES


def test_a_form_gone_from_hire_names_nothing_new_but_an_interview_set_up_with_it_keeps_it(store, hire):
    gone = Catalogue(store, SHIPPED).find(HR)
    hire.forms.newest.remove(gone.id)
    sync(store, hire, SHIPPED)
    rows = store.stored_forms()
    assert pick(gone.id, rows, SHIPPED) is None and pick(HR, rows, SHIPPED) is None
    assert pick(gone.id, rows, SHIPPED, retired=True).id == gone.id


def test_the_schedule_then_the_mapping_then_the_local_rubric_decide(store, hire):
    rules = mapping.parse({"map": [{"job": "销售*", "form": SALES}, {"round": "hr*", "form": "HR interview form"},
                                   {"job": "*", "round": "终面", "form": "没有这张表"}]})
    forms = Catalogue(store, SHIPPED, rules)
    engineering = forms.find(ENGINEERING)
    assert forms.rubric_for(assign(store, "1", job="销售经理", form=engineering.id)).name == ENGINEERING  # the row
    assert forms.rubric_for(assign(store, "2", job=" ｓａｌｅｓ ", round_="x")) == SHIPPED  # globs: no match
    assert forms.rubric_for(assign(store, "3", job="销售代表")).name == SALES
    assert forms.rubric_for(assign(store, "4", job="Engineer", round_="HR 面")).name == HR
    assert forms.rubric_for(assign(store, "5", job="Engineer", round_="终面")) == SHIPPED  # unknown: local, logged
    assert forms.rubric_for(assign(store, "6")) == SHIPPED
    assert forms.rubric_for("6930815272790114324") == SHIPPED  # typed by id, no schedule: the local rubric


def test_a_version_is_pinned_on_first_look_and_kept_after_an_edit(store, hire):
    forms = Catalogue(store, SHIPPED)
    key = assign(store, "1", form=forms.find(ENGINEERING).id)
    unopened = assign(store, "2", form=forms.find(ENGINEERING).id)
    chosen = forms.choose(key)
    assert chosen.pin is not None and chosen.rubric.version == 1
    store.pin_form(*chosen.pin)
    store.pin_form(chosen.pin[0], "another")  # a pin never moves
    hire.forms.edit(ENGINEERING, {"add": [{"name": {"zh_cn": "新题"}, "type": 3, "enabled": True}]})
    sync(store, hire, SHIPPED)
    assert forms.choose(key) == type(chosen)(chosen.rubric, None)  # pinned: version 1, nothing more to pin
    assert "新题" not in [d.title for d in forms.rubric_for(key).dimensions]
    fresh = forms.choose(unopened)
    assert fresh.rubric.version == 2 and "新题" in [d.title for d in fresh.rubric.dimensions]
    assert store.form_pins() == {chosen.rubric.id: 1}


def test_the_version_an_assessment_was_written_with_is_kept_for_it(store, hire):
    rules = mapping.parse({"map": [{"form": SALES}]})
    forms = Catalogue(store, SHIPPED, rules)
    key = assign(store, "1", job="x")
    written = forms.find(HR)
    chosen = forms.choose(key, known=Known(Assessment(), None, 1, 1, written.id))
    assert (chosen.rubric, chosen.pin[1]) == (written, written.id)  # and now pinned to it
    assert forms.choose("6930815272790114324", None, Known(Assessment(), None, 1, 1, written.id)).rubric == written
    before_forms = forms.choose(key, known=Known(Assessment(), None, 2, 2, None))
    assert before_forms.rubric == SHIPPED  # written before forms existed: with the local rubric, not the mapping's
    assert forms.choose(key, known=Known(Assessment(), None, 0, 0, None)).rubric.name == SALES


def test_a_failed_sync_is_recorded_once_and_the_forms_read_before_stay(store, hire):
    from bot.feishu.errors import FeishuError

    class Refused:
        def feedback_forms(self) -> list[dict]:
            raise FeishuError(99991672, "Access denied. One of the following scopes is required")

    first = sync(store, Refused(), SHIPPED)
    again = sync(store, Refused(), SHIPPED)
    assert (first.ok, first.first_failure, again.first_failure) == (False, True, False)
    assert "hire:interview:readonly" in first.reason
    status = store.form_status()
    assert (status.ok, status.code, status.forms) == (False, 99991672, 3)
    assert Catalogue(store, SHIPPED).find(SALES) is not None
    sync(store, hire, SHIPPED)
    assert store.form_status().ok


def test_the_shipped_mapping_example_reads_and_matches_globs():
    rules = mapping.load(ROOT / "config" / "forms.example.toml")
    assert [(r.job, r.round, r.form) for r in rules.rules][:1] == [("销售*", "*", SALES)]
    assert rules.pick("销售经理", "二面") == SALES and rules.pick("后端工程师", "HR 面") == HR
    assert rules.pick("后端工程师", "一面") == ENGINEERING and rules.pick(None, None) is None
    assert mapping.load(ROOT / "config" / "no-such-file.toml").rules == ()


@pytest.mark.parametrize(("data", "said"), [
    ({"map": [{"job": "x"}]}, "forms: [[map]] #1: form is missing (a form's name or id)"),
    ({"map": [{"form": "x", "team": "y"}]}, "forms: [[map]] #1: unknown key 'team' (job, round and form)"),
    ({"rules": []}, "forms: unknown key 'rules' (only [[map]] entries)"),
])
def test_a_bad_mapping_is_named_with_its_entry(data, said):
    with pytest.raises(mapping.MappingError, match=r"^" + said.replace("[", r"\[").replace("]", r"\]")
                       .replace("(", r"\(").replace(")", r"\)") + "$"):
        mapping.parse(data)
