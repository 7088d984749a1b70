"""dq's checks file: the packaged default loads and covers every rule; a bad file is refused with a
message that names the file, the check and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.dq.domain.config import ConfigError, load_checks, parse_checks, rules
from services.dq.domain.results import Family, IssueKind, Severity

GOOD = """
[[check]]
id = "price.vendor_divergence.equity"
family = "price"
rule = "vendor_divergence"
severity = "critical"
description = "vendor against primary"
subject = { asset_class = "EQUITY" }
thresholds = { tolerance = 0.005, ticks = 1, blame_ratio = 2, blame_min_z = 3 }
"""


def _with(**changes: str) -> str:
    text = GOOD
    for key, value in changes.items():
        line = next(line for line in GOOD.splitlines() if line.startswith(f"{key} ="))
        text = text.replace(line, f"{key} = {value}")
    return text


def test_the_default_file_loads_and_declares_every_rule() -> None:
    checks = load_checks()
    declared = {(c.family, c.rule) for c in checks.checks}
    assert declared == set(rules())
    divergence = checks.get("price.vendor_divergence.equity")
    assert divergence.severity is Severity.CRITICAL
    assert divergence.kind is IssueKind.PRICE_VENDOR_MISMATCH
    assert dict(divergence.thresholds) == {
        "tolerance": 0.005,
        "ticks": 1.0,
        "blame_ratio": 2.0,
        "blame_min_z": 3.0,
    }
    # The corporate curve check carries market's spread model; the government one takes the
    # optional figures' defaults (a multiplier of 1, adjusted at once).
    corporate = checks.get("price.vs_curve.corporate").thresholds
    assert corporate["spread_multiplier_crisis"] == 3.0 and corporate["spread_adjustment_per_day"] == 0.2
    government = checks.get("price.vs_curve.government").thresholds
    assert government["spread_multiplier_crisis"] == 1.0 and government["spread_adjustment_per_day"] == 1.0


def test_a_file_on_disk_loads_like_the_text(tmp_path: Path) -> None:
    path = tmp_path / "checks.toml"
    path.write_text(GOOD, encoding="utf-8")
    assert load_checks(path) == parse_checks(GOOD, str(path))


def test_the_most_specific_matching_check_wins() -> None:
    checks = parse_checks(
        GOOD
        + """
[[check]]
id = "price.vendor_divergence"
family = "price"
rule = "vendor_divergence"
severity = "warning"
description = "any instrument"
thresholds = { tolerance = 0.01, ticks = 1, blame_ratio = 2, blame_min_z = 3 }
""",
        "two.toml",
    )
    equity = checks.select(Family.PRICE, "vendor_divergence", {"asset_class": "EQUITY", "currency": "USD"})
    bond = checks.select(Family.PRICE, "vendor_divergence", {"asset_class": "CORPORATE_BOND"})
    assert equity is not None and equity.check_id == "price.vendor_divergence.equity"
    assert bond is not None and bond.check_id == "price.vendor_divergence"
    assert checks.select(Family.PRICE, "spike", {"asset_class": "EQUITY"}) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            _with(rule='"vendor_mismatch"'),
            "bad.toml: check 'price.vendor_divergence.equity': unknown rule 'vendor_mismatch' for family "
            "'price'; allowed: missing, non_positive, off_tick, spike, stale, vendor_divergence, vs_curve",
        ),
        (
            _with(severity='"fatal"'),
            "bad.toml: check 'price.vendor_divergence.equity': severity 'fatal' is not one of critical, "
            "warning, info",
        ),
        (
            GOOD + GOOD.replace("[[check]]", "[[check]]", 1),
            "bad.toml: check 'price.vendor_divergence.equity' is declared twice (checks #1 and #2)",
        ),
        (
            _with(thresholds="{ tolerance = 0.005, blame_ratio = 2, blame_min_z = 3 }"),
            "bad.toml: check 'price.vendor_divergence.equity': thresholds.ticks is missing; rule "
            "'vendor_divergence' needs tolerance, ticks, blame_ratio, blame_min_z",
        ),
        (
            _with(thresholds="{ tolerance = 0.005, ticks = 1, blame_ratio = 2, blame_min_z = 3, z = 4 }"),
            "bad.toml: check 'price.vendor_divergence.equity': thresholds.z is not a threshold of rule "
            "'vendor_divergence'; allowed: tolerance, ticks, blame_ratio, blame_min_z",
        ),
        (
            _with(thresholds='{ tolerance = "5bp", ticks = 1, blame_ratio = 2, blame_min_z = 3 }'),
            "bad.toml: check 'price.vendor_divergence.equity': thresholds.tolerance must be a number >= 0, "
            "not '5bp'",
        ),
        (
            _with(family='"prices"'),
            "bad.toml: check 'price.vendor_divergence.equity': family 'prices' is not one of price, fx, "
            "holdings, reference",
        ),
        (
            _with(subject='{ asset_class = "STOCK" }'),
            "bad.toml: check 'price.vendor_divergence.equity': subject.asset_class 'STOCK' is not one of "
            "EQUITY, GOVERNMENT_BOND, CORPORATE_BOND, CASH",
        ),
        (
            _with(subject='{ currency_pair = "EURUSD" }'),
            "bad.toml: check 'price.vendor_divergence.equity': subject.currency_pair is not a subject of "
            "family 'price'; allowed: asset_class, currency, market, instrument_id",
        ),
        (
            GOOD.replace('id = "price.vendor_divergence.equity"\n', ""),
            "bad.toml: check #1: id is missing; give each check a unique id string",
        ),
        (
            GOOD.replace("[[check]]", "[[checks]]"),
            "bad.toml: unknown top-level key(s) checks; only [[check]] tables",
        ),
        ("", "bad.toml: declares no [[check]] table"),
        (
            "[[check]\n",
            "bad.toml: not valid TOML: Expected ']]' at the end of an array declaration (at line 1, column 8)",
        ),
    ],
    ids=[
        "unknown-rule",
        "bad-severity",
        "duplicate-id",
        "missing-threshold",
        "unknown-threshold",
        "threshold-not-a-number",
        "unknown-family",
        "unknown-asset-class",
        "subject-of-another-family",
        "no-id",
        "unknown-top-level",
        "empty",
        "not-toml",
    ],
)
def test_a_bad_file_is_refused_with_an_actionable_message(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_checks(text, "bad.toml")
    assert str(raised.value) == message


def test_a_threshold_out_of_range_is_refused() -> None:
    text = (
        GOOD.replace("[[check]]", "[[check]]")
        .replace('rule = "vendor_divergence"', 'rule = "stale"')
        .replace(
            "thresholds = { tolerance = 0.005, ticks = 1, blame_ratio = 2, blame_min_z = 3 }",
            "thresholds = { days = 0, min_other_move = 0.002, min_other_ticks = 2, max_other_z = 4, peer_moved_share = 0.5 }",
        )
    )
    with pytest.raises(ConfigError) as raised:
        parse_checks(text, "bad.toml")
    assert str(raised.value) == (
        "bad.toml: check 'price.vendor_divergence.equity': thresholds.days must be a whole number >= 1, not 0"
    )


def test_a_missing_file_names_itself(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    with pytest.raises(ConfigError) as raised:
        load_checks(missing)
    assert str(raised.value) == f"{missing}: cannot read the checks file (No such file or directory)"
