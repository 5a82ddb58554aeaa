"""``/docs`` and ``/redoc`` load with no network: every script, stylesheet and icon comes from the app itself."""

from __future__ import annotations

import re

import httpx
import pytest
from examples.fastapi_app import create_app
from fastapi import FastAPI

from tests.integrations.helpers import LOOPBACK_ONLY, uvicorn_serving
from tlsprobe import ConfigurationError, Scanner
from tlsprobe.integrations.fastapi import serve_docs_offline

pytestmark = pytest.mark.slow  # a real uvicorn

# Every way these pages name another resource: <script src>, <link href>, Swagger UI's `url:`, ReDoc's spec-url.
_REFERENCES = re.compile(r"""(?:\bsrc|\bhref|\bspec-url)="([^"]*)"|\burl: '([^']*)'""")


def referenced(page: str) -> list[str]:
    return [first or second for first, second in _REFERENCES.findall(page)]


def assert_loads_offline(client: httpx.Client, page_path: str) -> list[str]:
    """Fetch a page, then everything it references, from the same server; return what it referenced."""
    page = client.get(page_path)
    assert page.status_code == 200
    assert "http://" not in page.text and "https://" not in page.text, page.text  # nothing from elsewhere
    urls = referenced(page.text)
    assert urls, page.text
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), url
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert asset.content, url
    return urls


@pytest.mark.parametrize("root_path", ["", "/behind-a-proxy"])
def test_the_example_apps_docs_load_with_no_network(root_path: str) -> None:
    app = create_app(scanner=Scanner(), policy=LOOPBACK_ONLY, environ={})
    app.root_path = root_path
    with uvicorn_serving(app) as url, httpx.Client(base_url=url, timeout=10) as client:
        swagger = assert_loads_offline(client, "/docs")
        redoc = assert_loads_offline(client, "/redoc")
    assert all(url.startswith(root_path + "/") for url in swagger + redoc)
    assert f"{root_path}/openapi.json" in swagger
    assert f"{root_path}/openapi.json" in redoc
    assert any(url.endswith(".js") for url in swagger) and any(url.endswith(".css") for url in swagger)
    assert any(url.endswith(".js") for url in redoc)


def test_an_app_keeps_its_own_docs_paths_and_can_go_without_redoc() -> None:
    app = FastAPI(docs_url="/api/docs", redoc_url=None)
    serve_docs_offline(app)
    with uvicorn_serving(app) as url, httpx.Client(base_url=url, timeout=10) as client:
        assert_loads_offline(client, "/api/docs")
        assert client.get("/docs").status_code == 404
        assert client.get("/redoc").status_code == 404
        # Swagger UI's OAuth2 redirect page is FastAPI's own, still served.
        assert client.get("/docs/oauth2-redirect").status_code == 200


def test_an_app_without_an_openapi_document_has_no_docs_to_serve() -> None:
    with pytest.raises(ConfigurationError, match="openapi_url"):
        serve_docs_offline(FastAPI(openapi_url=None))
