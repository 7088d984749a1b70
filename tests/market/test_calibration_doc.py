"""docs/custodian-calibration.md's table "The calibration in the code" says what the code does.

Each row names a fault kind, its probability (per asset class for fails), the buckets of its
correction delay and their mean to 0.1 day; a change of a figure on either side fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from services.market.sim.faults import (
    ASSET_CLASS_DELAYS,
    ASSET_CLASS_RATES,
    CORRECTION_DELAYS,
    SEEDED_RATES,
    Delay,
)
from services.market.sim.records import AssetClass, FaultKind

DOC = Path(__file__).resolve().parents[2] / "docs" / "custodian-calibration.md"
K = FaultKind
CLASSES = {
    "equities": AssetClass.EQUITY,
    "government bonds": AssetClass.GOVERNMENT_BOND,
    "corporate bonds": AssetClass.CORPORATE_BOND,
}


def _rows() -> dict[FaultKind, list[str]]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## The calibration in the code", 1)[1].split("\n### ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0] in FaultKind.__members__:
            rows[FaultKind(cells[0])] = cells[1:]
    return rows


def _percent(text: str) -> float:
    return float(text) / 100


def _buckets(text: str) -> tuple[tuple[float, int, int], ...]:
    """ "50 %: 1; 35 %: 2–3" -> ((0.5, 1, 1), (0.35, 2, 3))."""
    out = []
    for share, low, high in re.findall(r"(\d+(?:\.\d+)?) %: (\d+)(?:–(\d+))?", text):
        out.append((_percent(share), int(low), int(high or low)))
    return tuple(out)


def _same(delay: Delay, buckets: tuple[tuple[float, int, int], ...]) -> bool:
    return len(delay.buckets) == len(buckets) and all(
        share == pytest.approx(doc_share) and (low, high) == (doc_low, doc_high)
        for (share, low, high), (doc_share, doc_low, doc_high) in zip(delay.buckets, buckets, strict=True)
    )


def test_the_doc_has_a_row_for_every_custodian_kind_and_only_those() -> None:
    assert set(_rows()) == set(CORRECTION_DELAYS)


@pytest.mark.parametrize("kind", list(CORRECTION_DELAYS))
def test_each_rows_probability_delay_and_mean_are_the_codes(kind: FaultKind) -> None:
    probability, delays, mean = _rows()[kind]
    rates = ASSET_CLASS_RATES.get(kind)
    if rates is None:
        [figure] = re.findall(r"(\d+(?:\.\d+)?) %", probability)
        assert _percent(figure) == pytest.approx(SEEDED_RATES[kind])
    else:
        by_class = {CLASSES[name]: _percent(p) for p, name in _class_rates(probability)}
        assert by_class == pytest.approx(dict(rates))
    main, _, by_class_delays = delays.partition("(")
    assert _same(CORRECTION_DELAYS[kind], _buckets(main))
    means = [float(m) for m in re.findall(r"\d+(?:\.\d+)?", mean)]
    assert means[0] == pytest.approx(CORRECTION_DELAYS[kind].mean, abs=0.05 + 1e-9)
    for name, asset_class in CLASSES.items():
        delay = ASSET_CLASS_DELAYS.get(kind, {}).get(asset_class)
        if delay is None:
            assert name not in by_class_delays
            continue
        assert by_class_delays.startswith(f"{name}:")
        assert _same(delay, _buckets(by_class_delays))
        assert means[1] == pytest.approx(delay.mean, abs=0.05 + 1e-9)


def _class_rates(text: str) -> list[tuple[str, str]]:
    return [
        (p, name)
        for name, p in re.findall(r"(equities|government bonds|corporate bonds) (\d+(?:\.\d+)?) %", text)
    ]


def test_the_blended_fail_rate_is_the_docs_mix_of_the_class_rates() -> None:
    """0.65 x 3.0 % + 0.20 x 1.0 % + 0.15 x 2.5 % = 2.525 %: the blend kept for an unknown class."""
    rates = ASSET_CLASS_RATES[K.SETTLEMENT_FAIL]
    mix = {AssetClass.EQUITY: 0.65, AssetClass.GOVERNMENT_BOND: 0.20, AssetClass.CORPORATE_BOND: 0.15}
    blend = sum(share * rates[c] for c, share in mix.items())
    assert blend == pytest.approx(SEEDED_RATES[K.SETTLEMENT_FAIL], abs=0.0005)
