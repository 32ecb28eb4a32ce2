"""`python -m benchmarks --quick` runs every scenario against real processes and writes the whole table (not judged)."""

from __future__ import annotations

from benchmarks.scenarios import main

RATES = ("50/s", "200/s", "saturation")
WORKER = "ack, job runner in its own process (`assessbot worker`)"
ROWS = (*(f"floor: signature + INSERT @ {rate}" for rate in RATES),
        *(row for rate in RATES for row in (f"ack @ {rate}", f"ack, CPU per ack @ {rate}")),
        *(row for rate in RATES for row in (f"{WORKER} @ {rate}", f"{WORKER}, CPU per ack @ {rate}")),
        *(f"ack, Open API answering in 5 s @ {rate}" for rate in RATES),
        "form submit → confirmation card", "backlog drain (25 queued writes)",
        "ack, 10,000 dedup records and 1,000 finished jobs stored @ 50/s",
        "ack during the purge of 10,000 expired dedup records and 1,000 expired jobs @ 50/s",
        "reminder scan over 1,000 assignments", "/todo inbox over 1,000 assignments")
GROWTH_POSTGRES = ("reminder scan over 1,000 assignments, PostgreSQL", "/todo inbox over 1,000 assignments, PostgreSQL")
POSTGRES = ("ack, PostgreSQL @ 50/s", "backlog drain, PostgreSQL, two instances on one database (25 queued writes)")
MEMORY = ('bare `python -c "import lark_oapi"`',
          "start-up and memory, 1 worker", "start-up and memory, 2 workers", "start-up and memory, 4 workers")


def test_the_quick_benchmark_prints_and_writes_a_row_for_every_measurement(tmp_path, capsys):
    output = tmp_path / "BENCHMARKS.md"
    output.write_text("old table\n<!-- Everything below this line is written by hand and kept when the file is "
                      "regenerated. -->\nA note written by hand.\n", encoding="utf-8")
    assert main(["--quick", "--output", str(output)]) == 0
    printed = capsys.readouterr().out
    written = output.read_text(encoding="utf-8")
    postgres = ("PostgreSQL rows",) if "| PostgreSQL rows | skipped |" in printed else POSTGRES  # no server here
    growth = ("schedule rows, PostgreSQL",) if "| schedule rows, PostgreSQL | skipped |" in printed else GROWTH_POSTGRES
    for text in (printed, written):
        lines = [line for line in text.splitlines() if line.startswith("| ")]
        assert [line.split(" | ")[0].removeprefix("| ") for line in lines[1:]] == [*ROWS, *growth, *postgres, *MEMORY]
        assert all(line.count(" | ") == 10 for line in lines)  # eleven columns, none empty of its separator
    assert f"`python -m benchmarks --quick --output {output}`" in written
    assert "cores" in written and "lark-oapi 1." in written and "gunicorn" in written and "sqlalchemy" in written
    assert "old table" not in written and written.endswith("A note written by hand.\n")


def test_an_unknown_scenario_is_refused(capsys):
    assert main(["--only", "floor,nonsense"]) == 2
    assert "unknown scenario nonsense" in capsys.readouterr().err
