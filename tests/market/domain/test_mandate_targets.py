"""Mandate targets on a small hand-built universe: eligibility, bond roll-off and the weight arithmetic."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from services.market.sim.mandates import build_mandates, cash_target, eligible, is_live, target_weights
from services.market.sim.records import AssetClass, Instrument, Mandate, SectorTarget

EQ, GOV, CORP = AssetClass.EQUITY, AssetClass.GOVERNMENT_BOND, AssetClass.CORPORATE_BOND
ON = dt.date(2021, 1, 1)


def _instrument(
    instrument_id: str, sector: str, asset_class: AssetClass = EQ, currency: str = "USD", maturity=None
) -> Instrument:
    return Instrument(
        instrument_id, instrument_id, instrument_id, asset_class, currency, sector, "US", Decimal("0.01"), 2,
        maturity=maturity,
    )  # fmt: skip


T1, T2 = _instrument("T1", "Tech"), _instrument("T2", "Tech")
E1 = _instrument("E1", "Energy")
EU = _instrument("EU1", "Tech", currency="EUR")
# 0.5 years = 182.625 days: 183 days before maturity a bond is still held, 182 days before it is not.
G_LIVE = _instrument("G1", "Government", GOV, maturity=ON + dt.timedelta(days=183))
G_GONE = _instrument("G2", "Government", GOV, maturity=ON + dt.timedelta(days=182))
C1 = _instrument("C1", "Corporate Credit", CORP, maturity=ON + dt.timedelta(days=3650))


def _mandate(targets: dict[str, float], cap: float = 1.0, classes=(EQ, GOV)) -> Mandate:
    return Mandate(
        "M", "M", "USD", "b", {}, tuple(SectorTarget(s, w, w - 0.05, w + 0.05) for s, w in targets.items()),
        cap, 0.02, 0.04, Decimal(1), "FIFO", classes,
    )  # fmt: skip


def test_the_cash_target_is_the_middle_of_the_band() -> None:
    assert cash_target(_mandate({})) == pytest.approx(0.03)  # (0.02 + 0.04) / 2


def test_a_mandate_holds_only_its_currency_and_asset_classes() -> None:
    mandate = _mandate({}, classes=(EQ,))
    assert eligible(mandate, T1)
    assert not eligible(mandate, EU)  # EUR
    assert not eligible(mandate, G_LIVE)  # a government bond in an equity mandate


def test_a_mandate_with_a_foreign_currency_holds_its_names_in_the_classes_it_allows() -> None:
    mandate = dataclasses.replace(_mandate({}, classes=(EQ,)), currencies=("USD", "EUR"))
    assert eligible(mandate, T1) and eligible(mandate, EU)
    assert not eligible(mandate, G_LIVE)  # still not a bond
    assert not eligible(mandate, _instrument("GB1", "Tech", currency="GBP"))  # not one of its currencies


def test_targets_per_sector_and_currency_split_over_that_currencys_names() -> None:
    """Tech in USD 0.6 over T1 and T2 (0.3 each), Tech in EUR 0.1 on EU1 alone, Government 0.27 on
    its one live bond: 0.97 in all, so no scaling. A target naming a currency never spreads over
    another currency's names of the same sector."""
    mandate = Mandate(
        "M", "M", "USD", "b", {},
        (
            SectorTarget("Tech", 0.6, 0.55, 0.65, "USD"),
            SectorTarget("Tech", 0.1, 0.05, 0.15, "EUR"),
            SectorTarget("Government", 0.27, 0.22, 0.32, "USD"),
        ),
        1.0, 0.02, 0.04, Decimal(1), "FIFO", (EQ, GOV), currencies=("USD", "EUR"),
    )  # fmt: skip
    weights = target_weights(mandate, [T1, EU, G_GONE, T2, G_LIVE], ON)
    assert weights == pytest.approx({"T1": 0.3, "EU1": 0.1, "T2": 0.3, "G1": 0.27})


def test_bonds_roll_off_half_a_year_before_maturity() -> None:
    assert is_live(G_LIVE, ON) and not is_live(G_GONE, ON)
    assert is_live(G_GONE, ON - dt.timedelta(days=1))  # 183 days before
    assert is_live(T1, dt.date(2999, 1, 1))  # equities never mature


def test_target_weights_split_sectors_over_their_live_names() -> None:
    mandate = _mandate({"Tech": 0.6, "Government": 0.37})
    # Tech 0.6 over two names = 0.3 each; Government 0.37 on its one live bond; Energy has no target.
    # Total 0.97 = 1 - cash target 0.03, so no scaling. EUR and rolled-off names are left out.
    weights = target_weights(mandate, [T1, EU, G_GONE, T2, E1, G_LIVE], ON)
    assert list(weights) == ["T1", "T2", "E1", "G1"]
    assert weights == pytest.approx({"T1": 0.3, "T2": 0.3, "E1": 0.0, "G1": 0.37})


def test_when_a_sector_has_no_live_name_the_others_are_scaled_up_and_capped() -> None:
    # Only Tech is live: 0.6 scaled to 0.97 -> 0.3 x 0.97 / 0.6 = 0.485 a name.
    mandate = _mandate({"Tech": 0.6, "Government": 0.37})
    assert target_weights(mandate, [T1, T2, G_GONE], ON) == pytest.approx({"T1": 0.485, "T2": 0.485})
    # With a single-name cap of 0.4 each name stops at the cap; at 0.485 exactly it is the weight.
    assert target_weights(_mandate({"Tech": 0.6}, cap=0.4), [T1, T2], ON) == pytest.approx(
        {"T1": 0.4, "T2": 0.4}
    )
    assert target_weights(_mandate({"Tech": 0.6}, cap=0.485), [T1, T2], ON) == pytest.approx(
        {"T1": 0.485, "T2": 0.485}
    )


def test_no_target_at_all_leaves_no_weights() -> None:
    assert target_weights(_mandate({"Government": 0.97}), [G_GONE, EU], ON) == {}
    assert target_weights(_mandate({"Energy": 0.5}), [T1], ON) == {}  # live, but no weight anywhere


def test_built_mandates_spread_asset_classes_over_sectors_by_name_count() -> None:
    instruments = [T1, T2, E1, G_LIVE, G_GONE, C1, EU]
    mandates = {m.mandate_id: m for m in build_mandates(instruments)}
    assert list(mandates) == ["BAL-USD", "EQ-EUR", "INC-GBP", "FI-USD", "EQ-JPY"]
    balanced = mandates["BAL-USD"]
    # US equity 0.50 over three USD names: Tech 2 x 0.50 / 3 = 0.333333, Energy 0.166667; European
    # equity 0.08 on the one EUR name, a target of its own (Tech in EUR); Treasuries 0.27 over two
    # (roll-off does not matter here); credit 0.12. Bands +/- 0.05, floored at 0.
    assert [
        (t.sector, t.currency, t.target_weight, t.min_weight, t.max_weight) for t in balanced.sector_targets
    ] == [
        ("Tech", "USD", 0.333333, 0.283333, 0.383333),
        ("Energy", "USD", 0.166667, 0.116667, 0.216667),
        ("Tech", "EUR", 0.08, 0.03, 0.13),
        ("Government", "USD", 0.27, 0.22, 0.32),
        ("Corporate Credit", "USD", 0.12, 0.07, 0.17),
    ]
    assert balanced.allowed_asset_classes == (EQ, GOV, CORP)
    assert balanced.currencies == ("USD", "EUR")
    assert balanced.name == "Hudson Balanced 60/40"
    assert balanced.benchmark.startswith("50% US equity / 8% European equity / 27% US Treasuries")
    assert balanced.benchmark_weights["US equity"] == 0.50
    assert balanced.benchmark_weights["European equity"] == 0.08
    assert (balanced.base_currency, balanced.lot_method, balanced.initial_capital) == (
        "USD",
        "FIFO",
        Decimal(250000000),
    )
    assert (balanced.min_cash_weight, balanced.max_cash_weight, balanced.max_single_name_weight) == (
        0.01,
        0.05,
        0.06,
    )
    # EUR equity 0.77 on its one name (its band tops out at 0.82); no GBP equity in this universe,
    # so the UK allocation has no target.
    assert [
        (t.sector, t.currency, t.target_weight, t.max_weight) for t in mandates["EQ-EUR"].sector_targets
    ] == [("Tech", "EUR", 0.77, 0.82)]
    assert mandates["EQ-EUR"].currencies == ("EUR", "GBP")
    assert mandates["EQ-JPY"].sector_targets == ()  # no JPY names at all
    assert mandates["EQ-JPY"].currencies == ("JPY",)
    assert mandates["INC-GBP"].lot_method == "AVERAGE"
