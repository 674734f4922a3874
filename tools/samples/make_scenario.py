"""Generate the scenario and configuration that `make run` plays on the host board.

    .venv/bin/python tools/samples/make_scenario.py          # (re)write scenario.txt, host-config.json
    .venv/bin/python tools/samples/make_scenario.py --check  # exit 1 if they are out of date

scenario.txt: one telegram per line, the link-layer frame in hex without data-link CRCs (as in
the shared vectors), then the delay in seconds before it. The simulated radio adds what the air
carries (CRCs, frame format, 3-of-6). Deterministic: the same files every time.

The meters, in a small building (keys: make_samples.sample_key, not secret, not real):
    57312468  Kamstrup MULTICAL 21-like water, C1: a full frame, then compact ones every 16 s
    67810243  Kamstrup MULTICAL 403-like heat, C1, full frames
    30201007  Kamstrup OMNIPOWER electricity, C1, compact frames after a full one
    43219876  OMS water meter, T1, security mode 5
    21436587  OMS gas meter, T1, security mode 7 with AFL
    11223344  OMS heat cost allocator, not encrypted
    99887766  a configured meter whose key in the config is wrong: shown in state, never published
    55667788  a neighbour's meter (not configured): counted in state, not published
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "lib"))
sys.path.insert(0, HERE)

from wmbus import build  # noqa: E402
from make_samples import sample_key, update  # noqa: E402

WATER = ("57312468", "KAM", 0x1B, 0x16)
HEAT = ("67810243", "KAM", 0x34, 0x04)
POWER = ("30201007", "KAM", 0x30, 0x02)
OMS_WATER = ("43219876", "DME", 0x20, 0x07)
OMS_GAS = ("21436587", "ELS", 0x33, 0x03)
HCA = ("11223344", "QDS", 0x35, 0x08)
WRONG_KEY = ("99887766", "KAM", 0x1B, 0x16)
NEIGHBOUR = ("55667788", "KAM", 0x1B, 0x16)
NAMES = {WATER: "kitchen water", HEAT: "heating", POWER: "electricity", OMS_WATER: "garden water",
         OMS_GAS: "gas", HCA: "living room radiator", WRONG_KEY: "cellar water"}
PLAIN = (HCA,)


def _tg(meter, apl, **kw):
    key = None if meter in PLAIN else sample_key(meter[0])
    return build.telegram(apl, manufacturer=meter[1], meter_id=meter[0], version=meter[2],
                          device_type=meter[3], key=key, **kw)


def _water(meter, litres, full, access):
    items = (("02FF20", 0), ("0413", litres), ("4413", 1200000), ("615B", 11), ("6167", 9))
    if full:
        return _tg(meter, build.records(*items), ci=0x78, ell=0x8D, access_number=access)
    return _tg(meter, build.compact(*items), ci=0x79, ell=0x8D, access_number=access)


def telegrams():
    """[(seconds from start, frame)]"""
    out = []
    for i in range(12):  # two minutes of a water meter every 16 s (radio.md §6.2)
        t = 2 + 16 * i
        out.append((t, _water(WATER, 1285334 + 3 * i * i, i % 8 == 0, i & 0xFF)))
        out.append((t + 3, _water(WRONG_KEY, 500000 + i, i % 8 == 0, i)))
        out.append((t + 5, _water(NEIGHBOUR, 700000 + 2 * i, i % 8 == 0, i)))
        kwh = 1234567 + 7 * i
        items = (("0404", kwh), ("04843C", 45678), ("042B", 1520 + i), ("04AB3C", 0))
        if i % 8 == 0:
            p = _tg(POWER, build.records(*items), ci=0x78, ell=0x8D, access_number=i)
        else:
            p = _tg(POWER, build.compact(*items), ci=0x79, ell=0x8D, access_number=i)
        out.append((t + 7, p))
    for i in range(4):
        t = 4 + 30 * i
        heat = _tg(HEAT, build.records(("0406", 4321 + i), ("0414", 12345 + 10 * i),
                                       ("043B", 456), ("0259", 6512), ("025D", 4231)),
                   ci=0x78, ell=0x8D, access_number=0x07 + i)
        out.append((t, heat))
        out.append((t + 11, _tg(OMS_WATER, build.records(
            ("0C13", 123456 + i), ("4C13", 120000), ("426C", 0x3C1F), ("02FD17", 0)),
            ci=0x7A, mode=5, access_number=0x2A + i)))
        out.append((t + 13, _tg(OMS_GAS, build.records(
            ("0C13", 4711 + i), ("046D", 0x3B19081E), ("02FD17", 0)),
            ci=0x7A, mode=7, access_number=0x13 + i, afl_counter=0x2A + i)))
        out.append((t + 17, _tg(HCA, build.records(
            ("0B6E", 123 + i), ("4B6E", 456), ("426C", 0x3C1F), ("0259", 4210), ("0265", 2150)),
            ci=0x7A, access_number=0x5C + i)))
    out.sort(key=lambda x: x[0])
    return out


def render():
    lines = ["# Scenario for `make run` (tools/samples/make_scenario.py; do not edit).",
             "# frame hex without DLL CRCs, then the delay in seconds before it"]
    last = 0
    for t, frame in telegrams():
        lines.append("%s %g" % (frame.hex().upper(), t - last))
        last = t
    meters = []
    for meter, name in sorted(NAMES.items(), key=lambda x: x[0][0]):
        m = {"id": meter[0], "name": name}
        if meter not in PLAIN:
            key = sample_key(meter[0])
            if meter == WRONG_KEY:
                key = bytes(16 - len(key)) + bytes(b ^ 0x5A for b in key)
            m["key"] = key.hex().upper()
        meters.append(m)
    cfg = {"gateway_id": "host-1",
           "wifi": {"ssid": "simulated", "password": "not-used-on-the-host"},
           "mqtt": {"host": "127.0.0.1", "port": 18830, "tls": False},
           "radio": {"kind": "cc1101", "mode": "C1+T1"},
           "meters": meters,
           "publish": {"decoded": True, "raw": True, "raw_unknown": False, "discovery": True,
                       "min_interval_s": 60, "repeat_window_s": 10},
           # Remote operation (README): commands signed with this secret; a real gateway's
           # secret is its own and kept out of any repository.
           "remote": {"secret": "host-demo-secret-change-me"}}
    return "\n".join(lines) + "\n", json.dumps(cfg, indent=2) + "\n"


def main(argv):
    return update(zip(("scenario.txt", "host-config.json"), render()), argv, "make_scenario.py")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
