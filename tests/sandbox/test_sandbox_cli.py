"""The sandbox and the console: one sandbox per directory, made-up colleagues, usage hints, --version."""

from __future__ import annotations

import argparse
import os

import pytest

from bot import cli
from bot.sandbox import run as sandbox
from bot.sandbox.console import api as console_api
from bot.sandbox.console.chat import Console, Options
from bot.sandbox.console.mentions import colleague, mention


def test_at_name_mentions_a_made_up_colleague_as_feishu_delivers_it():
    typed, mentions = mention("@assessbot /assess 1 owner=@lisi cc @李四 mail a@b.c @lisi", "ou_bot")
    assert typed == "@_user_1 /assess 1 owner=@_user_2 cc @_user_3 mail a@b.c @_user_2"
    assert [(m["key"], m["id"]["open_id"], m["name"]) for m in mentions] == [
        ("@_user_1", "ou_bot", "assessbot"), ("@_user_2", colleague("lisi"), "lisi"),
        ("@_user_3", colleague("李四"), "李四")]
    assert colleague("LiSi") == colleague("lisi") and colleague("lisi").startswith("ou_")


@pytest.mark.parametrize("lang,expected", [
    ("en", "Usage: :state <assessment id>, e.g. :state 6930815272790114324 (what the local Open API holds for it)"),
    ("zh", "用法：:state <面评ID>，例如 :state 6930815272790114324（查看本地开放平台中这条面评的内容）"),
])
def test_state_without_an_id_says_how_to_use_it(lang, expected):
    out: list[str] = []
    options = Options(bot="http://127.0.0.1:9", openapi="http://127.0.0.1:9", encrypt_key="k", token="t", lang=lang)
    console = Console(options, read=lambda prompt: ":quit", write=out.append, watch=False)
    assert console.command("state", []) is True
    assert out == [expected]


def _args(tmp_path, **more) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    sandbox.configure(parser)
    return parser.parse_args(["--var", str(tmp_path), "--no-console", *more.get("extra", [])])


def test_a_second_sandbox_in_the_same_directory_refuses_and_keeps_the_first_ones_session(tmp_path, capsys):
    held = sandbox._only_sandbox(tmp_path)
    assert held is not None
    session = tmp_path / console_api.SESSION_FILE.name
    console_api.write_session({"pid": os.getpid(), "bot": "http://127.0.0.1:1"}, session)
    try:
        assert sandbox.run(_args(tmp_path)) == 1
        assert "another sandbox is running" in capsys.readouterr().err
        assert console_api.read_session(session)["bot"] == "http://127.0.0.1:1"
    finally:
        held.close()
    assert sandbox._only_sandbox(tmp_path) is not None  # the lock goes with its holder


def test_no_auto_create_is_a_sandbox_option(tmp_path):
    assert _args(tmp_path, extra=["--no-auto-create"]).no_auto_create is True
    assert _args(tmp_path).no_auto_create is False


def test_version_and_a_description_for_every_subcommand(capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.startswith("assessbot ")
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    listed = capsys.readouterr().out
    for name in ("run", "serve", "worker", "console", "sandbox", "doctor"):
        assert f"    {name} " in listed
        with pytest.raises(SystemExit):
            cli.main([name, "--help"])
        own = capsys.readouterr().out.split("\n\n")[1].strip()
        assert own and own[0].isupper() and own.endswith(".")
