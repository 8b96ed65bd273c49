"""The analyst's web UI, served by ``computekyc serve`` beside the HTTP API.

Server-rendered pages (Jinja2) over the same service layer and the same role matrix as the API;
sessions in a signed cookie, a CSRF token on every form, vendored JavaScript only (htmx, ECharts:
``static/vendor/VENDORED.json``).
"""

from computekyc.web.app import PAGE_PERMISSIONS, create_web_app, install

__all__ = ["PAGE_PERMISSIONS", "create_web_app", "install"]
