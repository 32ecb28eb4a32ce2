"""Persist or refuse: what the bot answers, and how it comes back, while its database cannot store."""

from __future__ import annotations

import errno
import json
import os
import sqlite3
import threading
import time

import psycopg
import pytest
from sqlalchemy import create_engine
from sqlalchemy import exc as sa
from sqlalchemy.engine import make_url

from bot import auth, create_app
from bot.actions import OpenForm
from bot.jobs.runner import Runner
from bot.store import Store, Unavailable, errors, make_engine, misconfigured
from cards.elements import toast
from cards.form import form_card, form_values_to_raw
from tests.support.databases import drop_everything, needs_postgres
from tests.support.ids import AID, ALICE, make_settings
from tests.support.jobs import send_job
from tests.support.tcpproxy import TcpProxy
from tests.support.waiting import wait_until

FORM = {"conclusion": "2", "dim_coding": "4", "dim_design": "3", "dim_communication": "5", "dim_level": "P6",
        "dim_strengths": ["算法"], "content": "clear thinker", "username": "Alice Zhang"}
NOT_SAVED = toast("error", "暂时无法保存你的提交，请稍后再试一次。",
                  "Could not save your answer; please try again in a moment.")


def _sqlite_error(code: int, message: str) -> sqlite3.OperationalError:
    exc = sqlite3.OperationalError(message)
    exc.sqlite_errorcode = code
    return exc


def _wrapped(orig: Exception, cls: type = sa.OperationalError) -> sa.DBAPIError:
    return cls("INSERT INTO jobs (payload) VALUES (%(payload)s)", {"payload": "clear thinker"}, orig)


@pytest.mark.parametrize(("exc", "expected"), [
    (_wrapped(psycopg.OperationalError("connection failed: Connection refused")), True),
    (_wrapped(psycopg.errors.AdminShutdown("terminating connection due to administrator command")), True),
    (_wrapped(psycopg.errors.CannotConnectNow("the database system is starting up")), True),
    (_wrapped(psycopg.errors.TooManyConnections("sorry, too many clients already")), True),
    (_wrapped(psycopg.errors.DiskFull("could not extend file")), True),
    (_wrapped(psycopg.errors.ReadOnlySqlTransaction("read-only transaction"), sa.InternalError), True),
    (_wrapped(psycopg.errors.DeadlockDetected("deadlock detected")), True),
    (_wrapped(psycopg.errors.UniqueViolation("duplicate key"), sa.IntegrityError), False),
    (_wrapped(psycopg.errors.UndefinedTable("relation does not exist"), sa.ProgrammingError), False),
    (_wrapped(psycopg.ProgrammingError("cannot adapt type 'dict'"), sa.ProgrammingError), False),
    (_wrapped(_sqlite_error(5, "database is locked")), True),
    (_wrapped(_sqlite_error(8, "attempt to write a readonly database")), True),
    (_wrapped(_sqlite_error(13, "database or disk is full")), True),
    (_wrapped(_sqlite_error(10 | (4 << 8), "disk I/O error")), True),  # SQLITE_IOERR_WRITE: an extended code
    (_wrapped(_sqlite_error(14, "unable to open database file")), True),
    (_wrapped(_sqlite_error(1, "no such table: jobs")), False),
    (_wrapped(sqlite3.IntegrityError("UNIQUE constraint failed"), sa.IntegrityError), False),
    (sa.TimeoutError("QueuePool limit of size 5 overflow 10 reached"), True),
    (OSError(errno.ENOSPC, "No space left on device"), True),
    (OSError(errno.EROFS, "Read-only file system"), True),
    (Unavailable("locked"), True),
    (ValueError("a bug"), False),
    (KeyError("payload"), False),
])
def test_database_failures_are_told_apart_from_bugs(exc, expected):
    """Unreachable, locked, full, read-only, cut or exhausted: unavailable; anything else: a bug."""
    assert errors.unavailable(exc) is expected


def test_an_invalidated_connection_is_unavailable_whatever_the_driver_said():
    exc = sa.DBAPIError("SELECT 1", {}, Exception("server closed the connection"), connection_invalidated=True)
    assert errors.unavailable(exc)


def test_the_logged_reason_names_the_driver_error_never_the_sql_or_its_values():
    reason = errors.reason(_wrapped(psycopg.errors.AdminShutdown("terminating connection due to administrator "
                                                                  "command\nDETAIL: more")))
    assert reason == "AdminShutdown: terminating connection due to administrator command"


# -- the app while its database is away --------------------------------------------------------------------------

class Outage:
    """Points the app's store at a database that cannot be reached (real driver errors), then back."""

    def __init__(self, store: Store):
        self.store, self.engine = store, store.engine
        if store.dialect == "postgresql":
            self.broken = make_engine("postgresql://postgres@127.0.0.1:1/unreachable")
        else:
            self.broken = create_engine("sqlite:////proc/assessbot-missing/assessbot.db")

    def __enter__(self) -> Outage:
        self.store.engine = self.broken
        return self

    def __exit__(self, *exc: object) -> None:
        self.store.engine = self.engine
        self.broken.dispose()


def _write_jobs(ctx) -> list[dict]:
    found = []
    for job_id in range(1, 100):
        job = ctx.store.job(job_id)
        if job is not None and job["kind"] == "write":
            found.append(job)
    return found


def test_a_command_that_cannot_be_stored_is_refused_with_503_and_stored_once_when_pushed_again(
        push, feishu, ctx, logs):
    """503 with nothing about the database; Feishu's re-push, once it is back, is stored and applied once."""
    payload = push.message_payload(f'/assess {AID} pass coding=4 comment="clear thinker"', message_id="om_down1")
    with Outage(ctx.store):
        response = push.post(payload)
        assert (response.status_code, response.get_json()) == (503, {"error": "unavailable"})
    assert ctx.store.jobs_by_status() == {}
    assert push.post(payload).status_code == 200
    assert push.post(payload).status_code == 200  # a later copy: already stored
    ctx.runner.drain()
    assert len(feishu.patches()) == 1 and len(_write_jobs(ctx)) == 1
    lines = [json.loads(line) for line in logs.getvalue().splitlines()]
    refused = [line for line in lines if line["msg"] == "not acknowledged: the database is unavailable"]
    assert [line["event_id"] for line in refused] == [payload["header"]["event_id"]]
    assert not any("Traceback" in line.get("exc", "") for line in lines)
    assert [line["msg"] for line in lines if line["logger"] == "assessbot.store"] == [
        "database unavailable: pushes are refused until it is back", "database available again"]


def test_a_re_push_is_refused_when_its_dedup_record_cannot_even_be_read(push, ctx):
    payload = push.message_payload(f"/assess {AID} pass coding=4", message_id="om_down2")
    assert push.post(payload).status_code == 200
    with Outage(ctx.store):
        assert push.post(payload).status_code == 503


def test_a_form_submitted_while_the_database_is_away_comes_back_filled_in_with_a_try_again_toast(push, ctx):
    value = auth.form_value(ctx.settings, AID, ALICE, "abcdef0123456789")
    with Outage(ctx.store):
        response = push.card(value, FORM)
    assert response.status_code == 200
    expected = form_card(AID, ctx.rubric, form_values_to_raw(FORM, ctx.rubric), submit_value=value)
    assert response.get_json() == {"toast": NOT_SAVED, "card": {"type": "raw", "data": expected}}
    assert ctx.store.jobs_by_status() == {}


def test_another_click_while_the_database_is_away_gets_the_toast_and_leaves_the_card_alone(push, ctx):
    with Outage(ctx.store):
        response = push.card(OpenForm(AID).encode())
    assert (response.status_code, response.get_json()) == (200, {"toast": NOT_SAVED})


def test_a_forged_form_is_not_echoed_back_while_the_database_is_away(push, ctx):
    value = {**auth.form_value(ctx.settings, AID, ALICE, "abcdef0123456789"), "sig": "0" * 64}
    with Outage(ctx.store):
        response = push.card(value, FORM)
    assert response.get_json() == {"toast": NOT_SAVED}


def test_readyz_says_unreachable_while_healthz_stays_ok(app, ctx):
    client = app.test_client()
    with Outage(ctx.store):
        assert (client.get("/readyz").status_code, client.get("/readyz").get_json()) == (
            503, {"status": "unavailable", "database": "unreachable"})
        assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert (ready.status_code, ready.get_json()["database"]) == (200, "ok")


# -- the job runner ----------------------------------------------------------------------------------------------

def test_the_runner_backs_off_doubling_up_to_a_cap(ctx):
    assert [ctx.runner.outage_delay(n) for n in range(1, 8)] == [0.25, 0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


class _Flaky:
    """An executor whose job runs; the store's next `fail` calls of `verb` meet an unavailable database."""

    limit = None

    def __init__(self, store: Store, verb: str, fail: int, raise_in_run: bool = False):
        self.store, self.raise_in_run, self.runs = store, raise_in_run, 0
        real = getattr(store, verb)
        left = [fail]

        def flaky(*args, **kwargs):
            if left[0] > 0:
                left[0] -= 1
                raise Unavailable("connection refused")
            return real(*args, **kwargs)

        setattr(store, verb, flaky)

    def run(self, job) -> None:
        self.runs += 1
        if self.raise_in_run and self.runs == 1:
            raise Unavailable("connection refused")

    def retrying(self, job, error) -> None: ...

    def dead(self, job, error) -> None: ...


def _runner(store: Store, executor) -> Runner:
    return Runner(store, {"send": executor}, threads=0, rand=lambda low, high: 0.0)


def test_a_job_whose_result_cannot_be_recorded_is_settled_once_the_database_returns(database_url):
    store = Store(database_url)
    try:
        [job_id] = store.accept(["k"], [send_job()])
        executor = _Flaky(store, "finish", fail=3)
        assert _runner(store, executor).run_once() is True
        assert (store.job(job_id)["status"], executor.runs) == ("done", 1)
    finally:
        store.dispose()


def test_a_job_cut_short_by_the_database_is_handed_back_at_once_without_counting_an_attempt(database_url):
    store = Store(database_url)
    try:
        [job_id] = store.accept(["k"], [send_job()])
        executor = _Flaky(store, "retry_later", fail=2, raise_in_run=True)
        runner = _runner(store, executor)
        assert runner.run_once() is True
        job = store.job(job_id)
        assert (job["status"], job["attempts"], job["lease_until"]) == ("pending", 0, None)
        assert runner.run_once() is True and store.job(job_id)["status"] == "done"
    finally:
        store.dispose()


def test_the_runner_loop_survives_an_outage_and_resumes_by_itself(database_url):
    store = Store(database_url)
    try:
        executor = _Flaky(store, "claim", fail=4)
        [job_id] = store.accept(["k"], [send_job()])
        runner = Runner(store, {"send": executor}, threads=1, poll=0.05)
        runner.start()
        try:
            wait_until(lambda: store.job(job_id)["status"] == "done")
        finally:
            runner.stop()
    finally:
        store.dispose()


# -- SQLite: locked past its timeout -----------------------------------------------------------------------------

def test_sqlite_locked_by_another_program_past_the_timeout_is_unavailable_and_waits_stay_bounded(tmp_path):
    """Five writers queued behind a lock another program holds all give up within two timeouts; reads go on."""
    path = tmp_path / "assessbot.db"
    store = Store(f"sqlite:///{path}", lock_timeout=0.3)
    store.create_schema()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    outcomes: list[tuple[str, float]] = []

    def write(n: int) -> None:
        started = time.monotonic()
        try:
            store.accept([f"k{n}"], [])
            outcomes.append(("stored", time.monotonic() - started))
        except Unavailable:
            outcomes.append(("unavailable", time.monotonic() - started))

    try:
        threads = [threading.Thread(target=write, args=(n,)) for n in range(5)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert store.seen("k0") is False  # WAL: reading does not need the write lock
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert [kind for kind, _ in outcomes] == ["unavailable"] * 5
    assert max(seconds for _, seconds in outcomes) < 1.5
    assert store.accept(["k0"], []) == [] and store.seen("k0")
    store.dispose()


# -- start without a database; schema created once, by whoever comes first ---------------------------------------

@needs_postgres
def test_the_app_starts_without_its_database_and_creates_the_tables_when_it_answers(clock, feishu):
    server = make_url(os.environ["TEST_DATABASE_URL"])
    engine = make_engine(os.environ["TEST_DATABASE_URL"])
    drop_everything(engine)
    engine.dispose()
    with TcpProxy((server.host or "127.0.0.1", server.port or 5432)) as proxy:
        proxy.down()
        url = server.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        app = create_app(make_settings(url), clock=clock, start_runner=False)
        client = app.test_client()
        try:
            assert client.get("/readyz").get_json() == {"status": "unavailable", "database": "unreachable"}
            proxy.up()
            assert client.get("/readyz").get_json()["database"] == "ok"
        finally:
            app.extensions["assessbot"].store.dispose()


@needs_postgres
def test_the_app_stops_at_start_with_one_line_when_its_database_does_not_exist(clock, feishu):
    url = make_url(os.environ["TEST_DATABASE_URL"]).set(database="assessbot_misspelt")
    with pytest.raises(SystemExit) as stopped:
        create_app(make_settings(url.render_as_string(hide_password=False)), clock=clock, start_runner=False)
    assert str(stopped.value) == (f"assessbot cannot start: the database {url.render_as_string(hide_password=True)} "
                                  "cannot be used: database \"assessbot_misspelt\" does not exist; correct "
                                  "DATABASE_URL or the server's set-up")


def test_the_app_stops_at_start_with_one_line_when_the_sqlite_directory_cannot_be_made(tmp_path, clock, feishu):
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    with pytest.raises(SystemExit) as stopped:
        create_app(make_settings(f"sqlite:///{tmp_path / 'a-file' / 'bot.db'}"), clock=clock, start_runner=False)
    assert str(stopped.value) == (f"assessbot cannot start: the SQLite database's directory {tmp_path / 'a-file'} "
                                  f"cannot be created ({tmp_path / 'a-file'} is a file); correct DATABASE_URL")


@pytest.mark.parametrize(("said", "expected"), [
    ('connection failed: connection to server at "10.0.0.5", port 5432 failed: FATAL:  password authentication '
     'failed for user "bot"', 'password authentication failed for user "bot"'),
    ('connection failed: connection to server at "10.0.0.5", port 5432 failed: FATAL:  no pg_hba.conf entry for host '
     '"10.0.0.9", user "bot", database "assessbot", no encryption', 'no pg_hba.conf entry for host "10.0.0.9", user '
     '"bot", database "assessbot", no encryption'),
    ('connection failed: connection to server at "10.0.0.5", port 5432 failed: FATAL:  role "bot" does not exist',
     'role "bot" does not exist'),
    ('connection failed: connection to server at "10.0.0.5", port 5432 failed: Connection refused', None),
    ("connection failed: connection to server at \"10.0.0.5\", port 5432 failed: timeout expired", None),
    ('connection failed: connection to server at "10.0.0.5", port 5432 failed: FATAL:  the database system is '
     'starting up', None),
])
def test_a_refused_connection_is_a_setting_to_correct_only_when_waiting_cannot_help(said, expected):
    assert misconfigured(Unavailable("the database stayed locked past its timeout")) is None
    failure = Unavailable("OperationalError")
    failure.__cause__ = psycopg.OperationalError(said)
    assert misconfigured(failure) == expected


def test_many_processes_creating_the_schema_at_once_end_with_one_schema(database_url):
    """Eight engines (as many processes would) create the tables on one empty database at the same moment."""
    stores = [Store(database_url) for _ in range(8)]
    barrier, failures = threading.Barrier(len(stores)), []

    def create(store: Store) -> None:
        barrier.wait()
        try:
            store.create_schema()
        except Exception as exc:  # what the test is about: none may fail
            failures.append(repr(exc))

    threads = [threading.Thread(target=create, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert failures == []
        assert stores[0].accept(["k"], [send_job()]) == [1]
    finally:
        for store in stores:
            store.dispose()
