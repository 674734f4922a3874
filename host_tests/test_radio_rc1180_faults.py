"""RC1180 driver against its simulator, faults: with no checksum on this UART, resync by
plausibility and by time; a lost byte, garbage, a hung module, the ping through configuration
mode, and a UART buffer overflow (bytes dropped until the line is quiet).
"""

from radio import FrameQueue
from radio.rc1180 import RC1180
from simradio.modules import Clock, SimRC1180, transmissions, pump as run, drain


def setup(rxbuf=256):
    clock = Clock()
    sim = SimRC1180(clock, firmware="MBUS3", rxbuf=rxbuf)
    q = FrameQueue(8)
    drv = RC1180(q, uart=sim, reset=sim.reset, mode="T1+C1", ticks_ms=clock.ticks_ms,
                 sleep_ms=clock.sleep_ms, rxbuf=rxbuf)
    assert drv.start(), drv.error
    return clock, sim, q, drv


def frames(q):
    return [f[0] for f in drain(q)]


def test_lost_byte_frame_dropped_never_passed():
    clock, sim, q, drv = setup()
    txs = transmissions(clock.us + 10000, [("C1", "B"), ("T1", "A"), ("C1", "A")])
    sim.corrupt_next(1)  # one byte of the first message lost on the line
    sim.feed(txs)
    run(drv, clock, 400)
    assert frames(q) == [txs[1].frame, txs[2].frame]
    assert q.counters["garbage"] >= 1


def test_garbage_resync():
    clock, sim, q, drv = setup()
    # garbage that even starts like a telegram (L 0x30, SND_NR, "KAM"); the module's next
    # message comes after a pause, which ends the false one (a pause of 25 byte times)
    sim.garbage(b"\x30\x44\x2d\x2c\x00\x13\x0b\xff\x44\x12\x00\x55" * 3)
    txs = transmissions(clock.us + 60000, [("C1", "A"), ("T1", "A"), ("C1", "B")])
    sim.feed(txs)
    run(drv, clock, 400)
    assert frames(q) == [t.frame for t in txs]
    assert q.counters["garbage"] > 0


def test_partial_reads_across_polls():
    clock, sim, q, drv = setup()
    txs = transmissions(clock.us + 5000, [("C1", "B", 130), ("T1", "A")], 150000)
    sim.feed(txs)
    for _ in range(1500):
        clock.advance_us(200)  # a byte every 0.52 ms at 19200: most polls see 0 or 1
        drv.poll()
    assert frames(q) == [t.frame for t in txs] and q.counters["garbage"] == 0


def test_silent_module_pinged_through_config_mode():
    clock, sim, q, drv = setup()
    drv.ping_ms = 5000
    n = len(sim.written)
    run(drv, clock, 11000, step=50)
    assert bytes(sim.written[n:]) == b"\x00X\x00X" and q.counters["resets"] == 0
    assert not sim.config_mode
    txs = transmissions(clock.us + 10000, [("T1", "A")])
    sim.feed(txs)
    run(drv, clock, 200)
    assert frames(q) == [txs[0].frame]


def test_hung_module_reset_and_reconfigured():
    clock, sim, q, drv = setup()
    drv.ping_ms = 5000
    sim.hang()
    run(drv, clock, 6000, step=50)
    assert q.counters["resets"] == 1 and sim.resets == 1 and drv.ready
    assert sim.mbus_mode == 10 and not sim.config_mode  # 'G' sent again after the reset
    txs = transmissions(clock.us + 10000, [("T1", "A"), ("C1", "B")])
    sim.feed(txs)
    run(drv, clock, 300)
    assert frames(q) == [t.frame for t in txs]


def test_rx_buffer_overflow_drops_until_quiet():
    clock, sim, q, drv = setup(rxbuf=128)
    truth = transmissions(clock.us + 10000, [("C1", "B", 40)] * 5, 8000)
    sim.feed(truth)
    clock.advance_ms(400)  # busy elsewhere: ~330 bytes for a 128-byte buffer
    run(drv, clock, 50)
    got = frames(q)
    assert sim.lost_bytes > 0 and q.counters["overflow"] == 1
    assert len(got) < len(truth) and all(g in [t.frame for t in truth] for g in got)
    later = transmissions(clock.us + 10000, [("T1", "A"), ("C1", "A")])
    sim.feed(later)
    run(drv, clock, 300)
    assert frames(q) == [t.frame for t in later]
