"""computekyc over HTTP: yente-compatible screening and the workflow, with roles."""

from computekyc.api.app import app_from_env, create_app

__all__ = ["app_from_env", "create_app"]
