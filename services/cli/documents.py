"""opsuite extract and opsuite ask: the documents service from the command line.

`opsuite extract FILE` sends a broker confirmation (PDF, text, SWIFT MT515 or FIX 4.4) to
ExtractConfirmation and prints what was read, how it matched the book and the break a mismatch
raised; `opsuite ask "QUESTION"` asks the SOP assistant and prints its answer with the policy
sections it quotes, or says plainly that the policies do not cover the question. Both read
documents at OPSUITE_DOCUMENTS_ADDR. Errors are one line: exit 1 when documents cannot be reached
or cannot answer now, 2 when the request is wrong (a file that cannot be read, a document that is
no confirmation, an empty question).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from google.protobuf.json_format import MessageToDict
from rich.table import Table

from opsuite.documents.v1 import documents_pb2, documents_pb2_grpc
from services.cli.client import USAGE, CommandFailed, ServiceClient, channel_to
from services.cli.output import numeric_column, print_json, print_tables

# What a file's suffix says it is; anything else is left to the service to detect from the content.
CONTENT_TYPES = {
    ".pdf": "application/pdf",
    ".txt": "text/plain",
    ".mt515": "application/x-swift-mt515",
    ".fin": "application/x-swift-mt515",
    ".fix": "application/fix",
}


class Documents(ServiceClient[documents_pb2_grpc.DocumentsServiceStub]):
    service = "documents"

    def extract(
        self, request: documents_pb2.ExtractConfirmationRequest
    ) -> documents_pb2.ExtractConfirmationResponse:
        reply: documents_pb2.ExtractConfirmationResponse = self.call(self.stub.ExtractConfirmation, request)
        return reply

    def ask(self, request: documents_pb2.AskRequest) -> documents_pb2.AskResponse:
        reply: documents_pb2.AskResponse = self.call(self.stub.Ask, request)
        return reply


@contextmanager
def connect() -> Iterator[Documents]:
    with channel_to("documents") as (channel, address):
        yield Documents(documents_pb2_grpc.DocumentsServiceStub(channel), address)


def _as_dict(
    message: documents_pb2.ExtractConfirmationResponse | documents_pb2.AskResponse,
) -> dict[str, object]:
    return MessageToDict(message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True)


# ---------------------------------------------------------------- opsuite extract


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise CommandFailed(f"cannot read {path}: {error.strerror or error}", USAGE) from None


def _status_name(status: int) -> str:
    return documents_pb2.MatchStatus.Name(status).removeprefix("MATCH_STATUS_")  # type: ignore[arg-type]


def extraction_lines(reply: documents_pb2.ExtractConfirmationResponse) -> list[str]:
    trade, match = reply.trade, reply.match
    lines = [
        f"{reply.extraction_id}: a {trade.format} confirmation, layout {trade.layout or 'unknown'}"
        + (f" ({trade.broker})" if trade.broker else ""),
        f"match: {_status_name(match.status)}"
        + (f" fill {match.fill_id} of {match.mandate_id}" if match.fill_id else "")
        + (f" ({match.reason})" if match.reason else ""),
    ]
    if reply.break_id:
        lines.append(f"break raised: {reply.break_id} (opsuite break {reply.break_id})")
    lines.extend(f"warning: {warning}" for warning in reply.warnings)
    return lines


def extraction_tables(reply: documents_pb2.ExtractConfirmationResponse) -> list[Table]:
    fields = Table(title="fields read")
    fields.add_column("field", no_wrap=True)
    fields.add_column("value", no_wrap=True)
    numeric_column(fields, "confidence")
    numeric_column(fields, "page")
    fields.add_column("as printed")
    for field in reply.fields:
        fields.add_row(field.name, field.value, f"{field.confidence:.2f}", str(field.page), field.snippet)
    tables = [fields]
    if reply.match.mismatches:
        mismatches = Table(title="differences from the book")
        mismatches.add_column("field", no_wrap=True)
        mismatches.add_column("document", no_wrap=True)
        mismatches.add_column("book", no_wrap=True)
        for mismatch in reply.match.mismatches:
            mismatches.add_row(mismatch.field, mismatch.document_value, mismatch.book_value)
        tables.append(mismatches)
    if reply.rule_failures:
        rules = Table(title="rules of the document's own figures it breaks")
        rules.add_column("rule", no_wrap=True)
        rules.add_column("what is wrong")
        for failure in reply.rule_failures:
            rules.add_row(failure.rule, failure.message)
        tables.append(rules)
    return tables


def _extract(args: argparse.Namespace) -> int:
    path = Path(args.file)
    content = _read(path)
    request = documents_pb2.ExtractConfirmationRequest(
        content=content,
        content_type=args.content_type or CONTENT_TYPES.get(path.suffix.lower(), ""),
        filename=path.name,
        mandate_id=args.mandate or "",
    )
    with connect() as documents:
        reply = documents.extract(request)
    if args.output == "json":
        print_json(_as_dict(reply))
        return 0
    print("\n".join(extraction_lines(reply)))
    print_tables(*extraction_tables(reply))
    return 0


def extract_command(args: argparse.Namespace) -> int:
    try:
        return _extract(args)
    except CommandFailed as error:
        print(f"opsuite extract: {error}", file=sys.stderr)
        return error.exit_code


# ---------------------------------------------------------------- opsuite ask


def answer_lines(reply: documents_pb2.AskResponse) -> list[str]:
    lines = [reply.answer]
    if reply.grounded:
        lines.append("")
        for citation in reply.citations:
            lines.append(
                f"- {citation.policy_title} ({citation.policy_id} v{citation.policy_version}), "
                f'"{citation.section}" (score {citation.score:.3f})'
            )
    return lines


def _ask(args: argparse.Namespace) -> int:
    question = " ".join(args.question).strip()
    if not question:
        raise CommandFailed(
            'give a question, for example: opsuite ask "when is a failed trade escalated?"', USAGE
        )
    request = documents_pb2.AskRequest(question=question, policy_ids=args.policy or [])
    with connect() as documents:
        reply = documents.ask(request)
    if args.output == "json":
        print_json(_as_dict(reply))
    else:
        print("\n".join(answer_lines(reply)))
    return 0


def ask_command(args: argparse.Namespace) -> int:
    try:
        return _ask(args)
    except CommandFailed as error:
        print(f"opsuite ask: {error}", file=sys.stderr)
        return error.exit_code
