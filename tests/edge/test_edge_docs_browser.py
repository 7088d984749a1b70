"""/docs in a real browser: Swagger UI lists every route from /openapi.json and "Try it out" calls the
edge, with nothing fetched from anywhere but the edge (it must work offline)."""

from __future__ import annotations

from pathlib import Path

from services.edge.routes import contract_routes
from tests.edge.conftest import Edge
from tests.support.browser import Browser


def test_the_docs_page_lists_every_route_and_tries_one_offline(edge: Edge, tmp_path: Path) -> None:
    with Browser.open() as browser:
        browser.goto(f"{edge.url}/docs")
        page = browser.page
        for route in contract_routes().routes:
            operation = page.locator(f"#operations-{route.backend}-{route.operation_id}")
            operation.wait_for()
            assert route.template.openapi_path() in operation.inner_text()
        recon = page.locator("#operations-recon-ReconService_GetReconciliation")
        recon.locator(".opblock-summary").click()
        # "Try it out" is on from the start (tryItOutEnabled): Execute is there.
        recon.locator("button.execute").click()
        status = recon.locator(".live-responses-table .response .response-col_status").first
        status.wait_for()
        assert status.inner_text().strip() == "200"
        assert "mandates" in recon.locator(".live-responses-table .microlight").first.inner_text()
        browser.screenshot(tmp_path / "docs.png")
        assert browser.console_errors == [] and browser.page_errors == []
        elsewhere = [
            url for url in browser.requests if not url.startswith(edge.url) and not url.startswith("data:")
        ]
        assert elsewhere == []
