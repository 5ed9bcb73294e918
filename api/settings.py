"""Settings read from the environment, with an optional `.env` file (contract section 1)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from starlette.config import Config

DEFAULT_DATABASE_URL = "sqlite://likegraph.sqlite3"
MIN_SECRET_LENGTH = 32  # HS256 wants a key of at least 256 bits
DEFAULT_MAX_NODES = 10_000  # api/limits.py: the worst-case nodes one operation may return


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret: str
    token_ttl: int
    max_nodes: int = DEFAULT_MAX_NODES
    # How long this process may trust a session it checked, without asking the database
    # again: the bound on how long another server still accepts an ended one (README).
    session_recheck: float = 5.0
    # Creator insights (docs/insights.md): the privacy loss of each released count, and the
    # smallest released figure shown (smaller ones are withheld).
    insights_epsilon: float = 1.0
    insights_min_count: int = 10
    # Origins whose browser apps may call the API (CORS); ("*",) for any, () for none.
    cors_origins: tuple[str, ...] = ()
    # PostgreSQL streaming replicas for the plain reads of queries (models/routing.py).
    replica_urls: tuple[str, ...] = ()


def sqlite_path(database_url: str) -> str | None:
    """The file of a `sqlite://PATH` URL; None for `:memory:` and other engines."""
    if not database_url.startswith("sqlite://"):
        return None
    path = database_url.removeprefix("sqlite://").split("?", 1)[0]
    return None if path in ("", ":memory:") else path


def _secret_file(database_url: str) -> Path | None:
    path = sqlite_path(database_url)
    if path is not None:
        return Path(path + ".secret")
    if database_url.startswith("sqlite://"):
        return None  # an in-memory database lives one process: so does its key
    return Path("likegraph.secret")


def _load_or_create_secret(database_url: str) -> str:
    """A random signing key generated once and kept beside the database."""
    file = _secret_file(database_url)
    if file is None:
        return secrets.token_urlsafe(48)
    try:
        return file.read_text().strip()
    except FileNotFoundError:
        pass
    file.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # The key is written whole to a file of this process's own, then linked into place:
    # link() fails if the name exists, so processes starting at once agree on the first
    # key linked, and none can read a file that another is still writing.
    draft = file.with_name(f"{file.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(key)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(draft, file)
        except FileExistsError:
            return file.read_text().strip()
    finally:
        draft.unlink()
    return key


class SettingsError(ValueError):
    pass


def load_settings(env_file: str | None = ".env") -> Settings:
    config = Config(env_file if env_file and Path(env_file).exists() else None)
    database_url = config("DATABASE_URL", default=DEFAULT_DATABASE_URL)
    if not database_url.startswith(("sqlite://", "postgres://", "postgresql://", "asyncpg://")):
        raise SettingsError(
            "DATABASE_URL must start with sqlite://, postgres:// or postgresql://,"
            f" not {database_url!r}: fix it in the environment or in .env."
        )
    try:
        ttl = int(config("LIKEGRAPH_TOKEN_TTL", default="86400"))
    except ValueError as exc:
        raise SettingsError(
            "LIKEGRAPH_TOKEN_TTL must be a whole number of seconds, such as 86400."
        ) from exc
    if ttl <= 0:
        raise SettingsError("LIKEGRAPH_TOKEN_TTL must be a positive number of seconds.")
    max_nodes = _positive_int(config("LIKEGRAPH_MAX_NODES", default=str(DEFAULT_MAX_NODES)))
    if max_nodes is None:
        raise SettingsError("LIKEGRAPH_MAX_NODES must be a whole number above 0")
    try:
        recheck = float(config("LIKEGRAPH_SESSION_RECHECK", default="5"))
    except ValueError as exc:
        raise SettingsError("LIKEGRAPH_SESSION_RECHECK must be a number of seconds") from exc
    if not 0 <= recheck <= 3600:
        raise SettingsError("LIKEGRAPH_SESSION_RECHECK must be between 0 and 3600 seconds")
    replica_urls = _replica_urls(config("LIKEGRAPH_REPLICA_URLS", default=""), database_url)
    secret = config("LIKEGRAPH_SECRET", default="") or _load_or_create_secret(database_url)
    if len(secret) < MIN_SECRET_LENGTH:
        raise SettingsError(
            f"LIKEGRAPH_SECRET must be at least {MIN_SECRET_LENGTH} characters: set a longer"
            " one, or unset it to have one generated."
        )
    cors_origins = cors_origins_of(config("LIKEGRAPH_CORS_ORIGINS", default=""))
    epsilon, min_count = _insights_settings(config)
    return Settings(
        database_url=database_url,
        secret=secret,
        token_ttl=ttl,
        max_nodes=max_nodes,
        session_recheck=recheck,
        insights_epsilon=epsilon,
        insights_min_count=min_count,
        cors_origins=cors_origins,
        replica_urls=replica_urls,
    )


def _replica_urls(text: str, database_url: str) -> tuple[str, ...]:
    urls = tuple(url.strip() for url in text.split(",") if url.strip())
    if not urls:
        return ()
    if database_url.startswith("sqlite://"):
        raise SettingsError(
            "LIKEGRAPH_REPLICA_URLS needs a PostgreSQL DATABASE_URL: SQLite has no replicas."
        )
    for url in urls:
        if not url.startswith(("postgres://", "postgresql://")):
            raise SettingsError(
                "Each of LIKEGRAPH_REPLICA_URLS must start with postgres:// or postgresql://,"
                f" got {url.split('@')[-1]!r}."
            )
    return urls


def _positive_int(text: str) -> int | None:
    try:
        value = int(text)
    except ValueError:
        return None
    return value if value > 0 else None


def _insights_settings(config: Config) -> tuple[float, int]:
    try:
        epsilon = float(config("LIKEGRAPH_INSIGHTS_EPSILON", default="1.0"))
    except ValueError as exc:
        raise SettingsError("LIKEGRAPH_INSIGHTS_EPSILON must be a number") from exc
    # Above 10 the noise is all but gone; below 0.01 a count is noise alone.
    if not 0.01 <= epsilon <= 10.0:
        raise SettingsError("LIKEGRAPH_INSIGHTS_EPSILON must be between 0.01 and 10")
    try:
        min_count = int(config("LIKEGRAPH_INSIGHTS_MIN_COUNT", default="10"))
    except ValueError as exc:
        raise SettingsError("LIKEGRAPH_INSIGHTS_MIN_COUNT must be a whole number") from exc
    if min_count < 1:
        raise SettingsError("LIKEGRAPH_INSIGHTS_MIN_COUNT must be at least 1")
    return epsilon, min_count


def cors_origins_of(value: str) -> tuple[str, ...]:
    """`LIKEGRAPH_CORS_ORIGINS`: comma-separated origins (`https://app.example`), or `*`."""
    origins = tuple(o.strip().rstrip("/") for o in value.split(",") if o.strip())
    for origin in origins:
        if origin != "*" and not origin.startswith(("http://", "https://")):
            raise SettingsError(
                f"LIKEGRAPH_CORS_ORIGINS holds {origin!r}: list origins such as"
                " https://app.example, separated by commas, or `*` for any origin."
            )
    return origins


def load_database_url(env_file: str | None = ".env") -> str:
    """DATABASE_URL alone, for commands that must not create a secret file (`check`)."""
    config = Config(env_file if env_file and Path(env_file).exists() else None)
    database_url: str = config("DATABASE_URL", default=DEFAULT_DATABASE_URL)
    return database_url
