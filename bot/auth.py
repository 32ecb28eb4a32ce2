"""Who may do what: allowlists, admins, ownership of an assessment, and forms bound to one person."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.actions import SubmitForm
from bot.settings import Settings


@dataclass(frozen=True)
class Decision:
    """An answer to "may they?", with the reason in both languages when it is no."""

    allowed: bool
    reason: str = ""
    zh: str = ""
    en: str = ""


ALLOW = Decision(True)


def is_admin(settings: Settings, actor: str) -> bool:
    return actor in settings.assessbot_admins


def may_use(settings: Settings, actor: str, chat_id: str | None) -> Decision:
    """The optional allowlists: who may talk to the bot at all, and in which chats."""
    if is_admin(settings, actor):
        return ALLOW
    if settings.assessbot_allowed_users and actor not in settings.assessbot_allowed_users:
        return Decision(False, "user not allowed", "你没有使用本机器人的权限，请联系管理员。",
                        "You are not allowed to use this bot; ask an administrator.")
    if settings.assessbot_allowed_chats and chat_id and chat_id not in settings.assessbot_allowed_chats:
        return Decision(False, "chat not allowed", "本机器人未在此会话中启用，请私聊机器人或联系管理员。",
                        "The bot is not enabled in this chat; message it directly or ask an administrator.")
    return ALLOW


def may_write(settings: Settings, actor: str, owner: str | None, *, owner_name: str | None = None,
              shown_id: str | None = None) -> Decision:
    """The first person to write an assessment owns it; afterwards only the owner or an admin may.

    The refusal names the owner when `owner_name` is known and says how to have the assessment (`shown_id`, the id
    the person typed or Feishu's) handed over.
    """
    if owner is None or owner == actor or is_admin(settings, actor):
        return ALLOW
    if owner_name is None:
        return Decision(False, "not the owner", "这条面评由其他面试官负责，只有负责人或管理员可以修改。",
                        "Another interviewer owns this assessment; only the owner or an administrator can change it.")
    aid = shown_id or "<面评ID>"
    return Decision(False, "not the owner",
                    f"这条面评由 {owner_name} 负责，只有 TA 或管理员可以修改。如需转交给你，请管理员发送 "
                    f"/面评 {aid} owner=@你。",
                    f"{owner_name} owns this assessment; only they or an administrator can change it. To have it "
                    f"handed over to you, ask an administrator to send /assess {shown_id or '<id>'} "
                    "owner=@you.")


def may_read(settings: Settings, actor: str, owner: str | None, recruiter: str | None = None) -> Decision:
    """History is shown to the owner, the recruiter of its interview, and admins."""
    if (owner is not None and owner == actor) or (recruiter is not None and recruiter == actor) \
            or is_admin(settings, actor):
        return ALLOW
    return Decision(False, "not the owner", "只有负责人、招聘负责人或管理员可以查看这条面评的记录。",
                    "Only the owner, the recruiter or an administrator can see this assessment's history.")


def may_transfer(settings: Settings, actor: str) -> Decision:
    if is_admin(settings, actor):
        return ALLOW
    return Decision(False, "not an admin", "只有管理员可以转交面评。",
                    "Only an administrator can hand an assessment over.")


class Sight(StrEnum):
    """How much of a panel (one candidate's interviews) a person may see."""

    ALL = "all"  # every interviewer's conclusion and values
    OWN = "own"  # who has submitted, and their own values only
    NONE = "none"


PANEL_DENIED = Decision(False, "not on the panel", "只有该候选人的招聘负责人、面试官或管理员可以查看这个面试小组。",
                        "Only the candidate's recruiter, interviewers or an administrator can see this panel.")


def may_see_panel(settings: Settings, actor: str, *, recruiters: Collection[str], interviewers: Collection[str],
                  shared: bool) -> Sight:
    """The blind rule, in one place: recruiters and admins see everything; an interviewer sees only their own
    values until the recruiter shares the summary with the panel; anyone else sees nothing."""
    if is_admin(settings, actor) or actor in recruiters:
        return Sight.ALL
    if actor in interviewers:
        return Sight.ALL if shared else Sight.OWN
    return Sight.NONE


def may_manage_panel(settings: Settings, actor: str, recruiters: Collection[str]) -> Decision:
    """Nudging and sharing are the recruiter's (or an admin's)."""
    if is_admin(settings, actor) or actor in recruiters:
        return ALLOW
    return Decision(False, "not the recruiter", "只有该候选人的招聘负责人或管理员可以这样做。",
                    "Only the candidate's recruiter or an administrator can do this.")


def scheduler_emails(settings: Settings) -> tuple[str, ...]:
    """The schedulers named by email (ASSESSBOT_SCHEDULERS), whose open_ids the people cache holds once looked up."""
    return tuple(person for person in settings.assessbot_schedulers if not person.startswith("ou_"))


def is_scheduler(settings: Settings, actor: str, resolved: Mapping[str, str]) -> bool:
    """Admins, and the people of ASSESSBOT_SCHEDULERS (`resolved`: their emails' open_ids, as far as known)."""
    if is_admin(settings, actor) or actor in settings.assessbot_schedulers:
        return True
    return any(resolved.get(email) == actor for email in scheduler_emails(settings))


# What a scheduler may do that others may not, in words for a refusal: (zh, en).
ASSIGN = ("安排面试官", "assign interviewers")
IMPORT = ("导入面试安排", "import schedules")
CANCEL = ("取消面试", "cancel interviews")


def may_schedule(settings: Settings, actor: str, resolved: Mapping[str, str], what: tuple[str, str] = ASSIGN,
                 who: Sequence[str] = ()) -> Decision:
    """Loading schedules (import, /assign, a file sent in chat) is for admins and schedulers; a refusal names `who`
    may (people's names) or, knowing none, says to ask an administrator. Schedulers cannot change others' feedback:
    that stays the owner's and the admins' (may_write)."""
    if is_scheduler(settings, actor, resolved):
        return ALLOW
    names_zh, names_en = "、".join(who), ", ".join(who)
    ask_zh = f"请联系：{names_zh}。" if who else "请联系管理员。"
    ask_en = f" Ask {names_en}." if who else " Ask an administrator."
    return Decision(False, "not a scheduler", f"只有管理员和负责排期的人可以{what[0]}。{ask_zh}",
                    f"Only administrators and the people who schedule interviews can {what[1]}.{ask_en}")


def _form_key(settings: Settings) -> bytes:
    # Over the long connection the Encrypt Key may be unset: the app secret, which every mode has, keys forms then.
    if settings.feishu_encrypt_key:
        return hashlib.sha256(b"assessbot form v1\0" + settings.feishu_encrypt_key.encode()).digest()
    return hashlib.sha256(b"assessbot form v1 app\0" + settings.feishu_app_secret.encode()).digest()


def sign_form(settings: Settings, key: str, opened_for: str, nonce: str, form: str | None = None) -> SubmitForm:
    """The submit button's action: which assessment, whose form, signed so it cannot be forged; `form` names the
    rubric version shown, only to show the same form again when the database cannot be read."""
    return SubmitForm(key, opened_for, nonce, _sign(settings, key, opened_for, nonce), form)


def form_value(settings: Settings, key: str, opened_for: str, nonce: str) -> dict:
    """The submit button's callback value, as sent in a card."""
    return sign_form(settings, key, opened_for, nonce).encode()


def form_is_for(settings: Settings, form: SubmitForm, operator: str) -> Decision:
    """A form may be submitted only by the person it was opened for (or an admin), and only as issued."""
    parts = (form.assessment_key, form.opened_for, form.nonce, form.sig)
    if not all(parts):
        return Decision(False, "form value incomplete", "这张表单已失效，请重新发送 /面评 <面评ID>。",
                        "This form is no longer valid; send /assess <assessment id> again.")
    expected = _sign(settings, form.assessment_key, form.opened_for, form.nonce)
    if not hmac.compare_digest(expected.encode(), form.sig.encode("utf-8", "surrogateescape")):
        return Decision(False, "form signature mismatch", "这张表单无法识别，请重新发送 /面评 <面评ID>。",
                        "This form cannot be verified; send /assess <assessment id> again.")
    if form.opened_for != operator and not is_admin(settings, operator):
        return Decision(False, "form opened for someone else", "这张表单属于其他面试官，你不能提交。",
                        "This form was opened for another interviewer; you cannot submit it.")
    return ALLOW


def _sign(settings: Settings, key: str, opened_for: str, nonce: str) -> str:
    message = "\0".join((key, opened_for, nonce)).encode()
    return hmac.new(_form_key(settings), message, hashlib.sha256).hexdigest()[:32]
