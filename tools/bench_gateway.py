"""Gateway benchmarks (issue 5): backlog drain rate to a real broker, and the heap the running
gateway needs with many meters configured. MicroPython (the unix port), lib as .mpy.

    micropython -X heapsize=4M tools/bench_gateway.py --lib=build/host-mpy --port=1883 drain
    micropython -X heapsize=H tools/bench_gateway.py --lib=build/host-mpy --port=1883 heap

drain: 10,000 telegrams of 50 meters arrive while the broker is unreachable (they go to the
       flash spool: LittleFS on a file image, as the host board has it), then the broker is
       reachable and the backlog drains, oldest first, QoS 1. Prints the time and the rate.
heap:  500 meters configured (ids, names, keys), 2,000 telegrams received, stored and
       published through the real broker. Ends with "heap ok" when it ran without a
       MemoryError; `make bench` runs it at decreasing heap sizes: the smallest that passes
       is the figure. Also prints the heap the code takes once loaded (on a device build
       with the modules frozen, code stays in flash) and what the data took at the end.
"""

import gc
import sys
import time

LIB = "lib"
PORT = 1883
for a in sys.argv[1:]:
    if a.startswith("--lib="):
        LIB = a[6:]
    elif a.startswith("--port="):
        PORT = int(a[7:])
sys.path[:0] = [LIB, "build/umqtt", "tools", ".frozen"]
MODE = sys.argv[-1]

gc.collect()
_base = gc.mem_alloc()
import config  # noqa: E402
import meters  # noqa: E402,F401
import simflash  # noqa: E402
from gateway import Gateway  # noqa: E402
from mqttlink import Link  # noqa: E402
from spool import Spool  # noqa: E402
from umqtt.simple import MQTTClient  # noqa: E402
from wmbus import build  # noqa: E402
import wmbus.drivers.kamwater  # noqa: E402,F401  (the driver the telegrams need)

KEY = bytes(range(16))


def telegram(meter, i):
    recs = (("02FF20", 0), ("0413", 1000 + i), ("4413", 900), ("615B", 12), ("6167", 8))
    return build.telegram(build.records(*recs), manufacturer="KAM",
                          meter_id="%08d" % (30000000 + meter), version=0x1B, device_type=0x16,
                          ci=0x78, ell=0x8D, key=KEY, access_number=i & 0xFF)


def make(n_meters, image, raw=False):
    """The gateway as the firmware builds it: config.json, and the meters in meters.txt (one
    line each: a 500-meter config.json alone parses into 165 KB on this port)."""
    import json
    from meters import Meters, count_lines, read_lines

    path = "build/bench-meters.txt"
    with open(path, "w") as f:
        for m in range(n_meters):
            f.write("%08d %s flat %d\n" % (30000000 + m, KEY.hex(), m))
    cfg, errors = config.load(json.dumps({
        "gateway_id": "bench", "wifi": {"ssid": "x"},
        "mqtt": {"host": "127.0.0.1", "port": PORT, "tls": False}, "radio": {"kind": "cc1101"},
        "publish": {"raw": raw, "discovery": False, "min_interval_s": 0,
                    "repeat_window_s": 0}}))
    with open(path) as f:
        table = Meters(*count_lines(f))
    with open(path) as f:
        read_lines(table, f, errors)
    cfg.table = table.seal(errors)
    assert not errors, errors
    simflash.mount(image, "/bench", blocks=384)
    spool = Spool("/bench/spool", 1024 * 1024)
    link = Link(MQTTClient, "wmbus-bench", "127.0.0.1", PORT)
    return Gateway(cfg, None, spool, link, flush_records=32)


def drain():
    import os

    image = "build/bench-drain.img"
    try:
        os.remove(image)
    except OSError:
        pass
    gw = make(50, image)
    online = [False]
    real_up = gw.link.up
    gw.link.up = lambda: online[0] and real_up()
    frames = [telegram(m, 0) for m in range(50)]
    t0 = time.ticks_ms()
    for i in range(10000):
        f = bytearray(frames[i % 50])
        gw.accept(bytes(f), "C1", -60)
        if i % 32 == 31:
            gw.flush()
    gw.flush()
    t_fill = time.ticks_diff(time.ticks_ms(), t0)
    print("backlog: %d telegrams in the spool (%d bytes of segments, %.1f bytes each), "
          "stored in %d ms" % (gw.spool.depth(), gw.spool.total, gw.spool.total / 10000, t_fill))
    online[0] = True
    t0 = time.ticks_ms()
    while gw.spool.depth():
        gw.step()
    gw.flush()
    ms = time.ticks_diff(time.ticks_ms(), t0)
    print("drained 10,000 telegrams to mosquitto (QoS 1, decoded readings) in %.1f s: %d "
          "telegrams/s (target: under 60 s)" % (ms / 1000, 10000 * 1000 // max(ms, 1)))
    print("mqtt: %s" % (gw.link.counters,))


def heap():
    import os

    gc.collect()
    code = gc.mem_alloc() - _base
    image = "build/bench-heap.img"
    try:
        os.remove(image)
    except OSError:
        pass
    gw = make(500, image, raw=True)
    gc.collect()
    built = gc.mem_alloc() - _base - code
    for i in range(2000):
        gw.accept(telegram(i % 500, i // 500), "C1", -60)
        gw.step()
    gw.flush()
    while gw.spool.depth():
        gw.step()
    gw.publish_state()
    while gw._chunks:
        gw.step()
    gc.collect()
    print("code loaded from .mpy: %d KB; gateway with 500 meters: %d KB more; at the end %d KB"
          " of data (64-bit unix port)" % (code // 1024, built // 1024,
                                           (gc.mem_alloc() - _base - code) // 1024))
    print("published %d readings" % gw.counters["published"])
    assert gw.counters["published"] == 2000, gw.counters
    print("heap ok")


if MODE == "drain":
    drain()
elif MODE == "heap":
    heap()
else:
    raise SystemExit("usage: bench_gateway.py [--lib=DIR] [--port=N] drain|heap")
