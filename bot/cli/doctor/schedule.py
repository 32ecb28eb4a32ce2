"""The doctor's checks of what the schedule needs: interviews read back and people looked up, a followed Bitable,
and the feedback forms each interview uses."""

from __future__ import annotations

from collections import Counter

from bot import rubric
from bot.cli.doctor.report import NO_SCOPE, PERMISSIONS, SCHEDULE_PERMISSION, Report, failure
from bot.settings import Settings


def check_schedule(report: Report, settings: Settings) -> None:
    """When the database holds a schedule: the scopes it needs, each tried with a harmless read."""
    from bot.feishu.client import Feishu, FeishuError
    from bot.store import Store

    try:
        store = Store(settings.database_url)
        try:
            interview = store.any_interview()
        finally:
            store.dispose()
    except Exception:
        return  # the database check above has said what is wrong
    if interview is None or report.facts.get("credentials") is not True:
        return
    report.section("Schedule")
    client = Feishu(settings.feishu_app_id, settings.feishu_app_secret, settings.feishu_domain,
                    settings.assessbot_api_timeout)
    try:
        client.interview_assessments(interview)
        report.good(f"{PERMISSIONS[0][0]}: interviews read back (creating a missing assessment needs the same scope)")
    except FeishuError as exc:
        report.bad(f"{PERMISSIONS[0][0]}: reading interview {interview} failed: {failure(exc)}; the schedule's "
                   "assessments cannot be created or checked without it")
    try:
        client.open_ids(["doctor-check@invalid.example"], [])
        report.good(f"{SCHEDULE_PERMISSION[0]}: people can be found by email or mobile")
    except FeishuError as exc:
        if exc.code != NO_SCOPE:
            report.bad(f"{SCHEDULE_PERMISSION[0]}: looking a person up failed: {failure(exc)}")
        else:
            report.unknown(f"{SCHEDULE_PERMISSION[0]} is not granted: give interviewers and recruiters as open_ids "
                           "(ou_…), or add the scope to name them by email or mobile")


def check_tables(report: Report, settings: Settings) -> None:
    """Each followed Bitable (ASSESSBOT_SCHEDULE_BITABLE): readable by the app, its columns, its status column."""
    if not settings.assessbot_schedule_bitable:
        return
    report.section("Followed Bitables (ASSESSBOT_SCHEDULE_BITABLE)")
    if report.facts.get("credentials") is not True:
        report.unknown("not checked: the credentials above must work first")
        return
    from bot.feishu.client import Feishu, FeishuError
    from bot.schedule.bitable import known_columns, table_of
    from bot.schedule.tables import NotABase, resolve, table_failed
    from bot.schedule.validation import COLUMNS, REQUIRED, is_written

    client = Feishu(settings.feishu_app_id, settings.feishu_app_secret, settings.feishu_domain,
                    settings.assessbot_api_timeout)
    for url in settings.assessbot_schedule_bitable:
        table = table_of(url)
        name = f"table {table.table_id}"
        try:
            table = resolve(client, table)
            assert table.app_token is not None
            fields = [str(f.get("field_name")) for f in client.table_fields(table.app_token, table.table_id)]
            records, _ = client.table_records(table.app_token, table.table_id, table.view_id)
        except (FeishuError, NotABase) as exc:
            report.bad(f"{name}: {table_failed(exc, settings.feishu_domain)[1]}")
            continue
        found = known_columns(fields)
        missing = [COLUMNS[field][0] for field in REQUIRED if field not in found.values()]
        if missing:
            report.bad(f"{name}: readable, but the required column{'s' if len(missing) > 1 else ''} "
                       f"{', '.join(missing)} (or the Chinese names) {'are' if len(missing) > 1 else 'is'} missing")
        else:
            report.good(f"{name}: readable ({len(records)} record{'s' if len(records) != 1 else ''} on the first "
                        f"page); columns {', '.join(found)}")
        status = next((f for f in fields if is_written(f)), None)
        if status is None:
            report.unknown(f"{name}: no status column (面评状态 or feedback status): each row's state is not written "
                           "back")
        else:
            report.unknown(f"{name}: the state is written to {status!r}, which needs the scope bitable:app (not "
                           "tried: it would write)")


def check_forms(report: Report, settings: Settings) -> None:
    """The local rubric and the mapping read; Hire's forms listed (the scope tried); every mapping rule and every
    interview not opened yet that names a form Hire does not have is named."""
    from bot.forms import mapping

    report.section("Rubric")
    try:
        local = rubric.load(settings.assessbot_rubric)
    except rubric.RubricError as exc:
        report.bad(str(exc))
        return
    keys = ", ".join(d.key for d in local.dimensions)
    report.good(f"{settings.assessbot_rubric}: {len(local.dimensions)} dimensions ({keys})")
    report.section("Feedback forms (Feishu Hire)")
    try:
        form_map = mapping.load(settings.assessbot_forms)
    except mapping.MappingError as exc:
        report.bad(str(exc))
        form_map = mapping.FormMap()
    else:
        if form_map.rules:
            count = len(form_map.rules)
            report.good(f"{form_map.source}: {count} mapping rule{'s' if count > 1 else ''}")
        elif not settings.assessbot_forms.is_file():
            report.unknown(f"{settings.assessbot_forms}: no form mapping (ASSESSBOT_FORMS): an interview whose "
                           "schedule row names no form uses the local rubric")
    listed = _hire_forms(report, settings)
    stored, choices = _stored_forms(settings)
    rows = _known_forms(stored, listed)
    if listed is None and not any(r.origin == "hire" for r in rows) and not form_map.rules:
        return
    from bot.forms.catalogue import pick

    for rule in form_map.rules:
        if pick(rule.form, rows, local) is None:
            report.bad(f"{form_map.source} [[map]] #{rule.line} (job {rule.job!r}, round {rule.round!r}) names the "
                       f"form {rule.form!r}, which Feishu Hire does not have: those interviews use the local rubric")
    names = {r.id: r.name for r in stored}
    missing = Counter(form for pinned, form, _, _ in choices
                      if form and not pinned and pick(form, rows, local) is None)
    for form, count in sorted(missing.items()):
        named = f"{names[form]!r} ({form})" if form in names else repr(form)
        report.bad(f"{count} interview{'s' if count > 1 else ''} of the schedule name{'' if count > 1 else 's'} the "
                   f"form {named}, which Feishu Hire does not have: import them again with a form that exists (an "
                   "interview already opened keeps the version it had)")


def _hire_forms(report: Report, settings: Settings) -> list[dict] | None:
    """The forms Hire lists (None: not asked, or refused), said as a line."""
    from bot.forms.sync import NO_SCOPE as NO_FORMS_SCOPE
    from bot.forms.sync import SCOPE

    if report.facts.get("credentials") is not True:
        report.unknown(f"{SCOPE}: not checked (Feishu's credentials are needed); interviews use the forms last "
                       "read, else the local rubric")
        return None
    from bot.feishu.client import Feishu, FeishuError
    from bot.forms.hire import HireForm

    client = Feishu(settings.feishu_app_id, settings.feishu_app_secret, settings.feishu_domain,
                    settings.assessbot_api_timeout)
    try:
        items = client.feedback_forms()
    except FeishuError as exc:
        if exc.code == NO_FORMS_SCOPE:
            report.unknown(f"{SCOPE} is not granted: every interview uses the local rubric (add the scope to use the "
                           "tenant's own feedback forms from Feishu Hire)")
        else:
            report.bad(f"{SCOPE}: listing the feedback forms failed: {failure(exc)}")
        return None
    names = []
    for item in items:
        try:
            names.append(HireForm.model_validate(item).names[0])
        except ValueError:
            names.append(f"{item.get('id')} (cannot be read)")
    shown = ", ".join(names[:10]) + (f", … ({len(names)} in all)" if len(names) > 10 else "")
    report.good(f"{SCOPE}: {len(items)} feedback form{'s' if len(items) != 1 else ''} in Feishu Hire"
                + (f": {shown}" if names else ""))
    return items


def _stored_forms(settings: Settings) -> tuple[list, list]:
    """The form versions the database keeps and what each assignment chose (empty when it cannot be read)."""
    from bot.store import Store

    try:
        store = Store(settings.database_url)
        try:
            return store.stored_forms(), store.form_choices()
        finally:
            store.dispose()
    except Exception:
        return [], []  # the database check above has said what is wrong


def _known_forms(stored: list, listed: list[dict] | None) -> list:
    """The versions known, current as Hire lists them now when it was asked (else as last synced)."""
    from dataclasses import replace

    from bot.forms.hire import HireForm
    from bot.store import FormRow

    if listed is None:
        return stored
    now: dict[str, FormRow] = {}
    for item in listed:
        try:
            form = HireForm.model_validate(item)
        except ValueError:
            continue
        name, name_en = form.names
        now[form.id] = FormRow(form.id, "hire", form.version, name, name_en, True, 0.0)
    kept = [replace(r, current=r.id in now) if r.origin == "hire" else r for r in stored]
    return kept + [r for i, r in now.items() if i not in {k.id for k in stored}]
