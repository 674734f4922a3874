"""config.json: validation naming the bad field, partial validity, defaults, normalisation, and
keys and passwords never in any message or output (both interpreters)."""

import json
import sys

import config

KEY = "C0FFEE00DEADBEEF5EC2E7AB5EC2E7AB"  # distinctive, to search every output for it
PASSWORD = "pw-Zq81-never-shown"


def full():
    return {
        "gateway_id": "gw-1",
        "wifi": {"ssid": "net", "password": PASSWORD},
        "mqtt": {"host": "broker.local", "port": 1884, "user": "u", "password": PASSWORD,
                 "tls": False, "prefix": "home/wmbus"},
        "radio": {"kind": "im871a", "mode": "T1"},
        "meters": [{"id": "76348799", "name": "cold water", "key": KEY},
                   {"id": "ABCDEF01", "name": "heat", "key": KEY.lower()},
                   {"id": "11223344", "name": "plain"}],
        "filters": {"manufacturer": ["kam", "DME"], "device_type": [7, 22],
                    "id": ["76348799"], "ci": [0x7A, 0x8D]},
        "publish": {"decoded": True, "raw": False, "raw_unknown": True, "discovery": False,
                    "min_interval_s": 900, "repeat_window_s": 5},
    }


def minimal():
    return {"gateway_id": "gw-1", "wifi": {"ssid": "net"}, "mqtt": {"host": "broker.local"},
            "radio": {"kind": "cc1101"}}


def errors_for(patch_section, field, value):
    d = full()
    if patch_section is None:
        d[field] = value
    else:
        d[patch_section][field] = value
    return config.load(d)


def no_secret(text):
    text = str(text)
    for s in (KEY, KEY.lower(), PASSWORD):
        assert s not in text, text
    assert repr(bytes.fromhex(KEY)) not in text


def everything_said(cfg, errors):
    return [errors, cfg.warnings, cfg.redacted(), cfg.to_json(), repr(cfg), str(cfg), cfg.meters,
            cfg.wifi, cfg.mqtt, cfg.filters, cfg.publish]


def test_full_valid_config():
    cfg, errors = config.load(json.dumps(full()))
    assert errors == [] and cfg.warnings == []
    assert cfg.gateway_id == "gw-1"
    assert cfg.wifi["ssid"] == "net" and cfg.wifi["password"].value == PASSWORD
    m = cfg.mqtt
    assert (m["host"], m["port"], m["user"], m["tls"], m["prefix"]) == \
        ("broker.local", 1884, "u", False, "home/wmbus")
    assert m["password"].value == PASSWORD
    assert cfg.radio == {"kind": "im871a", "mode": "T1"}
    assert cfg.meters == {"76348799": "cold water", "abcdef01": "heat", "11223344": "plain"}
    assert "11223344" not in cfg.keys()
    assert cfg.filters == {"manufacturer": ["KAM", "DME"], "device_type": [7, 22],
                           "id": ["76348799"], "ci": [0x7A, 0x8D]}
    assert cfg.publish == {"decoded": True, "raw": False, "raw_unknown": True,
                           "discovery": False, "min_interval_s": 900, "repeat_window_s": 5}


def test_keys_for_the_decoder():
    cfg, _ = config.load(full())
    keys = cfg.keys()
    assert sorted(keys) == ["76348799", "abcdef01"]
    assert keys["76348799"] == bytes.fromhex(KEY) and len(keys["abcdef01"]) == 16
    from wmbus import Decoder
    assert Decoder(keys).keys["abcdef01"] == bytes.fromhex(KEY)


def test_bytes_key_from_a_dict():
    d = minimal()
    d["meters"] = [{"id": "76348799", "key": bytes.fromhex(KEY)}]
    cfg, errors = config.load(d)
    assert errors == [] and cfg.keys()["76348799"] == bytes.fromhex(KEY)


def test_defaults():
    cfg, errors = config.load(minimal())
    assert errors == [] and cfg.warnings == []
    assert cfg.mqtt["port"] == 1883 and cfg.mqtt["tls"] is False
    assert cfg.mqtt["prefix"] == "wmbus/gw-1"
    assert cfg.mqtt["user"] is None and cfg.mqtt["password"] is None
    assert cfg.wifi["password"] is None
    assert cfg.radio["mode"] == "C1+T1"
    assert cfg.meters == {} and cfg.keys() == {}
    assert cfg.filters == {"manufacturer": [], "device_type": [], "id": [], "ci": []}


def test_tls_default_port():
    for tls in (True, {"ca": "/ca.pem"}, {"ca": "/ca.pem", "cert": "/c.pem", "key": "/k.pem"}):
        d = minimal()
        d["mqtt"]["tls"] = tls
        cfg, errors = config.load(d)
        assert errors == [] and cfg.mqtt["port"] == 8883
    assert cfg.mqtt["tls"] == {"ca": "/ca.pem", "cert": "/c.pem", "key": "/k.pem"}


def test_privacy_defaults():
    p = config.load(minimal())[0].publish
    assert p == {"decoded": True, "raw": True, "raw_unknown": False, "discovery": True,
                 "min_interval_s": 0, "repeat_window_s": 10}


def test_meter_name_defaults_to_id_and_ids_normalise():
    d = minimal()
    d["meters"] = [{"id": "ABCDEF01"}, {"id": 1234567}]
    cfg, errors = config.load(d)
    assert errors == []
    assert cfg.meters == {"abcdef01": "abcdef01", "01234567": "01234567"}


# Every field: (section or None for top level, field, bad value, the error's start).
BAD = (
    (None, "gateway_id", "a/b", "gateway_id: "),
    (None, "gateway_id", 5, "gateway_id: "),
    (None, "wifi", "net", "wifi: must be an object"),
    ("wifi", "ssid", "", "wifi.ssid: "),
    ("wifi", "password", 5, "wifi.password: "),
    ("mqtt", "host", 7, "mqtt.host: "),
    ("mqtt", "port", "1883", "mqtt.port: "),
    ("mqtt", "port", 70000, "mqtt.port: "),
    ("mqtt", "port", True, "mqtt.port: "),
    ("mqtt", "user", 1, "mqtt.user: "),
    ("mqtt", "password", ["x"], "mqtt.password: "),
    ("mqtt", "tls", "yes", "mqtt.tls: "),
    ("mqtt", "tls", {"ca": 5}, "mqtt.tls: ca "),
    ("mqtt", "tls", {"cert": "/c.pem"}, "mqtt.tls: "),
    ("mqtt", "tls", {"cafile": "/ca.pem"}, "mqtt.tls: "),
    ("mqtt", "prefix", "a/#", "mqtt.prefix: "),
    ("mqtt", "prefix", "/a", "mqtt.prefix: "),
    ("radio", "kind", "sx1276", "radio.kind: must be one of cc1101, im871a, amb8465, rc1180"),
    ("radio", "mode", "S1", "radio.mode: must be one of T1, C1, C1+T1"),
    (None, "meters", {}, "meters: must be a list"),
    (None, "filters", [], "filters: must be an object"),
    ("filters", "manufacturer", ["KA"], "filters.manufacturer[0]: "),
    ("filters", "manufacturer", "KAM", "filters.manufacturer: must be a list"),
    ("filters", "device_type", [7, 256], "filters.device_type[1]: "),
    ("filters", "id", ["1234567"], "filters.id[0]: must be 8 hex digits"),
    ("filters", "ci", ["7A"], "filters.ci[0]: "),
    ("publish", "decoded", 1, "publish.decoded: must be true or false"),
    ("publish", "raw", "true", "publish.raw: "),
    ("publish", "raw_unknown", 0, "publish.raw_unknown: "),
    ("publish", "discovery", None, None),  # null: the default, no error
    ("publish", "min_interval_s", -1, "publish.min_interval_s: "),
    ("publish", "min_interval_s", 1.5, "publish.min_interval_s: "),
    ("publish", "repeat_window_s", "10", "publish.repeat_window_s: "),
)


def test_every_field_error_names_the_field():
    for section, field, value, start in BAD:
        cfg, errors = errors_for(section, field, value)
        if start is None:
            assert errors == [], errors
            continue
        assert len(errors) == 1 and errors[0].startswith(start), (section, field, errors)
        no_secret(everything_said(cfg, errors))


def test_required_fields():
    cfg, errors = config.load({})
    assert errors == ["gateway_id: required", "wifi.ssid: required", "mqtt.host: required",
                      "radio.kind: required"]
    assert cfg.gateway_id is None and cfg.mqtt["host"] is None and cfg.radio["kind"] is None
    assert cfg.mqtt["prefix"] is None  # no gateway id to make it from


def test_bad_port_falls_back_to_default():
    cfg, errors = errors_for("mqtt", "port", "x")
    assert errors == ["mqtt.port: must be an integer 1-65535"] and cfg.mqtt["port"] == 1883
    d = full()
    d["mqtt"]["tls"] = True
    d["mqtt"]["port"] = 0
    assert config.load(d)[0].mqtt["port"] == 8883


def test_bad_tls_stays_encrypted():
    cfg, errors = errors_for("mqtt", "tls", {"cafile": "/ca.pem"})
    assert errors and cfg.mqtt["tls"] is True and cfg.mqtt["port"] == 1884


def test_other_fields_keep_working_after_errors():
    d = full()
    d["publish"]["raw"] = "no"
    d["radio"]["mode"] = "X"
    cfg, errors = config.load(d)
    assert len(errors) == 2
    assert cfg.publish["raw"] is True and cfg.publish["min_interval_s"] == 900
    assert cfg.radio == {"kind": "im871a", "mode": "C1+T1"}
    assert cfg.mqtt["port"] == 1884 and len(cfg.meters) == 3 and len(cfg.keys()) == 2


def test_bad_meters_left_out_good_kept():
    d = minimal()
    d["meters"] = [
        {"id": "76348799", "name": "good", "key": KEY},
        {"id": "11111111", "key": KEY[:-1]},         # 31 digits
        {"id": "22222222", "key": KEY[:-1] + "G"},   # not hex
        {"id": "3333333", "key": KEY},               # 7 digits
        {"name": "no id", "key": KEY},
        "76348799",
        {"id": "76348799", "key": KEY},              # the same meter again
        {"id": "44444444", "name": 5, "key": KEY},   # bad name: kept, named by id
        {"id": "55555555", "key": 12345},
    ]
    cfg, errors = config.load(d)
    assert cfg.meters == {"76348799": "good", "44444444": "44444444"}
    assert sorted(cfg.keys()) == ["44444444", "76348799"]
    for i, field in ((1, "key"), (2, "key"), (3, "id"), (4, "id"), (8, "key")):
        assert ("meters[%d].%s: " % (i, field)) in "\n".join(errors), (i, errors)
        assert ("meters[%d]: left out" % i) in errors
    assert "meters[5]: must be an object" in errors
    assert any(e.startswith("meters[6].id: same meter as meters[0]") for e in errors)
    assert any(e.startswith("meters[7].name: ") for e in errors)
    no_secret(everything_said(cfg, errors))


def test_bad_filter_entries_dropped_others_kept():
    d = minimal()
    d["filters"] = {"manufacturer": ["KAM", "K4M", "kam"], "id": [76348799, "nothex!!"],
                    "ci": [0x7A, -1]}
    cfg, errors = config.load(d)
    assert cfg.filters["manufacturer"] == ["KAM"]
    assert cfg.filters["id"] == ["76348799"] and cfg.filters["ci"] == [0x7A]
    assert errors == ["filters.manufacturer[1]: must be 3 letters",
                      "filters.id[1]: must be 8 hex digits",
                      "filters.ci[1]: must be an integer 0-255"]


def test_unknown_fields_warn_only():
    d = full()
    d["spool"] = {"size": 1}
    d["mqtt"]["hots"] = "x"
    d["meters"][0]["kye"] = KEY
    d["filters"]["cis"] = []
    cfg, errors = config.load(d)
    assert errors == []
    assert sorted(cfg.warnings) == ["filters.cis: unknown field, ignored",
                                    "meters[0].kye: unknown field, ignored",
                                    "mqtt.hots: unknown field, ignored",
                                    "spool: unknown field, ignored"]
    no_secret(everything_said(cfg, errors))


def test_wrong_json_is_one_error():
    # MicroPython's parser lets missing or doubled commas pass and names no position;
    # CPython's names line and column.
    text = '{"gateway_id": "gw-1",\n "mqtt": {"host": tru}}'
    for t in (text, text.encode(), "", "{", '{"a": 1}}', "{'a': 1}"):
        cfg, errors = config.load(t)
        assert len(errors) == 1 and errors[0].startswith("config.json: "), (t, errors)
    if sys.implementation.name == "cpython":
        assert "line 2 column" in config.load(text)[1][0]
    cfg, errors = config.load("[1, 2]")
    assert errors == ["config.json: must be a JSON object"]
    assert cfg.publish["raw_unknown"] is False and cfg.mqtt["port"] == 1883


def test_secrets_never_shown():
    d = full()
    d["meters"].append({"id": "bad", "key": KEY})
    d["meters"].append({"id": "12121212", "key": KEY + "00"})
    d["mqtt"]["tls"] = {"ca": "/ca.pem", "key": KEY}  # a path that is not: cert is missing
    cfg, errors = config.load(json.dumps(d))
    assert len(errors) >= 3
    said = everything_said(cfg, errors)
    no_secret(said)
    no_secret(json.dumps(cfg.redacted()))
    r = cfg.redacted()
    assert r["wifi"]["password"] == "***" and r["mqtt"]["password"] == "***"
    assert sorted((m["id"], m["key"] or "") for m in r["meters"]) == \
        [("11223344", ""), ("76348799", "***"), ("abcdef01", "***")]
    assert str(cfg.wifi["password"]) == "***" and repr(cfg.mqtt["password"]) == "***"
    assert "%s" % cfg.wifi["password"] == "***"


def test_bad_key_text_not_echoed():
    # Even a key that fails to parse (or one in the wrong field) is never quoted.
    d = minimal()
    d["meters"] = [{"id": "76348799", "key": KEY + "Z"}]
    d["mqtt"]["user"] = 5
    d["wifi"]["password"] = 1
    cfg, errors = config.load(d)
    no_secret(everything_said(cfg, errors))
    assert (KEY + "Z") not in str(errors)


def example_text():
    # The tests run from the repository root (make, pytest); fall back to this file's place.
    for path in ("boards/config.example.json",
                 __file__.rsplit("/", 2)[0] + "/boards/config.example.json"):
        try:
            with open(path) as f:
                return f.read()
        except OSError:
            pass
    raise AssertionError("boards/config.example.json not found")


def test_bundled_example_loads_cleanly():
    cfg, errors = config.load(example_text())
    assert errors == [] and cfg.warnings == []
    assert cfg.gateway_id and cfg.mqtt["host"] and cfg.wifi["ssid"]
    assert cfg.publish["raw_unknown"] is False
    assert len(cfg.keys()) >= 1 and all(len(k) == 16 for k in cfg.keys().values())
    assert "***" in cfg.to_json()
    for key in cfg.keys().values():
        assert key.hex() not in cfg.to_json().lower()
