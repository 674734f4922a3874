# micropython-heap=160K: the simulated chip (host-only, ~20 KB) and its long test frames beside
# the driver and the decoder; the driver's own heap is what the 128 KB modules test.
"""CC1101 driver on the simulated chip: T1 and C1 (frames A and B) received bit-exact, the
longest frames, CRC failures, RSSI."""

import gc

from radio import MODE_T1, MODE_C1, FORMAT_A, FORMAT_B
from wmbus import Decoder
from test_radio_cc1101_support import rig, run, spaced


def _receive(specs, interval_us=1000, **kw):
    txs = spaced(specs)  # first: building long frames needs the larger free blocks
    sim, q, drv = rig(**kw)
    sim.feed(txs)
    out = run(sim, q, drv, txs[-1].end_us + 20000, interval_us)
    return sim, q, drv, txs, out


def test_t1_and_c1_a_b_interleaved_bit_exact():
    specs = ((20, "T1", "A", -70), (100, "C1", "B", -75), (60, "T1", "A", -80),
             (30, "C1", "A", -65), (140, "C1", "B", -72), (100, "T1", "A", -60),
             (80, "C1", "A", -90), (14, "C1", "B", -70), (45, "T1", "A", -71))
    sim, q, drv, txs, out = _receive(specs)
    assert len(out) == len(txs)
    dec = Decoder({})
    for t, (frame, mode, fmt, rssi, ticks) in zip(txs, out):
        gc.collect()
        assert frame == t.frame
        assert mode == (MODE_T1 if t.mode == "T1" else MODE_C1)
        assert fmt == (FORMAT_B if t.frame_format == "B" else FORMAT_A)
        assert dec.decode(frame)["id"] == t.meter
        assert abs(ticks - t.sync_us // 1000) <= 2
    assert len(txs[2].air) > 64 and len(txs[4].air) > 128  # T1 > 64 bytes, B with two CRCs
    c = q.counters
    assert c["frames"] == len(txs) and c["crc"] == 0 and c["overflow"] == 0
    assert not sim.violations and sim.stats["pktlen_zero"] == 0


def test_frames_of_256_bytes_pktlen_never_zero():
    # C1-A L=223 and C1-B of 250 bytes are 256 bytes after sync: PKTLEN would be 0 (Errata 2)
    sim, q, drv, txs, out = _receive(((223, "C1", "A", -70), (249, "C1", "B", -70)))
    assert [f[0] for f in out] == [t.frame for t in txs]
    assert len(txs[0].air) == 256 and len(txs[1].air) == 256
    assert sim.stats["pktlen_zero"] == 0 and not sim.violations


def test_longest_c1_frames():
    # over 255 bytes after sync: infinite length, then fixed once fewer than 256 remain
    sim, q, drv, txs, out = _receive(((255, "C1", "A", -70), (251, "C1", "B", -70)))
    assert [f[0] for f in out] == [t.frame for t in txs]
    assert [len(t.air) for t in txs] == [292, 258]
    assert sim.stats["pktlen_zero"] == 0 and not sim.violations


def test_longest_t1_frame():
    sim, q, drv, txs, out = _receive(((255, "T1", "A", -70),))
    assert [f[0] for f in out] == [txs[0].frame] and len(txs[0].air) == 436
    assert sim.stats["pktlen_zero"] == 0 and not sim.violations


def test_bit_error_is_counted_and_dropped():
    specs = ((40, "T1", "A", -70), (40, "C1", "A", -70), (40, "C1", "B", -70),
             (130, "C1", "B", -70), (40, "T1", "A", -70))
    sim, q, drv = rig()
    txs = spaced(specs)
    txs[0].flip(8 * 30 + 3)  # inside a T1 chip: 3-of-6 or CRC fails
    txs[1].flip(8 * 20 + 1)
    txs[2].flip(8 * 10)
    txs[3].flip(8 * 129 + 5)  # frame B, second CRC block
    sim.feed(txs)
    out = run(sim, q, drv, txs[-1].end_us + 20000)
    assert [f[0] for f in out] == [txs[4].frame]
    assert q.counters["crc"] == 4 and q.counters["frames"] == 1


def test_rssi_and_lqi():
    specs = ((30, "C1", "A", -70), (30, "T1", "A", -85.5), (30, "C1", "B", -60),
             (30, "C1", "A", -100), (30, "C1", "A", -47.5))
    sim, q, drv, txs, out = _receive(specs)
    assert len(out) == len(txs)
    for t, f in zip(txs, out):
        assert abs(f[3] - t.rssi_dbm) <= 0.5  # the chip's 0.5 dB step, floored
        assert isinstance(f[3], int)
    assert 0 <= drv.lqi <= 127
