# cpython-only: runs host_tests/device_run.py under micropython with the device stand-ins.
"""The paths only the ESP32 takes (board files, machine.SPI/UART/Pin/WDT, network.WLAN,
ntptime, boot.py's safe-mode pin) run here against tools/standins, which follow MicroPython's
ESP32 API strictly: a misspelt call fails this test instead of a gateway in a basement."""

import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import gwproc  # noqa: E402

CONFIG = {"gateway_id": "dev-1", "wifi": {"ssid": "basement", "password": "wifi-pw"},
          "mqtt": {"host": "127.0.0.1", "port": 1, "tls": False},
          "radio": {"kind": "cc1101", "mode": "C1+T1"},
          "meters": [{"id": "24681357", "name": "kitchen", "key": "000102030405060708090A0B0C0D0E0F"}]}


def run_board(board, seconds=4, **cfg_changes):
    d = gwproc.workdir()
    cfg = json.loads(json.dumps(CONFIG))
    cfg.update(cfg_changes)
    path = os.path.join(d, "config.json")
    with open(path, "w") as f:
        json.dump(cfg, f)
    p = subprocess.run([gwproc.MICROPYTHON, "-X", "heapsize=1M", "host_tests/device_run.py",
                        board, path, d, str(seconds)], cwd=gwproc.ROOT, capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    return json.loads(p.stdout.strip().splitlines()[-1]), p.stdout


def test_devkitc_cc1101_board_on_the_stand_ins():
    out, log = run_board("devkitc_cc1101")
    assert out["safe_mode"] is False
    assert out["wifi"]["status"] == "connected", log
    assert out["ntp_queries"] >= 1
    assert out["wdt_timeout"] == 120000 and out["wdt_feeds"] > 100
    assert out["radio_info"]["radio"] == "cc1101"
    assert out["received"] == 5 and out["stored"] == 5, log
    assert out["spool_depth"] == 5  # the broker (port 1) is not there: all kept
    assert out["mqtt_error"], log


def test_uart_boards_on_the_stand_ins():
    for board, kind in (("esp32_im871a", "im871a"), ("esp32_amb8465", "amb8465"),
                        ("esp32_rc1180", "rc1180")):
        out, log = run_board(board, radio={"kind": kind, "mode": "C1+T1"})
        assert out["radio_info"]["radio"] == kind, log
        assert out["received"] == 5 and out["spool_depth"] == 5, (board, log)
        assert out["wifi"]["status"] == "connected"


def test_wrong_wifi_password_keeps_receiving():
    out, log = run_board("devkitc_cc1101", wifi={"ssid": "basement", "password": "nope"})
    assert out["wifi"]["status"] == "wrong password", log
    assert out["received"] == 5 and out["spool_depth"] == 5
