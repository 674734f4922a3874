"""RC1180 end to end: telegrams on air -> simulated module -> driver -> queue -> decoder,
bit-exact to the transmitted frames (L normalised, CRCs removed), with their RSSI
(MBUS3 firmware, T1+C1).
"""

import gc

from radio import FrameQueue, MODE_T1
from radio.rc1180 import RC1180
from simradio.modules import Clock, SimRC1180, transmissions, pump as run, drain as frames
from wmbus import Decoder

# The decoder loads its driver tables on its first telegram: let it now, after a collection,
# so that its code fills the holes the imports left (128 KB heap under MicroPython).
gc.collect()
DECODER = Decoder({})
DECODER.decode(bytes.fromhex("14442d2c0000001001077a000000000413e8030000"))
gc.collect()


def setup():
    clock = Clock()
    sim = SimRC1180(clock, firmware="MBUS3")
    q = FrameQueue(8)
    drv = RC1180(q, uart=sim, reset=sim.reset, mode="T1+C1", ticks_ms=clock.ticks_ms,
                 sleep_ms=clock.sleep_ms)
    return clock, sim, q, drv


def test_telegrams_bit_exact_through_decoder():
    clock, sim, q, drv = setup()
    assert drv.start()
    specs = [("T1", "A"), ("C1", "A"), ("C1", "B"), ("C1", "B", 130)]
    txs = transmissions(clock.us + 10000, specs, rssi_dbm=-66)
    sim.feed(txs)
    run(drv, clock, 600)
    got = frames(q)
    assert [g[0] for g in got] == [t.frame for t in txs]
    assert [g[3] for g in got] == [int(t.rssi_dbm) for t in txs]
    assert all(g[1] == MODE_T1 for g in got)  # the module does not say: the first mode named
    assert q.counters["garbage"] == 0
    received = [g[0] for g in got]
    del sim, drv, q, txs, got
    gc.collect()
    for i, frame in enumerate(received):
        r = DECODER.decode(frame)
        assert r["id"] == "%08d" % (10000000 + i) and not r.get("decode_error"), r
