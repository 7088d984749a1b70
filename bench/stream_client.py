"""A subscriber process for the streaming benchmark: reads raw batches, counts events.

Usage: python -m bench.stream_client ADDRESS METHOD FROM_SEQ EVENTS BATCH
Prints one JSON line: {"events": n, "bytes": b, "seconds": s}. Batches are
not parsed (only counted from their framing), so the figure is what the
server delivers, not what a Python client can decode.
"""

from __future__ import annotations

import json
import sys
import time

import grpc

from opsuite.market.v1 import market_pb2


def count_events(batch: bytes) -> int:
    """Number of `events` entries (field 1) in a serialized EventBatch, read from the framing."""
    count, i, n = 0, 0, len(batch)
    while i < n:
        tag = batch[i]
        i += 1
        if tag == 0x0A:
            length, shift = 0, 0
            while True:
                byte = batch[i]
                i += 1
                length |= (byte & 0x7F) << shift
                shift += 7
                if byte < 0x80:
                    break
            i += length
            count += 1
        else:  # head_seq / last_seq varints end the message
            while batch[i] >= 0x80:
                i += 1
            i += 1
    return count


def main() -> None:
    address, method, from_seq, wanted, batch_size = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:6])
    request = market_pb2.StreamEventsRequest(from_seq=from_seq, max_batch_size=batch_size).SerializeToString()
    with grpc.insecure_channel(address, options=[("grpc.max_receive_message_length", 64 << 20)]) as channel:
        grpc.channel_ready_future(channel).result(timeout=30)
        call = channel.unary_stream(method)(request)
        received = size = 0
        started = time.perf_counter()
        for batch in call:
            received += count_events(batch)
            size += len(batch)
            if received >= wanted:
                break
        elapsed = time.perf_counter() - started
        call.cancel()
    print(json.dumps({"events": received, "bytes": size, "seconds": elapsed}))


if __name__ == "__main__":
    main()
