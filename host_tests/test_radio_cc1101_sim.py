# micropython-heap=160K: two simulated chips (host-only, ~20 KB each) beside the driver and the
# decoder; the driver's own heap is what the 128 KB modules test.
"""The CC1101 simulator against the data sheet (SWRS061) and radio.md's errata, through raw SPI."""

import gc

from radio import FrameQueue
from radio.cc1101 import CC1101, CONFIG, rssi_dbm
from simradio.cc1101 import SimCC1101, rssi_raw, RESET, CAL_US, SETTLE_US
from test_radio_cc1101_support import tx

SRES, SCAL, SRX, STX, SIDLE, SFRX, SNOP = 0x30, 0x33, 0x34, 0x35, 0x36, 0x3A, 0x3D
MARCSTATE, RXBYTES, PARTNUM, VERSION, RSSI, LQI = 0xF5, 0xFB, 0xF0, 0xF1, 0xF4, 0xF3


def xfer(sim, data):
    out = bytearray(len(data))
    sim.cs(0)
    sim.spi.write_readinto(bytes(data), out)
    sim.cs(1)
    return out


def status(sim, header):
    return xfer(sim, (header, 0))[1]


def write(sim, addr, value):
    xfer(sim, (addr, value))


def rx_ready(sim, **regs):
    """The wM-Bus register set of radio.md §2.1 (the driver's CONFIG) as one burst, registers
    overridden by name (r06=... for PKTLEN), then RX after the calibration."""
    gc.collect()
    xfer(sim, (0x40,) + tuple(CONFIG))
    for addr, value in regs.items():
        write(sim, int(addr[1:], 16), value)
    xfer(sim, (SRX,))
    sim.advance_us(CAL_US + SETTLE_US + 10)
    assert status(sim, MARCSTATE) == 0x0D
    return sim


def test_reset_values_single_and_burst_reads():
    sim = SimCC1101()
    for addr in (0x00, 0x02, 0x06, 0x08, 0x12, 0x18, 0x2E):
        assert xfer(sim, (0x80 | addr, 0))[1] == RESET[addr]
    back = xfer(sim, (0xC0,) + (0,) * 0x2F)
    assert bytes(back[1:]) == RESET
    assert RESET[0x00] == 0x29 and RESET[0x04:0x06] == b"\xd3\x91" and RESET[0x2C] == 0x88


def test_burst_write_increments_address_and_status_byte():
    sim = SimCC1101()
    out = xfer(sim, (0x40 | 0x04, 0x54, 0x3D, 0x20))  # SYNC1, SYNC0, PKTLEN
    assert bytes(xfer(sim, (0xC4, 0, 0, 0))[1:]) == b"\x54\x3d\x20"
    # status byte on every header: CHIP_RDYn 0, STATE IDLE (0), FIFO field
    assert out[0] & 0xF0 == 0x00


def test_status_registers_need_the_burst_bit():
    sim = SimCC1101()
    assert status(sim, PARTNUM) == 0x00
    assert status(sim, VERSION) == 0x14
    assert status(sim, MARCSTATE) == 0x01  # IDLE
    # 0xB5 is not MARCSTATE: without the burst bit it is the STX strobe (Errata 3)
    status(sim, 0xB5)
    assert status(sim, MARCSTATE) == 0x13  # TX
    xfer(sim, (SIDLE,))
    assert status(sim, MARCSTATE) == 0x01
    status(sim, 0x35)  # the same with a write header
    assert status(sim, MARCSTATE) == 0x13
    # 0xBB (RXBYTES without burst) is SFTX: not allowed while in TX
    xfer(sim, (SIDLE,))
    xfer(sim, (SRX,))
    status(sim, 0xBB)
    assert sim.violations.get("sftx_not_idle") == 1


def test_a_driver_with_wrong_status_headers_fails():
    # A driver bug: status registers read with 0x80 | addr (no burst bit). PARTNUM becomes SRES
    # and VERSION becomes SFSTXON: the chip is not recognised.
    class Buggy(CC1101):
        def _status(self, addr):
            return CC1101._status(self, addr & ~0x40)

    sim = SimCC1101()
    drv = Buggy(FrameQueue(2), spi=sim.spi, cs=sim.cs, ticks_ms=lambda: sim.clock_us // 1000)
    assert not drv.start()
    assert "no chip" in drv.error
    sim = drv = None  # free the heap for the second chip
    # A driver that gets MARCSTATE wrong while receiving puts the chip into TX.
    sim2 = SimCC1101()
    drv2 = CC1101(FrameQueue(2), spi=sim2.spi, cs=sim2.cs, gdo2=sim2.gdo2,
                  ticks_ms=lambda: sim2.clock_us // 1000)
    assert drv2.start()
    drv2._status = lambda addr: CC1101._status(drv2, addr & ~0x40)
    sim2.advance_us(100000)
    drv2.poll()  # housekeeping reads "MARCSTATE" with 0xB5: STX
    assert sim2.marcstate() != 0x0D


def test_strobes_calibration_timing_and_states():
    sim = SimCC1101()
    write(sim, 0x18, 0x18)  # MCSM0 FS_AUTOCAL = 01
    xfer(sim, (SRX,))
    t0 = sim.clock_us
    assert status(sim, MARCSTATE) == 0x08  # calibrating
    sim.advance_us(CAL_US + SETTLE_US - (sim.clock_us - t0) - 5)
    assert status(sim, MARCSTATE) != 0x0D
    sim.advance_us(10)
    assert status(sim, MARCSTATE) == 0x0D
    assert xfer(sim, (SNOP | 0x80,))[0] >> 4 == 1  # STATE field RX
    xfer(sim, (SFRX,))
    assert sim.violations.get("sfrx_not_idle") == 1  # SFRX only in IDLE / overflow
    xfer(sim, (SIDLE,))
    write(sim, 0x18, 0x08)  # no autocal: settling only
    xfer(sim, (SRX,))
    sim.advance_us(SETTLE_US + 5)
    assert status(sim, MARCSTATE) == 0x0D
    xfer(sim, (SIDLE,))
    xfer(sim, (SCAL,))
    sim.advance_us(CAL_US + 5)
    assert status(sim, MARCSTATE) == 0x01


def test_fifo_fills_at_byte_rate_and_gdo_signals():
    sim = rx_ready(SimCC1101())
    t = tx(sim.clock_us + 1000, 100, "C1", "A")  # 2 + 119 bytes after sync
    sim.feed([t])
    sim.advance_to(t.sync_us - 10)
    assert sim.gdo2.value() == 0 and status(sim, RXBYTES) == 0
    sim.advance_to(t.sync_us + 10 * 80 + 20)
    assert sim.gdo2.value() == 1  # IOCFG2 0x06: sync seen
    n = status(sim, RXBYTES)
    assert 10 <= n <= 11
    assert sim.gdo0.value() == 0  # IOCFG0 0x00, FIFOTHR 7: 32 bytes
    sim.advance_to(t.sync_us + 32 * 80 + 10)
    assert sim.gdo0.value() == 1
    first = xfer(sim, (0xFF, 0, 0, 0))
    assert bytes(first[1:]) == bytes(t.air[:3])
    assert first[0] & 0x0F == 15  # FIFO_BYTES_AVAILABLE saturates at 15


def test_overflow_state_and_rxbytes_bit7():
    sim = rx_ready(SimCC1101())
    t = tx(sim.clock_us + 1000, 100, "C1", "A")
    sim.feed([t])
    sim.advance_to(t.sync_us + 67 * 80 + 10)  # 67 bytes: FIFO + pre-fetch full, 2 waiting
    assert status(sim, MARCSTATE) == 0x0D
    sim.advance_us(80)  # the 68th
    assert status(sim, MARCSTATE) == 0x11
    assert status(sim, RXBYTES) & 0x80
    assert sim.gdo2.value() == 0  # de-asserts on overflow
    xfer(sim, (SRX,))
    assert sim.violations.get("srx_in_overflow") == 1
    xfer(sim, (SFRX,))  # allowed in RXFIFO_OVERFLOW
    assert status(sim, MARCSTATE) == 0x01 and status(sim, RXBYTES) == 0


def _fixed_packet(total, mcsm1=0x00, pktctrl1=0x00):
    sim = rx_ready(SimCC1101(), r06=total, r08=0x00, r17=mcsm1, r07=pktctrl1)
    t = tx(sim.clock_us + 1000, 100, "C1", "A")
    sim.feed([t])
    sim.advance_to(t.sync_us + 80 * 75)
    return sim, t


def test_fixed_length_ends_packet_and_rxoff_mode():
    sim, t = _fixed_packet(40)
    assert status(sim, MARCSTATE) == 0x01  # MCSM1 RXOFF_MODE 00: IDLE
    assert status(sim, RXBYTES) == 40
    assert sim.gdo2.value() == 0
    assert bytes(xfer(sim, (0xFF,) + (0,) * 40)[1:]) == bytes(t.air[:40])
    sim = t = None
    sim, t = _fixed_packet(40, mcsm1=0x0C)  # RXOFF_MODE 11: stay in RX
    assert status(sim, MARCSTATE) == 0x0D
    sim = t = None
    sim, t = _fixed_packet(40, pktctrl1=0x04)  # APPEND_STATUS: RSSI and LQI | CRC_OK
    data = xfer(sim, (0xFF,) + (0,) * 42)
    assert rssi_dbm(data[41]) == -70 and data[42] & 0x80


def test_rx_fifo_erratum_66_67_bytes_hang_in_rx():
    for total, state, overflow in ((64, 0x01, 0), (65, 0x01, 0), (66, 0x0D, 0), (67, 0x0D, 0),
                                   (68, 0x11, 0x80)):
        sim = _fixed_packet(total)[0]
        assert status(sim, MARCSTATE) == state, total
        assert status(sim, RXBYTES) & 0x80 == overflow
        if state == 0x0D:  # hung: GDO2 stays high and nothing more is received
            assert sim.gdo2.value() == 1
            t2 = tx(sim.clock_us + 1000, 20, "C1", "A")
            sim.feed([t2])
            sim.advance_to(t2.end_us + 1000)
            assert status(sim, RXBYTES) == 65
            xfer(sim, (SIDLE,))
            xfer(sim, (SFRX,))
            assert status(sim, MARCSTATE) == 0x01 and sim.gdo2.value() == 0
        sim = None  # one chip at a time on the small test heap


def test_variable_length_discards_above_pktlen():
    sim = rx_ready(SimCC1101(), r06=0x20, r08=0x01)  # variable, at most 32
    t = tx(sim.clock_us + 1000, 30, "C1", "A")  # first byte 0x54 > 0x20: discarded
    sim.feed([t])
    sim.advance_to(t.end_us + 500)
    assert status(sim, RXBYTES) == 0 and status(sim, MARCSTATE) == 0x0D
    write(sim, 0x06, 0x60)
    t = tx(sim.clock_us + 1000, 30, "C1", "A")  # 0x54 <= 0x60: 1 + 0x54 bytes
    sim.feed([t])
    sim.advance_to(t.sync_us + 40 * 80 + 10)
    head = xfer(sim, (0xFF,) + (0,) * 39)[1:]
    sim.advance_to(t.sync_us + 0x55 * 80 + 200)
    assert status(sim, MARCSTATE) == 0x01 and status(sim, RXBYTES) == 0x55 - 39
    rest = xfer(sim, (0xFF,) + (0,) * (0x55 - 39))[1:]
    data = bytes(head) + bytes(rest)
    assert len(data) == 0x55 and data[:len(t.air)] == bytes(t.air)  # then noise


def test_emptying_the_fifo_mid_packet_duplicates_a_byte():
    sim = rx_ready(SimCC1101())
    t = tx(sim.clock_us + 1000, 40, "C1", "A")
    sim.feed([t])
    sim.advance_to(t.sync_us + 5 * 80 + 10)
    got = xfer(sim, (0xFF, 0, 0, 0, 0, 0))[1:]  # all 5: against SWRZ020
    assert sim.violations.get("fifo_emptied_during_packet") == 1
    sim.advance_to(t.sync_us + 8 * 80 + 10)
    more = xfer(sim, (0xFF, 0, 0))[1:]
    assert bytes(got) == bytes(t.air[:5])
    assert more[0] == t.air[4]  # the last byte read, again


def test_not_in_rx_at_sync_and_wrong_config_hear_nothing():
    sim = rx_ready(SimCC1101())
    t = tx(sim.clock_us + 1000, 30, "C1", "A")
    sim.feed([t])
    xfer(sim, (SIDLE,))
    sim.advance_to(t.sync_us - 100)
    xfer(sim, (SRX,))  # RX only after calibration: too late for this sync word
    sim.advance_to(t.end_us + 500)
    assert status(sim, RXBYTES) == 0
    xfer(sim, (SIDLE,))
    t = tx(sim.clock_us + 2000, 30, "C1", "A")
    sim.feed([t])
    sim.advance_to(t.sync_us - CAL_US - SETTLE_US - 100)
    xfer(sim, (SRX,))  # in RX 100 us before the sync ends: too little preamble for bit sync
    sim.advance_to(t.end_us + 500)
    assert status(sim, RXBYTES) == 0 and sim.stats["missed_not_rx"] == 1
    write(sim, 0x05, 0x91)  # another sync word
    t = tx(sim.clock_us + 2000, 30, "C1", "A")
    sim.feed([t])
    sim.advance_to(t.end_us + 500)
    assert status(sim, RXBYTES) == 0


def test_rssi_register_and_rounding_rule():
    for dbm in (-30, -60, -70, -85.5, -100, -103.5, -74, -73.5):
        assert rssi_dbm(rssi_raw(dbm)) - dbm in (0, -0.5)
    assert rssi_raw(-74) == 0 and rssi_raw(-75) == 0xFE and rssi_raw(-60) == 28
    sim = rx_ready(SimCC1101())
    t = tx(sim.clock_us + 1000, 30, "C1", "A", rssi=-61.5)
    sim.feed([t])
    sim.advance_to(t.sync_us + 800)
    assert rssi_dbm(status(sim, RSSI)) == -62
    assert status(sim, LQI) & 0x80  # CRC_OK reads 1 with the hardware CRC off


def _two(rssi1, rssi2, offset_us=1500):
    sim = rx_ready(SimCC1101(), r06=0x40, r08=0x00)
    a = tx(sim.clock_us + 1000, 60, "C1", "A", rssi=rssi1)
    b = tx(a.start_us + offset_us, 60, "C1", "A", rssi=rssi2, meter_id="87654321")
    sim.feed([a, b])
    sim.advance_to(a.sync_us + 0x40 * 80 + 100)
    data = bytes(xfer(sim, (0xFF,) + (0,) * 0x40)[1:])
    return data, a


def test_capture_needs_10_db():
    data, a = _two(-70, -75)  # 5 dB: the locked frame is corrupted from the overlap on
    assert data[:8] == bytes(a.air[:8]) and data != bytes(a.air[:0x40])
    data, a = _two(-60, -70)  # 10 dB stronger: survives
    assert data == bytes(a.air[:0x40])
    data, a = _two(-80, -60)  # much stronger interferer: corrupted
    assert data != bytes(a.air[:0x40])


def test_no_chip_on_the_bus():
    sim = SimCC1101(present=False)
    assert status(sim, PARTNUM) == 0xFF and status(sim, VERSION) == 0xFF
