"""The sandbox's message files and Bitables, driven by the bot's own Feishu client: a file downloaded from its message
(type=file, bounded), a reply's parent read, a table paged as Feishu pages it, written, subscribed, found through a
wiki node; a base not shared with the app answers 91403."""

from __future__ import annotations

import pytest

from bot.feishu.errors import FeishuError, TooLarge
from bot.sandbox.console.text import describe_table

FIELDS = [{"field_name": "面试ID", "type": 1}, {"field_name": "面评状态", "type": 1}]



def test_a_file_is_downloaded_from_the_message_it_came_in(api):
    fake, feishu = api
    key = fake.record_user_file("om_f1", "oc_1", "ou_a", "排期.csv", "面试ID\n1\n".encode("gb18030"))
    got = feishu.message_file("om_f1", key, 1024)
    assert (got.data, got.content_type) == ("面试ID\n1\n".encode("gb18030"), "application/octet-stream")
    [call] = fake.calls("resource")
    assert (call["path"], call["query"]) == (f"/open-apis/im/v1/messages/om_f1/resources/{key}", {"type": "file"})
    assert feishu.message_content("om_f1") == ("file", {"file_key": key, "file_name": "排期.csv"})
    with pytest.raises(FeishuError) as refused:
        feishu.message_file("om_other", key, 1024)
    assert refused.value.code == 234003
    with pytest.raises(TooLarge):
        feishu.message_file("om_f1", key, 4)


def test_a_table_is_read_in_pages_written_one_record_at_a_time_and_subscribed(api):
    fake, feishu = api
    fake.put_table("bascnT", "tblT", FIELDS, {f"rec{n:04d}": {"面试ID": str(n)} for n in range(1201)}, wiki="wikN")
    assert [f["field_name"] for f in feishu.table_fields("bascnT", "tblT")] == ["面试ID", "面评状态"]
    first, token = feishu.table_records("bascnT", "tblT")
    second, token2 = feishu.table_records("bascnT", "tblT", None, token)
    third, token3 = feishu.table_records("bascnT", "tblT", None, token2)
    assert (len(first), len(second), len(third), token3) == (500, 500, 201, None)
    assert [c["query"] for c in fake.calls("records")] == [
        {"page_size": "500", "user_id_type": "open_id"}, {"page_size": "500", "user_id_type": "open_id",
                                                          "page_token": "500"},
        {"page_size": "500", "user_id_type": "open_id", "page_token": "1000"}]
    feishu.update_record("bascnT", "tblT", "rec0001", {"面评状态": "已提醒"})
    assert fake.bitables.table("bascnT", "tblT")["records"]["rec0001"] == {"面试ID": "1", "面评状态": "已提醒"}
    assert fake.bitables.most_at_once == 1
    feishu.subscribe_table("bascnT")
    assert [c["query"] for c in fake.calls("subscribe")] == [{"file_type": "bitable"}]
    assert feishu.wiki_object("wikN") == ("bitable", "bascnT")
    assert describe_table(fake.bitables.table("bascnT", "tblT"), "en").splitlines()[2] == \
        "  rec0001  1      面评状态: 已提醒"


def test_a_base_not_shared_with_the_app_answers_91403(api):
    fake, feishu = api
    fake.put_table("bascnS", "tblS", FIELDS, {}, shared=False)
    for call in (lambda: feishu.table_fields("bascnS", "tblS"), lambda: feishu.table_records("bascnS", "tblS")):
        with pytest.raises(FeishuError) as refused:
            call()
        assert (refused.value.code, refused.value.status) == (91403, 403)
