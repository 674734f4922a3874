"""A scenario file played on air: `make run`'s simulated meters.

One telegram per line: the link-layer frame in hex without data-link CRCs (as in the shared
vectors), then optionally the delay in seconds before it (default 0), then optionally the link
mode on air: T1, C1A or C1B. Without one, Kamstrup meters send C1 frame B (as MULTICAL 21 and
OMNIPOWER do, radio.md §6.1) and the others T1. Blank lines and lines starting with # are
skipped; a line that is not a telegram is an error naming the line.

    items = load("tools/samples/scenario.txt")           # [(delay_s, frame, mode, format)]
    sim.feed(Player(items, start_us=0))                  # Transmissions, in time order
    sim.feed(Player(stream(open(path))))                 # the same, read as time goes on
"""

from simradio.onair import Transmission

_KAM = b"\x2d\x2c"  # manufacturer KAM, little-endian in the DLL


def parse(lines):
    return [item for item in stream(lines)]


def stream(lines):
    """The items of `lines` (any iterable of text lines: an open file reads as it goes)."""
    n = 0
    for line in lines:
        n += 1
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        try:
            frame = bytes.fromhex(parts[0])
            delay = float(parts[1]) if len(parts) > 1 else 0.0
        except ValueError:
            raise ValueError("scenario line %d: expected HEX [DELAY_S] [T1|C1A|C1B]" % n)
        if len(frame) < 12 or frame[0] != len(frame) - 1 or delay < 0:
            raise ValueError("scenario line %d: not a link-layer frame (L must count the "
                             "bytes after it, no CRCs)" % n)
        if len(parts) > 2:
            mode = parts[2].upper()
            if mode not in ("T1", "C1A", "C1B"):
                raise ValueError("scenario line %d: mode must be T1, C1A or C1B" % n)
        else:
            mode = "C1B" if frame[2:4] == _KAM else "T1"
        yield delay, frame, mode[:2], mode[2:] or "A"


def load(path):
    with open(path) as f:
        return parse(f.read().split("\n"))


def rssi_for(frame):
    """A steady RSSI per meter, from its id: -45 to -94 dBm."""
    return -45 - (frame[4] * 7 + frame[5] * 3 + frame[6]) % 50


class Player:
    """Items (a list, or stream() over an open file) as Transmissions: each starts its delay
    after the one before started, and never before that one has ended."""

    def __init__(self, items, start_us=0):
        self.items = iter(items)
        self.t_us = start_us
        self.last_end = start_us
        self.sent = 0

    def __iter__(self):
        for delay, frame, mode, fmt in self.items:
            t = max(self.t_us + int(delay * 1000000), self.last_end + 100)
            tx = Transmission(t, frame, mode, fmt, rssi_for(frame))
            self.t_us = t
            self.last_end = tx.end_us
            self.sent += 1
            yield tx
