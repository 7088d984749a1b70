"""Mandate targets on a small hand-built universe: eligibility, bond roll-off and the weight arithmetic."""

from __future__ import annotations

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
    # Equity 0.58 over three USD names: Tech 2 x 0.58 / 3 = 0.386667, Energy 0.193333; Treasuries
    # 0.27 over two (roll-off does not matter here); credit 0.12. Bands +/- 0.05, floored at 0.
    assert [(t.sector, t.target_weight, t.min_weight, t.max_weight) for t in balanced.sector_targets] == [
        ("Tech", 0.386667, 0.336667, 0.436667),
        ("Energy", 0.193333, 0.143333, 0.243333),
        ("Government", 0.27, 0.22, 0.32),
        ("Corporate Credit", 0.12, 0.07, 0.17),
    ]
    assert balanced.allowed_asset_classes == (EQ, GOV, CORP)
    assert balanced.name == "Hudson Balanced 60/40"
    assert balanced.benchmark.startswith("58% US equity / 27% US Treasuries")
    assert balanced.benchmark_weights["US equity"] == 0.58
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
    # EUR equity 0.97 on its one name; its band tops out at 1.0, not 1.02.
    assert [(t.sector, t.target_weight, t.max_weight) for t in mandates["EQ-EUR"].sector_targets] == [
        ("Tech", 0.97, 1.0)
    ]
    assert mandates["EQ-JPY"].sector_targets == ()  # no JPY names at all
    assert mandates["INC-GBP"].lot_method == "AVERAGE"
