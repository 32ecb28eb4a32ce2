"""Settings from the environment (and a .env file), checked once, with one message naming every problem."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATABASE_URL = f"sqlite:///{ROOT / 'var' / 'assessbot.db'}"

IdList = Annotated[tuple[str, ...], NoDecode]


class SettingsError(Exception):
    """The configuration cannot be used; the message lists every problem, one per line."""


class ServerSettings(BaseSettings):
    """What a process needs before the app: where to listen, how many workers, how to log (no credentials)."""

    # The one .env reader: gunicorn.conf.py, the CLI and the app all read .env through this configuration,
    # and a variable set in the environment always wins over the same name in .env.
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True)

    host: str = "0.0.0.0"
    port: int = Field(default=8000, ge=1, le=65535)
    web_concurrency: int = Field(default=2, ge=1, le=64)
    gunicorn_threads: int = Field(default=8, ge=1, le=256)
    assessbot_access_log: bool = False
    assessbot_log_format: str = "auto"  # text on a terminal, JSON lines otherwise (a service's journal, a file)
    assessbot_log_level: str = "INFO"

    @field_validator("assessbot_log_level")
    @classmethod
    def _level_is_known(cls, value: str) -> str:
        if value.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return value.upper()

    @field_validator("assessbot_log_format")
    @classmethod
    def _format_is_known(cls, value: str) -> str:
        if value.lower() not in {"auto", "json", "text"}:
            raise ValueError("must be auto (text on a terminal, JSON otherwise), json (one JSON object per line) or "
                             "text (for a terminal)")
        return value.lower()


class Credentials(BaseSettings):
    """The Feishu app's secrets as far as they are set (to tell the sandbox from a half-configured bot)."""

    model_config = ServerSettings.model_config

    feishu_app_id: str = ""
    feishu_app_secret: str = Field(default="", repr=False)
    feishu_verification_token: str = Field(default="", repr=False)
    feishu_encrypt_key: str = Field(default="", repr=False)
    feishu_verification_token_previous: str = Field(default="", repr=False)
    feishu_encrypt_key_previous: str = Field(default="", repr=False)

    def any_set(self) -> bool:
        """Whether at least one of the four credentials has a value."""
        return any((self.feishu_app_id, self.feishu_app_secret, self.feishu_verification_token,
                    self.feishu_encrypt_key))

    def secret_values(self) -> tuple[str, ...]:
        """Every secret set, for the log scrubber."""
        return _secret_values(self)


class Settings(ServerSettings):
    """Everything the bot reads from its environment; see config/assessbot.env.example."""

    feishu_app_id: str = Field(min_length=1)
    feishu_app_secret: str = Field(min_length=1, repr=False)
    # webhook: Feishu POSTs to /feishu/events (both keys required); longconn: the bot connects out to Feishu
    # and receives events and callbacks over lark-oapi's long connection (the keys only serve the webhook route).
    feishu_event_mode: Literal["webhook", "longconn"] = "webhook"
    feishu_verification_token: str = Field(default=None, validate_default=True, repr=False)  # type: ignore[assignment]
    feishu_encrypt_key: str = Field(default=None, validate_default=True, repr=False)  # type: ignore[assignment]
    # Accepted beside the current values while Feishu's console switches to new ones (docs/deploy.md).
    feishu_verification_token_previous: str = Field(default="", repr=False)
    feishu_encrypt_key_previous: str = Field(default="", repr=False)
    feishu_domain: str = "https://open.feishu.cn"
    feishu_bot_open_id: str = ""
    database_url: str = DEFAULT_DATABASE_URL
    assessbot_rubric: Path = ROOT / "config" / "rubric.toml"
    # Which Hire feedback form an interview uses when its schedule row names none (absent: no mapping).
    assessbot_forms: Path = ROOT / "config" / "forms.toml"
    # How often the forms are read from Feishu Hire (besides at start and `assessbot forms sync`); 0: never.
    assessbot_forms_sync_minutes: int = Field(default=60, ge=0, le=7 * 24 * 60)
    assessbot_admins: IdList = ()
    assessbot_allowed_users: IdList = ()
    assessbot_allowed_chats: IdList = ()
    # Every push Feishu can send must be read, or a long message gets no answer. A text message holds at most
    # ~150 KB of content; escaped once more inside the event JSON that is at most ~300 KB, and AES-CBC plus
    # base64 make it ~4/3 of that (~410 KB). 1 MiB keeps a wide margin; above it the push is logged and refused.
    assessbot_max_body_bytes: int = Field(default=1024 * 1024, ge=1024, le=10 * 1024 * 1024)
    # Feishu re-pushes an event for about 7.1 h and may not refresh the signed timestamp per attempt,
    # so the window must cover the whole re-push period; dedup records outlive it (see bot/feishu/security.py).
    assessbot_replay_window_seconds: int = Field(default=8 * 3600, ge=60)
    assessbot_dedup_ttl_seconds: int = Field(default=7 * 24 * 3600, ge=24 * 3600)
    assessbot_job_ttl_seconds: int = Field(default=7 * 24 * 3600, ge=3600)
    assessbot_patch_rate: int = Field(default=20, ge=1, le=1000)
    # A call counts from its start until this long after its answer (bot/store/ratelimit.py): a second, and a
    # little more for the clocks of several hosts sharing the database, which may differ by a few milliseconds.
    assessbot_patch_window: float = Field(default=1.02, ge=1.0, le=60.0)
    assessbot_timezone: str = "Asia/Shanghai"
    assessbot_runner_threads: int = Field(default=4, ge=0, le=64)
    assessbot_api_timeout: float = Field(default=10.0, gt=0, le=10.0)
    assessbot_callback_budget: float = Field(default=2.0, gt=0, le=2.8)
    # The schedule of interviews: when reminders go out (in ASSESSBOT_TIMEZONE) and who may push interviews in.
    assessbot_remind_after_minutes: int = Field(default=60, ge=0, le=7 * 24 * 60)
    assessbot_work_hours: str = "09:00-20:00"
    assessbot_work_days: str = "1-5"
    assessbot_digest_at: str = "10:00"
    assessbot_remind_days: int = Field(default=5, ge=1, le=60)
    assessbot_intake_token: str = Field(default="", repr=False)
    # People who may load schedules (import, /assign, a file sent in chat) without being admins: open_ids or emails.
    assessbot_schedulers: IdList = ()
    # A schedule file sent in chat is downloaded up to this size (Feishu serves files up to 100 MB).
    assessbot_schedule_file_max_bytes: int = Field(default=5 * 1024 * 1024, ge=1024, le=100 * 1024 * 1024)
    # Bitables (…/base/<app_token>?table=<table_id>, or a wiki link to one) the bot follows, read every few minutes.
    assessbot_schedule_bitable: Annotated[tuple[str, ...], NoDecode] = ()
    assessbot_schedule_sync_minutes: int = Field(default=10, ge=1, le=24 * 60)

    @field_validator("assessbot_admins", "assessbot_allowed_users", "assessbot_allowed_chats", "assessbot_schedulers",
                     mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.replace(";", ",").split(",") if part.strip())
        return value

    @field_validator("assessbot_schedule_bitable", mode="before")
    @classmethod
    def _split_urls(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part for part in value.replace(",", " ").split() if part)
        return value

    @field_validator("assessbot_schedule_bitable")
    @classmethod
    def _bitables_are_readable(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        from bot.schedule.bitable import NotATable, table_of

        for url in value:
            try:
                table_of(url)
            except NotATable as exc:
                raise ValueError(f"has a link that {exc}") from None
        return value

    @field_validator("assessbot_schedulers")
    @classmethod
    def _schedulers_are_people(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        from bot.schedule.model import Invalid, read_person

        people = []
        for item in value:
            try:
                people.append(read_person(item, ("open_id", "email")))
            except Invalid:
                raise ValueError(f"{item!r} is neither an open_id (ou_…) nor an email") from None
        return tuple(people)

    @field_validator("feishu_event_mode", mode="before")
    @classmethod
    def _mode_is_known(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() not in {"webhook", "longconn"}:
            raise PydanticCustomError("mode", "must be webhook (Feishu POSTs to /feishu/events) or longconn "
                                              "(the bot connects out to Feishu)")
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("feishu_verification_token", "feishu_encrypt_key", mode="before")
    @classmethod
    def _webhook_keys_are_set(cls, value: object, info: ValidationInfo) -> object:
        # Required for the webhook (it fails closed without them); optional over the long connection.
        if info.data.get("feishu_event_mode", "webhook") == "longconn":
            return value or ""
        if value is None:
            raise PydanticCustomError("missing", "is not set")
        if value == "":
            raise PydanticCustomError("string_too_short", "is empty")
        return value

    @property
    def webhook_keys(self) -> bool:
        """Whether the webhook route can authenticate pushes (both its secrets are set)."""
        return bool(self.feishu_encrypt_key and self.feishu_verification_token)

    @field_validator("feishu_domain")
    @classmethod
    def _domain_is_safe(cls, value: str) -> str:
        value = value.rstrip("/")
        parts = urlsplit(value)
        if parts.path or parts.query or parts.fragment or parts.username or not parts.hostname:
            raise ValueError("must be an origin like https://open.feishu.cn (no path, query or credentials)")
        if parts.scheme == "https":
            return value
        if parts.scheme == "http" and _is_loopback(parts.hostname):
            return value
        raise ValueError("must use https:// (plain http:// is only allowed for 127.0.0.1, ::1 or localhost)")

    @field_validator("database_url")
    @classmethod
    def _database_is_supported(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgresql://", "postgresql+psycopg://", "postgres://")):
            raise ValueError("must start with sqlite:/// or postgresql://")
        return value

    @model_validator(mode="after")
    def _rubric_exists(self) -> Settings:
        if not Path(self.assessbot_rubric).is_file():
            raise ValueError(f"ASSESSBOT_RUBRIC: no rubric file at {self.assessbot_rubric}")
        return self

    @model_validator(mode="after")
    def _work_time_is_readable(self) -> Settings:
        from bot.schedule.worktime import WorkTime, WorkTimeError

        try:
            work = WorkTime.parse(self.assessbot_work_hours, self.assessbot_work_days, self.assessbot_timezone)
            work.next_digest(datetime.now(UTC), self.assessbot_digest_at)
        except WorkTimeError as exc:
            raise ValueError(str(exc)) from None
        return self

    def secret_values(self) -> tuple[str, ...]:
        """Every secret the logs must never show, the previous ones, the intake token and followed bases' tokens
        included."""
        from bot.schedule.bitable import table_of

        bases = tuple(token for url in self.assessbot_schedule_bitable
                      for token in (table_of(url).app_token, table_of(url).wiki) if token)
        return (*_secret_values(self), *((self.assessbot_intake_token,) if self.assessbot_intake_token else ()), *bases)


def _secret_values(values: Credentials | Settings) -> tuple[str, ...]:
    return tuple(value for value in (values.feishu_app_secret, values.feishu_encrypt_key,
                                     values.feishu_verification_token, values.feishu_encrypt_key_previous,
                                     values.feishu_verification_token_previous) if value)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def load(env_file: str | Path | None = ".env", **overrides: object) -> Settings:
    """Read the settings; raise SettingsError with one line per problem (never a stack trace)."""
    try:
        return Settings(_env_file=env_file, **overrides)  # type: ignore[call-arg]
    except ValidationError as exc:
        raise SettingsError(describe(exc)) from None


def load_server(env_file: str | Path | None = ".env") -> ServerSettings:
    """The process settings (gunicorn's included); SettingsError as for `load`."""
    try:
        return ServerSettings(_env_file=env_file)  # type: ignore[call-arg]
    except ValidationError as exc:
        raise SettingsError(describe(exc)) from None


class DatabaseSettings(BaseSettings):
    """The database alone (for `assessbot db`, `jobs` and `export`, which need no Feishu credentials)."""

    model_config = ServerSettings.model_config

    database_url: str = DEFAULT_DATABASE_URL


def load_database_url(env_file: str | Path | None = ".env") -> str:
    """DATABASE_URL from the environment or .env (the default SQLite file if unset)."""
    try:
        return DatabaseSettings(_env_file=env_file).database_url  # type: ignore[call-arg]
    except ValidationError as exc:
        raise SettingsError(describe(exc)) from None


class CommandSettings(DatabaseSettings):
    """What `assessbot jobs`, `export` and `forms` read besides the database: the time zone, the rubric and the
    form mapping (no credentials)."""

    assessbot_timezone: str = "Asia/Shanghai"
    assessbot_rubric: Path = ROOT / "config" / "rubric.toml"
    assessbot_forms: Path = ROOT / "config" / "forms.toml"

    @field_validator("assessbot_timezone")
    @classmethod
    def _zone_is_known(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not a time zone (write one like Asia/Shanghai)") from None
        return value


def command_settings_for(command: str) -> CommandSettings | None:
    """The settings of an operator's command, or None after saying on stderr what is wrong with them."""
    import sys

    try:
        return CommandSettings(_env_file=".env")  # type: ignore[call-arg]
    except ValidationError as exc:
        print(f"assessbot {command}: the configuration has problems:\n{describe(exc)}", file=sys.stderr)
        return None


def database_url_for(command: str) -> str | None:
    """DATABASE_URL for a command-line tool, or None after saying on stderr what is wrong with it."""
    import sys

    try:
        return load_database_url()
    except SettingsError as exc:
        print(f"assessbot {command}: the configuration has problems:\n{exc}", file=sys.stderr)
        return None


def credentials(env_file: str | Path | None = ".env") -> Credentials:
    """The Feishu credentials set in the environment or in .env, each possibly empty."""
    return Credentials(_env_file=env_file)  # type: ignore[call-arg]


def describe(exc: ValidationError) -> str:
    """One readable line per invalid or missing setting, named as its environment variable."""
    lines = []
    for err in exc.errors():
        name = "_".join(str(p) for p in err["loc"]).upper()
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            msg = "is not set"
        elif err["type"] == "string_too_short":
            msg = "is empty"
        lines.append(f"{name} {msg}" if name else msg)
    return "\n".join(f"  - {line}" for line in lines)
