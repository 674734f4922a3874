"""What the CC1101 test modules share: a simulated chip wired to the driver, telegrams of a given
L, and a loop that polls the driver in simulated time. No tests here: the name starts with test_
only so that `make host-mpy` compiles it to .mpy like the tests (compiling it from source on
the 128 KB MicroPython heap fragments it enough to fail the tests that import it)."""

import gc

from radio import FrameQueue
from radio.cc1101 import CC1101
from simradio.cc1101 import SimCC1101
from simradio.onair import Transmission
from wmbus import build


def rig(sim=None, slots=2, start=True, **kw):
    gc.collect()  # the MicroPython test heap is small: the instance dicts need whole blocks
    sim = sim or SimCC1101()
    q = FrameQueue(slots)
    drv = CC1101(q, spi=sim.spi, cs=sim.cs, gdo0=sim.gdo0, gdo2=sim.gdo2,
                 ticks_ms=lambda: sim.clock_us // 1000, ticks_us=lambda: sim.clock_us, **kw)
    if start:
        assert drv.start(), drv.error
    return sim, q, drv


def frame_of_len(l_field, meter_id="12345678", manufacturer="KAM"):
    """An unencrypted telegram (short TPL header) whose L is exactly l_field (>= 14)."""
    k, r = divmod(l_field - 14, 6)
    apl = bytearray()
    for i in range(k):  # volume records 04 13 (4-byte integer, litres)
        apl += b"\x04\x13"
        apl += (1000 + i).to_bytes(4, "little")
    if r:
        apl += b"\x0f" + bytes(range(1, r))  # manufacturer-specific data to the end
    f = build.telegram(bytes(apl), manufacturer=manufacturer, meter_id=meter_id)
    gc.collect()
    assert f[0] == l_field, (f[0], l_field)
    return f


def tx(start_us, l_field, mode="C1", fmt="A", rssi=-70, meter_id="12345678"):
    return Transmission(start_us, frame_of_len(l_field, meter_id), mode, fmt, rssi_dbm=rssi,
                        meter=meter_id)


def run(sim, q, drv, until_us, interval_us=1000, out=None):
    """Poll every interval_us of simulated time until until_us; returns the frames received."""
    out = [] if out is None else out
    while sim.clock_us < until_us:
        drv.poll()
        while True:
            f = q.get()
            if f is None:
                break
            out.append(f)
        sim.advance_us(interval_us)
    return out


def spaced(specs, first_us=5000, gap_us=6000):
    """Transmissions one after another, gap_us of silence between them: specs are
    (l_field, mode, fmt, rssi) tuples. Returns the list (built lazily would save heap, but the
    tests keep the ground truth anyway)."""
    out = []
    t = first_us
    for i, (l_field, mode, fmt, rssi) in enumerate(specs):
        x = tx(t, l_field, mode, fmt, rssi, meter_id="%08d" % (10000000 + i))
        out.append(x)
        t = x.end_us + gap_us
    return out
