"""RC1180-MBUS driver against its simulator: configuration mode, the firmware (part number)
read before any configuration is written, the original and MBUS3 maps, NVM written only when
it differs.

Expected bytes follow the datasheet's configuration-mode examples (radio.md §4.3): 0x00 enters
('>'), '0' (0x30) lists the memory, 'M' (0x4D) then address/value pairs and 0xFF writes NVM,
'X' (0x58) leaves; MBUS3 takes the M-Bus mode in RAM with 'G' (0x47).
"""

import gc

from radio import FrameQueue, MODE_C1
from radio.rc1180 import RC1180, rssi_dbm
from simradio.modules import Clock, SimRC1180, transmissions, pump as run, drain as frames


def setup(mode="T1", firmware="original"):
    clock = Clock()
    sim = SimRC1180(clock, firmware=firmware)
    q = FrameQueue(8)
    drv = RC1180(q, uart=sim, reset=sim.reset, mode=mode, ticks_ms=clock.ticks_ms,
                 sleep_ms=clock.sleep_ms)
    return clock, sim, q, drv


def test_original_firmware_t1_configuration():
    clock, sim, q, drv = setup()
    assert drv.start(), drv.error
    # enter, list, then NVM: RSSI_MODE 1, RF_CHANNEL 12, RF_DATA_RATE 3, MBUS_MODE 1; leave
    assert bytes(sim.written) == bytes.fromhex("00" "30" "4d" "0501" "000c" "0203" "0301" "ff" "58")
    assert drv.info["firmware"] == "RC1180-MBUS" and drv.info["baudrate"] == 19200
    assert not sim.config_mode and sim.active[5] == 1 and sim.mbus_mode == 1


def test_mbus3_firmware_uses_its_own_map():
    for mode, g in (("T1+C1", 10), ("C1", 9), ("T1", 1)):
        clock, sim, q, drv = setup(mode, "MBUS3")
        assert drv.start(), drv.error
        # part number first ('0'), then only RSSI_MODE in NVM, the mode in RAM with 'G'
        assert bytes(sim.written) == bytes.fromhex("00" "30" "4d" "0501" "ff" "47") + bytes(
            (g,)) + b"X"
        assert drv.info["firmware"] == "RC1180-MBUS3" and sim.mbus_mode == g
        assert sim.nvm[0] == 1 and sim.nvm[2] == 0  # channel / data rate left alone
        del clock, sim, q, drv
        gc.collect()


def test_part_number_read_before_any_write():
    clock, sim, q, drv = setup("C1", "original")
    assert not drv.start()
    assert drv.error == "RC1180: RC1180-MBUS receives T1 only (mode C1 asked)"
    assert bytes(sim.written) == b"\x000X" and sim.nvm_writes == 0


def test_mbus4_and_unknown_firmware_refused():
    clock, sim, q, drv = setup("T1", "MBUS4")
    assert not drv.start() and "169 MHz" in drv.error
    del clock, sim, q, drv
    gc.collect()
    clock, sim, q, drv = setup("T1", "original")
    sim.nvm[200] = 0x00  # neither a part number nor the original's 0xFF upper half
    assert not drv.start() and "unknown firmware" in drv.error
    assert sim.nvm_writes == 0


def test_second_start_writes_no_nvm():
    for fw, tail in (("original", b"X"), ("MBUS3", b"G\x01X")):
        clock, sim, q, drv = setup("T1", fw)
        assert drv.start()
        writes = sim.nvm_writes
        n = len(sim.written)
        assert drv.start()
        assert bytes(sim.written[n:]) == b"\x000" + tail and sim.nvm_writes == writes
        del clock, sim, q, drv
        gc.collect()


def test_no_answer_gives_clear_error():
    clock, sim, q, drv = setup()
    sim.unplug()
    assert not drv.start()
    assert drv.error == "RC1180: no '>' prompt after 0x00 on the UART"


def test_rssi_formula():
    assert rssi_dbm(140) == -70 and rssi_dbm(0) == 0 and rssi_dbm(211) == -105


def test_single_mode_reports_it():
    clock, sim, q, drv = setup("C1", "MBUS3")
    assert drv.start()
    txs = transmissions(clock.us + 10000, [("T1", "A"), ("C1", "A")])
    sim.feed(txs)
    run(drv, clock, 300)
    got = frames(q)
    assert [g[0] for g in got] == [txs[1].frame] and got[0][1] == MODE_C1
