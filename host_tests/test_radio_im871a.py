"""iM871A driver against its simulator: detection and configuration, HCI bytes, link modes.

Expected request bytes are written out from the HCI layout (radio.md §4.1) with the
simulator's bit-by-bit CRC-16/X-25, not taken from the driver's own constants.
"""

import gc

from radio import FrameQueue, MODE_T1, MODE_C1
from radio.im871a import IM871A
from radio.uartmod import crc_x25
from simradio.modules import (
    Clock, SimIM871A, transmissions, crc_x25 as sim_crc, pump as run, drain as frames)


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


def test_crc_x25_check_value():
    # CRC-16/X-25 catalogue check value, and the verified indication of radio.md §4.1.
    assert crc_x25(b"123456789") == 0x906E
    assert sim_crc(b"123456789") == 0x906E
    msg = bytes.fromhex("c20309472d2c57277971340c4c")
    assert crc_x25(msg) == 0x0768


def test_start_sends_ping_devinfo_and_set_config():
    clock, sim, q, drv = setup()
    assert drv.start(), drv.error
    # set config, RAM only: IIFlag1 0x02 link mode 0x0A (C1+T1), IIFlag2 0x30 RSSI on, TS off
    cfg = hci(0x81, 0x03, bytes((0x00, 0x02, 0x0A, 0x30, 0x01, 0x00)))
    assert bytes(sim.written) == PING + DEVINFO + cfg
    assert sim.link_mode == 0x0A and sim.rssi_on and not sim.ts_on
    assert drv.info["radio"] == "im871a" and drv.info["firmware"] == "0x15"
    assert drv.info["mode"] == "T1+C1" and drv.info["baudrate"] == 57600
    assert drv.info["uid"] == "01020304"


def test_single_modes_and_timestamp_option():
    for mode, link in (("T1", 0x03), ("C1", 0x07)):
        clock, sim, q, drv = setup(mode)
        drv.rx_timestamp = True
        assert drv.start()
        assert sim.written.endswith(hci(0x81, 0x03, bytes((0, 0x02, link, 0x30, 1, 1))))
        assert sim.link_mode == link and sim.ts_on
        txs = transmissions(clock.us + 10000, [("T1", "A"), ("C1", "A"), ("C1", "B")])
        sim.feed(txs)
        run(drv, clock, 400)
        got = frames(q)
        want = [t for t in txs if t.mode == mode]
        assert [g[0] for g in got] == [t.frame for t in want]
        assert all(g[1] == (MODE_T1 if mode == "T1" else MODE_C1) for g in got)
        # the module's RX timestamp (ms counter in this simulator) was parsed, not queued
        assert drv.last_timestamp == (want[-1].end_us // 1000) & 0xFFFFFFFF
        del clock, sim, q, drv, txs, got, want
        gc.collect()


def test_no_answer_gives_clear_error():
    clock, sim, q, drv = setup()
    sim.unplug()
    assert not drv.start()
    assert drv.error == "iM871A: no answer to ping on the UART"
    assert sim.resets == 1  # it tried a reset pulse before giving up


def test_rejected_config_reports_status():
    clock, sim, q, drv = setup()
    sim._set_config = lambda p: 1
    assert not drv.start()
    assert "set config rejected (status 0x01)" in drv.error


def test_simulator_rejects_bad_config_and_bad_crc():
    clock, sim, q, drv = setup(firmware=0x13)
    sim.write(hci(0x81, 0x03, bytes((0, 0x02, 0x0A))))  # C1+T1 needs firmware 0x14
    clock.advance_ms(5)
    assert sim.read() == sim.hci(1, 0x04, b"\x01")
    bad = bytearray(PING)
    bad[-1] ^= 1
    sim.write(bytes(bad))
    clock.advance_ms(5)
    assert sim.read() is None


def test_old_firmware_falls_back_to_c1():
    clock, sim, q, drv = setup(firmware=0x13)
    assert drv.start()
    assert sim.link_mode == 0x07 and drv.info["mode"] == "C1" and "warning" in drv.info
