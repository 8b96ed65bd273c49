"""``computekyc serve``: the HTTP API (and, with it, the web UI) on uvicorn."""

from __future__ import annotations

from typing import Any

import typer

from computekyc.exc import OptionError
from computekyc.settings import Settings

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
WORKER_HEALTHCHECK_SECONDS = 300


def _log_config(level: str) -> dict[str, Any]:
    """One line per event on stderr; access lines are JSON with the request id."""
    handler = {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": LOG_FORMAT}},
        "handlers": {"stderr": handler},
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            "computekyc": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
        },
    }


def serve_command(
    host: str = typer.Option("127.0.0.1", "--host", help="address to listen on"),
    port: int = typer.Option(8000, "--port", help="TCP port"),
    workers: int = typer.Option(1, "--workers", help="uvicorn worker processes"),
    log_level: str = typer.Option("info", "--log-level", help="debug, info, warning, error"),
) -> None:
    """Serve the HTTP API: yente-compatible /match, alerts, cases, audit (docs at /docs)."""
    if not 0 < port < 65536:
        raise OptionError(f"--port must be 1–65535, not {port}")
    if workers < 1:
        raise OptionError(f"--workers must be at least 1, not {workers}")
    if log_level.lower() not in {"debug", "info", "warning", "error"}:
        raise OptionError(f"--log-level must be debug, info, warning or error, not {log_level!r}")
    Settings.from_env().ensure_home()  # a bad setting fails here, not in every worker
    import uvicorn

    typer.echo(
        f"computekyc API on http://{host}:{port} (docs: http://{host}:{port}/docs)", err=True
    )
    uvicorn.run(
        "computekyc.api:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=_log_config(log_level),
        access_log=False,
        timeout_graceful_shutdown=10,
        # uvicorn's supervisor kills a worker that does not answer its ping in time; a worker
        # loading or building a screening index holds the interpreter for longer than the
        # default 5 s on a busy machine, and was killed and restarted without end.
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
    )


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_command)
