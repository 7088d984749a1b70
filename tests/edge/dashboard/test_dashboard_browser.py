"""The dashboard in Chromium (tests/support/browser.py) against a live suite that is still advancing:
`opsuite up --speed 1` (a business day a second) with seeded faults off, so every break on the page is
one this test caused, documents with its model (the SOP assistant), on free ports in a temporary data
directory, the edge started by `opsuite up` itself.

What a person sees, with no reload and no sleep (each wait is Playwright's, bounded):
- the page loads with no console error and makes no request anywhere but the edge;
- the simulated day changes on the page;
- a fault injected with market's InjectFault (a custodian quantity typo on BAL-USD's next fill) appears
  as a break at the day end of that fill, and its page shows the chain from the price tick the fill
  was dealt on, through the fill, the ledger journal that booked it and the custodian, to the break;
- an accounting error (a fee the bank never charged, the recon README's example: a manual journal in
  the ledger) is a ledger-vs-custodian cash break that nothing explains, which recon posts to
  suspense after 3 business days: its page, live, shows the chain down to that suspense journal.
  (A custodian fault never reaches suspense: its cash breaks are explained by its trade break.)
- the suite runs with an API token (OPSUITE_API_TOKEN): the pages need none, the first upload asks for
  it (a wrong one is refused and asked for again), and the question after it is not asked again;
- a confirmation uploaded (examples/confirmation-halvorsen.txt) shows its fields, validation and match;
- an SOP question shows its answer and citations.
Screenshots of the dashboard, the break pages and the documents panel go to build/screenshots/.
"""

from __future__ import annotations

import re
import secrets
import time
from pathlib import Path

import grpc

from opsuite.common.v1 import common_pb2
from opsuite.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from opsuite.market.v1 import market_pb2, market_pb2_grpc
from tests.cli.up_support import Up, suite_env
from tests.support.browser import Browser
from tests.support.processes import ROOT

SCREENSHOTS = ROOT / "build" / "screenshots"
CONFIRMATION = ROOT / "examples" / "confirmation-halvorsen.txt"
QUESTION = "How long can a double booking at the bank sit there before it gets escalated?"
# From 2020-02-20 the suite is in April 2020 once it serves (about 30 business days at a day a
# second): BAL-USD trades every few days then, FI-USD seldom. The fault hits BAL-USD's next fill; the
# fee is FI-USD's, whose USD cash break then has no trade break of the custodian's to explain it.
START = "2020-02-20"
FAULT_MANDATE = "BAL-USD"
FEE_MANDATE = "FI-USD"
FEE_ACCOUNT = "Expenses:ManagementFees:USD"  # an account every mandate has
SECOND = 1000  # Playwright's timeouts are in milliseconds
TOKEN = secrets.token_hex(32)


def _post_unexplained_fee(ledger_address: str, on: common_pb2.Date) -> str:
    """Dr Expenses:ManagementFees:USD / Cr Assets:Cash:USD 2,500.00, a fee the bank never charged."""

    def money(value: str) -> common_pb2.Money:
        return common_pb2.Money(amount=common_pb2.Decimal(value=value), currency="USD")

    with grpc.insecure_channel(ledger_address) as channel:
        reply = ledger_pb2_grpc.LedgerServiceStub(channel).PostJournal(
            ledger_pb2.PostJournalRequest(
                idempotency_key="dashboard-test:fee",
                mandate_id=FEE_MANDATE,
                kind=ledger_pb2.JOURNAL_KIND_MANUAL,
                effective_date=on,
                memo="a fee the bank never charged",
                postings=[
                    ledger_pb2.Posting(account=FEE_ACCOUNT, amount=money("2500.00")),
                    ledger_pb2.Posting(account="Assets:Cash:USD", amount=money("-2500.00")),
                ],
                posted_by="dashboard-test",
            ),
            timeout=30,
        )
    return reply.journal.journal_id


def test_the_live_dashboard_in_a_browser(tmp_path: Path) -> None:
    from playwright.sync_api import expect

    started = time.monotonic()
    # It injects a fault (InjectFault): opsuite up allows that already; the test says it relies on it.
    env = suite_env(
        tmp_path / "suite",
        OPSUITE_DOCUMENTS_USE_MODEL="true",
        OPSUITE_ALLOW_FAULT_INJECTION="true",
        OPSUITE_API_TOKEN=TOKEN,
    )
    up = Up.start(
        "--speed", "1", "--seed", "7", "--start", START, "--fault-rate", "0",
        env=env, output_path=tmp_path / "up.out",
    )  # fmt: skip
    try:
        up.wait_for("all services serving", timeout=150)
        suite_ready = time.monotonic() - started
        assert "writes (every request but GET) need the API token" in up.output()
        assert TOKEN not in up.output()
        edge = f"http://{env['OPSUITE_EDGE_ADDR']}"
        # The accounting error first: its break ages towards suspense while the browser starts.
        with grpc.insecure_channel(env["OPSUITE_MARKET_ADDR"]) as channel:
            today = market_pb2_grpc.MarketServiceStub(channel).GetClock(
                market_pb2.GetClockRequest(), timeout=10
            )
        _post_unexplained_fee(env["OPSUITE_LEDGER_ADDR"], today.sim_date)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        with Browser.open(width=1280, height=800) as browser:
            page = browser.page
            browser.goto(f"{edge}/")
            expect(page.locator("#connection")).to_have_class(re.compile(r"\blive\b"), timeout=15 * SECOND)

            # The day changes on the page, without a reload.
            day = page.locator('[data-panel="clock"] .date')
            expect(day).to_have_text(re.compile(r"\d{4}-\d\d-\d\d"), timeout=15 * SECOND)
            shown = day.inner_text()
            expect(day).not_to_have_text(shown, timeout=15 * SECOND)
            for name in ("breaks", "nav", "dq", "ledger"):
                expect(page.locator(f'[data-panel="{name}"]')).not_to_contain_text(
                    "Connecting to", timeout=20 * SECOND
                )
            expect(page.locator("table.nav tbody tr")).to_have_count(5, timeout=20 * SECOND)

            # The custodian fault, injected now: the custodian corrects its typos within a few business
            # days (seconds here), so the page is already watching when the break appears.
            with grpc.insecure_channel(env["OPSUITE_MARKET_ADDR"]) as channel:
                fault = market_pb2_grpc.MarketServiceStub(channel).InjectFault(
                    market_pb2.InjectFaultRequest(
                        kind=market_pb2.FAULT_KIND_CUSTODIAN_QUANTITY_TYPO, mandate_id=FAULT_MANDATE
                    ),
                    timeout=10,
                )
            # Its break, at the day end of the fill it hit (BAL-USD's next, a few business days at most).
            typo = page.locator("table.breaks tbody tr", has_text="quantity mismatch").filter(
                has_text=FAULT_MANDATE
            )
            expect(typo).to_have_count(1, timeout=30 * SECOND)
            typo_id = typo.locator("a").first.inner_text()
            fee = page.locator(
                "table.breaks tbody tr", has_text=re.compile(r"cash: ledger .* vs custodian")
            ).filter(has_text=FEE_MANDATE)
            expect(fee).to_have_count(1, timeout=30 * SECOND)
            expect(page.locator('[data-panel="breaks"] table.counts').first).to_contain_text(FEE_MANDATE)
            browser.screenshot(SCREENSHOTS / "dashboard.png")

            # Keyboard: the first Tab reaches the skip link, which shows itself.
            page.keyboard.press("Tab")
            skip = page.locator("a.skip")
            expect(skip).to_be_focused()
            box = skip.bounding_box()
            assert box is not None and box["y"] >= 0
            page.keyboard.press("Enter")
            expect(page.locator("main")).to_be_focused()

            # Its page: the chain from the fill through the custodian to the break (by its address: the
            # row may be gone already, the custodian having corrected its typo).
            browser.goto(f"{edge}/breaks/{typo_id}")
            expect(page.locator("h1")).to_have_text(f"Break {typo_id}")
            chain = page.locator("table.chain tbody tr")
            expect(chain.first).to_contain_text("price.tick")  # the tick the fill was dealt on
            expect(chain.filter(has_text="trade.fill")).to_have_count(1)
            expect(chain.filter(has_text="journal.booked")).not_to_have_count(0)  # the ledger's booking
            expect(chain.filter(has_text="custodian.trade")).not_to_have_count(0)
            expect(chain.filter(has_text="break.opened")).to_have_count(1)
            with grpc.insecure_channel(env["OPSUITE_MARKET_ADDR"]) as channel:
                faults = market_pb2_grpc.MarketServiceStub(channel).ListInjectedFaults(
                    market_pb2.ListInjectedFaultsRequest(), timeout=10
                )
            (hit,) = [f for f in faults.faults if f.fault_id == fault.fault_id]
            expect(chain.filter(has_text="trade.fill")).to_contain_text(hit.fill_id)
            expect(page.locator(".path")).to_contain_text("fill")
            # The fill's record links to its own trace page.
            fill_link = chain.filter(has_text="trade.fill").locator("td:nth-child(4) a")
            expect(fill_link).to_have_attribute("href", re.compile(r"^/trace/mkt-\d+$"))
            browser.screenshot(SCREENSHOTS / "break.png")

            # The fee's break, followed live on its page down to its suspense journal (3 business days).
            page.go_back()
            fee_id = fee.locator("a").first.inner_text()
            fee.locator("a").first.click()
            expect(page).to_have_url(f"{edge}/breaks/{fee_id}")
            suspense = page.locator("table.chain tbody tr.stage-journal", has_text="JOURNAL_KIND_SUSPENSE")
            expect(suspense).to_have_count(1, timeout=40 * SECOND)
            expect(page.locator("table.chain")).to_contain_text("break.opened")
            expect(page.locator(".path")).to_contain_text("journal")
            expect(suspense.locator("td:nth-child(4) a")).to_have_attribute(
                "href", re.compile(r"^/trace/ldg-")
            )
            browser.screenshot(SCREENSHOTS / "break-suspense.png")
            # The journal's own trace page, through its link.
            suspense.locator("td:nth-child(4) a").click()
            expect(page.locator("h1")).to_contain_text("ldg-")
            expect(page.locator("table.chain")).to_contain_text(fee_id)

            # Documents: a confirmation read field by field, and an SOP question with its citations.
            # The edge has an API token: the first upload asks for it; a wrong one is refused (401)
            # and asked for again; the right one is kept for the tab.
            browser.goto(f"{edge}/#documents")
            page.set_input_files("#confirmation-file", str(CONFIRMATION))
            page.get_by_role("button", name="Read it").click()
            dialog = page.locator("#token-dialog")
            expect(dialog).to_be_visible()
            expect(dialog).to_contain_text("asks for its API token")
            dialog.get_by_role("textbox", name="API token").fill("not-the-token-0123456789")
            dialog.get_by_role("button", name="Use it").click()
            expect(dialog).to_contain_text("refused the token", timeout=15 * SECOND)
            dialog.get_by_role("textbox", name="API token").fill(TOKEN)
            dialog.get_by_role("button", name="Use it").click()
            expect(dialog).to_be_hidden()
            result = page.locator("#extract-result")
            expect(result).to_contain_text("Fields read", timeout=30 * SECOND)
            expect(result).to_contain_text("HB220628-71684")
            expect(result).to_contain_text("418,190.54")  # the net amount, digits grouped from the string
            expect(result).to_contain_text("Match: unmatched")
            expect(result).to_contain_text("Validation:")
            page.get_by_label("Question").fill(QUESTION)
            page.get_by_role("button", name="Ask").click()
            answer = page.locator("#ask-result")
            expect(answer.locator("ol.citations li").first).to_be_visible(timeout=30 * SECOND)
            expect(answer).to_contain_text("Escalation Triggers")
            expect(answer).to_contain_text("Answered from the policies")
            expect(dialog).to_be_hidden()  # asked once: the question went with the kept token
            assert page.evaluate("window.sessionStorage.getItem('opsuite.apiToken')") == TOKEN
            page.locator("#documents").screenshot(path=str(SCREENSHOTS / "documents.png"))

            # The wrong token's 401 is the one console error (the browser's own "Failed to load resource").
            refused = [e for e in browser.console_errors if "status of 401" in e]
            assert len(refused) == 1, browser.console_errors
            others = [e for e in browser.console_errors if e not in refused]
            assert others == [] and browser.page_errors == [], (others, browser.page_errors)
            elsewhere = [
                url for url in browser.requests if not url.startswith(edge) and not url.startswith("data:")
            ]
            assert elsewhere == []
        took = time.monotonic() - started
        print(f"suite serving after {suite_ready:.1f} s; the whole test {took:.1f} s")
    finally:
        up.stop()
