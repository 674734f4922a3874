"""One transmission on air, as every simulator sees it (EN 13757-4 coding; timings from
../shared/docs/radio.md §6.1: 100 kchip/s in T1 and C1, so 80 us per byte after sync;
preamble and sync 0.56 ms in T mode, 0.64 ms in C mode).

    tx = Transmission(t_us, frame, "C1", "B", rssi_dbm=-70)
    tx.air        bytes after the sync word, as a CC1101 packet engine delivers them:
                  T1: frame A with CRCs in 3-of-6 chips plus postamble;
                  C1: 54 CD + frame A, or 54 3D + frame B (the second sync byte pair)
    tx.start_us   first bit of the preamble; tx.sync_us: first bit after the sync word;
    tx.end_us     last bit.
`frame` is the ground truth: the link-layer frame without CRCs, L counting the bytes after it.
`flip(bit_index)` corrupts one bit of `air` (noise); the ground truth stays as sent.
"""

from wmbus import build

US_PER_BYTE = 80
PREAMBLE_SYNC_US = {"T1": 560, "C1": 640}


def encode(frame, mode, frame_format="A"):
    if mode == "T1":
        return build.t1(frame)
    if mode == "C1":
        if frame_format == "B":
            return b"\x54\x3D" + build.frame_b(frame)
        return b"\x54\xCD" + build.frame_a(frame)
    raise ValueError("mode %r" % (mode,))


class Transmission:
    def __init__(self, start_us, frame, mode="C1", frame_format="A", rssi_dbm=-70, meter=None):
        self.start_us = start_us
        self.frame = bytes(frame)
        self.mode = mode
        self.frame_format = "A" if mode == "T1" else frame_format
        self.rssi_dbm = rssi_dbm
        self.meter = meter
        self.air = bytearray(encode(self.frame, mode, self.frame_format))
        self.sync_us = start_us + PREAMBLE_SYNC_US[mode]
        self.end_us = self.sync_us + US_PER_BYTE * len(self.air)
        self.bit_errors = 0
        self._flipped = None  # which bits are wrong already (a mask, made on the first error)

    def flip(self, bit_index):
        """Make a bit wrong. A bit wrong already stays wrong: two interferers over the same
        bits (or noise and a collision) must not flip it back to the value that was sent."""
        m = self._flipped
        if m is None:
            m = self._flipped = bytearray(len(self.air))
        i = bit_index >> 3
        b = 0x80 >> (bit_index & 7)
        if m[i] & b:
            return
        m[i] |= b
        self.air[i] ^= b
        self.bit_errors += 1

    def overlaps(self, other):
        return self.start_us < other.end_us and other.start_us < self.end_us

    def __repr__(self):
        return "<Transmission %s-%s at %d us, %d bytes on air, %d dBm>" % (
            self.mode, self.frame_format, self.start_us, len(self.air), self.rssi_dbm)
