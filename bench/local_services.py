"""What ``make bench`` needs from the machine, made on a fresh one and said out loud.

With ``DATABASE_URL`` (and ``REDIS_URL``) in the environment every benchmark uses them, and nothing is
created but the tables. Without, the benchmarks use the local PostgreSQL on 127.0.0.1:5432 as the
role ``coresponse`` (password ``coresponse``, allowed to create databases; each benchmark creates
its own database) and the local Redis: this module starts either when it is installed but not running
(as ``.ci/run`` does) and creates the role through the ``postgres`` superuser when it is missing.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

HOST, PORT = "127.0.0.1", 5432
ROLE = "coresponse"
SUPERUSER = "postgres"
REDIS_URL = "redis://127.0.0.1:6379/14"


def redact(url: str) -> str:
    """``url`` without its password (for printing)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


@dataclass
class Setup:
    """What the run uses, and what had to be done for it (printed before the benchmarks)."""

    database: str
    redis: str
    done: list[str] = field(default_factory=list)

    def describe(self) -> str:
        lines = [f"bench: database: {self.database}", f"bench: redis: {self.redis}"]
        lines += [f"bench: {what}" for what in self.done]
        return "\n".join(lines)


def _pg_ready(host: str = HOST, port: int = PORT) -> bool:
    """Something listens on the PostgreSQL port (whether it lets us in is ensure_role's question)."""
    try:
        with socket.create_connection((host, port), timeout=3):
            return True
    except OSError:
        return False


def _start_postgres() -> str | None:
    versions = sorted(p.name for p in Path("/etc/postgresql").glob("*")) if Path("/etc/postgresql").is_dir() else []
    if not versions or shutil.which("pg_ctlcluster") is None:
        return None
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", versions[0], "main", "start"],
        check=False,
        capture_output=True,
    )
    for _ in range(30):
        if _pg_ready():
            return f"started PostgreSQL {versions[0]} (it was not running)"
        time.sleep(1)
    return None


def ensure_role(role: str = ROLE, password: str = ROLE, *, host: str = HOST, port: int = PORT) -> bool:
    """Create the login ``role`` (CREATEDB) through the superuser when missing. True when created."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(host=host, port=port, user=SUPERUSER, dbname="postgres", autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone():
            return False
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN CREATEDB PASSWORD {}").format(sql.Identifier(role), sql.Literal(password))
        )
    return True


def _redis_ready(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


def _start_redis(url: str) -> str | None:
    if shutil.which("redis-server") is None:
        return None
    port = str(urlsplit(url).port or 6379)
    subprocess.run(
        ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", port, "--save", ""],
        check=False,
        capture_output=True,
    )
    for _ in range(20):
        if _redis_ready(url):
            return f"started redis-server on port {port} (it was not running)"
        time.sleep(0.5)
    return None


def prepare(environ: dict[str, str]) -> Setup:
    """Use the environment's services, or make the local ones ready. Raises SystemExit with what to do."""
    database_url, redis_url = environ.get("DATABASE_URL", ""), environ.get("REDIS_URL", "")
    if database_url:
        setup = Setup(
            database=f"{redact(database_url)} (DATABASE_URL from the environment; every benchmark uses it)",
            redis=f"{redis_url} (REDIS_URL from the environment)" if redis_url else f"{REDIS_URL} (no REDIS_URL)",
        )
    else:
        setup = Setup(
            database=(
                f"local PostgreSQL {HOST}:{PORT} as role {ROLE} (no DATABASE_URL); each benchmark creates its own "
                "database (coresponse_bench_*)"
            ),
            redis=f"{redis_url} (REDIS_URL from the environment)" if redis_url else f"{REDIS_URL} (no REDIS_URL)",
        )
        if not _pg_ready():
            started = _start_postgres()
            if started is None:
                raise SystemExit(
                    f"bench: no PostgreSQL on {HOST}:{PORT} and none to start here: install and start it, or set "
                    "DATABASE_URL=postgres://user:password@host:5432/database"
                )
            setup.done.append(started)
        try:
            if ensure_role():
                setup.done.append(f"created the PostgreSQL role {ROLE} (LOGIN CREATEDB, password {ROLE})")
        except Exception as exc:  # the superuser is not reachable without a password: say what to do
            raise SystemExit(
                f"bench: could not create the role {ROLE} as {SUPERUSER} ({exc}). Create it once "
                f"(sudo -u postgres createuser --createdb --pwprompt {ROLE}) or set DATABASE_URL."
            ) from exc
    redis = redis_url or REDIS_URL
    if not _redis_ready(redis):
        started = _start_redis(redis) if not redis_url else None
        if started is None:
            raise SystemExit(
                f"bench: Redis is not reachable at {redis}: start it, or set REDIS_URL=redis://host:6379/0"
            )
        setup.done.append(started)
    return setup
