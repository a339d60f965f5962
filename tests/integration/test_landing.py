"""The landing page a newcomer meets at /: every way in, and whether the log keeps up."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_the_landing_page_links_every_way_in(client: TestClient) -> None:
    page = TestClient(client.app).get("/")  # no key: it is public
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for link in ("/p/request", "/desk/", "/console/", "/docs", "/.well-known/jwks.json"):
        assert f'href="{link}"' in page.text
    assert "Signing" in page.text
    assert page.headers["x-frame-options"] == "DENY"  # a page: the pages' headers
    assert "cus_" not in page.text


def test_the_api_docs_need_no_internet(client: TestClient) -> None:
    docs = TestClient(client.app).get("/docs")
    assert docs.status_code == 200
    assert "/docs-assets/swagger-ui-bundle.js" in docs.text and "/openapi.json" in docs.text
    assert "cdn" not in docs.text and "https://" not in docs.text
    script = client.get("/docs-assets/swagger-ui-bundle.js")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.text[:200_000]
    assert client.get("/redoc").status_code == 404  # it would load from a CDN


def test_the_favicon_is_there(client: TestClient) -> None:
    asked = TestClient(client.app).get("/favicon.ico")
    assert asked.status_code == 200 and asked.headers["content-type"].startswith("image/svg+xml")
    assert 'rel="icon"' in TestClient(client.app).get("/").text
