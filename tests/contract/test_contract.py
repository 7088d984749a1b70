"""The v1 contract, checked from the generated descriptors.

These tests hold the contract to the target design (the shared design page the project was
started from, which is not in this repository): the six services and their
RPCs by full name, which RPCs stream, paging on every list RPC, the seed's
HTTP routes, and exact decimals (never double) for money, quantities and prices.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from types import ModuleType

import pytest
from google.api import annotations_pb2
from google.protobuf import descriptor_pb2, descriptor_pool
from google.protobuf.descriptor import Descriptor, FieldDescriptor, FileDescriptor, ServiceDescriptor

SERVICES = ["market", "recon", "reporting", "dq", "documents", "ledger"]

# The target design's service table (plus ListInjectedFaults, issue 2). Extra
# RPCs are allowed; missing ones are not.
REQUIRED_RPCS: dict[str, set[str]] = {
    "opsuite.market.v1.MarketService": {
        "StreamEvents",
        "GetSnapshot",
        "ListInstruments",
        "ListMandates",
        "GetClock",
        "InjectFault",
        "ListInjectedFaults",
    },
    "opsuite.recon.v1.ReconService": {
        "GetReconciliation",
        "ListBreaks",
        "GetBreak",
        "UpdateBreak",
        "WatchBreaks",
    },
    "opsuite.reporting.v1.ReportingService": {"ListMandates", "GetReport", "GetNavHistory"},
    "opsuite.dq.v1.DqService": {"GetStatus", "ListIssues", "GetQuarantine", "CheckPrices", "WatchIssues"},
    "opsuite.documents.v1.DocumentsService": {"ExtractConfirmation", "Ask", "ListPolicies", "IngestPolicy"},
    "opsuite.ledger.v1.LedgerService": {
        "PostJournal",
        "ReverseJournal",
        "GetLedger",
        "GetTrialBalance",
        "GetBalances",
        "ListAccounts",
    },
}

# The only streaming RPCs, all server-streaming (the live panels' watches: issue "HTTP/JSON edge and
# live dashboard").
SERVER_STREAMING = {
    "opsuite.market.v1.MarketService.StreamEvents",
    "opsuite.recon.v1.ReconService.WatchBreaks",
    "opsuite.dq.v1.DqService.WatchIssues",
    "opsuite.reporting.v1.ReportingService.WatchNav",
    "opsuite.ledger.v1.LedgerService.WatchJournals",
    "opsuite.ledger.v1.LedgerService.WatchTrialBalance",
}

# RPCs that page although their name does not start with "List".
PAGED_NON_LIST_RPCS = {
    "opsuite.ledger.v1.LedgerService.GetLedger",
    "opsuite.reporting.v1.ReportingService.GetNavHistory",
    "opsuite.dq.v1.DqService.GetQuarantine",
}

# The seed's HTTP routes, exactly: method -> (verb, path, body).
SEED_ROUTES: dict[str, tuple[str, str, str]] = {
    "opsuite.recon.v1.ReconService.GetReconciliation": ("get", "/api/recon", ""),
    "opsuite.reporting.v1.ReportingService.ListMandates": ("get", "/api/reporting/mandates", ""),
    "opsuite.reporting.v1.ReportingService.GetReport": ("get", "/api/reporting/report/{mandate_id}", ""),
    "opsuite.dq.v1.DqService.GetStatus": ("get", "/api/dataquality", ""),
    "opsuite.documents.v1.DocumentsService.ExtractConfirmation": ("post", "/api/documents/extract", "*"),
    "opsuite.documents.v1.DocumentsService.Ask": ("post", "/api/documents/ask", "*"),
    "opsuite.ledger.v1.LedgerService.GetLedger": ("get", "/api/ledger", ""),
    # Not the seed's: the chain `opsuite trace` prints, for the dashboard (docs/architecture.md).
    "opsuite.recon.v1.ReconService.GetChain": ("get", "/api/trace/{id}", ""),
    # The writes, served by the edge behind its API token (issue 18).
    "opsuite.documents.v1.DocumentsService.IngestPolicy": ("post", "/api/documents/policies", "*"),
    "opsuite.recon.v1.ReconService.UpdateBreak": ("patch", "/api/recon/breaks/{break_id}", "*"),
    "opsuite.market.v1.MarketService.InjectFault": ("post", "/api/market/faults", "*"),
}

# Name parts (split on "_") that say a field carries money, a quantity or a price.
MONEY_WORDS = {
    "money",
    "quantity",
    "qty",
    "price",
    "prices",
    "amount",
    "amounts",
    "balance",
    "balances",
    "nav",
    "cash",
    "cost",
    "notional",
    "proceeds",
    "pnl",
    "fee",
    "fees",
    "commission",
    "debit",
    "credit",
    "principal",
    "accrued",
    "value",
}

# Analytics allow-list: a floating-point field whose name contains one of these
# parts is an analytic (a return, a weight, a yield, a volatility), which
# The target design allows as double even beside a money word ("max_cash_weight").
ANALYTICS_WORDS = {"return", "returns", "weight", "weights", "yield", "vol", "volatility", "pct"}

FLOAT_TYPES = {FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT}


def _modules(svc: str) -> tuple[ModuleType, ModuleType]:
    pb2 = importlib.import_module(f"opsuite.{svc}.v1.{svc}_pb2")
    pb2_grpc = importlib.import_module(f"opsuite.{svc}.v1.{svc}_pb2_grpc")
    return pb2, pb2_grpc


def _service(svc: str) -> ServiceDescriptor:
    pb2, _ = _modules(svc)
    (service,) = pb2.DESCRIPTOR.services_by_name.values()
    return service


def _all_methods() -> Iterator[tuple[str, object]]:
    for svc in SERVICES:
        for method in _service(svc).methods:
            yield method.full_name, method


def _messages(container: FileDescriptor | Descriptor) -> Iterator[Descriptor]:
    """Every message type in a file, nested ones included."""
    children = (
        container.message_types_by_name.values()
        if isinstance(container, FileDescriptor)
        else container.nested_types
    )
    for message in children:
        yield message
        yield from _messages(message)


def _contract_files() -> list[FileDescriptor]:
    files = [importlib.import_module("opsuite.common.v1.common_pb2").DESCRIPTOR]
    files += [_modules(svc)[0].DESCRIPTOR for svc in SERVICES]
    return files


def floating_money_fields(files: list[FileDescriptor]) -> list[str]:
    """Full names of float/double fields whose name suggests money, quantity or price."""
    found = []
    for file in files:
        for message in _messages(file):
            if message.GetOptions().map_entry:
                continue  # judged through the map field that owns it, by that field's name
            for field in message.fields:
                value = field
                if field.message_type is not None and field.message_type.GetOptions().map_entry:
                    value = field.message_type.fields_by_name["value"]
                if value.type not in FLOAT_TYPES:
                    continue
                words = set(field.name.lower().split("_"))
                if words & MONEY_WORDS and not words & ANALYTICS_WORDS:
                    found.append(field.full_name)
    return found


@pytest.mark.parametrize("svc", SERVICES)
def test_generated_modules_import_and_define_the_service(svc: str) -> None:
    pb2, pb2_grpc = _modules(svc)
    name = f"{svc.capitalize()}Service"
    assert pb2.DESCRIPTOR.package == f"opsuite.{svc}.v1"
    assert list(pb2.DESCRIPTOR.services_by_name) == [name], "one service per package"
    assert hasattr(pb2_grpc, f"{name}Stub")
    assert hasattr(pb2_grpc, f"{name}Servicer")
    assert hasattr(pb2_grpc, f"add_{name}Servicer_to_server")


@pytest.mark.parametrize("full_name", sorted(REQUIRED_RPCS))
def test_service_exists_with_every_rpc_of_the_table(full_name: str) -> None:
    service = descriptor_pool.Default().FindServiceByName(full_name)
    missing = REQUIRED_RPCS[full_name] - set(service.methods_by_name)
    assert not missing, f"{full_name} lacks {sorted(missing)}"


def test_the_contract_has_exactly_the_six_services() -> None:
    assert {_service(svc).full_name for svc in SERVICES} == set(REQUIRED_RPCS)


def test_exactly_the_stream_rpcs_are_server_streaming() -> None:
    streaming = set()
    for full_name, method in _all_methods():
        assert not method.client_streaming, f"{full_name} must not be client-streaming"
        if method.server_streaming:
            streaming.add(full_name)
    assert streaming == SERVER_STREAMING


def test_every_list_rpc_pages() -> None:
    paged = {name for name, method in _all_methods() if method.name.startswith("List")} | PAGED_NON_LIST_RPCS
    methods = dict(_all_methods())
    for full_name in sorted(paged):
        method = methods[full_name]
        request = method.input_type.fields_by_name
        response = method.output_type.fields_by_name
        assert request.get("page_size") is not None, f"{full_name} request lacks page_size"
        assert request["page_size"].type == FieldDescriptor.TYPE_INT32
        assert request.get("page_token") is not None, f"{full_name} request lacks page_token"
        assert request["page_token"].type == FieldDescriptor.TYPE_STRING
        assert response.get("next_page_token") is not None, f"{full_name} response lacks next_page_token"
        assert response["next_page_token"].type == FieldDescriptor.TYPE_STRING


def test_requests_that_take_a_page_token_return_one() -> None:
    """No RPC pages without being declared as paged above."""
    declared = {
        name for name, method in _all_methods() if method.name.startswith("List")
    } | PAGED_NON_LIST_RPCS
    for full_name, method in _all_methods():
        if "page_token" in method.input_type.fields_by_name:
            assert full_name in declared, f"{full_name} pages: add it to PAGED_NON_LIST_RPCS"


def test_seed_http_routes_are_annotated_exactly() -> None:
    annotated = {}
    for full_name, method in _all_methods():
        options = method.GetOptions()
        if options.HasExtension(annotations_pb2.http):
            rule = options.Extensions[annotations_pb2.http]
            verb = rule.WhichOneof("pattern")
            annotated[full_name] = (verb, getattr(rule, verb), rule.body)
    assert annotated == SEED_ROUTES


def test_path_parameters_name_request_fields() -> None:
    methods = dict(_all_methods())
    for full_name, (_, path, _) in SEED_ROUTES.items():
        fields = methods[full_name].input_type.fields_by_name
        for part in path.split("/"):
            if part.startswith("{"):
                assert part.strip("{}") in fields, f"{full_name}: {part} is not a request field"


def test_no_money_quantity_or_price_field_is_floating_point() -> None:
    assert floating_money_fields(_contract_files()) == []


def test_the_floating_money_check_catches_a_violation() -> None:
    """The walk above finds a double NAV, also inside a map, and spares an analytic."""
    pool = descriptor_pool.DescriptorPool()
    proto = descriptor_pb2.FileDescriptorProto(name="probe.proto", package="probe")
    message = proto.message_type.add(name="Report")
    double = descriptor_pb2.FieldDescriptorProto.TYPE_DOUBLE
    optional = descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL
    message.field.add(name="nav", number=1, type=double, label=optional)
    message.field.add(name="nav_return", number=2, type=double, label=optional)
    entry = message.nested_type.add(name="CashByCurrencyEntry")
    entry.options.map_entry = True
    entry.field.add(
        name="key", number=1, type=descriptor_pb2.FieldDescriptorProto.TYPE_STRING, label=optional
    )
    entry.field.add(name="value", number=2, type=double, label=optional)
    message.field.add(
        name="cash_by_currency",
        number=3,
        type=descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE,
        type_name=".probe.Report.CashByCurrencyEntry",
        label=descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED,
    )
    pool.AddSerializedFile(proto.SerializeToString())
    file = pool.FindFileByName("probe.proto")
    assert floating_money_fields([file]) == ["probe.Report.nav", "probe.Report.cash_by_currency"]


def test_rpc_messages_belong_to_their_own_package_or_common() -> None:
    """A service's contract does not lean on another service's messages."""
    for svc in SERVICES:
        for method in _service(svc).methods:
            for message in (method.input_type, method.output_type):
                package = message.file.package
                assert package in {f"opsuite.{svc}.v1", "opsuite.common.v1"}, (
                    f"{method.full_name} uses {message.full_name}"
                )
