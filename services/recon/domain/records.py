"""recon's immutable records, mirroring protos/opsuite/recon/v1/recon.proto.

Like Beancount's core/data.py: a handful of frozen records, everything else is
pure functions over them. Money and quantities are Decimal; dates
datetime.date; times datetime.datetime in UTC. Enum values are the proto
names without their prefix (BreakKind.QUANTITY_MISMATCH is
BREAK_KIND_QUANTITY_MISMATCH), so the codec maps them by name.

Sign convention everywhere: a difference is OTHER minus BOOK (the custodian's
or the ledger's figure minus the internal book's; in the bank reconciliation,
LEDGER_VS_CUSTODIAN, the custodian's cash minus the ledger's).
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple


class Comparison(enum.StrEnum):
    """The two books a check compares."""

    BOOK_VS_CUSTODIAN = "BOOK_VS_CUSTODIAN"
    BOOK_VS_LEDGER = "BOOK_VS_LEDGER"
    CONFIRMATION_VS_BOOK = "CONFIRMATION_VS_BOOK"
    LEDGER_VS_CUSTODIAN = (
        "LEDGER_VS_CUSTODIAN"  # the bank reconciliation: ledger cash (+ suspense) vs custodian
    )


class Scope(enum.StrEnum):
    """What is compared: a holding, a cash balance, a single trade or a single cash flow."""

    POSITION = "POSITION"
    CASH = "CASH"
    TRADE = "TRADE"
    CASH_FLOW = "CASH_FLOW"

    @property
    def is_item(self) -> bool:
        """Trade and cash-flow scopes compare one item each; their breaks may parent balance breaks."""
        return self in (Scope.TRADE, Scope.CASH_FLOW)


class BreakKind(enum.StrEnum):
    """What disagrees. UNSPECIFIED on differences that are matched."""

    UNSPECIFIED = "UNSPECIFIED"
    QUANTITY_MISMATCH = "QUANTITY_MISMATCH"
    MISSING_AT_CUSTODIAN = "MISSING_AT_CUSTODIAN"
    MISSING_INTERNALLY = "MISSING_INTERNALLY"
    CASH_MISMATCH = "CASH_MISMATCH"
    DUPLICATE_AT_CUSTODIAN = "DUPLICATE_AT_CUSTODIAN"
    SETTLEMENT_DATE_MISMATCH = "SETTLEMENT_DATE_MISMATCH"
    BOOK_VS_LEDGER_MISMATCH = "BOOK_VS_LEDGER_MISMATCH"
    PRICE_MISMATCH = "PRICE_MISMATCH"
    CONFIRMATION_MISMATCH = "CONFIRMATION_MISMATCH"


class BreakStatus(enum.StrEnum):
    OPEN = "OPEN"
    INVESTIGATING = "INVESTIGATING"
    RESOLVED = "RESOLVED"  # by a person, or by the difference going away
    WRITTEN_OFF = "WRITTEN_OFF"

    @property
    def is_open(self) -> bool:
        """OPEN and INVESTIGATING still count as open breaks (they age, escalate, auto-resolve)."""
        return self in (BreakStatus.OPEN, BreakStatus.INVESTIGATING)


class Outcome(enum.StrEnum):
    """How one compared item came out. Only BREAK becomes (or keeps) a Break."""

    MATCHED = "MATCHED"  # equal
    WITHIN_TOLERANCE = "WITHIN_TOLERANCE"  # different, but inside the configured tolerance
    TIMING = "TIMING"  # explained by pending settlements still inside their grace period
    BREAK = "BREAK"


class ActionKind(enum.StrEnum):
    OPENED = "OPENED"
    AGED = "AGED"  # the break moved to the next aging bucket
    ESCALATED = "ESCALATED"
    ASSIGNED = "ASSIGNED"
    COMMENTED = "COMMENTED"
    STATUS_CHANGED = "STATUS_CHANGED"
    AUTO_RESOLVED = "AUTO_RESOLVED"
    POSTED_TO_SUSPENSE = "POSTED_TO_SUSPENSE"
    REOPENED = "REOPENED"  # a new generation of a break whose difference came back
    SUSPENSE_ADJUSTED = "SUSPENSE_ADJUSTED"  # a later suspense journal: the difference changed
    SUSPENSE_REVERSED = "SUSPENSE_REVERSED"  # the suspense journal that took it back to zero
    WRITE_OFF_POSTED = "WRITE_OFF_POSTED"  # the journal writing a written-off break off to P&L


RECON_ACTOR = "recon"  # the actor of automatic actions


# ---------------------------------------------------------------- inputs


@dataclass(frozen=True, slots=True)
class ItemKey:
    """One compared item: a position (instrument_id set) or a cash balance (currency set).

    account is the custody (sub-)account; "" for the mandate's single account.
    Position keys leave currency "" (it comes from the instrument's reference data).
    """

    mandate_id: str
    scope: Scope
    instrument_id: str = ""
    currency: str = ""
    account: str = ""


@dataclass(frozen=True, slots=True)
class InstrumentRef:
    """Reference data the matcher needs: asset class (market's AssetClass names) and currency."""

    asset_class: str
    currency: str


@dataclass(frozen=True, slots=True)
class PendingSettlement:
    """A movement the internal book already counts and the other side does not yet.

    quantity (units, + bought) applies to the position key and amount (+ received,
    - paid) to the cash key of `currency`; None where that side is already in
    step (see conventions.py for which is which). The difference it explains is
    minus these figures: a pending buy of 100 explains other - book = -100.
    caused_by: the ids of the events behind it (the fill, the custodian trade).
    """

    mandate_id: str
    fill_id: str
    instrument_id: str
    currency: str
    settle_date: dt.date
    quantity: Decimal | None
    amount: Decimal | None
    caused_by: tuple[str, ...] = ()
    account: str = ""


@dataclass(frozen=True, slots=True)
class BookTrade:
    """A fill as the internal book has it; quantity positive, side in `side` ("BUY" / "SELL")."""

    fill_id: str
    mandate_id: str
    instrument_id: str
    side: str
    quantity: Decimal
    price: Decimal
    currency: str
    trade_date: dt.date
    settle_date: dt.date
    event_id: str = ""


@dataclass(frozen=True, slots=True)
class CustodianTradeRecord:
    """A live trade as the custodian booked it (cancelled bookings are not records).

    settle_date: the contractual date the custodian booked; settled_on: the date its SETTLED report
    gave (None: not settled yet); failed_on / fail_reason: its latest FAILED report, if any."""

    custodian_ref: str
    fill_id: str
    mandate_id: str
    instrument_id: str
    side: str
    quantity: Decimal
    price: Decimal
    currency: str
    trade_date: dt.date
    settle_date: dt.date
    event_id: str = ""
    settled_on: dt.date | None = None
    failed_on: dt.date | None = None
    fail_reason: str = ""


@dataclass(frozen=True, slots=True)
class CashFlowRecord:
    """One cash flow as the internal book and the custodian have it, matched by reference.

    book_amount / book_date: the book's cash flow (None: the book has none); custodian_amount: what
    the custodian booked plus its income adjustments (None: nothing yet); custodian_date: its value
    date (as corrected). event_ids: the events behind both sides, the book's first."""

    cash_flow_id: str
    mandate_id: str
    currency: str
    kind: str = ""
    instrument_id: str = ""
    book_amount: Decimal | None = None
    book_date: dt.date | None = None
    custodian_amount: Decimal | None = None
    custodian_date: dt.date | None = None
    event_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Valuation:
    """What turns a difference into money, for descriptions and the escalation threshold.

    unit_values: value of one unit (share, or one unit of face) in the instrument's
    currency; fx_to_base: (currency, base currency) -> base units per unit;
    base_currency: mandate_id -> its base currency. Missing entries leave the
    valued amounts None (the difference is still reported).
    """

    unit_values: dict[str, Decimal]
    fx_to_base: dict[tuple[str, str], Decimal]
    base_currency: dict[str, str]


class Coverage(NamedTuple):
    """One (mandate, comparison, scope) a check run looked at: only breaks it covers may auto-resolve."""

    mandate_id: str
    comparison: Comparison
    scope: Scope


@dataclass(frozen=True, slots=True)
class RunContext:
    """The check run being applied. sim_time is simulated time, at wall-clock time."""

    run_id: str
    as_of_date: dt.date
    sim_time: dt.datetime
    at: dt.datetime
    covered: frozenset[Coverage]
    trace_id: str = ""
    as_of_seq: int = 0
    trigger: str = "day_end"  # or "on_demand"

    def covers(self, mandate_id: str, comparison: Comparison, scope: Scope) -> bool:
        return Coverage(mandate_id, comparison, scope) in self.covered


# ---------------------------------------------------------------- outputs


@dataclass(frozen=True, slots=True)
class Difference:
    """One compared item and its outcome (only items that are not exactly MATCHED are materialised).

    item_key: stable text identity of the item ("what" without "how much"); a break's id
    derives from it. Quantities are set for positions and trades, amounts for cash
    (and, valued at the unit value, for positions when a Valuation was given).
    quantity_difference / amount_difference: other - book, except on a BREAK that pending
    settlements partly explain, where it is the unexplained remainder: explained_difference
    holds the explained part, so other - book = quantity_difference + explained_difference.
    tolerance_*: the tolerance applied (absolute in units or currency, relative a fraction).
    expected_settle_date / grace_until: TIMING items, the earliest explaining settlement and
    the last business date on which it still explains.
    A non-BREAK difference that carries other_date (a trade settled late, a cash flow whose value
    date was corrected) is a closing record: the break it resolves keeps its dates and description.
    """

    item_key: str
    comparison: Comparison
    scope: Scope
    kind: BreakKind
    outcome: Outcome
    mandate_id: str
    instrument_id: str = ""
    currency: str = ""
    account: str = ""
    ledger_account: str = ""
    fill_id: str = ""
    custodian_refs: tuple[str, ...] = ()
    cash_flow_id: str = ""
    book_quantity: Decimal | None = None
    other_quantity: Decimal | None = None
    quantity_difference: Decimal | None = None
    book_amount: Decimal | None = None
    other_amount: Decimal | None = None
    amount_difference: Decimal | None = None
    explained_difference: Decimal | None = None
    base_currency: str = ""
    base_amount_difference: Decimal | None = None
    book_date: dt.date | None = None
    other_date: dt.date | None = None
    tolerance_absolute: Decimal | None = None
    tolerance_relative: Decimal | None = None
    expected_settle_date: dt.date | None = None
    grace_until: dt.date | None = None
    caused_by: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True, slots=True)
class TimingItem:
    """A difference explained by pending settlements, not a break until grace_until has passed."""

    item_id: str
    mandate_id: str
    comparison: Comparison
    scope: Scope
    instrument_id: str
    currency: str
    fill_id: str  # when exactly one fill explains it, else ""
    quantity_difference: Decimal | None
    amount_difference: Decimal | None
    expected_settle_date: dt.date | None
    grace_until: dt.date | None
    caused_by: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Break:
    """A difference beyond tolerance that no pending settlement explains; durable across checks.

    break_id derives from item_key and generation (1, then 2 after a resolved break's
    difference came back, ...). Dates are simulated business dates; opened_at,
    updated_at, resolved_at simulated times (None: not yet). Amount fields as on
    Difference; None where not applicable or unknown. escalation_reason "" unless
    escalated. parent_break_id: the trade-level or cash-flow break a position or cash break is
    grouped under ("" when none explains it). Suspense (ledger-vs-custodian cash breaks only):
    suspense_amount is the cash its suspense journals have moved so far (None: never posted),
    suspense_version how many journals that took, suspense_journal_id the latest;
    write_off_journal_id the journal that wrote it off to profit and loss.
    """

    break_id: str
    item_key: str
    generation: int
    mandate_id: str
    kind: BreakKind
    status: BreakStatus
    comparison: Comparison
    scope: Scope
    first_seen_date: dt.date
    last_seen_date: dt.date
    opened_at: dt.datetime
    updated_at: dt.datetime
    opened_in_run_id: str
    last_run_id: str
    instrument_id: str = ""
    currency: str = ""
    account: str = ""
    fill_id: str = ""
    custodian_refs: tuple[str, ...] = ()
    ledger_account: str = ""
    book_quantity: Decimal | None = None
    other_quantity: Decimal | None = None
    quantity_difference: Decimal | None = None
    book_amount: Decimal | None = None
    other_amount: Decimal | None = None
    amount_difference: Decimal | None = None
    base_currency: str = ""
    base_amount_difference: Decimal | None = None
    book_date: dt.date | None = None
    other_date: dt.date | None = None
    tolerance_absolute: Decimal | None = None
    tolerance_relative: Decimal | None = None
    age_business_days: int = 0
    aging_bucket: str = ""
    escalated: bool = False
    escalation_reason: str = ""
    assignee: str = ""
    resolved_at: dt.datetime | None = None
    resolved_by_event_id: str = ""
    suspense_journal_id: str = ""
    caused_by: tuple[str, ...] = ()
    trace_id: str = ""
    description: str = ""
    parent_break_id: str = ""
    cash_flow_id: str = ""
    suspense_amount: Decimal | None = None
    suspense_version: int = 0
    write_off_journal_id: str = ""

    @property
    def held_in_suspense(self) -> Decimal:
        """The cash the break's suspense journals have moved so far (0 when none)."""
        return self.suspense_amount if self.suspense_amount is not None else Decimal(0)


@dataclass(frozen=True, slots=True)
class BreakAction:
    """One entry of a break's history. at is wall-clock, sim_time simulated time.

    from_status / to_status are the status before and after (equal unless it changed);
    assignee is set on ASSIGNED ("" = unassigned), comment on COMMENTED (and optional on
    others), journal_id and amount (its Assets:Cash leg) on suspense and write-off postings.
    """

    action_id: str
    break_id: str
    kind: ActionKind
    actor: str
    at: dt.datetime
    sim_time: dt.datetime
    from_status: BreakStatus
    to_status: BreakStatus
    assignee: str = ""
    comment: str = ""
    journal_id: str = ""
    amount: Decimal | None = None


@dataclass(frozen=True, slots=True)
class CheckRun:
    """One comparison of two books for one mandate, recorded whether or not it found anything.

    compared_count = matched_count + unmatched_count; matched includes within tolerance;
    unmatched includes the timing items (timing_item_count) and the breaks.
    """

    run_id: str
    mandate_id: str
    comparison: Comparison
    as_of_date: dt.date
    as_of_seq: int
    trigger: str
    started_at: dt.datetime
    finished_at: dt.datetime
    compared_count: int
    matched_count: int
    matched_within_tolerance_count: int
    unmatched_count: int
    timing_item_count: int
    breaks_opened: int
    breaks_resolved: int
    trace_id: str = ""


@dataclass(frozen=True, slots=True)
class BucketCount:
    """Open breaks in one aging bucket; base_amount sums |base_amount_difference| in `currency`."""

    bucket: str
    count: int
    base_amount: Decimal
    currency: str
