"""What a refused call means for the person who made it: the one table of Feishu answers a user may see.

Each answer says whose problem it is. A deployment problem (a missing scope, credentials Feishu rejects,
an app not enabled) is the admin's, and pressing "Try again" cannot fix it; an assessment id Feishu does not
know is the interviewer's to check; a parameter error keeps today's wording and the values for "Try again".
Codes: https://open.feishu.cn/document/server-docs/api-call-guide/generic-error-code and
https://open.feishu.cn/document/server-docs/hire-v1/error_code
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from bot.feishu.errors import FeishuError
from bot.jobs.retry import transient

HIRE_SCOPE = "hire:external_application"  # what the external-assessment APIs need
MISSING_SCOPE = 99991672
PARAMETER = 1002002
NOT_FOUND = 99991201
# The app itself is not usable: disabled, not installed in the tenant, blocked by its IP allowlist, out of quota.
APP_UNUSABLE = {99991662: ("应用已停用", "the app is disabled"),
                99991673: ("应用未在本企业安装或启用", "the app is not installed or enabled in this organisation"),
                99991401: ("服务器 IP 不在应用的 IP 白名单中", "the server's IP is not on the app's IP allowlist"),
                99991403: ("本月 API 调用额度已用完", "this month's API call quota is used up")}
# Answers that mean the user the bot acts for may not use it (no permission in Hire or out of the app's range).
USER_NOT_ENABLED = frozenset({1002003, 99991679, 1002004})
_ID_UNKNOWN = re.compile(r"not exist|not found|不存在|找不到|record not|invalid .*id", re.IGNORECASE)
_SCOPES = re.compile(r"\[([^\]]*)\]")


class Kind(StrEnum):
    """Whose problem a failure is."""

    SETUP = "setup"  # the deployment's: ask the admin
    UNKNOWN_ID = "unknown_id"  # the id typed is not an assessment Feishu knows
    VALUES = "values"  # Feishu refused the values: fix them and try again
    TRANSIENT = "transient"  # Feishu could not do it just now: try again


@dataclass(frozen=True)
class Explained:
    """A failure as the user reads it: whose it is, what to do, whether "Try again" can help."""

    kind: Kind
    zh: str
    en: str

    @property
    def retry_helps(self) -> bool:
        return self.kind in (Kind.VALUES, Kind.TRANSIENT)


def explain(err: FeishuError | None, shown_id: str, *, written_before: bool = True) -> Explained:
    """The table: a Feishu answer (None: an internal error) in words for the person who asked.

    A parameter error for an assessment the bot has never written may also mean the id is wrong: say both.
    """
    if err is None or transient(err) or err.rate_limited:
        return Explained(Kind.TRANSIENT, "飞书暂时没能保存。填写的内容已保留，请重试。",
                         "Feishu could not save it just now. Your values are kept; try again.")
    if err.code == MISSING_SCOPE:
        scope = ", ".join(s.strip() for s in m.group(1).split(",") if s.strip()) if (m := _SCOPES.search(err.msg)) \
            else ""
        scope = scope or HIRE_SCOPE
        return _setup(f"机器人缺少权限 {scope}", f"the app lacks the scope {scope}", f"开通权限 {scope}",
                      f"they need to grant scope {scope}")
    if err.credentials or err.token_invalid:
        return _setup("飞书拒绝了应用凭证（App ID / App Secret）",
                      "Feishu rejected the app's credentials (App ID / App Secret)",
                      "检查应用凭证", "they need to check the App ID and App Secret")
    if err.code in APP_UNUSABLE:
        zh, en = APP_UNUSABLE[err.code]
        return _setup(zh, en, "检查应用的发布与可用范围", "they need to check the app's release and availability")
    if err.code in USER_NOT_ENABLED:
        return _setup("应用未对你开放", "the app is not enabled for you", "把你加入应用的可用范围",
                      "they need to add you to the app's availability range")
    if err.code == NOT_FOUND or err.status == 404 or (err.code == PARAMETER and _ID_UNKNOWN.search(err.msg)):
        return Explained(Kind.UNKNOWN_ID,
                         f"飞书不认识面评 {shown_id}，请检查 ID（可在飞书招聘的外部面评中找到）。",
                         f"Feishu does not know assessment {shown_id}; check the id (it is shown with the "
                         "external assessment in Feishu Hire).")
    zh, en = ("飞书没有接受这些值，面评没有任何改动。请检查填写的内容后重试。",
              "Feishu did not accept these values and nothing was changed. Check the values and try again.")
    if err.code == PARAMETER and not written_before:
        zh += f"如果面评 ID {shown_id} 有误，飞书也会这样回答，请一并检查 ID。"
        en += f" Feishu answers the same when it does not know assessment {shown_id}; check the id too."
    return Explained(Kind.VALUES, zh, en)


def _setup(zh_what: str, en_what: str, zh_fix: str, en_fix: str) -> Explained:
    return Explained(Kind.SETUP, f"机器人尚未配置好，无法完成此操作（{zh_what}）。请联系管理员{zh_fix}。",
                     f"The bot is not set up to do this ({en_what}) — ask your admin ({en_fix}).")
