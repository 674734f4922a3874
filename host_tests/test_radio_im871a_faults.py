"""iM871A driver against its simulator, faults: corrupted and garbage messages, partial reads,
a hung or deaf module (watchdog, reset, reconfiguration), UART buffer overflow.
"""

from radio import FrameQueue
from radio.im871a import IM871A
from simradio.modules import (
    Clock, SimIM871A, transmissions, crc_x25 as sim_crc, PERIOD, pump as run, drain as frames)


def hci(ctrl_ep, msg_id, payload=b""):
    body = bytes((ctrl_ep, msg_id, len(payload))) + payload
    c = sim_crc(body)
    return b"\xa5" + body + bytes((c & 0xFF, c >> 8))


PING = hci(0x81, 0x01)
DEVINFO = hci(0x81, 0x0F)


def setup(mode="T1+C1", start_ms=0, **simkw):
    clock = Clock(start_ms)
    sim = SimIM871A(clock, **simkw)
    q = FrameQueue(8)
    drv = IM871A(q, uart=sim, reset=sim.reset, mode=mode, ticks_ms=clock.ticks_ms,
                 sleep_ms=clock.sleep_ms)
    return clock, sim, q, drv


def test_corrupted_messages_counted_and_dropped():
    clock, sim, q, drv = setup()
    assert drv.start()
    txs = transmissions(clock.us + 10000, [("C1", "B"), ("T1", "A"), ("C1", "A")])
    sim.corrupt_next(1)
    sim.feed(txs)
    run(drv, clock, 400)
    got = [f[0] for f in frames(q)]
    assert got == [txs[1].frame, txs[2].frame]
    assert q.counters["hci_crc"] == 1 and q.counters["garbage"] >= 1


def test_bit_errors_on_air_never_reach_the_queue():
    clock, sim, q, drv = setup()
    assert drv.start()
    txs = transmissions(clock.us + 10000, [("C1", "B"), ("T1", "A"), ("C1", "A")])
    txs[0].flip(150)
    txs[1].flip(100)
    sim.feed(txs)
    run(drv, clock, 400)
    assert [f[0] for f in frames(q)] == [txs[2].frame]
    assert sim.dropped_crc == 2


def test_garbage_resync():
    clock, sim, q, drv = setup()
    assert drv.start()
    sim.garbage(b"\x00\xa5\x33\xa5\x81\x02\x07\x01\x02\xa5\xff\x13" * 3)
    txs = transmissions(clock.us + 20000, [("C1", "A"), ("T1", "A")])
    sim.feed(txs)
    run(drv, clock, 300)
    assert [f[0] for f in frames(q)] == [t.frame for t in txs]
    assert q.counters["garbage"] > 0


class Trickle:
    """A UART that hands out at most 3 bytes per readinto: messages split across reads."""

    def __init__(self, sim):
        self.sim = sim

    def any(self):
        return min(self.sim.any(), 3)

    def readinto(self, buf, n=None):
        return self.sim.readinto(buf, min(n or len(buf), 3))

    def write(self, b):
        return self.sim.write(b)

    def init(self, **kw):
        self.sim.init(**kw)


def test_partial_reads_across_polls():
    clock = Clock()
    sim = SimIM871A(clock)
    q = FrameQueue(8)
    drv = IM871A(q, uart=Trickle(sim), mode="T1+C1", ticks_ms=clock.ticks_ms,
                 sleep_ms=clock.sleep_ms)
    assert drv.start()
    txs = transmissions(clock.us + 5000, [("C1", "B", 130), ("T1", "A"), ("C1", "A")], 30000)
    sim.feed(txs)
    polls = 0
    for _ in range(3000):
        clock.advance_us(100)  # polls far faster than bytes arrive: many partial messages
        drv.poll()
        polls += 1
    assert [f[0] for f in frames(q)] == [t.frame for t in txs]
    assert q.counters["garbage"] == 0


def test_hung_module_is_reset_and_reception_resumes():
    # start near the ticks_ms wrap so that the watchdog's arithmetic crosses it
    clock, sim, q, drv = setup(start_ms=PERIOD - 30000)
    drv.ping_ms = 20000
    assert drv.start()
    sim.hang()
    run(drv, clock, 21000, step=50)  # silent 20 s: a ping, no answer within 200 ms
    assert q.counters["resets"] == 1 and sim.resets == 1 and drv.ready
    assert sim.link_mode == 0x0A  # configured again after the reset
    txs = transmissions(clock.us + 10000, [("C1", "B"), ("T1", "A")])
    sim.feed(txs)
    run(drv, clock, 300)
    assert [f[0] for f in frames(q)] == [t.frame for t in txs]


def test_alive_module_answers_pings_without_reset():
    clock, sim, q, drv = setup()
    drv.ping_ms = 5000
    assert drv.start()
    n = len(sim.written)
    run(drv, clock, 16000, step=50)
    assert sim.written[n:] == PING * 3 and q.counters["resets"] == 0


def test_deaf_module_reset_after_silence():
    clock, sim, q, drv = setup()
    drv.silence_ms = 60000
    drv.ping_ms = 10000
    assert drv.start()
    sim.deafen()
    sim.feed(transmissions(clock.us + 10000, [("C1", "A")] * 3, 10000000))
    run(drv, clock, 59000, step=100)
    assert len(q) == 0 and q.counters["resets"] == 0  # it answers pings: alive, so far
    run(drv, clock, 2000, step=100)
    assert q.counters["resets"] == 1
    txs = transmissions(clock.us + 10000, [("T1", "A")])
    sim.feed(txs)
    run(drv, clock, 200)
    assert [f[0] for f in frames(q)] == [txs[0].frame]


def test_rx_buffer_overflow_counted_nothing_corrupt_passed():
    clock, sim, q, drv = setup()
    assert drv.start()
    specs = [("C1", "B", 60)] * 8
    txs = transmissions(clock.us + 10000, specs, 12000)
    sim.feed(txs)
    clock.advance_ms(150)  # the firmware was busy: ~600 bytes for a 256-byte buffer
    run(drv, clock, 100)
    got = [f[0] for f in frames(q)]
    assert sim.lost_bytes > 0 and q.counters["overflow"] == 1
    assert got and len(got) < len(txs)
    truth = [t.frame for t in txs]
    assert all(g in truth for g in got)
    later = transmissions(clock.us + 10000, [("T1", "A")])
    sim.feed(later)
    run(drv, clock, 200)
    assert [f[0] for f in frames(q)] == [later[0].frame]


def test_without_reset_pin_software_reset():
    clock = Clock()
    sim = SimIM871A(clock)
    q = FrameQueue(8)
    drv = IM871A(q, uart=sim, reset=None, mode="C1", ticks_ms=clock.ticks_ms,
                 sleep_ms=clock.sleep_ms, silence_ms=30000)
    assert drv.start()
    sim.deafen()
    n = len(sim.written)
    run(drv, clock, 31000, step=100)
    # silence: the HCI reset request (DEVMGMT 07), then ping, device info, set config again
    assert bytes(sim.written[n:n + 6]) == hci(0x81, 0x07)
    assert q.counters["resets"] == 1 and sim.resets == 0 and drv.ready
    txs = transmissions(clock.us + 10000, [("C1", "A")])
    sim.feed(txs)
    run(drv, clock, 200)
    assert [f[0] for f in frames(q)] == [txs[0].frame]


def test_absent_module_retried_with_growing_pause():
    clock, sim, q, drv = setup()
    sim.unplug()
    assert not drv.start() and drv.error
    t0 = clock.us
    run(drv, clock, 100000, step=100)  # 100 s: retries after 30 s and 60 s more
    assert q.counters["resets"] == 2 and not drv.ready
    assert clock.us - t0 < 105000 * 1000  # each retry blocked only for its bounded waits
