# micropython-heap=512K: this module loads the whole gateway pipeline (decoder, spool, config,
# publisher; code loaded from .mpy lives in the heap), the test telegram builder, and keeps every
# payload it publishes. The gateway's own heap is measured by make bench and the integration run.
"""The gateway pipeline (lib/gateway.py) on both interpreters: what is stored, what is
published where, what state shows, with a real spool on the host filesystem and a recording
MQTT link (the real broker: test_integration.py)."""

import json
import os
import sys
import time

import config
from gateway import Gateway
from radio import FrameQueue, MODE_C1, MODE_T1, FORMAT_B
from spool import Spool
from support import KEY, KEY_HEX, MC21, MC21_ID, kamstrup, mc21
from wmbus import build

_n = [0]
OTHER_ID = "11223344"


def tmpdir():
    _n[0] += 1
    d = "/tmp/gw-test-%s-%d-%d" % (sys.implementation.name, int(time.time() * 1000) % 10**9,
                                   _n[0])
    os.mkdir(d)
    return d


class Link:
    """Records what the gateway publishes; `online` says whether the broker is there."""

    def __init__(self, online=True):
        self.online = online
        self.connected = online
        self.sent = []
        self.counters = {"published": 0}
        self.fail_topics = ()

    def up(self):
        self.connected = self.online
        return self.online

    def publish(self, topic, payload, retain=False, qos=1):
        if not self.online or any(topic.startswith(t) for t in self.fail_topics):
            return False
        self.sent.append((topic, payload, retain))
        return True

    def service(self):
        pass

    def topics(self, part):
        return [t for t, _p, _r in self.sent if part in t]

    def payloads(self, part):
        return [json.loads(p) for t, p, _r in self.sent if part in t]


class Radio:
    def __init__(self):
        self.queue = FrameQueue(8)
        self.info = {"radio": "test"}

    def poll(self):
        return 0


def make(publish=None, filters=None, meters=None, link=None, formats_path=None, flush_ms=0):
    cfg, errors = config.load({
        "gateway_id": "gw-test", "wifi": {"ssid": "x"}, "mqtt": {"host": "broker"},
        "radio": {"kind": "cc1101"},
        "meters": meters if meters is not None else [
            {"id": MC21_ID, "name": "kitchen", "key": KEY_HEX}],
        "filters": filters or {}, "publish": publish or {}})
    assert errors == [], errors
    d = tmpdir()
    gw = Gateway(cfg, Radio(), Spool(d + "/spool", 64 * 1024), link or Link(),
                 formats_path=formats_path, now_unix=lambda: 1795600000, flush_ms=flush_ms)
    return gw


def run(gw, steps=50):
    for _ in range(steps):
        gw.step()


def water(litres, access=1, **kw):
    recs = list(MC21)
    recs[1] = ("0413", litres)
    return kamstrup(build.records(*recs), KEY, access_number=access, **kw)


def neighbour():
    return build.telegram(build.records(("0C13", 1234)), manufacturer="DME",
                          meter_id=OTHER_ID, version=0x20, device_type=0x07, ci=0x7A)


def test_known_meter_published_decoded_and_raw_then_acknowledged():
    gw = make()
    frame = mc21()
    assert gw.accept(frame, "C1", -67) == "stored"
    run(gw)
    (r,) = gw.link.payloads("/meter/")
    assert gw.link.topics("/meter/") == ["wmbus/gw-test/meter/" + MC21_ID]
    assert r["total_m3"] == 6.408 and r["target_m3"] == 6.1 and r["name"] == "kitchen"
    assert r["rssi_dbm"] == -67 and r["gateway"] == "gw-test"
    assert r["timestamp"] == "2026-11-25T09:46:40Z"
    assert len(r["fingerprint"]) == 16
    (raw,) = gw.link.payloads("/raw/")
    assert bytes.fromhex(raw["hex"]) == frame and raw["mode"] == "C1"
    assert raw["fingerprint"] == r["fingerprint"]
    assert raw["rtlwmbus"].startswith("C1;1;1;2026-11-25 09:46:40.000;-67;;;0x")
    assert gw.spool.depth() == 0
    assert gw.counters["published"] == 1


def test_fingerprint_is_the_same_on_every_gateway():
    a, b = make(), make()
    frame = mc21()
    a.accept(frame, "C1", -60)
    b.accept(frame, "T1", -90)
    run(a)
    run(b)
    assert a.link.payloads("/meter/")[0]["fingerprint"] == b.link.payloads("/meter/")[0]["fingerprint"]


def test_unknown_meter_counted_not_published():
    gw = make()
    assert gw.accept(neighbour(), "T1", -80) == "unknown"
    run(gw)
    assert gw.link.topics("/meter/") == [] and gw.link.topics("/raw/") == []
    st = gw.state()
    assert st["unknown_meters"][OTHER_ID] == {"manufacturer": "DME", "device_type": 7,
                                              "rssi_dbm": -80, "telegrams": 1}


def test_unknown_meter_published_raw_only_when_configured():
    gw = make(publish={"raw_unknown": True})
    assert gw.accept(neighbour(), "T1", -80) == "stored"
    run(gw)
    assert gw.link.topics("/meter/") == []
    assert gw.link.topics("/raw/") == ["wmbus/gw-test/raw/" + OTHER_ID]


def test_repeat_within_window_dropped_later_kept():
    gw = make(publish={"repeat_window_s": 10})
    frame = mc21()
    assert gw.accept(frame, "C1", -60, rx_ticks=1000) == "stored"
    assert gw.accept(frame, "T1", -61, rx_ticks=5000) == "repeat"
    assert gw.accept(frame, "C1", -60, rx_ticks=12000) == "stored"
    assert gw.counters["repeats"] == 1


def test_unchanged_reading_stored_again_only_after_min_interval():
    gw = make(publish={"min_interval_s": 60, "repeat_window_s": 0})
    assert gw.accept(water(1000, 1), "C1", -60, rx_ticks=0) == "stored"
    # Same reading, new access number (other bytes): unchanged.
    assert gw.accept(water(1000, 2), "C1", -60, rx_ticks=16000) == "unchanged"
    assert gw.accept(water(1001, 3), "C1", -60, rx_ticks=32000) == "stored"
    assert gw.accept(water(1001, 4), "C1", -60, rx_ticks=48000) == "unchanged"
    assert gw.accept(water(1001, 5), "C1", -60, rx_ticks=93000) == "stored"
    assert gw.counters["unchanged"] == 2


def test_wrong_key_reported_in_state_and_never_published_decoded():
    gw = make(meters=[{"id": MC21_ID, "name": "kitchen", "key": "00" * 16}])
    assert gw.accept(mc21(), "C1", -60) == "stored"  # raw is on: the raw telegram still goes
    run(gw)
    assert gw.link.topics("/meter/") == []
    assert len(gw.link.topics("/raw/")) == 1
    st = gw.state()
    assert st["meters_key_problem"] == [MC21_ID]
    assert st["decode_errors"] == {"decrypt_failed": 1}
    text = json.dumps(st) + "".join(str(p) for _t, p, _r in gw.link.sent)
    assert KEY_HEX not in text.lower() and "00" * 16 not in text


def test_broker_outage_keeps_everything_and_drains_oldest_first():
    link = Link(online=False)
    gw = make(link=link, publish={"min_interval_s": 0, "raw": False, "discovery": False})
    for i in range(40):
        assert gw.accept(water(1000 + i, i), "C1", -60, rx_ticks=i * 16000) == "stored"
        gw.step()
    gw.flush()
    assert gw.spool.depth() == 40 and link.sent == []
    link.online = True
    run(gw, 200)
    totals = [p["total_m3"] for p in link.payloads("/meter/")]
    assert totals == [(1000 + i) / 1000 for i in range(40)]
    assert gw.spool.depth() == 0


def test_half_published_record_does_not_repeat_the_published_part():
    link = Link()
    link.fail_topics = ("wmbus/gw-test/raw/",)
    gw = make(link=link, publish={"discovery": False})
    gw.accept(mc21(), "C1", -60)
    run(gw, 5)
    assert len(link.topics("/meter/")) == 1 and gw.spool.depth() == 1
    link.fail_topics = ()
    run(gw, 5)
    assert len(link.topics("/meter/")) == 1 and len(link.topics("/raw/")) == 1
    assert gw.spool.depth() == 0


def test_filters():
    gw = make(filters={"manufacturer": ["KAM"]}, publish={"raw_unknown": True})
    assert gw.accept(neighbour(), "T1", -60) == "filtered"
    assert gw.accept(mc21(), "C1", -60) == "stored"
    gw2 = make(filters={"ci": [0x7A]})
    assert gw2.accept(mc21(), "C1", -60) == "filtered"  # ELL 0x8D
    gw3 = make(filters={"device_type": [0x07]}, publish={"raw_unknown": True})
    assert gw3.accept(neighbour(), "C1", -60) == "stored"
    assert gw3.counters["filtered"] == 0


def test_home_assistant_discovery_for_every_reading_field():
    gw = make()
    gw.accept(mc21(), "C1", -60)
    run(gw)
    configs = {t.split("/")[-2]: json.loads(p) for t, p, retain in gw.link.sent
               if t.startswith("homeassistant/") and retain}
    total = configs["total_m3"]
    assert total["unit_of_measurement"] == "m³" and total["device_class"] == "water"
    assert total["state_class"] == "total_increasing"
    assert total["state_topic"] == "wmbus/gw-test/meter/" + MC21_ID
    assert total["value_template"] == "{{ value_json.total_m3 }}"
    assert total["unique_id"] == "wmbus_%s_total_m3" % MC21_ID
    assert total["device"]["identifiers"] == ["wmbus_" + MC21_ID]
    assert configs["flow_temperature_c"]["device_class"] == "temperature"
    assert configs["rssi_dbm"]["device_class"] == "signal_strength"
    assert "unit_of_measurement" not in configs["current_status"]
    for name in ("access_number", "id", "records", "manufacturer"):
        assert name not in configs
    # Every reading field published has a sensor.
    reading = gw.link.payloads("/meter/")[0]
    for field, value in reading.items():
        if type(value) in (int, float) and field not in (
                "access_number", "c_field", "ci", "version", "device_type", "security_mode",
                "tpl_status"):
            assert field in configs, field


def test_state_lists_every_meter_in_chunks():
    meters = [{"id": "%08d" % (10000000 + i), "name": "m%d" % i} for i in range(70)]
    gw = make(meters=meters)
    assert gw.meter_chunks() == 3
    ids = {}
    for n in range(3):
        ids.update(json.loads(gw.meter_state(n)))
    assert len(ids) == 70 and ids["10000005"]["name"] == "m5"
    assert ids["10000005"]["last_seen"] is None and ids["10000005"]["telegrams"] == 0
    run(gw, 5)  # the first state, at start
    gw.link.sent = []
    gw.publish_state()
    run(gw, 5)  # the chunks go out one per pass
    assert gw.link.topics("/state") == ["wmbus/gw-test/state", "wmbus/gw-test/state/meters/0",
                                         "wmbus/gw-test/state/meters/1",
                                         "wmbus/gw-test/state/meters/2"]
    st = gw.link.payloads("wmbus/gw-test/state")[0]
    assert st["meters_configured"] == 70 and st["spool"]["depth"] == 0
    assert st["radio"]["frames"] == 0 and "heap_free" in st


def test_nothing_but_the_radio_while_a_frame_is_arriving():
    gw = make()
    gw.accept(mc21(), "C1", -60)
    gw.radio.receiving = True
    run(gw, 20)
    assert gw.link.sent == [] and gw.spool.depth() == 0  # not even flushed
    gw.radio.receiving = False
    run(gw, 20)
    assert len(gw.link.topics("/meter/")) == 1


def test_frames_from_the_radio_queue():
    gw = make()
    frame = mc21()
    gw.radio.queue.put(frame, len(frame), MODE_C1, FORMAT_B, -55, 0)
    gw.radio.queue.put(neighbour(), len(neighbour()), MODE_T1, 0, -90, 0)
    run(gw)
    assert gw.counters["received"] == 2 and gw.counters["unknown"] == 1
    assert gw.link.payloads("/raw/")[0]["mode"] == "C1"


def test_learnt_compact_formats_survive_a_restart():
    path = tmpdir() + "/formats.txt"
    gw = make(formats_path=path, publish={"repeat_window_s": 0})
    # A meter type without a built-in compact format: learnt from its full frame.
    recs = (("0413", 5000), ("02FF20", 0), ("4413", 4000), ("0259", 1234))
    full = kamstrup(build.records(*recs), KEY, access_number=1)
    compact = kamstrup(build.compact(*recs), KEY, access_number=2, ci=0x79)
    assert gw.decoder.decode(compact).get("decode_error") == "unknown_format"
    gw.accept(full, "C1", -60)
    run(gw)  # decoded when published (min_interval_s 0: nothing to compare on receipt)
    gw.save_formats()  # the housekeeping saves them too; either way they are in the file
    assert not gw.save_formats()  # nothing new
    with open(path) as f:
        assert f.read().startswith("KAM 1b 16 ")
    gw2 = make(formats_path=path)
    assert gw2.decoder.decode(compact).get("decode_error") is None


def test_meter_table_finds_every_meter_its_name_and_key():
    from meters import Meters

    names = {}
    keys = {}
    for i in range(300):
        meter_id = "%08x" % (0x10000000 + i * 7919)  # hex letters too, any order
        names[meter_id] = "flat %d ü" % i
        if i % 3:
            keys[meter_id] = bytes((i + k) & 0xFF for k in range(16))
    t = Meters.of(names, keys)
    assert len(t) == 300
    for meter_id, name in names.items():
        i = t.find(meter_id)
        assert t.id(i) == meter_id and t.name(i) == name
        assert t.get(meter_id) == keys.get(meter_id)
    assert t.find("99999999") is None and t.get("99999999") is None
    assert t.find("not-an-id") is None
    t.set_error(5, "decrypt_failed")
    assert t.error_of(5) == "decrypt_failed" and t.error_of(6) is None


def test_meters_file_line_by_line():
    from meters import Meters, count_lines, read_lines

    lines = ["# building A", "", "76348799 00112233445566778899AABBCCDDEEFF kitchen cold",
             "12345678 - heat meter", "1234567X - typo",
             "87654321 0011 short key", "76348799 - the same again", "11223344"]
    n, text = count_lines(lines)
    t = Meters(n, text)
    assert t.capacity == 6
    errors = []
    n = read_lines(t, lines, errors)
    t.seal(errors)
    assert n == 4 and len(t) == 3
    assert t.name(t.find("76348799")) == "kitchen cold"
    assert t.get("76348799") == bytes.fromhex("00112233445566778899AABBCCDDEEFF")
    assert t.get("12345678") is None and t.name(t.find("11223344")) == "11223344"
    assert errors == ["meters.txt:5: id: must be 8 hex digits, left out",
                      "meters.txt:6: key: must be 32 hex digits or -, left out",
                      "meters: 76348799 is configured twice, the later entry left out"]
