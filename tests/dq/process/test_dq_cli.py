"""`opsuite dq` and its subcommands through the real entry point (`python -m services.cli`), against a
finished market and dq (conftest.py): what each prints, as a table and as JSON, and the exit code
and one line of each refusal. Every figure expected is read back from dq over gRPC.
"""

from __future__ import annotations

import json
import re

import grpc
import pytest

from opsuite.common.v1 import common_pb2
from opsuite.dq.v1 import dq_pb2, dq_pb2_grpc
from services.cli.dq.rows import issue_row
from services.cli.output import grouped
from services.cli.registry import free_port
from tests.cli.conftest import run_opsuite
from tests.dq.process.conftest import DqSuite

OPEN = (dq_pb2.ISSUE_STATUS_OPEN, dq_pb2.ISSUE_STATUS_ACKNOWLEDGED)


def _date(date: common_pb2.Date) -> str:
    return f"{date.year:04d}-{date.month:02d}-{date.day:02d}"


def _line(text: str, start: str) -> str:
    return next(line for line in text.splitlines() if line.lstrip("│┃ ").startswith(start))


def _cells(line: str) -> list[str]:
    """A table row's cells, with the borders rich draws around them dropped."""
    return [cell.strip() for cell in re.split(r"[│┃]", line) if cell.strip()]


def _one_line_refusal(result: object, code: int) -> str:
    assert result.returncode == code, (result.stdout, result.stderr)  # type: ignore[attr-defined]
    message: str = result.stderr.strip()  # type: ignore[attr-defined]
    assert "\n" not in message and "Traceback" not in message, message
    assert result.stdout == "", result.stdout  # type: ignore[attr-defined]
    return message


def _open_issues(suite: DqSuite) -> list[dq_pb2.Issue]:
    found = [i for status in OPEN for i in suite.issues(status=status)]
    return sorted(found, key=lambda i: -int(i.issue_id.removeprefix("dq-")))


def _quarantine(suite: DqSuite, as_of: common_pb2.Date | None = None) -> list[dq_pb2.QuarantineEntry]:
    with grpc.insecure_channel(suite.dq.address) as channel:
        request = dq_pb2.GetQuarantineRequest(page_size=1000, as_of_date=as_of)
        return list(dq_pb2_grpc.DqServiceStub(channel).GetQuarantine(request, timeout=30).entries)


# ---------------------------------------------------------------- the run the tests read


def test_the_suite_has_resolved_issues_and_the_last_days_spike_open_and_held_back(dq_suite: DqSuite) -> None:
    """What the other tests rely on: dq raised and resolved issues over the run, and the spike
    market applied on the last day is open and quarantined (conftest.py)."""
    status = dq_suite.status()
    spiked = dq_suite.spiked.instrument_id
    assert _date(status.as_of_date) == _date(dq_suite.spiked.applied_date)
    assert dq_suite.issues(status=dq_pb2.ISSUE_STATUS_RESOLVED), "no issue was raised and resolved"
    assert any(i.instrument_id == spiked and i.quarantined for i in _open_issues(dq_suite))
    assert [e.instrument_id for e in _quarantine(dq_suite)] == [spiked]


# ---------------------------------------------------------------- opsuite dq


def test_dq_says_health_open_issues_by_severity_held_back_values_then_each_check(
    dq_suite: DqSuite,
) -> None:
    status = dq_suite.status()
    by_severity = {s.severity: s.count for s in status.open_by_severity}
    result = dq_suite.opsuite("dq")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()

    assert lines[0] == f"dq as of {_date(status.as_of_date)}: health {status.health}"
    assert lines[1] == (
        f"open issues: {status.open_issue_count} ({by_severity[dq_pb2.SEVERITY_CRITICAL]} critical, "
        f"{by_severity[dq_pb2.SEVERITY_WARNING]} warning, {by_severity[dq_pb2.SEVERITY_INFO]} info)"
    )
    assert lines[2] == f"quarantined values: {status.quarantined_count}"
    for check in status.checks:
        cells = _cells(_line(result.stdout, check.check + " "))
        assert cells[:4] == [
            check.check,
            grouped(check.checked_count),
            grouped(check.failed_count),
            grouped(check.open_issue_count),
        ], cells
    # The open issues, newest first: id, severity, status, kind, subject, vendor, message.
    shown = _line(result.stdout, "most recent open issues")
    open_issues = _open_issues(dq_suite)
    assert f"({len(open_issues)} of {status.open_issue_count})" in shown
    for issue in open_issues:
        row = issue_row(issue)
        cells = _cells(_line(result.stdout, issue.issue_id + " "))
        assert cells[:6] == [
            row["id"],
            row["severity"],
            row["status"],
            row["kind"],
            row["subject"],
            row["vendor"],
        ]
    ids = [_cells(line)[0] for line in lines if re.match(r"^│ dq-\d+ ", line)]
    assert ids == [i.issue_id for i in open_issues]


def test_dq_json_is_the_status_and_every_open_issue(dq_suite: DqSuite) -> None:
    status = dq_suite.status()
    result = dq_suite.opsuite("dq", "-o", "json")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)

    assert found["status"]["as_of_date"] == _date(status.as_of_date)
    assert found["status"]["health"] == status.health
    assert found["status"]["quarantined"] == status.quarantined_count
    assert found["status"]["open_issues"] == status.open_issue_count
    assert [c["check"] for c in found["status"]["checks"]] == [c.check for c in status.checks]
    assert found["open_issues"] == [issue_row(i) for i in _open_issues(dq_suite)]


# ---------------------------------------------------------------- opsuite dq checks


def test_checks_lists_every_check_its_thresholds_and_where_they_come_from(dq_suite: DqSuite) -> None:
    with grpc.insecure_channel(dq_suite.dq.address) as channel:
        listed = dq_pb2_grpc.DqServiceStub(channel).ListChecks(dq_pb2.ListChecksRequest(page_size=1000))
    result = dq_suite.opsuite("dq", "checks")
    assert result.returncode == 0, result.stderr
    assert listed.source == "defaults"
    assert f"{len(listed.checks)} checks, from the shipped defaults" in result.stdout
    for check in listed.checks:
        cells = _cells(_line(result.stdout, check.check_id + " "))
        assert cells[:4] == [
            check.check_id,
            check.family,
            check.rule,
            dq_pb2.Severity.Name(check.severity)[9:].lower(),
        ]

    as_json = json.loads(dq_suite.opsuite("dq", "checks", "-o", "json").stdout)
    assert as_json["source"] == "defaults"
    assert [(c["id"], c["thresholds"], c["subject"]) for c in as_json["checks"]] == [
        (c.check_id, dict(sorted(c.thresholds.items())), c.subject) for c in listed.checks
    ]


# ---------------------------------------------------------------- opsuite dq issues


def test_issues_are_listed_newest_first_up_to_the_limit(dq_suite: DqSuite) -> None:
    every = dq_suite.issues()
    assert len(every) > 3
    result = dq_suite.opsuite("dq", "issues", "--limit", "3")
    assert result.returncode == 0, result.stderr
    assert "the newest 3 issues" in result.stdout
    ids = [_cells(line)[0] for line in result.stdout.splitlines() if re.match(r"^│ dq-\d+ ", line)]
    assert ids == [i.issue_id for i in every[:3]]
    assert "more match: --limit 6 shows more" in result.stdout

    everything = json.loads(dq_suite.opsuite("dq", "issues", "--limit", "1000", "-o", "json").stdout)
    assert everything == [issue_row(i) for i in every]
    # -o given to `opsuite dq` holds for its subcommand too.
    assert json.loads(dq_suite.opsuite("dq", "-o", "json", "issues", "--limit", "1").stdout) == everything[:1]


def test_issues_filters_are_dqs_own(dq_suite: DqSuite) -> None:
    resolved = dq_suite.issues(status=dq_pb2.ISSUE_STATUS_RESOLVED)
    oldest = resolved[-1]
    day = _date(oldest.value_date)
    expected = dq_suite.issues(
        status=dq_pb2.ISSUE_STATUS_RESOLVED,
        kinds=[oldest.kind],
        min_severity=oldest.severity,
        instrument_id=oldest.instrument_id,
        dates=common_pb2.DateRange(start=oldest.value_date, end=oldest.value_date),
    )
    kind = dq_pb2.IssueKind.Name(oldest.kind).removeprefix("ISSUE_KIND_").lower().replace("_", "-")
    severity = dq_pb2.Severity.Name(oldest.severity).removeprefix("SEVERITY_").lower()
    result = dq_suite.opsuite(
        "dq", "issues", "--status", "resolved", "--kind", kind, "--min-severity", severity,
        "--instrument", oldest.instrument_id, "--from", day, "--to", day, "-o", "json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert [row["id"] for row in json.loads(result.stdout)] == [i.issue_id for i in expected]
    assert oldest.issue_id in [i.issue_id for i in expected]

    nothing = dq_suite.opsuite("dq", "issues", "--status", "acknowledged", "--mandate", "BAL-USD")
    assert nothing.returncode == 0, nothing.stderr
    assert nothing.stdout.strip() == "no acknowledged issues (BAL-USD)"


# ---------------------------------------------------------------- opsuite dq issue


def test_an_issue_in_full_with_its_evidence_and_how_to_trace_it(dq_suite: DqSuite) -> None:
    spiked = dq_suite.spiked.instrument_id
    [issue] = [i for i in _open_issues(dq_suite) if i.instrument_id == spiked and i.quarantined]
    result = dq_suite.opsuite("dq", "issue", issue.issue_id)
    assert result.returncode == 0, result.stderr
    out = result.stdout

    assert issue.message in " ".join(_cells(_line(out, "message")))
    figures = _cells(_line(out, "figures"))[1]
    assert figures == (
        f"observed {grouped(issue.observed_value.value)} · reference {grouped(issue.reference_value.value)}"
        f" · difference {grouped(issue.difference.value)}"
    )
    assert _cells(_line(out, "value date"))[1] == _date(issue.value_date)
    assert _cells(_line(out, "held back now"))[1].startswith("yes")
    assert _cells(_line(out, "caused by"))[1] == ", ".join(issue.caused_by)
    assert _cells(_line(out, "trace"))[1] == issue.trace_id
    assert _cells(_line(out, "check"))[1] == issue.check_id
    for name in issue.statistics:
        assert f"{name}=" in out
    hint = out.strip().splitlines()[-1]
    assert hint.endswith(f"opsuite trace {issue.issue_id}-raised")

    # The hint runs: the chain is the prices dq checked and the issue it raised.
    traced = run_opsuite("trace", f"{issue.issue_id}-raised", env=dq_suite.env)
    assert traced.returncode == 0, traced.stderr
    for event_id in [*issue.caused_by, f"{issue.issue_id}-raised"]:
        assert event_id in traced.stdout

    as_json = json.loads(dq_suite.opsuite("dq", "issue", issue.issue_id, "-o", "json").stdout)
    assert as_json == issue_row(issue)


def test_the_oldest_issue_is_found_too(dq_suite: DqSuite) -> None:
    oldest = dq_suite.issues()[-1]
    result = dq_suite.opsuite("dq", "issue", oldest.issue_id, "-o", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == issue_row(oldest)


def test_an_unknown_or_malformed_issue_id_is_one_line(dq_suite: DqSuite) -> None:
    newest = int(dq_suite.issues()[0].issue_id.removeprefix("dq-"))
    unknown = f"dq-{newest + 1}"
    for command in ("issue", "ack"):
        message = _one_line_refusal(dq_suite.opsuite("dq", command, unknown), 1)
        assert message == (
            f"opsuite dq {command}: dq has no issue '{unknown}'; `opsuite dq issues` lists them, newest first"
        )
        malformed = _one_line_refusal(dq_suite.opsuite("dq", command, "BRK-1"), 2)
        assert "'BRK-1' is not an issue id: they look like dq-12" in malformed


# ---------------------------------------------------------------- opsuite dq ack


def test_ack_marks_an_open_issue_seen_and_refuses_a_resolved_one(dq_suite: DqSuite) -> None:
    issue = _open_issues(dq_suite)[0]
    result = dq_suite.opsuite("dq", "ack", issue.issue_id)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{issue.issue_id}: acknowledged (")
    [seen] = [
        i for i in dq_suite.issues(status=dq_pb2.ISSUE_STATUS_ACKNOWLEDGED) if i.issue_id == issue.issue_id
    ]
    assert seen.status == dq_pb2.ISSUE_STATUS_ACKNOWLEDGED
    # Again: nothing changes, and it says so the same way.
    again = dq_suite.opsuite("dq", "ack", issue.issue_id, "-o", "json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["status"] == "acknowledged"

    resolved = dq_suite.issues(status=dq_pb2.ISSUE_STATUS_RESOLVED)[0]
    message = _one_line_refusal(dq_suite.opsuite("dq", "ack", resolved.issue_id), 1)
    assert (
        message
        == f"opsuite dq ack: issue {resolved.issue_id} is resolved: there is nothing left to acknowledge"
    )


# ---------------------------------------------------------------- opsuite dq quarantine


def _held_back_cells(entry: dq_pb2.QuarantineEntry) -> list[str]:
    last_good = f"{grouped(entry.last_good_value.value)} ({_date(entry.last_good_date)})"
    return [
        entry.instrument_id or entry.currency_pair,
        "price" if entry.subject_kind == dq_pb2.SUBJECT_KIND_PRICE else "fx rate",
        entry.vendor,
        f"{grouped(entry.rejected_value.value)} ({_date(entry.rejected_date)})",
        last_good if entry.HasField("last_good_value") else "none yet",
        entry.issue_id,
    ]


def test_quarantine_is_what_is_held_back_now_beside_its_last_good_value(dq_suite: DqSuite) -> None:
    entries = _quarantine(dq_suite)
    result = dq_suite.opsuite("dq", "quarantine")
    assert result.returncode == 0, result.stderr
    as_of = _date(dq_suite.status().as_of_date)
    assert f"{len(entries)} value{'s' if len(entries) != 1 else ''} held back as of {as_of}" in result.stdout
    for entry in entries:
        assert _cells(_line(result.stdout, entry.instrument_id + " "))[:6] == _held_back_cells(entry)

    as_json = json.loads(dq_suite.opsuite("dq", "quarantine", "-o", "json").stdout)
    assert (as_json["as_of_date"], as_json["held_now"]) == (as_of, True)
    assert [(e["subject"], e["rejected_value"], e["last_good_value"]) for e in as_json["entries"]] == [
        (e.instrument_id, e.rejected_value.value, e.last_good_value.value) for e in entries
    ]


def test_quarantine_as_of_a_day_is_every_value_of_it_dq_rejected(dq_suite: DqSuite) -> None:
    # A day whose rejected value has come right since: a resolved critical issue's.
    [resolved, *_] = [
        i
        for i in dq_suite.issues(status=dq_pb2.ISSUE_STATUS_RESOLVED, min_severity=dq_pb2.SEVERITY_CRITICAL)
        if i.kind in (dq_pb2.ISSUE_KIND_PRICE_VENDOR_MISMATCH, dq_pb2.ISSUE_KIND_PRICE_SPIKE)
    ]
    entries = _quarantine(dq_suite, resolved.value_date)
    assert entries, "a critical price issue's value was rejected that day"
    day = _date(resolved.value_date)
    result = dq_suite.opsuite("dq", "quarantine", "--as-of", day)
    assert result.returncode == 0, result.stderr
    assert f"of {day} dq rejected (held back that day)" in result.stdout
    for entry in entries:
        assert _cells(_line(result.stdout, entry.instrument_id + " "))[:6] == _held_back_cells(entry)


# ---------------------------------------------------------------- refusals


def test_a_day_dq_has_not_checked_yet_is_refused_with_the_last_it_has(dq_suite: DqSuite) -> None:
    as_of = _date(dq_suite.status().as_of_date)
    message = _one_line_refusal(dq_suite.opsuite("dq", "quarantine", "--as-of", "2030-01-02"), 2)
    assert message == (
        f"opsuite dq quarantine: --as-of 2030-01-02 is past the last day dq has checked ({as_of}); "
        "`opsuite dq` says how far it has got"
    )


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["issues", "--from", "2020-02-30"], "argument --from: '2020-02-30' is not a date like 2020-01-02"),
        (
            ["quarantine", "--as-of", "03/02/2020"],
            "argument --as-of: '03/02/2020' is not a date like 2020-01-02",
        ),
        (["issues", "--min-severity", "bad"], "argument --min-severity: invalid choice: 'bad'"),
        (["issues", "--limit", "0"], "argument --limit: '0': give how many to show"),
        (
            ["issues", "--instrument", "US-X", "--mandate", "BAL-USD"],
            "argument --mandate: not allowed with argument --instrument",
        ),
    ],
)
def test_bad_input_is_refused_as_argparse_does_with_exit_2(args: list[str], said: str) -> None:
    result = run_opsuite("dq", *args, env={})  # refused before any call: no suite needed
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("usage: opsuite dq ")
    assert f"opsuite dq {args[0]}: error: {said}" in result.stderr


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--to", "2020-01-02", "--from", "2020-02-03"], "--to 2020-01-02 is before --from 2020-02-03"),
        (
            ["--kind", "spikes"],
            "'spikes' is not a dq issue kind; give --kind one of: price_vendor_mismatch, ",
        ),
        (["--instrument", "US-NOPE"], "unknown instrument 'US-NOPE'"),
        (["--mandate", "NOPE"], "unknown mandate 'NOPE'; known: BAL-USD"),
    ],
)
def test_filters_dq_does_not_know_are_refused_with_exit_2(
    dq_suite: DqSuite, args: list[str], said: str
) -> None:
    message = _one_line_refusal(dq_suite.opsuite("dq", "issues", *args), 2)
    assert message.startswith("opsuite dq issues: ") and said in message


@pytest.mark.parametrize(
    "command", [[], ["checks"], ["issues"], ["issue", "dq-1"], ["ack", "dq-1"], ["quarantine"]]
)
def test_without_dq_every_command_names_the_address_its_variable_and_opsuite_up(command: list[str]) -> None:
    address = f"127.0.0.1:{free_port('127.0.0.1')}"  # nothing listens there
    message = _one_line_refusal(run_opsuite("dq", *command, env={"OPSUITE_DQ_ADDR": address}), 1)
    assert message.startswith(
        f"opsuite dq{' ' + command[0] if command else ''}: dq does not answer at {address}"
    )
    assert "OPSUITE_DQ_ADDR" in message and "`opsuite up`" in message
