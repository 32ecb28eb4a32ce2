"""Schedule files sent in chat, the whole way: a signed file message, the job that downloads the file from the sandbox
Open API, checks it (size, unpacked size, rows) and reads it (`bot.schedule.files.read_bytes`) into a preview.

XLSX zip bombs, billion laughs and external entities inside a workbook, truncated and mutated zips, empty sheets,
formulas, wrong encodings, 10^5 rows, JSON Lines of junk, and one file of 100 MB (refused while it downloads).
Nothing is imported before Import: no interview or assessment row may be written."""

from __future__ import annotations

import functools
import io
import json
import random
import zipfile
from collections import Counter
from collections.abc import Iterator

from benchmarks.hostile import junk
from benchmarks.hostile.lab import CHAT, PLANNER, TOKEN, Lab, seal, signed
from benchmarks.hostile.run import Case
from bot.sandbox.push import message_event

NAME = "files"
HEADER = "面试ID,面试官,候选人,职位,轮次,开始时间,结束时间"
ROW = "{id},ou_hostile{n:06d},张伟,后端工程师,技术一面,2027-12-07 10:00,2027-12-07 11:00"
LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
          + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                     for i in range(1, 10))
          + b']><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1">'
            b'<c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>')
EXTERNAL = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
            b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1">'
            b'<c r="A1" t="inlineStr"><is><t>&xxe;</t></is></c></row></sheetData></worksheet>')
SHEET = "xl/worksheets/sheet1.xml"


def csv_rows(rows: int, encoding: str = "utf-8") -> bytes:
    return "\n".join([HEADER, *(ROW.format(id=7412358746023500000 + n, n=n) for n in range(rows))]).encode(encoding)


@functools.cache
def workbook(rows: int = 3, formulas: bool = False) -> bytes:
    """A valid workbook of `rows` interviews (or formulas in their cells)."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.split(","))
    for n in range(rows):
        cells = ROW.format(id=7412358746023500000 + n, n=n).split(",")
        sheet.append(["=1+1", '=HYPERLINK("http://x","y")', "=cmd|'/c calc'!A0", *cells[3:]] if formulas else cells)
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()


def replaced(member: str, content: bytes, base: bytes | None = None) -> bytes:
    """The workbook with one member's content replaced (or added)."""
    source = zipfile.ZipFile(io.BytesIO(base or workbook()))
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w", zipfile.ZIP_DEFLATED) as out:
        for name in source.namelist():
            if name != member:
                out.writestr(name, source.read(name))
        out.writestr(member, content)
    return data.getvalue()


@functools.cache
def bomb(gigabytes: int) -> bytes:
    """A workbook whose sheet unpacks to `gigabytes` GB of zeros from a file of a few MB."""
    data = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(workbook())) as source, \
            zipfile.ZipFile(data, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        for name in source.namelist():
            if name != SHEET:
                out.writestr(name, source.read(name))
        zeros = b"\0" * (64 * 1024 * 1024)
        with out.open(SHEET, "w", force_zip64=True) as sheet:
            for _ in range(gigabytes * 16):
                sheet.write(zeros)
    return data.getvalue()


def cases(rng: random.Random, count: int) -> Iterator[Case]:
    kinds = ["garbage", "encodings", "formulas csv", "jsonl junk", "xlsx mutated", "xlsx truncated", "xlsx laughs",
             "xlsx external entity", "xlsx empty", "xlsx formulas", "xlsx bomb", "not a schedule", "valid",
             "100,000 rows", "100 MB"]
    for n in range(count):
        kind = kinds[n] if n < len(kinds) else rng.choice(kinds[:-2])
        if n == count - 1 and count > 1:
            kind = "100 MB"
        name, data = _file(rng, kind)
        yield Case(kind, (name, data), len(data))


def _file(rng: random.Random, kind: str) -> tuple[str, bytes]:
    if kind == "garbage":
        return rng.choice(["a.csv", "a.xlsx", "a.jsonl", "a.tsv"]), junk.garbage(rng, 5000)
    if kind == "encodings":
        text = csv_rows(rng.randint(1, 20), "utf-8").decode()
        encoding = rng.choice(["utf-16-le", "utf-16-be", "utf-32", "latin-1", "big5", "shift_jis", "cp1252"])
        return "a.csv", junk.flip(rng, text.encode(encoding, "replace"), rng.randint(0, 3))
    if kind == "formulas csv":
        rows = ["=HYPERLINK(\"http://x\",\"y\"),=1+1,@SUM(A1),+cmd|' /C calc'!A0,-2+3,2027-12-07 10:00,x"]
        return "a.csv", "\n".join([HEADER, *rows * rng.randint(1, 5)]).encode()
    if kind == "jsonl junk":
        lines = [junk.dumps(junk.value(rng)) for _ in range(rng.randint(1, 20))]
        lines += [junk.nested(rng, 100_000).encode(), b'{"interview_id": ' + b"9" * 5000 + b"}",
                  b'{"candidate": "\\ud800"}'][:rng.randint(0, 3)]
        return "a.jsonl", b"\n".join(lines)
    if kind == "xlsx mutated":
        return "a.xlsx", junk.flip(rng, workbook(), rng.randint(1, 8))
    if kind == "xlsx truncated":
        data = workbook()
        return "a.xlsx", data[:rng.randrange(len(data))]
    if kind == "xlsx laughs":
        return "a.xlsx", replaced(rng.choice([SHEET, "xl/workbook.xml", "[Content_Types].xml"]), LAUGHS)
    if kind == "xlsx external entity":
        return "a.xlsx", replaced(SHEET, EXTERNAL)
    if kind == "xlsx empty":
        return "a.xlsx", replaced(SHEET, b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
                                         b'main"><sheetData/></worksheet>')
    if kind == "xlsx formulas":
        return "a.xlsx", workbook(5, formulas=True)
    if kind == "xlsx bomb":
        return "a.xlsx", bomb(rng.choice([1, 4]))
    if kind == "not a schedule":
        name = rng.choice(["a.exe", "a", ".csv.exe", "a.xlsm", "a.json", junk.text(rng, 300)])
        return name, b"MZ" + rng.randbytes(50)
    if kind == "100,000 rows":
        return "a.csv", b"\n".join([HEADER.encode(), *[b"1,ou_x,a,,,2027-12-07 10:00,2027-12-07 11:00"] * 100_000])
    if kind == "100 MB":
        return "a.csv", csv_rows(10) + b"\n" + b"x" * (100 * 1024 * 1024)
    return rng.choice([("a.csv", csv_rows(rng.randint(1, 30))), ("a.xlsx", workbook(rng.randint(1, 30)))])


def send(lab: Lab, case: Case) -> str:
    """Send the file to the bot; run its job; the upload's state (or why nothing was downloaded)."""
    name, data = case.data
    message_id = f"om_{random.getrandbits(64):x}"
    key = lab.api.api.record_user_file(message_id, CHAT, PLANNER, name, data)
    payload = message_event("", token=TOKEN, sender=PLANNER, chat_id=CHAT, message_id=message_id, message_type="file",
                            content={"file_key": key, "file_name": name})
    body = seal(json.dumps(payload).encode())
    status = lab.post("/feishu/events", body, signed(body))
    lab.ctx.runner.drain()
    upload = lab.ctx.store.upload(message_id)
    lab.api.api.reset()  # the sandbox keeps every file and card in memory otherwise
    return f"{status}: {upload.state if upload else 'not downloaded'}"


def may_write(case: Case, outcome: str, tables: Counter[str]) -> bool:
    """The upload, its jobs, its dedup record and the people cache; never an interview before Import."""
    return not {"assignments", "assessments"} & tables.keys()


def good(lab: Lab) -> bool:
    """A valid CSV gets its preview."""
    return send(lab, Case("good", ("a.csv", csv_rows(3)))) == "200: previewed"
