"""Orchestration shared by the command line, the HTTP API and the web UI."""
