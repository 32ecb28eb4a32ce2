"""The sandbox's Hire feedback forms: the list endpoint as documented (read with the real lark-oapi client), the three
forms the sandbox starts with, an edit from its admin making a new version, and the schedule the sandbox seeds."""

from __future__ import annotations

import pytest
import requests

from bot.feishu.client import Feishu
from bot.feishu.connection import TOKENS
from bot.feishu.errors import FeishuError
from bot.forms import mapping
from bot.forms.catalogue import Catalogue
from bot.forms.hire import HireForm, to_rubric
from bot.sandbox import seed
from bot.sandbox.openapi import FakeOpenAPI, serve
from bot.sandbox.openapi.forms import ENGINEERING, HR, SALES
from bot.store import Store
from tests.support.ids import ALICE, SANDBOX_APP_ID, SANDBOX_APP_SECRET, make_settings
from tests.support.rubrics import SHIPPED


@pytest.fixture(autouse=True)
def fresh_token_cache():
    TOKENS.forget()
    yield
    TOKENS.forget()


def client(url: str) -> Feishu:
    return Feishu(SANDBOX_APP_ID, SANDBOX_APP_SECRET, url, timeout=5)


def test_the_list_is_paged_as_documented_and_refuses_a_missing_page_size():
    with serve(api=FakeOpenAPI()) as openapi:
        items = client(openapi.url).feedback_forms(page_size=2)
        token = requests.post(f"{openapi.url}/open-apis/auth/v3/tenant_access_token/internal", timeout=5,
                              json={"app_id": SANDBOX_APP_ID, "app_secret": SANDBOX_APP_SECRET}).json()
        bare = requests.get(f"{openapi.url}/open-apis/hire/v1/interview_feedback_forms", timeout=5,
                            headers={"Authorization": f"Bearer {token['tenant_access_token']}"}).json()
        asked = [c["query"] for c in openapi.api.calls("forms")]
    assert [i["name"]["zh_cn"] for i in items] == [ENGINEERING, SALES, HR]
    assert asked[:2] == [{"page_size": "2"}, {"page_size": "2", "page_token": "2"}]
    assert bare["code"] == 1002002 and "page_size" in bare["msg"]


def test_the_three_forms_hold_what_the_sandbox_shows():
    rubrics = {r.name: r for r in (to_rubric(HireForm.model_validate(i))
                                   for i in FakeOpenAPI().feedback_forms()["versions"].values())}
    engineering, sales, hr = rubrics[ENGINEERING], rubrics[SALES], rubrics[HR]
    assert [(d.title, d.type.value, d.by_option, d.computed) for d in engineering.dimensions] == [
        ("代码质量", "score", True, False), ("系统设计", "score", False, False), ("技术亮点", "multi", False, False),
        ("技术评价", "text", False, False), ("职级建议", "text", False, False), ("得分", "score", False, True)]
    assert (engineering.get(engineering.dimensions[1].key).max, engineering.scoring) == (10, "total")
    assert [(d.title, d.required) for d in sales.dimensions] == [("客户沟通", True), ("业绩潜力", False),
                                                                ("销售案例", False)]  # 抗压能力 is disabled
    assert [hr.when(d) for d in hr.dimensions] == [None, ("“是否推荐录用”为 推荐", "'Recommend hiring' is Recommend"),
                                                  ("“是否推荐录用”为 不推荐", "'Recommend hiring' is Do not recommend"),
                                                  None]


def test_the_admin_edits_a_form_into_a_new_version_with_new_ids_and_keeps_the_old_one():
    api = FakeOpenAPI()
    with serve(api=api) as openapi:
        before = client(openapi.url).feedback_forms()
        old = next(f for f in before if f["name"]["zh_cn"] == HR)
        edited = requests.post(f"{openapi.url}/_sandbox/forms", timeout=5, json={
            "form": "HR interview form", "remove": ["关注点"], "name": {"en_us": "HR form"}}).json()["form"]
        unknown = requests.post(f"{openapi.url}/_sandbox/forms", timeout=5, json={"form": "nope"})
        after = client(openapi.url).feedback_forms()
    new = next(f for f in after if f["name"]["zh_cn"] == HR)
    assert (new["id"], new["version"], new["name"]["en_us"]) == (edited["id"], 2, "HR form")
    ids = lambda form: {form["id"]} | {m["id"] for m in form["modules"]} | {  # noqa: E731
        d["id"] for m in form["modules"] for d in m["dimensions"]}
    assert not ids(old) & ids(new)
    rubric = to_rubric(HireForm.model_validate(new))
    assert [d.title for d in rubric.dimensions] == ["是否推荐录用", "推荐理由", "不推荐原因"]
    assert rubric.when(rubric.dimensions[2]) is not None  # the condition follows the new ids
    assert unknown.status_code == 404
    assert old["id"] in api.feedback_forms()["versions"]


def test_without_the_scope_the_list_is_refused_as_feishu_does():
    api = FakeOpenAPI()
    api.fault("forms", "no_scope")
    with serve(api=api) as openapi, pytest.raises(FeishuError) as refused:
        client(openapi.url).feedback_forms()
    assert refused.value.code == 99991672 and "hire:interview:readonly" in refused.value.msg


def test_the_sandbox_seeds_interviews_that_use_its_forms(tmp_path):
    with serve(api=FakeOpenAPI()) as openapi:
        settings = make_settings(f"sqlite:///{tmp_path / 'sandbox.db'}", feishu_domain=openapi.url,
                                 feishu_app_id=SANDBOX_APP_ID, feishu_app_secret=SANDBOX_APP_SECRET,
                                 assessbot_forms=seed.FORMS_MAP)
        store = Store(settings.database_url)
        store.create_schema()
        assert seed.seed(settings, ALICE, 1_795_600_000.0)
        forms = Catalogue(store, SHIPPED, mapping.load(seed.FORMS_MAP))
        used = {a.candidate: forms.rubric_for(a.key).name for a in store.assignments_of(ALICE)}
        store.dispose()
    assert used == {"张伟": ENGINEERING, "李娜": SALES, "王芳": HR}
