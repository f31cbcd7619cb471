"""Known, explained differences between netqos and tshark 4.0.

Every entry must say WHY netqos is right (or why the difference is acceptable), and every entry must
still match at least one difference (test_allowlist_entries_are_used keeps this list honest). Decoder bugs
belong in the decoder, not here.

`field` is an oracle label from compare.ORACLE_FIELDS, or "<rows>" for a frame-count difference.
`frames` = None matches every frame of the file.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Allowed:
    file: str
    field: str
    frames: frozenset[int] | None
    reason: str

    def matches(self, file: str, frame: int, field: str) -> bool:
        return file == self.file and field == self.field and (self.frames is None or frame in self.frames)


ALLOWLIST: list[Allowed] = [
    Allowed(
        "tcpdump-timestamp_invalid_nano.pcap",
        "frame.time_epoch",
        frozenset({3}),
        "crafted record with nanosecond field 0x80000000 (>= 10^9, invalid). wiretap keeps the fraction in a "
        "signed int and prints -1418145370.2147483648; netqos reads the unsigned 32-bit field the pcap format "
        "defines and carries it: 1418145370 s + 2147483648 ns. (Frame 2's fraction 10^9 is carried the same "
        "way by both.)",
    ),
]


def find(file: str, frame: int, field: str) -> Allowed | None:
    for a in ALLOWLIST:
        if a.matches(file, frame, field):
            return a
    return None
