"""Bitable values of every unexpected shape for each field type, read as a schedule (`bot.schedule.bitable.read_table`)
and taken in as a dry run (`bot.schedule.tables.take_table`, which writes nothing at all)."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from zoneinfo import ZoneInfo

from benchmarks.hostile import junk
from benchmarks.hostile.lab import Lab
from benchmarks.hostile.run import Case
from bot.schedule.bitable import Table, read_table
from bot.schedule.planner import Planner
from bot.schedule.tables import Fetched, take_table

NAME = "bitable"
ZONE = ZoneInfo("Asia/Shanghai")
TABLE = Table("https://x.feishu.cn/base/bascnHostile?table=tblHostile", "tblHostile", "bascnHostile")
# The schedule's columns as a table holds them: (name, field type).
FIELDS = [("面试ID", 1), ("面试官", 11), ("候选人", 1), ("职位", 3), ("轮次", 4), ("开始时间", 5), ("结束时间", 1001),
          ("招聘负责人", 11), ("投递ID", 2), ("面评状态", 1), ("链接", 15), ("附件", 17), ("公式", 20)]
# A value of each shape Bitable has, for any column: the documented ones, and near misses.
SHAPES = [
    lambda rng: [{"type": "text", "text": junk.text(rng)}],
    lambda rng: [{"type": "mention", "token": "ou_" + junk.text(rng, 8), "name": junk.value(rng)}],
    lambda rng: [{"id": junk.value(rng), "name": junk.text(rng)}, {"id": "ou_b"}],
    lambda rng: [{"id": None}],
    lambda rng: {"text": junk.value(rng), "link": junk.text(rng)},
    lambda rng: [junk.text(rng), junk.text(rng)],
    lambda rng: rng.choice([1796614800000, -1, 0, 10**20, -(10**20), 1e308, float("nan"), float("inf"), True]),
    lambda rng: [{"file_token": "x", "name": junk.text(rng), "size": junk.value(rng)}],
    lambda rng: {"type": 1, "value": [junk.value(rng)]},  # a formula's or lookup's value
    lambda rng: {"link_record_ids": [junk.text(rng)]},
    lambda rng: [{"type": junk.value(rng), "text": junk.value(rng)}],
    lambda rng: [[[]]],
    lambda rng: junk.value(rng),
]


def fields(rng: random.Random, mutated: bool) -> list[dict]:
    found = [{"field_id": f"fld{i}", "field_name": name, "type": kind} for i, (name, kind) in enumerate(FIELDS)]
    return junk.mutate(rng, found, rng.randint(1, 4)) if mutated else found


def record(rng: random.Random, n: int) -> dict:
    """A record a valid schedule row reads from."""
    values = {"面试ID": [{"type": "text", "text": str(7412358746023500000 + n)}],
              "面试官": [{"id": f"ou_hostile{n:06d}", "name": "李娜"}], "候选人": [{"type": "text", "text": "张伟"}],
              "职位": "后端工程师", "轮次": ["技术一面"], "开始时间": 1827900000000, "结束时间": 1827903600000}
    return {"record_id": f"rec{n}", "fields": values}


def cases(rng: random.Random, count: int) -> Iterator[Case]:
    """`count` tables: (fields, records, whether to take it in as a dry run)."""
    for n in range(count):
        rows = rng.choice([1, 1, 2, 5, 20])
        records = [record(rng, i) for i in range(rows)]
        for item in records:
            for name in rng.sample([name for name, _ in FIELDS], rng.randint(1, 4)):
                item["fields"][name] = rng.choice(SHAPES)(rng)
        kind = "values"
        if rng.random() < 0.1:
            records = junk.mutate(rng, records, rng.randint(1, 5))
            kind = "records"
        mutated = rng.random() < 0.1
        kind = "fields" if mutated else kind
        if n == count - 1 and count > 1:  # as many as the bot reads (200 pages of 500); fewer in a short run
            size = 100_000 if count >= 100_000 else 1000
            records, kind = [record(rng, i) for i in range(size)], f"{size:,} records"
        yield Case(kind, (fields(rng, mutated), records, rng.random() < 0.05 or kind.endswith(" records")),
                   len(records) * 200)


def send(lab: Lab, case: Case) -> str:
    table_fields, records, take = case.data
    if not take:
        read = read_table(table_fields, records, ZONE)
        return "rows" if read.assignments else ("problems" if read.problems else "nothing")
    now = lab.ctx.clock()
    taken, _ = take_table(Fetched(TABLE, table_fields, records), lab.ctx.store, Planner(lab.ctx.settings, now),
                          zone=ZONE, lookup=lab.ctx.feishu.open_ids, now=now, dry_run=True, forms=lab.ctx.forms)
    return "dry run: " + ("would apply" if taken.applied else "refused")


def may_write(case: Case, outcome: str, tables: Counter[str]) -> bool:
    """Reading writes nothing, and neither does a dry run."""
    return False


def good(lab: Lab) -> bool:
    """A valid table reads as its rows."""
    rng = random.Random(1)
    return len(read_table(fields(rng, False), [record(rng, i) for i in range(3)], ZONE).assignments) == 3
