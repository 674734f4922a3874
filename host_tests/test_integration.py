# cpython-only: drives the firmware on the MicroPython unix port against a real mosquitto.
"""The gateway end to end: CPython starts mosquitto and the firmware (boot.py, main.py, board
`host`: simulated radio, LittleFS image) on `micropython`, then checks what a consumer
subscribed to the broker receives. Needs mosquitto (.ci/run installs it) and `make host-mpy`
plus umqtt (`make test` builds both first)."""

import json
import os
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import gwproc  # noqa: E402
from mqtt_client import Subscriber  # noqa: E402
from wmbus import build  # noqa: E402

missing = gwproc.ready()
if missing:
    pytest.fail("integration tests cannot run: " + missing, pytrace=False)

KEY = bytes.fromhex("4F2A6C19E08B3D57A1C4E9F2306B8D15")
WATER = "24681357"  # a MULTICAL 21-like meter with KEY
HEAT = "13572468"  # a MULTICAL 403-like meter with KEY
WRONG = "11119999"  # configured with a key that is not its own
STRANGER = "55550000"  # not configured: a neighbour's meter
HEAP = "512K"  # code loaded from .mpy lives in the unix port's heap: README, "Code in the heap"


def water(litres, access, meter_id=WATER, key=KEY):
    recs = (("02FF20", 0), ("0413", litres), ("4413", 1000), ("615B", 12), ("6167", 8))
    return build.telegram(build.records(*recs), manufacturer="KAM", meter_id=meter_id,
                          version=0x1B, device_type=0x16, ci=0x78, ell=0x8D, key=key,
                          access_number=access & 0xFF)


def heat(kwh, access):
    recs = (("0406", kwh), ("0414", 2222), ("0259", 6000), ("025D", 4000))
    return build.telegram(build.records(*recs), manufacturer="KAM", meter_id=HEAT,
                          version=0x34, device_type=0x04, ci=0x78, ell=0x8D, key=KEY,
                          access_number=access & 0xFF)


def config(port, **publish):
    p = {"min_interval_s": 0, "repeat_window_s": 0, "raw": False}
    p.update(publish)
    return {"gateway_id": "it-1", "wifi": {"ssid": "unused on the host"},
            "mqtt": {"host": "127.0.0.1", "port": port, "tls": False},
            "radio": {"kind": "cc1101", "mode": "C1+T1"},
            "meters": [{"id": WATER, "name": "kitchen", "key": KEY.hex()},
                       {"id": HEAT, "name": "heating", "key": KEY.hex()},
                       {"id": WRONG, "name": "cellar", "key": "00" * 16}],
            "publish": p}


def line(frame, delay, mode=""):
    """A scenario line. Scenarios start after 2 s: while the gateway starts (TLS handshake,
    first connect) it does not poll the radio, and a frame on air then is lost as on a device."""
    return ("%s %s %s" % (frame.hex(), delay, mode)).strip()


def readings(sub, meter_id=WATER):
    return [json.loads(p) for _t, p, _r in sub.where("/meter/" + meter_id)]


def test_readings_arrive_decoded_and_state_shows_what_is_wrong():
    d = gwproc.workdir()
    broker = gwproc.Broker(d)
    sub = Subscriber(broker.port)
    scenario = [line(water(1000, 1), 2), line(heat(4321, 1), 0.2, "T1"),
                line(water(5, 1, WRONG), 0.2), line(water(7, 1, STRANGER, bytes(16)), 0.2),
                line(water(1003, 2), 0.2, "C1A")]
    gw = gwproc.Gateway(d, config(broker.port, raw=True), scenario, heap=HEAP,
                        broker_port=broker.port)
    try:
        got = sub.wait_for(lambda m: len(readings(sub)) >= 2 and readings(sub, HEAT), 30)
        assert got, gw.output()
        w = readings(sub)
        assert [r["total_m3"] for r in w] == [1.0, 1.003]
        assert w[0]["name"] == "kitchen" and w[0]["meter"] == "kamwater"
        assert w[0]["gateway"] == "it-1" and len(w[0]["fingerprint"]) == 16
        assert w[0]["timestamp"].endswith("Z") and -100 < w[0]["rssi_dbm"] < -40
        h = readings(sub, HEAT)[0]
        assert h["total_energy_consumption_kwh"] == 4321 and h["meter"] == "kamheat"
        # Raw: the same telegram, as heard, with its fingerprint.
        raw = [json.loads(p) for _t, p, _r in sub.where("/raw/" + WATER)]
        assert bytes.fromhex(raw[0]["hex"]) == water(1000, 1)
        assert raw[0]["fingerprint"] == w[0]["fingerprint"]
        # Privacy and wrong keys: nothing decoded for them; state says what it saw.
        assert readings(sub, WRONG) == [] and readings(sub, STRANGER) == []
        assert sub.where("/raw/" + STRANGER) == []
        # (Telegrams are decoded when published: a state once all stored ones are
        # acknowledged has seen them all.)
        def drained(p):
            s = json.loads(p)
            return s["counters"]["received"] >= 5 and \
                s["spool"]["acked"] >= s["counters"]["stored"]

        state = sub.wait_for(lambda m: [json.loads(p) for t, p, _r in m
                                        if t == "wmbus/it-1/state" and drained(p)], 15)
        st = state[-1]
        assert st["meters_key_problem"] == [WRONG]
        assert st["unknown_meters"][STRANGER]["manufacturer"] == "KAM"
        assert st["decode_errors"]["decrypt_failed"] >= 1
        assert st["radio"]["frames"] >= 5 and st["spool"]["depth"] == 0
        # Availability and discovery, retained.
        assert (b"online" in [p for _t, p, r in sub.where("wmbus/it-1/status")])
        disc = {t: json.loads(p) for t, p, r in sub.where("homeassistant/sensor/wmbus_" + WATER)}
        total = disc["homeassistant/sensor/wmbus_%s/total_m3/config" % WATER]
        assert total["device_class"] == "water" and total["unit_of_measurement"] == "m³"
        # No key anywhere.
        everything = b"".join(p for _t, p, _r in sub.messages) + gw.output().encode()
        assert KEY.hex().encode() not in everything.lower()
    finally:
        gw.stop()
        sub.close()
        broker.stop()


def test_broker_down_60_s_nothing_lost():
    d = gwproc.workdir()
    broker = gwproc.Broker(d)
    frames = [water(2000 + i, i) for i in range(150)]  # one every 0.5 s: 75 s of telegrams
    # An iM871A (a UART module buffers while the gateway reconnects and drains): what is
    # measured here is the spool and the MQTT side; the CC1101's own budget is make bench's.
    gw = gwproc.Gateway(d, config(broker.port), [line(frames[0], 2)] +
                        [line(f, 0.5) for f in frames[1:]], heap=HEAP, radio="im871a",
                        broker_port=broker.port, env={"WMBUS_QUIET": ""})
    sub = Subscriber(broker.port)
    try:
        assert sub.wait_for(lambda m: readings(sub), 20), gw.output()
        broker.stop()  # first: what the broker acknowledged until now, the subscriber has
        time.sleep(0.5)
        before = {r["total_m3"] for r in readings(sub)}  # delivered before the outage
        sub.close()
        time.sleep(60)
        assert gw.alive(), gw.output()
        broker.start()
        sub = Subscriber(broker.port)
        # Everything not delivered before the outage arrives after it.
        got = sub.wait_for(
            lambda m: len(before | {r["total_m3"] for r in readings(sub)}) >= 150, 90)
        totals = before | {r["total_m3"] for r in readings(sub)}
        first_missing = [2000 + i for i in range(150) if (2000 + i) / 1000 not in totals]
        assert got, "not delivered after the outage: %s\n%s" % (first_missing, gw.output())
        assert "mqtt: connected" in gw.output()
    finally:
        gw.stop()
        sub.close()
        broker.stop()


def _waiting(gw):
    """The spool depth the gateway reports at start ("spool N telegrams waiting")."""
    assert gw.wait_output("telegrams waiting", 20), gw.output()
    out = gw.output()
    return int(out[:out.index(" telegrams waiting")].rsplit(" ", 1)[1])


def test_sigkill_loses_no_spooled_telegram():
    # An iM871A: a UART module buffers while the gateway is busy, so the radio loses nothing
    # here and every telegram sent reaches the spool (the CC1101's budget: make bench).
    d = gwproc.workdir()
    broker = gwproc.Broker(d)
    broker.stop()  # the broker is away: everything stays in the flash spool
    first = [water(3000 + i, i) for i in range(40)]
    gw = gwproc.Gateway(d, config(broker.port), [line(first[0], 2)] +
                        [line(f, 0.1) for f in first[1:]], heap=HEAP, radio="im871a",
                        broker_port=broker.port)
    try:
        time.sleep(14)  # all received, the last batch flushed (batches flush within 5 s)
        assert gw.alive(), gw.output()
    finally:
        gw.kill()
    # Killed again, this time in the middle of a burst: whatever was flushed stays whole.
    more = [water(4000 + i, 40 + i) for i in range(120)]
    gw = gwproc.Gateway(d, config(broker.port), [line(more[0], 2)] +
                        [line(f, 0.05) for f in more[1:]], image=gw.image, heap=HEAP,
                        radio="im871a", broker_port=broker.port)
    try:
        assert _waiting(gw) == 40
        time.sleep(7)  # the burst (2 s to 8 s) half way: one batch of 64 flushed
    finally:
        gw.kill()
    broker.start()
    sub = Subscriber(broker.port)
    gw = gwproc.Gateway(d, config(broker.port), [], image=gw.image, heap=HEAP,
                        broker_port=broker.port)
    try:
        stored = _waiting(gw)
        assert 40 < stored < 160, gw.output()  # the second burst was cut short
        got = sub.wait_for(lambda m: len(readings(sub)) >= stored, 60)
        totals = [r["total_m3"] for r in readings(sub)]
        assert got, gw.output()
        # Oldest first, each exactly as sent, none missing: the first run's 40, then the
        # first (stored - 40) telegrams of the burst.
        assert totals == [(3000 + i) / 1000 for i in range(40)] + \
            [(4000 + i) / 1000 for i in range(stored - 40)]
    finally:
        gw.stop()
        sub.close()
        broker.stop()


def _tls_files(d):
    """A CA and a server certificate for 127.0.0.1, made with `cryptography`."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def cert(subject, issuer, key, issuer_key, ca):
        b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
             .public_key(key.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(now - datetime.timedelta(days=1))
             .not_valid_after(now + datetime.timedelta(days=30))
             .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if not ca:
            b = b.add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
                critical=False)
        return b.sign(issuer_key, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "wmbus test CA")])
    ca = cert(ca_name, ca_name, ca_key, ca_key, True)
    key = ec.generate_private_key(ec.SECP256R1())
    srv = cert(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]), ca_name,
               key, ca_key, False)
    paths = {}
    for name, data in (("ca.pem", ca.public_bytes(serialization.Encoding.PEM)),
                       ("server.pem", srv.public_bytes(serialization.Encoding.PEM)),
                       ("server.key", key.private_bytes(
                           serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                           serialization.NoEncryption()))):
        paths[name] = os.path.join(d, name)
        with open(paths[name], "wb") as f:
            f.write(data)
    return paths


def test_tls_and_authentication():
    import subprocess

    d = gwproc.workdir()
    files = _tls_files(d)
    pwfile = os.path.join(d, "passwords")
    open(pwfile, "w").close()
    subprocess.run(["mosquitto_passwd", "-b", pwfile, "gateway", "s3cret-Pw"], check=True)
    os.chmod(pwfile, 0o600)
    tls_port = gwproc.free_port()
    broker = gwproc.Broker(d, extra=(
        "password_file %s\nallow_anonymous false\n"
        "listener %d 127.0.0.1\ncafile %s\ncertfile %s\nkeyfile %s\n"
        % (pwfile, tls_port, files["ca.pem"], files["server.pem"], files["server.key"])))
    sub = Subscriber(broker.port, user="gateway", password="s3cret-Pw")
    cfg = config(tls_port)
    cfg["mqtt"].update({"tls": {"ca": files["ca.pem"]}, "user": "gateway",
                        "password": "s3cret-Pw"})
    gw = gwproc.Gateway(d, cfg, [line(water(5000, 1), 2)], heap=HEAP)
    try:
        assert sub.wait_for(lambda m: readings(sub), 30), gw.output()
        assert readings(sub)[0]["total_m3"] == 5.0
    finally:
        gw.stop()
    # A wrong password: refused, said so on the console, never the password itself.
    cfg["mqtt"]["password"] = "wrong-Pw-123"
    gw = gwproc.Gateway(d, cfg, [line(water(5001, 2), 2)], heap=HEAP)
    try:
        # CONNACK 4 (bad user name or password) or 5 (not authorized: mosquitto 2.0's answer)
        assert gw.wait_output("mqtt: broker refused:", 20), gw.output()
        assert "wrong-Pw-123" not in gw.output()
    finally:
        gw.stop()
    # A CA that did not sign the broker's certificate: no connection.
    other = _tls_files(gwproc.workdir())
    cfg["mqtt"].update({"password": "s3cret-Pw", "tls": {"ca": other["ca.pem"]}})
    gw = gwproc.Gateway(d, cfg, [line(water(5002, 3), 2)], heap=HEAP)
    try:
        time.sleep(4)
        assert "mqtt: connected" not in gw.output() and "mqtt:" in gw.output(), gw.output()
        assert len(readings(sub)) == 1
    finally:
        gw.stop()
        sub.close()
        broker.stop()


def test_bad_config_names_the_field_and_the_rest_works():
    d = gwproc.workdir()
    broker = gwproc.Broker(d)
    sub = Subscriber(broker.port)
    cfg = config(broker.port)
    cfg["meters"].append({"id": "1234567X", "name": "typo", "key": KEY.hex()})
    cfg["meters"].append({"id": "87654321", "name": "short key", "key": KEY.hex()[:30]})
    cfg["publish"]["min_interval_s"] = "often"
    gw = gwproc.Gateway(d, cfg, [line(water(6000, 1), 2)], heap=HEAP,
                        broker_port=broker.port)
    try:
        assert sub.wait_for(lambda m: readings(sub), 30), gw.output()
        out = gw.output()
        assert "config: meters[3].id:" in out and "config: meters[4].key:" in out
        assert "config: publish.min_interval_s:" in out
        assert KEY.hex()[:30] not in out.lower()
        st = sub.wait_for(lambda m: [json.loads(p) for t, p, _r in m if t == "wmbus/it-1/state"])
        assert any("meters[4].key" in e for e in st[-1]["config_errors"])
    finally:
        gw.stop()
        sub.close()
        broker.stop()


def test_unreadable_config_is_reported_and_the_radio_still_spools():
    d = gwproc.workdir()
    gw = gwproc.Gateway(d, "{ this is not json", [line(water(7000, 1), 0.2)], heap=HEAP)
    try:
        assert gw.wait_output("config: config.json:", 20), gw.output()
        time.sleep(3)
        assert gw.alive(), gw.output()
    finally:
        gw.stop()


def test_remote_configuration_checked_before_it_is_applied():
    sys.path.insert(0, os.path.join(gwproc.ROOT, "tools"))
    import bundle

    secret = "integration-test-secret-0123"
    d = gwproc.workdir()
    broker = gwproc.Broker(d)
    sub = Subscriber(broker.port)
    cfg = config(broker.port)
    cfg["remote"] = {"secret": secret}
    gw = gwproc.Gateway(d, cfg, [line(water(8000, 1), 2)], heap=HEAP, broker_port=broker.port)
    cfg_path = os.path.join(d, "config.json")
    try:
        assert sub.wait_for(lambda m: readings(sub), 30), gw.output()
        with open(cfg_path) as f:
            before = f.read()

        def replies():
            return [json.loads(p) for _t, p, _r in sub.where("wmbus/it-1/state/command")]

        # Forged: a wrong secret. Refused, nothing said about why beyond that.
        sub.publish("wmbus/it-1/command", bundle.sign({"cmd": "state"}, "not-the-secret-0000",
                                                      seq=1))
        # Invalid: a port out of range. Refused with the field named; the file untouched.
        sub.publish("wmbus/it-1/command", bundle.sign(
            {"cmd": "config", "merge": {"mqtt": {"port": 70000}}}, secret, seq=2))
        got = sub.wait_for(lambda m: [r for r in replies() if r["seq"] == 2], 20)
        assert got, gw.output()
        assert replies()[0] == {"ok": False, "seq": None, "errors": ["not authenticated"]}
        refused = got[0]
        assert not refused["ok"]
        assert any("mqtt.port" in e for e in refused["errors"]), replies()
        with open(cfg_path) as f:
            assert f.read() == before
        assert gw.alive()
        # Valid: applied, and the gateway restarts into it (the host board exits with 75).
        sub.publish("wmbus/it-1/command", bundle.sign(
            {"cmd": "config", "merge": {"publish": {"raw": True}}}, secret, seq=3))
        assert sub.wait_for(lambda m: [r for r in replies() if r["seq"] == 3 and r["ok"]], 20), \
            gw.output()
        gw.proc.wait(20)
        assert gw.proc.returncode == 75, gw.output()
        with open(cfg_path) as f:
            assert json.load(f)["publish"]["raw"] is True
        assert secret not in "".join(p.decode(errors="replace") for _t, p, _r in sub.messages)
    finally:
        gw.stop()
        sub.close()
        broker.stop()
