"""Talking to dq from the command line: every page of an answer, up to what the command shows.

Calls and their failures go through services/cli/client.py, as every command's do: one line and
exit code 1 when dq cannot be reached or has nothing by that name, 2 when the request is wrong.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from opsuite.dq.v1 import dq_pb2, dq_pb2_grpc
from services.cli.client import FAILED, CommandFailed, ServiceClient, channel_to
from services.cli.dq.rows import issue_number
from services.common.paging import MAX_PAGE

# DqService has no GetIssue: `opsuite dq issue` pages ListIssues, newest first, for the id. An id's
# number says where to stop (ids are numbered as dq raises them); this bounds the search anyway.
FIND_PAGES = 20


class Dq(ServiceClient[dq_pb2_grpc.DqServiceStub]):
    """dq's stub at `address`, with each call turned into a reply or a CommandFailed."""

    service = "dq"

    def status(self) -> dq_pb2.DqStatus:
        status: dq_pb2.DqStatus = self.call(self.stub.GetStatus, dq_pb2.GetStatusRequest())
        return status

    def list_issues(self, request: dq_pb2.ListIssuesRequest, limit: int) -> tuple[list[dq_pb2.Issue], bool]:
        """The newest `limit` issues the request matches, and whether there are more."""
        found: list[dq_pb2.Issue] = []
        while True:
            request.page_size = min(MAX_PAGE, limit - len(found))
            reply = self.call(self.stub.ListIssues, request)
            found.extend(reply.issues)
            if not reply.next_page_token or reply.next_page_token == request.page_token:
                return found, False
            if len(found) >= limit:
                return found, True
            request.page_token = reply.next_page_token

    def find_issue(self, issue_id: str) -> dq_pb2.Issue:
        """The issue called `issue_id`; CommandFailed (exit 1) when dq has none by that name."""
        wanted = issue_number(issue_id)
        request = dq_pb2.ListIssuesRequest(page_size=MAX_PAGE)
        for _ in range(FIND_PAGES):
            reply: dq_pb2.ListIssuesResponse = self.call(self.stub.ListIssues, request)
            for issue in reply.issues:
                if issue.issue_id == issue_id:
                    return issue
            # Newest first: once the page reaches ids numbered below the one wanted, it was never raised.
            numbers = [issue_number(i.issue_id) for i in reply.issues]
            passed = wanted is not None and any(n is not None and n < wanted for n in numbers)
            if passed or not reply.next_page_token or reply.next_page_token == request.page_token:
                raise no_issue(issue_id)
            request.page_token = reply.next_page_token
        raise CommandFailed(
            f"{issue_id} is not among dq's newest {FIND_PAGES * MAX_PAGE:,} issues, as far as this command "
            "looks; `opsuite dq issues --from DATE --to DATE` lists an older day's",
            FAILED,
        )


def no_issue(issue_id: str) -> CommandFailed:
    return CommandFailed(
        f"dq has no issue {issue_id!r}; `opsuite dq issues` lists them, newest first", FAILED
    )


@contextmanager
def connect() -> Iterator[Dq]:
    """dq at the address the settings give (OPSUITE_DQ_ADDR), for the length of a command."""
    with channel_to("dq") as (channel, address):
        yield Dq(dq_pb2_grpc.DqServiceStub(channel), address)
