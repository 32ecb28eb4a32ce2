"""The console's own words, in Chinese and English, and what `:state` prints."""

from __future__ import annotations

CONCLUSIONS = {1: ("不通过", "Fail"), 2: ("通过", "Pass"), 3: ("待定", "Pending")}

TEXTS: dict[str, tuple[str, str]] = {
    "intro": ("正在以 {name}（{user}）的身份在{chat}中与 {bot} 的机器人对话。输入 :help 查看控制台命令，:quit 退出。",
              "Chatting with the bot at {bot} as {name} ({user}) in {chat}. :help lists the console's commands; "
              ":quit leaves."),
    "p2p": ("单聊", "a private chat"),
    "group": ("群聊（消息会自动 @机器人）", "a group chat (messages @-mention the bot for you)"),
    "help": ("控制台命令：\n"
             "  :click N      点击最近一张卡片上的按钮 N\n"
             "  :fill [N …]   逐项填写最近的表单（全部，或第 N 项），然后提交\n"
             "  :state ID     查看本地开放平台中面评 ID 的内容\n"
             "  :send 文件     把面试安排文件（CSV、.xlsx）发给机器人，如 :send config/schedule.example.csv\n"
             "  :table        查看机器人跟随的多维表格，以及每行的面评状态\n"
             "  :lang zh|en   以中文或英文显示卡片\n"
             "  @名字         在消息中 @ 一位虚构的同事（如 owner=@lisi）\n"
             "  :quit         退出（Ctrl-C、Ctrl-D 也可以）\n"
             "其余输入都会作为聊天消息发给机器人，例如 /面评 6930815272790114324 通过 编码能力=4",
             "Console commands:\n"
             "  :click N      press button N of the latest card\n"
             "  :fill [N …]   fill in the latest form field by field (all, or fields N …), then submit it\n"
             "  :state ID     what the local Open API holds for assessment ID\n"
             "  :send FILE    send the bot a schedule file (CSV, .xlsx), e.g. :send config/schedule.example.csv\n"
             "  :table        the Bitable the bot follows, with each row's 面评状态 (feedback status)\n"
             "  :lang zh|en   show cards in Chinese or English\n"
             "  @name         mention a made-up colleague in a message (e.g. owner=@lisi)\n"
             "  :quit         leave (Ctrl-C and Ctrl-D work too)\n"
             "Anything else is sent to the bot as a chat message, e.g. /assess 6930815272790114324 pass coding=4"),
    "state_usage": ("用法：:state <面评ID>，例如 :state 6930815272790114324（查看本地开放平台中这条面评的内容）",
                    "Usage: :state <assessment id>, e.g. :state 6930815272790114324 (what the local Open API holds "
                    "for it)"),
    "send_usage": ("用法：:send <文件路径>，例如 :send config/schedule.example.csv",
                   "Usage: :send <path>, e.g. :send config/schedule.example.csv"),
    "no_file": ("无法读取 {path}：{why}", "Cannot read {path}: {why}"),
    "table_none": ("本地开放平台中没有机器人跟随的多维表格。",
                   "The local Open API holds no Bitable for the bot to follow."),
    "table_head": ("机器人跟随的多维表格（面评状态由机器人写入）：",
                   "The Bitable the bot follows (the bot writes 面评状态):"),
    "unknown": ("不认识的控制台命令：{line}（:help 查看全部）", "Unknown console command: {line} (:help lists them)"),
    "replied": ("机器人回复", "assessbot replied"),
    "sent": ("机器人发来", "assessbot sent"),
    "updated": ("机器人更新了卡片", "assessbot updated its card"),
    "in_group": ("（群聊）", " (in the group)"),
    "in_private": ("（单聊）", " (privately)"),
    "in_place": ("卡片变为：", "The card now reads:"),
    "again": ("最近的卡片：", "The latest card:"),
    "hint_form": (":fill 填写并提交这张表单，:click N 点击按钮 N",
                  ":fill fills in and submits this form; :click N presses button N"),
    "hint_click": (":click N 点击按钮 N", ":click N presses button N"),
    "no_answer": ("（机器人还没有回应；回应到达时会显示在这里）",
                  "(no answer from the bot yet; it will show up here when it comes)"),
    "no_button": ("最近的卡片上没有按钮 {n}", "The latest card has no button {n}"),
    "no_form": ("最近没有收到表单；先发送 /assess <面评ID>", "No form to fill in; send /assess <assessment id> first"),
    "inert": ("“{label}”按钮在这里不做任何事", "The button \"{label}\" does nothing here"),
    "not_submitted": ("表单未提交。", "The form was not submitted."),
    "interrupted": ("（已中断）", "(interrupted)"),
    "refused": ("机器人拒绝了这次推送：HTTP {status} {answer}（加密密钥或校验令牌与机器人的不一致？）",
                "The bot refused the push: HTTP {status} {answer} (do the Encrypt Key and Verification Token match "
                "the bot's?)"),
    "too_large": ("这条消息太大，机器人没有读取（超过 ASSESSBOT_MAX_BODY_BYTES = {limit} 字节；"
                  "飞书不会发送这么大的推送）。请缩短后再发。",
                  "The bot did not read this message: it is larger than ASSESSBOT_MAX_BODY_BYTES = {limit} bytes "
                  "(Feishu never sends a push this large). Send something shorter."),
    "unreachable": ("连接失败：{what}。它还在运行吗？", "Cannot reach the {what}. Is it running?"),
    "fill_intro": ("逐项填写：回车保留 [方括号] 中的值，输入 - 清空，Ctrl-C 取消。",
                   "Fill in the form: Enter keeps the value in [brackets], - empties a field, Ctrl-C cancels."),
    "choose_one": ("输入编号", "type a number"),
    "choose_any": ("输入编号，用逗号分隔", "type numbers separated by commas"),
    "newline": ("长文本中 \\n 表示换行", "\\n starts a new line"),
    "required": ("这一项必填。", "This field is required."),
    "required_empty": ("必填项 {fields} 还空着，飞书不会提交这张表单；用 :fill 填写。",
                       "Required fields {fields} are empty, so Feishu would not submit the form; :fill them in."),
    "bad_choice": ("没有这个选项：{value}", "No such option: {value}"),
    "too_long": ("太长了：最多 {n} 个字符。", "Too long: at most {n} characters."),
    "submit": ("提交？[Y/n] ", "Submit? [Y/n] "),
    "state_none": ("本地开放平台中还没有面评 {aid}。", "The local Open API holds nothing for assessment {aid} yet."),
    "state_head": ("本地开放平台中面评 {aid} 的内容：", "The local Open API holds for assessment {aid}:"),
    "conclusion": ("结论", "conclusion"),
    "content": ("综合记录", "content"),
    "username": ("面试官", "username"),
}


def text(key: str, lang: str, **values: object) -> str:
    """One of the console's texts in `lang`."""
    zh, en = TEXTS[key]
    return (zh if lang == "zh" else en).format(**values)


def describe_state(assessment_id: str, assessment: dict | None, lang: str) -> str:
    """What the local Open API stores for one assessment, a line per field, as Feishu Hire would hold it."""
    if not assessment:
        return text("state_none", lang, aid=assessment_id)
    colon = "：" if lang == "zh" else ": "
    lines = [text("state_head", lang, aid=assessment_id)]
    if "conclusion" in assessment:
        code = assessment["conclusion"]
        zh, en = CONCLUSIONS.get(code, ("?", "?"))
        lines.append(f"  {text('conclusion', lang)}{colon}{code} ({zh if lang == 'zh' else en})")
    for dim in assessment.get("assessment_dimension_list") or []:
        value = next((dim[k] for k in ("score", "option", "options", "content") if k in dim), None)
        shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        lines.append(f"  {dim.get('title', '?')}{colon}{shown.replace(chr(10), ' ↵ ')}")
    for key in ("content", "username"):
        if assessment.get(key):
            lines.append(f"  {text(key, lang)}{colon}{str(assessment[key]).replace(chr(10), ' ↵ ')}")
    return "\n".join(lines)


def _cell(value: object) -> str:
    """A Bitable cell as text: text segments joined, people by name, dates left as they are."""
    if isinstance(value, list):
        return "".join(str(v.get("text") or v.get("name") or v.get("id") or "") if isinstance(v, dict) else str(v)
                       for v in value)
    return "" if value is None else str(value)


def describe_table(table: dict | None, lang: str) -> str:
    """The followed table's rows: interview, candidate, interviewer and the status the bot wrote."""
    if not table:
        return text("table_none", lang)
    lines = [text("table_head", lang)]
    for record_id, fields in table.get("records", {}).items():
        status = _cell(fields.get("面评状态")) or "—"
        lines.append(f"  {record_id}  {_cell(fields.get('面试ID'))}  {_cell(fields.get('候选人'))}  "
                     f"{_cell(fields.get('面试官'))}  面评状态: {status}")
    return "\n".join(lines)
