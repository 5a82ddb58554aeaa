"""``/docs`` and ``/redoc`` that load with no network: Swagger UI and ReDoc served by the app itself.

FastAPI's pages load their scripts and stylesheets from a CDN, so a service on a network without Internet access
shows blank pages. ``serve_docs_offline(app)`` serves the same pages with the assets the ``fastapi-offline``
package ships (Swagger UI, ReDoc and FastAPI's icon; part of the ``fastapi`` extra), mounted under
``assets_path``, at the paths the app already uses for them (``docs_url``, ``redoc_url``). Swagger UI's validator
badge, which would send the document to validator.swagger.io, is turned off; ReDoc goes without Google Fonts.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse
from starlette.routing import Route

from tlsprobe._exceptions import ConfigurationError


def _assets_directory() -> Path:
    try:
        directory = Path(str(importlib.resources.files("fastapi_offline") / "static"))
    except ModuleNotFoundError:
        raise ImportError(
            "serve_docs_offline needs fastapi-offline, which is in the fastapi extra: pip install 'tlsprobe[fastapi]'"
        ) from None
    if not (directory / "swagger-ui-bundle.js").is_file():
        raise ImportError(f"fastapi-offline's assets are not where expected ({directory}): reinstall it")
    return directory


def serve_docs_offline(app: FastAPI, *, assets_path: str = "/docs-assets") -> None:
    """Serve ``app``'s Swagger UI and ReDoc pages with assets from the app itself instead of a CDN.

    Call it once the app is made (``FastAPI(...)``): it replaces the pages at the app's ``docs_url`` and
    ``redoc_url`` (either may be None: that page stays absent), and serves the assets under ``assets_path``.
    Behind a proxy that strips a prefix, set the app's ``root_path`` as usual: the pages' links follow it.
    """
    openapi_url = app.openapi_url
    if openapi_url is None:
        raise ConfigurationError("the app has no OpenAPI document (openapi_url=None): there are no docs to serve")
    if not assets_path.startswith("/") or assets_path.endswith("/"):
        raise ConfigurationError(f"assets_path must start with '/' and not end with it, got {assets_path!r}")
    pages = {url for url in (app.docs_url, app.redoc_url) if url is not None}
    # FastAPI added its CDN pages when the app was made: they give way to these.
    app.router.routes[:] = [
        route for route in app.router.routes if not (isinstance(route, Route) and route.path in pages)
    ]
    app.mount(assets_path, StaticFiles(directory=_assets_directory()), name="tlsprobe_docs_assets")

    def root(request: Request) -> str:
        root_path: str = request.scope.get("root_path", "")
        return root_path.rstrip("/")

    if app.docs_url is not None:

        @app.get(app.docs_url, include_in_schema=False)
        async def swagger_ui(request: Request) -> HTMLResponse:
            prefix = root(request)
            redirect = app.swagger_ui_oauth2_redirect_url
            return get_swagger_ui_html(
                openapi_url=prefix + openapi_url,
                title=f"{app.title} - Swagger UI",
                oauth2_redirect_url=None if redirect is None else prefix + redirect,
                init_oauth=app.swagger_ui_init_oauth,
                swagger_js_url=f"{prefix}{assets_path}/swagger-ui-bundle.js",
                swagger_css_url=f"{prefix}{assets_path}/swagger-ui.css",
                swagger_favicon_url=f"{prefix}{assets_path}/favicon.png",
                swagger_ui_parameters={"validatorUrl": None, **(app.swagger_ui_parameters or {})},
            )

    if app.redoc_url is not None:

        @app.get(app.redoc_url, include_in_schema=False)
        async def redoc(request: Request) -> HTMLResponse:
            prefix = root(request)
            return get_redoc_html(
                openapi_url=prefix + openapi_url,
                title=f"{app.title} - ReDoc",
                redoc_js_url=f"{prefix}{assets_path}/redoc.standalone.js",
                redoc_favicon_url=f"{prefix}{assets_path}/favicon.png",
                with_google_fonts=False,
            )
