"""One settings object for the whole process: state folder, database, threads, data paths.

Read once from the environment at the edge (the CLI, the server) with :meth:`Settings.from_env`
and passed in; domain code takes what it needs as arguments. Values are checked here, so a bad
variable is one clear :class:`~computekyc.exc.ConfigError` naming it, not a traceback later.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from computekyc.exc import ConfigError, StateError

HOME_ENV = "COMPUTEKYC_HOME"
DATABASE_URL_ENV = "COMPUTEKYC_DATABASE_URL"
THREADS_ENV = "COMPUTEKYC_THREADS"
GEOIP_ENV = "COMPUTEKYC_GEOIP_DIR"
LISTS_MIRROR_ENV = "COMPUTEKYC_LISTS_MIRROR_URL"
SPARK_MASTER_ENV = "COMPUTEKYC_SPARK_MASTER"
SHARED_ENV = "COMPUTEKYC_SHARED"


def default_home() -> Path:
    return Path.home() / ".local" / "share" / "computekyc"


@dataclass(frozen=True)
class Settings:
    """Where state lives and how the embedded engines run."""

    home: Path
    database_url: str | None = None  # None: SQLite ``computekyc.db`` in the home
    threads: int | None = None  # None: one per core
    geoip_dir: Path | None = None
    lists_mirror_url: str | None = None  # None: the official list sites
    spark_master: str | None = None  # None: local[2]
    shared_dir: Path | None = None  # the public data folder; None: ``shared`` beside the checkout

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        home = Path(env[HOME_ENV]).expanduser() if env.get(HOME_ENV) else default_home()
        geoip = env.get(GEOIP_ENV)
        shared = env.get(SHARED_ENV)
        settings = cls(
            home=home,
            database_url=env.get(DATABASE_URL_ENV) or None,
            threads=_threads(env.get(THREADS_ENV)),
            geoip_dir=Path(geoip).expanduser() if geoip else None,
            lists_mirror_url=env.get(LISTS_MIRROR_ENV) or None,
            spark_master=env.get(SPARK_MASTER_ENV) or None,
            shared_dir=Path(shared).expanduser() if shared else None,
        )
        settings.check()
        return settings

    def with_home(self, home: Path) -> Settings:
        return replace(self, home=home)

    def check(self) -> None:
        """Refuse settings that cannot work, naming the variable."""
        if self.home.exists() and not self.home.is_dir():
            raise ConfigError(f"${HOME_ENV} is {self.home}, which is a file, not a folder")
        if self.database_url is not None:
            _check_database_url(self.database_url)

    def ensure_home(self) -> Path:
        """The state folder, made on demand."""
        try:
            self.home.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"${HOME_ENV}: cannot create {self.home}: {exc.strerror}") from exc
        return self.home

    @property
    def downloads(self) -> Path:
        """Where downloaded list files are kept (made on demand)."""
        return self.ensure_home() / "downloads"

    @property
    def sqlalchemy_url(self) -> str:
        """The state database: ``$COMPUTEKYC_DATABASE_URL`` or SQLite in the home."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.ensure_home() / 'computekyc.db'}"


def _threads(value: str | None) -> int | None:
    if not value:
        return None
    try:
        threads = int(value)
    except ValueError:
        raise ConfigError(f"${THREADS_ENV} must be a whole number, not {value!r}") from None
    if threads < 1:
        raise ConfigError(f"${THREADS_ENV} must be at least 1, not {threads}")
    return threads


# scheme://rest, the scheme being backend[+driver]: SQLAlchemy's own URL grammar, checked without
# importing SQLAlchemy (every command checks the settings; most never open the database).
_URL = re.compile(r"(?P<backend>[A-Za-z0-9_]+)(?:\+(?P<driver>[A-Za-z0-9_]+))?://")
_BACKENDS = {"sqlite", "postgresql"}


def _check_database_url(url: str) -> None:
    match = _URL.match(url)
    if match is None:
        raise ConfigError(
            f"${DATABASE_URL_ENV} is not a database URL (e.g. sqlite:///path/computekyc.db "
            "or postgresql+psycopg://user@host/db)"
        )
    if match["backend"] not in _BACKENDS:
        raise ConfigError(
            f"${DATABASE_URL_ENV}: {match['backend']!r} is not supported (sqlite or postgresql)"
        )


def redact_url(url: str) -> str:
    """A database URL fit for a message: the password replaced by ``***``."""
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", url)


@contextmanager
def database_errors(url: str) -> Iterator[None]:
    """Open a database inside this: an unusable URL, a missing driver or a server that cannot
    be reached becomes one :class:`ConfigError` / :class:`StateError` naming the database."""
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

    where, shown = _database_named(url)
    try:
        yield
    except (ArgumentError, ValueError) as exc:
        raise ConfigError(f"{where}: {shown} is not a usable database URL ({exc})") from None
    except NoSuchModuleError as exc:
        raise ConfigError(f"{where}: {shown}: {exc}") from None
    except ModuleNotFoundError as exc:
        driver = str(exc.name)
        hint = ""
        if driver.startswith("psycopg2"):
            hint = "; computekyc uses psycopg 3: write postgresql+psycopg://… and"
        if driver.startswith("psycopg"):
            hint = (hint or ";") + " pip install 'computekyc[postgres]'"
        raise ConfigError(
            f"{where}: {shown} needs the database driver {driver!r}, which is not installed{hint}"
        ) from None
    except OperationalError as exc:
        raise database_state_error(url, str(exc.orig or exc)) from None


def _database_named(url: str) -> tuple[str, str]:
    """How messages name the database: its variable (when set) and its URL without password."""
    where = f"${DATABASE_URL_ENV}" if os.environ.get(DATABASE_URL_ENV) else "the database"
    return where, redact_url(url)


def database_state_error(url: str, reason: str) -> StateError:
    """A database that cannot be opened or read: one line naming it (never its password)."""
    where, shown = _database_named(url)
    first = reason.strip().splitlines()[0] if reason.strip() else ""
    return StateError(f"{where}: cannot open {shown}: {first}")
