"""FIX 4.4 Confirmations (35=AK) read into canonical fields.

The published example: EPAM FIX Antenna .NET Core's message chopper test (Apache-2.0),
https://github.com/epam/fix-antenna-net-core/blob/4d08a173ea8397aea35fa555662d1e2eb6b7f21b/Tests/Core.Tests/FixEngine/Transport/FixMessageChopperTest.cs
test RegressionOfBug12193, which holds a Confirmation twice, as msg1 (34=2) and msg2 (34=3):

    var msg2 = "8=FIX.4.4\\u00019=209\\u000135=AK\\u000149=SNDR\\u000156=TRGT\\u000134=3\\u000150=30737
    \\u000152=20030204-08:46:14\\u0001664=0001\\u0001666=0\\u0001773=1\\u0001665=4\\u000160=20060217-10:00:00
    \\u000175=20060217\\u000155=TESTA\\u000180=1000\\u000154=1\\u0001862=2\\u0001528=A\\u0001863=400
    \\u0001528=P\\u0001863=600\\u000179=KTierney\\u00016=20\\u0001381=20000\\u0001118=2000\\u000110=126\\u0001";

and msg1 the same with 34=2 and 10=125 (without the last SOH). Its BodyLength (209) and both
checksums are right, so it reads without a warning, and it checks _message below, which writes
the envelope of the hand-written messages. Its NetMoney (2000) is not its gross (20000) less
anything: test data, read as it stands.

The other messages are written here by hand, their figures worked in the comments.
"""

from __future__ import annotations

import re

import pytest

from services.documents.domain.fields import Extraction
from services.documents.domain.fix44 import parse_fix44

PUBLISHED = (
    "8=FIX.4.4\u00019=209\u000135=AK\u000149=SNDR\u000156=TRGT\u000134=3\u000150=30737\u0001"
    "52=20030204-08:46:14\u0001664=0001\u0001666=0\u0001773=1\u0001665=4\u000160=20060217-10:00:00\u0001"
    "75=20060217\u000155=TESTA\u000180=1000\u000154=1\u0001862=2\u0001528=A\u0001863=400\u0001528=P\u0001"
    "863=600\u000179=KTierney\u00016=20\u0001381=20000\u0001118=2000\u000110=126\u0001"
)
PUBLISHED_MSG1 = PUBLISHED.replace("34=3", "34=2").replace("10=126\u0001", "10=125")


def _message(body: str, separator: str = "|", begin: str = "FIX.4.4") -> str:
    """body (fields ended by '|') with BeginString, BodyLength (the body's length) and CheckSum
    (the byte sum mod 256, counted with SOH separators) around it, separated by separator."""
    body = body.replace("|", separator)
    head = f"8={begin}{separator}9={len(body.encode())}{separator}"
    wire = (head + body).replace(separator, "\x01").encode()
    return f"{head}{body}10={sum(wire) % 256:03d}{separator}"


def _values(extraction: Extraction) -> dict[str, str]:
    return {one.name: one.value for one in extraction.fields}


def test_the_envelope_helper_writes_the_published_envelope() -> None:
    body = PUBLISHED[PUBLISHED.index("35=AK") : PUBLISHED.index("10=126")]
    assert _message(body.replace("\x01", "|"), separator="\x01") == PUBLISHED


def test_the_published_confirmation() -> None:
    extraction = parse_fix44(PUBLISHED)
    assert (extraction.format, extraction.layout, extraction.bond) == ("fix44", "fix44-confirmation", False)
    assert _values(extraction) == {
        "trade_reference": "0001",
        "trade_date": "2006-02-17",
        "side": "BUY",
        "quantity": "1000",
        # 55=TESTA is a Symbol, not a name: no security_name.
        "price": "20",
        "gross_amount": "20000",
        "net_amount": "2000",
        "account": "KTierney",
    }
    assert extraction.warnings == ()
    reference = extraction.field("trade_reference")
    assert reference is not None and reference.snippet == "664=0001"


def test_the_published_confirmation_as_a_log_prints_it_and_as_msg1() -> None:
    assert parse_fix44(PUBLISHED.replace("\x01", "|")) == parse_fix44(PUBLISHED)
    assert parse_fix44(PUBLISHED_MSG1).warnings == ()


# A bond purchase, printed in a log line with '|': 1,000,000 face at 98.765 % = 987,650.00 gross;
# commission 0.05 % (12=0.0005, 13=2) of the gross = 493.825, rounded half up to the gross's two
# decimals = 493.83; fees 12.50 + 5 = 17.50; accrued 4,125.00; net 987,650.00 + 493.83 + 17.50 +
# 4,125.00 = 992,286.33. The CUSIP 912828Z94 and its ISIN US912828Z948 pass their check digits.
BOND_BODY = (
    "35=AK|49=BRKR|56=CLNT|34=12|52=20200312-18:00:00|664=CONF-2020-0042|666=0|773=2|665=4|"
    "60=20200312-14:30:15|75=20200312|64=20200313|54=1|80=1000000|6=98.765|423=1|15=USD|55=[N/A]|"
    "107=US TREASURY N/B 1.5% 15/02/2030|48=US912828Z948|22=4|454=1|455=912828Z94|456=1|"
    "381=987650.00|12=0.0005|13=2|136=2|137=12.50|138=USD|139=7|137=5|139=4|159=4125.00|"
    "118=992286.33|79=ACC-7781|453=2|448=BRKRUS33|447=B|452=1|448=CONTRAXX|447=D|452=17|"
)
BOND_LOG = "2020-03-12 18:00:00.123 [in] " + _message(BOND_BODY) + "\n"


def test_a_hand_written_bond_purchase_from_a_log() -> None:
    extraction = parse_fix44(BOND_LOG)
    assert extraction.bond is True  # PriceType 423=1: a percentage
    assert _values(extraction) == {
        "trade_reference": "CONF-2020-0042",
        "trade_date": "2020-03-12",
        "settlement_date": "2020-03-13",
        "side": "BUY",
        "quantity": "1000000",
        "isin": "US912828Z948",
        "cusip": "912828Z94",
        "security_name": "US TREASURY N/B 1.5% 15/02/2030",
        "price": "98.765",
        "currency": "USD",
        "gross_amount": "987650.00",
        "commission": "493.83",
        "fees": "17.50",
        "accrued_interest": "4125.00",
        "net_amount": "992286.33",
        "account": "ACC-7781",
        # The executing firm (452=1) is given only as a BIC (447=B): no counterparty name.
    }
    assert extraction.warnings == (
        "the 29 characters before 8=FIX were left out: '2020-03-12 18:00:00.123 [in]'",
        "commission computed: 0.0005 x gross amount 987650.00 = 493.83 (12=0.0005 13=2)",
        "the counterparty is given only as BIC BRKRUS33: no counterparty name",
    )
    commission = extraction.field("commission")
    assert commission is not None and commission.confidence == 0.9


# An equity sale, SOH separated: 2,500 shares at 171.10 = 427,750.00; commission 0.01 a share (13=1)
# x 2,500 = 25.00, plus a local commission of 3.10 in the fees group (139=3) = 28.10; fees 11.89
# (139=1, regulatory); net 427,750.00 - 28.10 - 11.89 = 427,710.01. Account from 1 (no 79).
EQUITY_BODY = (
    "35=AK|664=C-77|666=0|773=2|665=4|75=20200312|64=20200316|54=2|53=2500|6=171.10|15=USD|55=AAPL|"
    "48=US0378331005|22=4|454=1|455=037833100|456=1|381=427750.00|12=0.01|13=1|136=2|137=11.89|139=1|"
    "137=3.10|138=USD|139=3|118=427710.01|1=ACCT-1|"
)


def test_a_hand_written_equity_sale() -> None:
    extraction = parse_fix44(_message(EQUITY_BODY, separator="\x01"))
    assert _values(extraction) == {
        "trade_reference": "C-77",
        "trade_date": "2020-03-12",
        "settlement_date": "2020-03-16",
        "side": "SELL",
        "quantity": "2500",
        "isin": "US0378331005",
        "cusip": "037833100",
        # 55=AAPL is a ticker, not a name: no security_name.
        "price": "171.10",
        "currency": "USD",
        "gross_amount": "427750.00",
        "commission": "28.10",
        "fees": "11.89",
        "net_amount": "427710.01",
        "account": "ACCT-1",
    }
    assert extraction.warnings == ("commission computed: 0.01 x quantity 2500 = 25.00 (12=0.01 13=1)",)
    commission = extraction.field("commission")
    assert commission is not None
    assert commission.snippet == "12=0.01 13=1 137=3.10 138=USD 139=3"
    assert commission.confidence == 0.9


def _equity(old: str, new: str) -> Extraction:
    assert old in EQUITY_BODY
    return parse_fix44(_message(EQUITY_BODY.replace(old, new)))


@pytest.mark.parametrize(
    ("old", "new", "commission", "warning"),
    [
        ("12=0.01|13=1|", "12=25|13=3|", "28.10", None),  # absolute: 25 + 3.10
        (
            "12=0.01|13=1|",
            "12=25|",
            "28.10",
            "CommType(13) missing: Commission(12) read as an absolute amount",
        ),
        # 0.1 % of 427,750.00 = 427.75, + 3.10
        (
            "12=0.01|13=1|",
            "12=0.001|13=2|",
            "430.85",
            "commission computed: 0.001 x gross amount 427750.00 = 427.75",
        ),
        ("12=0.01|13=1|", "12=4|13=6|", "3.10", "12=4 13=6: CommType 6 is not turned into an amount here"),
        ("53=2500|", "", "3.10", "12=0.01 13=1: no quantity to compute the commission from; no commission"),
        ("12=0.01|13=1|", "12=25|13=3|479=EUR|", "28.10", "479=EUR: the commission is in another currency"),
    ],
)
def test_commission_types(old: str, new: str, commission: str, warning: str | None) -> None:
    extraction = _equity(old, new)
    assert extraction.value("commission") == commission
    if warning is not None:
        assert any(one.startswith(warning) for one in extraction.warnings), extraction.warnings


def test_a_percent_commission_without_a_gross_uses_quantity_times_price() -> None:
    # 1,000,000 x 98.765 / 100 (a percentage price) = 987,650; x 0.0005 = 493.825, rounded to 2
    # places (no gross amount to take decimals from) = 493.83.
    extraction = parse_fix44(_message(BOND_BODY.replace("381=987650.00|", "")))
    assert extraction.value("commission") == "493.83"
    assert "commission computed: 0.0005 x quantity x price 987650.000 = 493.83 (12=0.0005 13=2)" in (
        extraction.warnings
    )


def test_fees_in_another_currency_are_left_out() -> None:
    extraction = _equity("137=11.89|139=1|", "137=11.89|138=EUR|139=1|")
    assert extraction.value("fees") is None
    assert "137=11.89 138=EUR 139=1: in EUR, the trade in USD; left out" in extraction.warnings


def test_the_contra_firm_when_there_is_no_executing_firm() -> None:
    extraction = parse_fix44(_message(BOND_BODY.replace("453=2|448=BRKRUS33|447=B|452=1|", "453=1|")))
    assert extraction.value("counterparty") == "CONTRAXX"


@pytest.mark.parametrize(
    ("old", "new", "warning"),
    [
        ("666=0|", "666=2|", "666=2: this confirmation cancels an earlier one"),
        ("666=0|", "666=1|", "666=1: this confirmation replaces an earlier one"),
        ("665=4|", "665=5|", "665=5: request rejected"),
        ("773=2|", "773=3|", "773=3: a rejected confirmation request, not a confirmation"),
        ("54=2|", "54=7|", "54=7: neither a buy nor a sell, so no side"),
        ("6=171.10|", "6=abc|", "6=abc: not a number; left out"),
        (
            "75=20200312|",
            "75=20201312|",
            "75=20201312: '20201312' is not a date: month must be in 1..12; no trade_date",
        ),
        ("136=2|", "136=3|", "136=3 but the group has 2 entries"),
        ("48=US0378331005|", "48=US0378331006|", "ISIN US0378331006 fails its check digit"),
        ("455=037833100|", "455=037833101|", "CUSIP 037833101 fails its check digit"),
        ("456=1|", "456=4|", "455=037833100 456=4: a second isin; the first is kept"),
    ],
)
def test_what_a_person_should_check_is_a_warning(old: str, new: str, warning: str) -> None:
    assert warning in _equity(old, new).warnings


def test_a_wrong_body_length_or_checksum_is_a_warning_not_a_failure() -> None:
    good = _message(EQUITY_BODY)
    length = re.search(r"\|9=(\d+)\|", good)
    assert length is not None
    bad_length = good.replace(f"|9={length.group(1)}|", f"|9={int(length.group(1)) + 1}|", 1)
    assert parse_fix44(bad_length).warnings[0] == (
        f"BodyLength(9) says {int(length.group(1)) + 1} but the body is {length.group(1)} characters long"
    )
    checksum = good[-4:-1]
    wrong = f"{(int(checksum) + 1) % 256:03d}"
    bad_sum = good[:-4] + wrong + "|"
    assert parse_fix44(bad_sum).warnings[0] == f"CheckSum(10) says {wrong} but the message sums to {checksum}"
    assert _values(parse_fix44(bad_sum)) == _values(parse_fix44(good))


def test_other_envelopes_are_read_with_a_warning() -> None:
    older = parse_fix44(_message(EQUITY_BODY, begin="FIX.4.2"))
    assert older.warnings[0] == "BeginString(8) is FIX.4.2; read as FIX 4.4"
    trailing = parse_fix44(_message(EQUITY_BODY) + "58=after|")
    assert "the fields after CheckSum(10) were left out" in trailing.warnings
    no_envelope = parse_fix44("8=FIX.4.4|35=AK|664=X|54=1|")
    assert no_envelope.warnings == () and no_envelope.value("side") == "BUY"


def test_a_length_prefixed_data_field_may_hold_the_separator() -> None:
    extraction = parse_fix44(_message(EQUITY_BODY.replace("664=C-77|", "664=C-77|95=5|96=a|b|c|")))
    assert extraction.value("trade_reference") == "C-77" and extraction.value("side") == "SELL"
    assert extraction.warnings == ("commission computed: 0.01 x quantity 2500 = 25.00 (12=0.01 13=1)",)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("hello", "not a FIX message: there is no BeginString (8=FIX...)"),
        ("8=FIX.4.4", "not a FIX message: its fields are not separated by SOH (0x01) or '|'"),
        ("8=FIX.4.4|x=1|", "not a FIX message: 'x' (at character 10) is not a tag number"),
        ("8=FIX.4.4|35=AK|oops", "not a FIX message: 'oops' is not tag=value"),
        ("8=FIX.4.4|49=A|56=B|", "not a FIX Confirmation: the message has no MsgType (35)"),
        ("8=FIX.4.4|35=8|39=2|", "not a FIX Confirmation (35=AK): its MsgType is 35=8 (ExecutionReport)"),
        ("8=FIX.4.4|35=J|", "not a FIX Confirmation (35=AK): its MsgType is 35=J (AllocationInstruction)"),
        ("8=FIX.4.4|35=ZZ|", "not a FIX Confirmation (35=AK): its MsgType is 35=ZZ (another message type)"),
        (
            _message(EQUITY_BODY) + _message(EQUITY_BODY),
            "the text holds 2 FIX messages; give one confirmation at a time",
        ),
    ],
)
def test_what_is_not_a_confirmation_is_refused_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(reason) + "$"):
        parse_fix44(text)
