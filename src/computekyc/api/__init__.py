"""computekyc over HTTP: yente-compatible screening and the workflow, with roles."""

from computekyc.api.app import create_app
from computekyc.api.security import Authority, Principal

__all__ = ["Authority", "Principal", "create_app"]
