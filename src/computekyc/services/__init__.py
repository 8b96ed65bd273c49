"""Services: the orchestration the CLI, the HTTP API and the web UI share."""
