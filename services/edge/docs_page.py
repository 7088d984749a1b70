"""/docs: Swagger UI over the edge's /openapi.json, served offline from an installed package.

The static files come from swagger-ui-bundle-v2 (Swagger UI 5, which reads OpenAPI 3.1), so the
page needs no CDN; the validator badge, Swagger UI's one call to the outside, is switched off.
"""

from __future__ import annotations

import importlib.resources
import pathlib

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{title}</title>
  <link rel="stylesheet" href="{root}/docs/assets/swagger-ui.css">
  <link rel="icon" type="image/png" href="{root}/docs/assets/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{root}/docs/assets/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({{
      url: "{root}/openapi.json",
      dom_id: "#swagger-ui",
      validatorUrl: null,
      deepLinking: true,
      tryItOutEnabled: true,
      displayRequestDuration: true
    }});
  </script>
</body>
</html>
"""


def swagger_ui_folder() -> pathlib.Path:
    """The folder of Swagger UI's static files in the installed swagger_ui_bundle package."""
    vendor = importlib.resources.files("swagger_ui_bundle") / "vendor"
    folders = sorted(
        (pathlib.Path(str(entry)) for entry in vendor.iterdir() if entry.name.startswith("swagger-ui-")),
        key=lambda p: p.name,
    )
    if not folders:
        raise FileNotFoundError(f"no swagger-ui-* folder in {vendor}")
    return folders[-1]


def docs_routes(title: str) -> list[BaseRoute]:
    async def page(request: Request) -> HTMLResponse:
        root = str(request.scope.get("root_path", "")).rstrip("/")
        return HTMLResponse(_PAGE.format(title=title, root=root))

    return [
        Route("/docs", page, methods=["GET"]),
        Mount("/docs/assets", app=StaticFiles(directory=swagger_ui_folder()), name="docs-assets"),
    ]
