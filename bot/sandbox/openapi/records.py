"""The sandbox's read-backs: external interviews with their assessments, and open_ids by email or mobile.

batch_query: https://open.feishu.cn/document/hire-v1/get-candidates/import-external-system-information/import-external-interview-info/batch_query
batch_get_id: https://open.feishu.cn/document/server-docs/contact-v3/user/batch_get_id
"""

from __future__ import annotations

import copy
from collections.abc import Mapping

from bot.sandbox.openapi.checks import kind_of
from bot.sandbox.openapi.wire import field_invalid, invalid_param

MAX_PAGE = 20
MAX_IDS = 50  # emails, and mobiles, per batch_get_id call


def interviews(assessments: Mapping[str, dict], args: Mapping[str, str], body: object) -> dict:
    """The interviews named in `external_interview_id_list`, each with its assessments, as Feishu answers."""
    size = args.get("page_size", "10")
    if not size.isdigit() or not 1 <= int(size) <= MAX_PAGE:
        raise invalid_param(f"page_size: must be 1 to {MAX_PAGE} (got {size!r})")
    if not isinstance(body, dict) or set(body) - {"external_interview_id_list"}:
        raise invalid_param("body: only external_interview_id_list is known")
    wanted = body.get("external_interview_id_list")
    if not isinstance(wanted, list) or not all(isinstance(i, str) for i in wanted):
        raise invalid_param(f"external_interview_id_list: must be a list of strings, not {kind_of(wanted)}")
    items = []
    for interview_id in dict.fromkeys(wanted):
        held = [{k: copy.deepcopy(v) for k, v in a.items() if k != "external_interview_id"}
                for a in assessments.values() if a.get("external_interview_id") == interview_id]
        if held:
            items.append({"id": interview_id, "participate_status": 2, "interview_assessments": held})
    return {"items": items[:int(size)], "has_more": len(items) > int(size)}


def user_ids(contacts: Mapping[str, str], args: Mapping[str, str], body: object) -> dict:
    """open_ids of people named by email or mobile; those unknown come back without a user_id."""
    if args.get("user_id_type", "open_id") != "open_id":
        raise field_invalid("the sandbox knows people by open_id only")
    if not isinstance(body, dict) or set(body) - {"emails", "mobiles", "include_resigned"}:
        raise field_invalid("body: only emails, mobiles and include_resigned are known")
    found = []
    for name in ("emails", "mobiles"):
        given = body.get(name, [])
        if not isinstance(given, list) or not all(isinstance(v, str) for v in given):
            raise field_invalid(f"{name}: must be a list of strings, not {kind_of(given)}")
        if len(given) > MAX_IDS:
            raise field_invalid(f"{name}: at most {MAX_IDS} per call")
        for value in given:
            person = {name[:-1]: value}
            if value in contacts:
                person["user_id"] = contacts[value]
            found.append(person)
    if not found:
        raise field_invalid("emails or mobiles: give at least one")
    return {"user_list": found}
