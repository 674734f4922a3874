"""CC1101 driver on the simulated chip: set-up, registers, GDO interrupts."""

from simradio.cc1101 import SimCC1101
from test_radio_cc1101_support import rig, run, spaced

# radio.md §2.1, typed from the fact sheet (the armed state: PKTCTRL0 0x02 infinite length,
# PKTLEN 0xFF until a frame's L is known).
FACT_SHEET_2_1 = bytes((
    0x06, 0x2E, 0x00, 0x07,  # IOCFG2, IOCFG1, IOCFG0, FIFOTHR
    0x54, 0x3D, 0xFF, 0x00, 0x02,  # SYNC1, SYNC0, PKTLEN, PKTCTRL1, PKTCTRL0
    0x00, 0x00, 0x08, 0x00,  # ADDR, CHANNR, FSCTRL1, FSCTRL0
    0x21, 0x6B, 0xD0,  # FREQ2..0
    0x5C, 0x04, 0x06, 0x22, 0xF8,  # MDMCFG4..0
    0x44, 0x07, 0x00, 0x18,  # DEVIATN, MCSM2, MCSM1, MCSM0
    0x2E, 0xBF, 0x43, 0x09, 0xB5,  # FOCCFG, BSCFG, AGCCTRL2..0
    0x87, 0x6B, 0xFB,  # WOREVT1, WOREVT0, WORCTRL
    0xB6, 0x10,  # FREND1, FREND0
    0xEA, 0x2A, 0x00, 0x1F,  # FSCAL3..0
    0x41, 0x00,  # RCCTRL1, RCCTRL0
    0x59, 0x7F, 0x3F,  # FSTEST, PTEST, AGCTEST
    0x81, 0x35, 0x09,  # TEST2..0
))


def test_start_writes_the_fact_sheet_register_set():
    sim, q, drv = rig(autocal=True)
    for addr in range(0x2F):  # but MCSM1, written after it: after RX, stay in RX (_finish)
        assert sim.regs[addr] == (0x0C if addr == 0x17 else FACT_SHEET_2_1[addr]), hex(addr)
    assert sim.stats["sres"] == 1
    assert drv.info == {"radio": "cc1101", "partnum": 0x00, "version": 0x14, "mode": "T1+C1"}
    sim.advance_us(1000)
    assert sim.marcstate() == 0x0D  # calibrated and in RX
    assert not sim.violations


def test_default_differs_from_the_table_only_in_mcsm0_and_mcsm1():
    # autocal off by default: MCSM0 0x08 instead of 0x18 (75 us instead of 799 us IDLE -> RX)
    sim, q, drv = rig()
    for addr in range(0x2F):
        want = {0x18: 0x08, 0x17: 0x0C}.get(addr, FACT_SHEET_2_1[addr])
        assert sim.regs[addr] == want, hex(addr)
    assert sim.stats["strobes"] >= 4 and not sim.violations


def test_start_fails_clearly_without_a_chip():
    sim, q, drv = rig(SimCC1101(present=False), start=False)
    assert drv.start() is False
    assert "no chip answers" in drv.error and "VERSION 0xff" in drv.error
    assert drv.poll() == 0


def test_start_accepts_version_4():
    sim = SimCC1101()
    import simradio.cc1101 as simmod
    old = simmod.VERSION_VALUE
    simmod.VERSION_VALUE = 0x04
    try:
        sim, q, drv = rig(sim)
    finally:
        simmod.VERSION_VALUE = old
    assert drv.info["version"] == 0x04 and drv.error is None


def test_irq_driven_with_sparse_main_loop_polls():
    # GDO2 (sync) and GDO0 (32-byte threshold) rising edges call on_gdo; the main loop polls
    # only every 10 ms, which alone would overflow the FIFO on long frames.
    sim, q, drv = rig()
    sim.gdo2.irq(handler=drv.on_gdo, trigger=sim.gdo2.IRQ_RISING)
    sim.gdo0.irq(handler=drv.on_gdo, trigger=sim.gdo0.IRQ_RISING)
    txs = spaced(((100, "T1", "A", -70), (140, "C1", "B", -70), (20, "C1", "A", -70)))
    sim.feed(txs)
    out = []
    while sim.clock_us < txs[-1].end_us + 30000:
        for _ in range(40):
            sim.advance_us(250)  # edges are delivered as soft IRQs between steps
        drv.poll()
        f = q.get()
        while f is not None:
            out.append(f[0])
            f = q.get()
    assert out == [t.frame for t in txs]
    assert q.counters["overflow"] == 0


def test_no_gdo_pins_polls_rxbytes():
    sim, q, drv = rig(SimCC1101())
    drv._gdo0 = drv._gdo2 = None
    txs = spaced(((60, "T1", "A", -70), (130, "C1", "B", -70)))
    sim.feed(txs)
    out = run(sim, q, drv, txs[-1].end_us + 20000, 1000)
    assert [f[0] for f in out] == [t.frame for t in txs]


def test_receiving_tells_when_heavy_work_must_wait():
    sim, q, drv = rig()
    txs = spaced(((60, "T1", "A", -70),))
    sim.feed(txs)
    run(sim, q, drv, txs[0].sync_us + 500, 200)
    assert drv.receiving  # sync seen, frame arriving
    out = run(sim, q, drv, txs[0].end_us + 3000, 200)
    assert not drv.receiving and [f[0] for f in out] == [txs[0].frame]


def test_t1_decoding_waits_while_the_next_frame_arrives():
    # Each 24-byte slice of 3-of-6 decoding takes 3 ms, as on an ESP32 (README). A C1 frame
    # 1.5 ms after a T1 frame arrives during the T1 frame's decoding: the decoding pauses while
    # GDO2 is high, so the C1 frame's FIFO is served in time and it is queued first.
    sim, q, drv = rig()
    decode_slice = drv._decode_slice

    def slow_slice():
        sim.advance_us(3000)
        return decode_slice()

    drv._decode_slice = slow_slice
    txs = spaced(((100, "T1", "A", -70), (40, "C1", "B", -70)), gap_us=1500)
    sim.feed(txs)
    out = run(sim, q, drv, txs[1].end_us + 40000, 200)
    assert [f[0] for f in out] == [txs[1].frame, txs[0].frame]
    assert out[0][4] > out[1][4]  # rx_ticks keep the air order
    assert q.counters["overflow"] == 0 and q.counters["crc"] == 0
