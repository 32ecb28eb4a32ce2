"""The suite's own rules: every test that needs Feishu meets the one stand-in; no test declares the world again."""

from __future__ import annotations

import re

from tests.support.ids import ROOT

TESTS = ROOT / "tests"
# Registering an answer with `responses` (add, add_callback, replace, upsert, or a verb helper on a mock).
ROUTE = re.compile(r"\b(mock|responses|rsps)\.(add|add_callback|replace|upsert|get|post|put|patch|delete)\(")
FRONT_DOOR = TESTS / "support" / "openapi.py"


def test_no_test_answers_an_open_api_path_itself():
    """Only the stand-in's front door answers Open API paths; tests use its state and faults."""
    found = [f"{path.relative_to(ROOT)}:{n}" for path in TESTS.rglob("*.py") if path != FRONT_DOOR
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if ROUTE.search(line)]
    assert found == []


def test_the_worlds_names_are_declared_once():
    """The fixed world (tests/support/ids.py and its neighbours) is imported, never declared again."""
    homes = {"ids.py": ("AID", "ALICE", "BOB", "ADMIN", "BOT", "DOMAIN", "ENCRYPT_KEY", "TOKEN", "START", "DIRECTORY",
                        "APP_ID", "APP_SECRET", "SANDBOX_APP_ID", "SANDBOX_APP_SECRET"),
             "processes.py": ("ASSESSBOT",), "rubrics.py": ("SHIPPED",)}
    again = []
    for path in TESTS.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        names = [name for home, owned in homes.items() if path.name != home for name in owned]
        assigned = [name.strip() for target in re.findall(r"^([A-Z_][A-Z0-9_, ]*)=", text, re.MULTILINE)
                    for name in target.split(",")]  # `NAME = …` and `NAME, OTHER = …`
        again += [f"{path.relative_to(ROOT)}: {found}" for found in assigned if found in names]
        if path.name != "rubrics.py" and re.search(r'load\(ROOT / "config" / "rubric\.toml"\)', text):
            again.append(f"{path.relative_to(ROOT)}: the shipped rubric loaded again")
    assert again == []
