"""Singer output that does not make a system call per record.

The SDK's msgspec writer writes and flushes every message; at tens of thousands of records a
second those writes are a large share of the tap's time (measured: 0.7 s of 5.6 s for 60,000
records). Here RECORD messages collect in a 256 KiB buffer, and every other message (SCHEMA,
STATE, ...) flushes it, so a target receives each STATE right after the records it covers and a
killed tap never leaves a STATE unwritten behind records. Each stream flushes when its last
record is written (`EntityStream.get_records`): a run whose bookmark did not move ends without
a STATE.
"""

from __future__ import annotations

import sys

from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.singerlib.encoding.simple import Message, RecordMessage

BUFFER_BYTES = 256 * 1024


class BufferedMsgSpecWriter(MsgSpecWriter):
    def __init__(self) -> None:
        super().__init__()
        self._pending = bytearray()

    def write_message(self, message: Message) -> None:
        self._pending += self.format_message(message)
        if len(self._pending) >= BUFFER_BYTES or not isinstance(message, RecordMessage):
            self.flush()

    def flush(self) -> None:
        """Write what is pending to stdout (its byte layer when it has one, as in a terminal or
        a pipe; text otherwise, as under a test runner capturing output)."""
        if not self._pending:
            return
        out = getattr(sys.stdout, "buffer", None)
        if out is not None:
            out.write(self._pending)
        else:
            sys.stdout.write(self._pending.decode())
        sys.stdout.flush()
        self._pending.clear()
