"""AMB8465 driver against its simulator: detection, the baud-rate switch, NVM configuration,
receive modes.

Expected command bytes are the fact sheet's worked examples (radio.md §4.2: FF 0B 00 F4,
FF 04 01 09 F3, FF 05 00 FA, FF 0C 00 F3, FF 0A 02 00 80 77) or written out with the XOR rule.
"""

import gc

from radio import FrameQueue, MODE_T1, MODE_C1
from radio.amb8465 import AMB8465, rssi_dbm
from simradio.modules import Clock, SimAMB8465, transmissions, xor_cs, pump as run, drain as frames

FWV = bytes.fromhex("ff0c00f3")
SERIAL = bytes.fromhex("ff0b00f4")
RESET = bytes.fromhex("ff0500fa")


def cmd(*b):
    b = bytes(b)
    return b + bytes((xor_cs(b),))


def setup(mode="T1+C1", baudrate=115200, **simkw):
    clock = Clock()
    sim = SimAMB8465(clock, **simkw)
    q = FrameQueue(8)
    drv = AMB8465(q, uart=sim, reset=sim.reset, mode=mode, baudrate=baudrate,
                  ticks_ms=clock.ticks_ms, sleep_ms=clock.sleep_ms)
    return clock, sim, q, drv


def test_checksum_examples():
    assert cmd(0xFF, 0x0B, 0x00) == SERIAL
    assert cmd(0xFF, 0x04, 0x01, 0x09) == bytes.fromhex("ff040109f3")
    assert cmd(0xFF, 0x0A, 0x02, 0x00, 0x80) == bytes.fromhex("ff0a02008077")
    # the serial-number answer logged in wmbusmeters #440, as the simulator sends it
    assert SimAMB8465.frame(0x8B, bytes.fromhex("2701d949")) == bytes.fromhex("ff8b042701d949c6")


def test_factory_module_switched_to_115200_and_configured():
    clock, sim, q, drv = setup()
    assert drv.start(), drv.error
    w = bytes(sim.written)
    expected = (FWV  # at 115200: the module is still at 9600 and does not understand
                + FWV  # at 9600: answered
                + cmd(0xFF, 0x10, 0x01, 0x07)  # UART speed index 7 = 115200
                + FWV + SERIAL  # at 115200
                + cmd(0xFF, 0x0A, 0x02, 5, 1) + cmd(0xFF, 0x09, 0x03, 5, 1, 1)  # UART_CMD_Out
                + cmd(0xFF, 0x0A, 0x02, 69, 1) + cmd(0xFF, 0x09, 0x03, 69, 1, 1)  # RSSI_Enable
                + RESET + bytes.fromhex("ff040109f3"))  # C2/T2-other: C1 and T1
    assert w == expected
    assert sim.baud == 115200 and sim.host_baud == 115200 and drv.info["baudrate"] == 115200
    assert sim.cmd_out == 1 and sim.rssi_on == 1 and sim.rx_mode == 0x09
    assert drv.info["firmware"] == "1.6.1" and drv.info["serial"] == "2701d949"
    assert sim.nvm_writes == 3  # the speed and the two parameters: once


def test_second_start_writes_no_flash():
    clock, sim, q, drv = setup()
    assert drv.start()
    writes = sim.nvm_writes
    n = len(sim.written)
    assert drv.start()
    # found at 115200 at once; parameters already right: no speed change, no SET, no reset
    assert bytes(sim.written[n:]) == (FWV + SERIAL + cmd(0xFF, 0x0A, 0x02, 5, 1)
                                      + cmd(0xFF, 0x0A, 0x02, 69, 1)
                                      + bytes.fromhex("ff040109f3"))
    assert sim.nvm_writes == writes


def test_modes_and_rates():
    for mode, rx, rate, idx in (("T1", 0x08, 38400, 5), ("C1", 0x0E, 19200, 4)):
        clock, sim, q, drv = setup(mode, rate)
        assert drv.start(), drv.error
        assert cmd(0xFF, 0x10, 0x01, idx) in bytes(sim.written)
        assert sim.written.endswith(cmd(0xFF, 0x04, 0x01, rx)) and sim.rx_mode == rx
        assert sim.baud == rate and sim.host_baud == rate
        txs = transmissions(clock.us + 10000, [("T1", "A"), ("C1", "B")])
        sim.feed(txs)
        run(drv, clock, 400)
        got = frames(q)
        assert [g[0] for g in got] == [t.frame for t in txs if t.mode == mode]
        assert got[0][1] == (MODE_T1 if mode == "T1" else MODE_C1)
        del clock, sim, q, drv, txs, got
        gc.collect()


def test_staying_at_9600_when_asked():
    clock, sim, q, drv = setup(baudrate=9600)
    assert drv.start()
    assert b"\xff\x10" not in bytes(sim.written) and sim.baud == 9600


def test_rejected_mode_reports_status():
    clock, sim, q, drv = setup()
    sim._command_orig = sim._command

    def refuse(c, p, due):
        if c == 0x04:
            sim._schedule(due, sim.frame(0x84, b"\x01"))
        else:
            sim._command_orig(c, p, due)
    sim._command = refuse
    assert not drv.start()
    assert drv.error == "AMB8465: receive mode 0x09 rejected (status 0x01)"


def test_no_answer_gives_clear_error():
    clock, sim, q, drv = setup()
    sim.unplug()
    assert not drv.start()
    assert drv.error == "AMB8465: no answer on the UART at 115200 or 9600 baud"


def test_rssi_formula():
    # manual §7.9: two's complement, 0.5 dB steps, -74 dBm offset
    assert rssi_dbm(0x00) == -74 and rssi_dbm(0x14) == -64 and rssi_dbm(0xCC) == -100
    assert rssi_dbm(SimAMB8465.rssi_raw(-87)) == -87
