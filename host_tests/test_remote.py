"""Remote commands (lib/remote.py) on both interpreters: HMAC-SHA256 against RFC 4231, the MAC
check, replay protection, configuration checked before it is applied, the answers (never a
secret in one), with a recording publisher and config/seq files in /tmp."""

import json
import os
import sys
import time

import config
import publish
import remote

SECRET = "s3cret-for-gw-1-remote"
WIFI_PW = "wifi-pass-4711"
MQTT_PW = "mqtt-pass-0815"
METER_KEY = "51728910E66D83F851728910E66D83F8"
_n = [0]


def tmpdir():
    _n[0] += 1
    d = "/tmp/remote-test-%s-%d-%d" % (sys.implementation.name, int(time.time() * 1000) % 10**9,
                                       _n[0])
    os.mkdir(d)
    return d


def good_config():
    return {"gateway_id": "gw-1", "wifi": {"ssid": "net", "password": WIFI_PW},
            "mqtt": {"host": "broker", "password": MQTT_PW},
            "radio": {"kind": "cc1101"},
            "meters": [{"id": "76348799", "name": "water", "key": METER_KEY}],
            "remote": {"secret": SECRET}}


class Harness:
    """A Remote with a recording publisher, restart hook and updater."""

    def __init__(self, d=None, cfg=None, updater=None, secret=SECRET):
        self.dir = d or tmpdir()
        self.config_path = self.dir + "/config.json"
        if cfg is not False:
            with open(self.config_path, "w") as f:
                f.write(json.dumps(cfg or good_config()))
        self.sent = []
        self.restarts = 0
        self.states = 0
        self.updates = []
        self.logged = []
        self.remote = remote.Remote(secret, publish.Topics("wmbus/gw-1"), self.publish,
                                    self.dir + "/seq", self.config_path, self.restart,
                                    publish_state=self.publish_state,
                                    updater=updater, log=self.logged.append)

    def publish(self, topic, payload, retain=False):
        self.sent.append((topic, payload))
        return True

    def restart(self):
        self.restarts += 1

    def publish_state(self):
        self.states += 1
        return True

    def answers(self):
        out = []
        for topic, payload in self.sent:
            assert topic == "wmbus/gw-1/state/command", topic
            out.append(json.loads(payload))
        return out

    def run(self, body, secret=SECRET):
        """Sign `body` (a dict) and deliver it as the MQTT link would."""
        msg = remote.sign(json.dumps(body), secret).encode()
        assert self.remote.handle(b"wmbus/gw-1/command", msg)
        assert self.remote.service()
        return self.answers()[-1]

    def config_text(self):
        with open(self.config_path) as f:
            return f.read()


def no_secret(h):
    said = str(h.sent) + str(h.logged)
    for s in (SECRET, WIFI_PW, MQTT_PW, METER_KEY, METER_KEY.lower()):
        assert s not in said, said


def unhex(s):
    return bytes(int(s[i:i + 2], 16) for i in range(0, len(s), 2))


# RFC 4231 §4.2-4.8: (key, data, HMAC-SHA-256); case 5 is truncated to 128 bits.
RFC4231 = (
    (b"\x0b" * 20, b"Hi There",
     "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
    (b"Jefe", b"what do ya want for nothing?",
     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
    (b"\xaa" * 20, b"\xdd" * 50,
     "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
    (bytes(range(1, 26)), b"\xcd" * 50,
     "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
    (b"\x0c" * 20, b"Test With Truncation", "a3b6167473100ee06e0c796c2955552b"),
    (b"\xaa" * 131, b"Test Using Larger Than Block-Size Key - Hash Key First",
     "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
    (b"\xaa" * 131, b"This is a test using a larger than block-size key and a larger than "
     b"block-size data. The key needs to be hashed before being used by the HMAC algorithm.",
     "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
)


def test_hmac_rfc4231_vectors():
    for key, data, expected in RFC4231:
        mac = remote.hexlify(remote.hmac_sha256(key, data))
        assert mac[:len(expected)] == expected, (key[:4], mac)
        # The same over the message in parts, as authenticate() feeds it.
        assert remote.hexlify(remote.hmac_sha256(key, [data[:7], data[7:]])) == mac


def test_hmac_block_sized_key():
    # 64 bytes is used as it is, 65 is hashed first (RFC 2104 §2): the two differ.
    a = remote.hmac_sha256(b"k" * 64, b"m")
    b = remote.hmac_sha256(b"k" * 65, b"m")
    c = remote.hmac_sha256(remote.hashlib.sha256(b"k" * 65).digest(), b"m")
    assert a != b and b == c


def test_same_compares_all_bytes():
    assert remote.same(b"abcd", b"abcd")
    assert not remote.same(b"abcd", b"abce") and not remote.same(b"abcd", b"xbcd")
    assert not remote.same(b"abc", b"abcd")


def test_signed_message_is_json_with_mac_last():
    msg = remote.sign('{"seq": 1, "cmd": "state"}', SECRET)
    d = json.loads(msg)
    assert d["seq"] == 1 and d["cmd"] == "state" and len(d["mac"]) == 64
    assert msg.endswith('"}') and msg.index('"mac"') > msg.index('"cmd"')
    parts = remote.signed_part(msg.encode() + b"\r\n")
    assert parts is not None and parts[0][0] + parts[0][1] == b'{"seq": 1, "cmd": "state"}'


def test_state_command():
    h = Harness()
    a = h.run({"seq": 5, "cmd": "state"})
    assert a == {"seq": 5, "ok": True, "errors": []}
    assert h.states == 1 and h.remote.counters["accepted"] == 1
    no_secret(h)


def test_bad_mac_rejected_without_detail():
    h = Harness()
    msg = remote.sign('{"seq": 5, "cmd": "restart"}', SECRET)
    forged = [msg.replace("restart", "state"),  # body changed after signing
              remote.sign('{"seq": 5, "cmd": "restart"}', "another-secret-of-16+"),
              msg.replace('"mac":"', '"mac": "'),  # not the exact trailer
              '{"seq": 5, "cmd": "restart"}',  # no mac
              msg[:-3] + '0"}',
              "", "}", "not json at all" + msg[-74:]]
    for m in forged:
        h.remote.handle("wmbus/gw-1/command", m)
        h.remote.service()
    answers = h.answers()
    assert len(answers) == len(forged)
    for a in answers:
        assert a == {"seq": None, "ok": False, "errors": ["not authenticated"]}, a
    assert h.restarts == 0 and h.states == 0
    assert h.remote.counters["rejected_auth"] == len(forged)
    assert h.remote.last_seq == -1  # nothing accepted, nothing stored
    no_secret(h)


def test_authentic_but_not_a_command_object():
    h = Harness()
    for body in ('[1, 2]', '{"cmd": "state"}', '{"seq": "5", "cmd": "state"}'):
        msg = remote.sign(body, SECRET) if body[0] == "{" else None
        if msg is None:
            continue
        h.remote.execute(msg)
    assert h.remote.counters["rejected_auth"] == 2 and h.states == 0
    a = h.run({"seq": 3, "cmd": "format-flash"})
    assert a["ok"] is False and a["errors"][0].startswith("cmd: must be one of")
    assert h.remote.counters["refused"] == 1


def test_replay_and_old_seq_rejected_and_seq_persists():
    h = Harness()
    msg = remote.sign('{"seq": 10, "cmd": "state"}', SECRET)
    h.remote.execute(msg)
    h.remote.execute(msg)
    h.remote.execute(remote.sign('{"seq": 9, "cmd": "state"}', SECRET))
    a = h.answers()
    assert a[0]["ok"] is True
    assert a[1] == {"seq": 10, "ok": False, "errors": ["seq: must be greater than 10"]}
    assert a[2]["ok"] is False and h.states == 1
    assert h.remote.counters["rejected_replay"] == 2
    # A restarted gateway still knows seq 10 (the file, written before the command ran).
    with open(h.dir + "/seq") as f:
        assert f.read() == "10"
    h2 = Harness(d=h.dir, cfg=False)
    h2.remote.execute(msg)
    assert h2.answers()[-1]["ok"] is False and h2.states == 0
    assert h2.run({"seq": 11, "cmd": "state"})["ok"] is True


def test_restart_answers_first():
    h = Harness()
    order = []
    h.remote.publish = lambda t, p, r=False: order.append(("reply", json.loads(p)))
    h.remote.restart = lambda: order.append(("restart", None))
    h.remote.execute(remote.sign('{"seq": 1, "cmd": "restart"}', SECRET))
    assert order == [("reply", {"seq": 1, "ok": True, "restarting": True}),
                     ("restart", None)]


def test_invalid_config_refused_running_config_untouched():
    h = Harness()
    before = h.config_text()
    a = h.run({"seq": 1, "cmd": "config",
               "merge": {"mqtt": {"port": "eighty", "password": 12},
                         "meters": [{"id": "76348799", "key": "ZZ" + METER_KEY[2:]}]}})
    assert a["ok"] is False and a["seq"] == 1
    fields = " ".join(a["errors"])
    assert "mqtt.port" in fields and "mqtt.password" in fields and "meters[0].key" in fields
    assert "eighty" not in fields and METER_KEY[2:] not in fields
    assert h.config_text() == before and h.restarts == 0
    assert h.remote.counters["refused"] == 1
    no_secret(h)


def test_whole_invalid_config_refused():
    h = Harness()
    before = h.config_text()
    bad = good_config()
    del bad["radio"]
    bad["gateway_id"] = "gw 1/x"
    a = h.run({"seq": 1, "cmd": "config", "config": bad})
    assert a["ok"] is False
    assert [e.split(":")[0] for e in a["errors"]] == ["gateway_id", "radio.kind"]
    assert h.config_text() == before and h.restarts == 0


def test_valid_merge_written_then_restart():
    h = Harness()
    a = h.run({"seq": 2, "cmd": "config",
               "merge": {"publish": {"raw": False}, "mqtt": {"port": 8883},
                         "filters": {"manufacturer": ["KAM"]}, "wifi": {"password": None},
                         "extra": 1}})
    assert a == {"seq": 2, "ok": True, "restarting": True,
                 "warnings": ["extra: unknown field, ignored"]}
    assert h.restarts == 1
    cfg, errors = config.load(h.config_text())
    assert errors == []
    assert cfg.publish["raw"] is False and cfg.mqtt["port"] == 8883
    assert cfg.filters["manufacturer"] == ["KAM"]
    # What the merge did not name is kept: the broker password, the meter key, the secret.
    assert cfg.mqtt["password"].value == MQTT_PW and cfg.remote["secret"].value == SECRET
    assert cfg.keys()["76348799"] == unhex(METER_KEY)
    assert cfg.wifi["password"] is None  # null deletes
    assert not [n for n in os.listdir(h.dir) if n.endswith(".tmp")]
    no_secret(h)


def test_valid_whole_config_replaces():
    h = Harness()
    new = good_config()
    new["gateway_id"] = "gw-2"
    new["meters"] = []
    a = h.run({"seq": 3, "cmd": "config", "config": new})
    assert a["ok"] is True and h.restarts == 1
    cfg, errors = config.load(h.config_text())
    assert errors == [] and cfg.gateway_id == "gw-2" and cfg.meters == {}


def test_config_that_ends_remote_operation():
    h = Harness()
    before = h.config_text()
    a = h.run({"seq": 1, "cmd": "config", "merge": {"remote": None}})
    assert a["ok"] is False and a["errors"][0].startswith("remote: missing")
    a = h.run({"seq": 2, "cmd": "config", "merge": {"remote": {"secret": "short"}}})
    assert a["ok"] is False and a["errors"][0].startswith("remote.secret: must be")
    assert h.config_text() == before and h.restarts == 0
    a = h.run({"seq": 3, "cmd": "config", "merge": {"remote": None}, "disable_remote": True})
    assert a["ok"] is True and h.restarts == 1
    assert config.load(h.config_text())[0].remote is None


def test_config_command_shape():
    h = Harness()
    for body in ({"seq": 1, "cmd": "config"},
                 {"seq": 2, "cmd": "config", "config": {}, "merge": {}},
                 {"seq": 3, "cmd": "config", "merge": [1]}):
        assert h.run(body)["ok"] is False
    # A merge needs a readable current file; a whole document does not.
    with open(h.config_path, "w") as f:
        f.write("{broken")
    assert h.run({"seq": 4, "cmd": "config", "merge": {}})["errors"][0].startswith(
        "config: the current one is unreadable")
    assert h.run({"seq": 5, "cmd": "config", "config": good_config()})["ok"] is True
    assert h.restarts == 1


def test_update_calls_updater_and_reports():
    calls = []

    def updater(url, digest, tick):
        calls.append((url, digest))
        if len(calls) == 1:
            return None, ["lib/gateway.mpy: sha256 does not match the manifest"]
        return "1.4.0", []

    h = Harness(updater=updater)
    sha = "ab" * 32
    a = h.run({"seq": 1, "cmd": "update", "url": "http://10.0.0.2:8000/b/",
               "manifest_sha256": sha})
    assert a == {"seq": 1, "ok": False,
                 "errors": ["lib/gateway.mpy: sha256 does not match the manifest"]}
    assert h.answers()[-2] == {"seq": 1, "ok": True, "errors": [], "downloading": True}
    assert h.restarts == 0
    a = h.run({"seq": 2, "cmd": "update", "url": "http://10.0.0.2:8000/b/",
               "manifest_sha256": sha})
    assert a == {"seq": 2, "ok": True, "version": "1.4.0", "restarting": True}
    assert h.restarts == 1 and calls[1] == ("http://10.0.0.2:8000/b/", sha)
    # A malformed command never reaches the updater.
    a = h.run({"seq": 3, "cmd": "update", "url": "ftp://x/", "manifest_sha256": "AB" * 32})
    assert a["ok"] is False and len(a["errors"]) == 2 and len(calls) == 2


def test_update_without_updater_refused():
    h = Harness()
    a = h.run({"seq": 1, "cmd": "update", "url": "http://x/", "manifest_sha256": "0" * 64})
    assert a["errors"] == ["update: not available on this gateway"]


def test_handle_defers_and_filters_topic():
    h = Harness()
    msg = remote.sign('{"seq": 1, "cmd": "state"}', SECRET)
    assert not h.remote.handle("wmbus/gw-1/state", msg)
    second = remote.sign('{"seq": 2, "cmd": "state"}', SECRET)
    assert h.remote.handle("wmbus/gw-1/command", msg)
    assert h.remote.handle(b"wmbus/gw-1/command", second)  # two in a row: both kept
    for _ in range(remote.MAX_PENDING - 2):
        assert h.remote.handle(b"wmbus/gw-1/command", second)
    assert not h.remote.handle(b"wmbus/gw-1/command", second)  # one too many: dropped
    assert h.sent == [] and h.states == 0  # nothing done inside the MQTT callback
    assert h.remote.service() and h.remote.service()  # oldest first, one per pass
    assert h.states == 2 and h.remote.counters["dropped"] == 1


def test_oversized_command_rejected():
    h = Harness()
    h.remote.max_bytes = 200
    big = {"seq": 1, "cmd": "config", "merge": {"meters": [{"id": "%08d" % i}
                                                           for i in range(20)]}}
    a = h.run(big)
    assert a["errors"] == ["not authenticated"] and h.remote.counters["rejected_auth"] == 1


def test_bytes_secret_and_config_section():
    cfg, errors = config.load(good_config())
    assert errors == [] and cfg.remote["secret"].value == SECRET
    assert cfg.remote["confirm_s"] == 300
    assert cfg.redacted()["remote"]["secret"] == "***" and SECRET not in cfg.to_json()
    d = good_config()
    d["remote"]["secret"] = "too-short"
    cfg, errors = config.load(d)
    assert cfg.remote is None and errors == [
        "remote.secret: must be a string of at least 16 characters"]
    d = good_config()
    del d["remote"]
    cfg, errors = config.load(d)
    assert cfg.remote is None and errors == [] and cfg.redacted()["remote"] is None
    h = Harness(secret=SECRET.encode())
    assert h.run({"seq": 1, "cmd": "state"})["ok"] is True
