"""A scenario file played on air: `make run`'s simulated meters.

One telegram per line: the link-layer frame in hex without data-link CRCs (as in the shared
vectors), then optionally the delay in seconds before it (default 0), then optionally the link
mode on air: T1, C1A or C1B. Without one, Kamstrup meters send C1 frame B (as MULTICAL 21 and
OMNIPOWER do, radio.md §6.1) and the others T1. Blank lines and lines starting with # are
skipped; a line that is not a telegram is an error naming the line.

    items = load("tools/samples/scenario.txt")           # [(delay_s, frame, mode, format)]
    player = Player(items, start_us=0)
    for tx in player.due(now_us): sim.receive(tx)        # Transmissions, in time order
"""

from simradio.onair import Transmission

_KAM = b"\x2d\x2c"  # manufacturer KAM, little-endian in the DLL


def parse(lines):
    out = []
    for n, line in enumerate(lines, 1):
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
        out.append((delay, frame, mode[:2], mode[2:] or "A"))
    return out


def load(path):
    with open(path) as f:
        return parse(f.read().split("\n"))


def rssi_for(frame):
    """A steady RSSI per meter, from its id: -45 to -94 dBm."""
    return -45 - (frame[4] * 7 + frame[5] * 3 + frame[6]) % 50


class Player:
    def __init__(self, items, start_us=0, modes=("T1", "C1")):
        self.items = items
        self.i = 0
        self.next_us = start_us + int(items[0][0] * 1000000) if items else None
        self.modes = modes

    def done(self):
        return self.i >= len(self.items)

    def due(self, now_us):
        """The transmissions starting by now_us, in order."""
        out = []
        while self.i < len(self.items) and self.next_us <= now_us:
            _d, frame, mode, fmt = self.items[self.i]
            out.append(Transmission(self.next_us, frame, mode, fmt, rssi_for(frame)))
            self.i += 1
            if self.i < len(self.items):
                # The next one starts after this one has ended at the earliest.
                gap = int(self.items[self.i][0] * 1000000)
                self.next_us = max(self.next_us + gap, out[-1].end_us + 100)
        return out
