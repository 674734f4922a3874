# cpython-only: runs tools/provision.py as a subprocess and needs `cryptography`
"""tools/provision.py: config.json from flags, prompts and Kamstrup KEM files; never a key in
any output; nothing written unless lib/config.py accepts the result."""

import base64
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

import provision

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOL = os.path.join(ROOT, "tools", "provision.py")
EXAMPLE = os.path.join(ROOT, "boards", "config.example.json")

# Test keys (made up): none of them may ever appear in stdout or stderr.
KEY_A = "5A1C0E9B77D2F3486AB1C0DE2F9E8D71"
KEY_B = "c3d2e1f00f1e2d3c4b5a69788796a5b4"
KEY_C = "00FF11EE22DD33CC44BB55AA66997788"
KEM_PASSWORD = "Kunde4711"
BASE_FLAGS = ["--gateway-id", "cellar-2", "--ssid", "home-net", "--wifi-password", "wifi-pw-1",
              "--broker-host", "broker.lan", "--broker-user", "gw", "--broker-password",
              "mqtt-pw-1", "--ca", "/certs/ca.pem", "--radio-kind", "cc1101"]


def run(*args, stdin=""):
    p = subprocess.run([sys.executable, TOOL] + list(args), input=stdin, capture_output=True,
                       text=True, cwd=ROOT, timeout=60)
    return p.returncode, p.stdout, p.stderr


def tmpdir():
    return tempfile.mkdtemp(prefix="provision-test-")


def assert_no_secret(text, *secrets):
    for s in secrets:
        for v in (s, s.upper(), s.lower()):
            assert v not in text, "a secret leaked into the output"


def all_keys():
    return (KEY_A, KEY_B, KEY_C, "0123456789ABCDEF0123456789ABCDE")


# ---------------------------------------------------------------------------------------------
# A KEM file made the way Kamstrup's are (../shared/docs/protocol.md §5.1, checked against
# wmbusmeters utils/kem-import.py, kem-extract.sh and XMLExtract.java):
# - W3C XML Encryption, <EncryptedData Type=".../xmlenc#aes128-cbc">, the ciphertext base64 in
#   <CipherData><CipherValue>;
# - AES-128-CBC, key = the password's UTF-8 bytes zero-padded to 16 bytes, IV = the same 16
#   bytes;
# - plaintext: <MetersInOrder><Meter> with MeterName, MeterNo, SerialNo, DEK (hex key), or
#   <Devices><Device> with ShortName, CustomerDeviceNumber, SerialNumber and the key in a Value.
# The padding follows XML Encryption (arbitrary bytes, the last one counts them).

def meter_xml(meters, layout="MetersInOrder"):
    parts = ['<?xml version="1.0" encoding="utf-8"?>']
    if layout == "MetersInOrder":
        parts.append("<MetersInOrder>")
        for serial, number, key in meters:
            parts.append("<Meter><MeterName>MC21</MeterName><ConsumptionType>Water"
                         "</ConsumptionType><MeterNo>%s</MeterNo><SerialNo>%s</SerialNo>"
                         "<VendorId>KAM</VendorId><ConfigNo>1</ConfigNo><TypeNo>021</TypeNo>"
                         "<DEK>%s</DEK></Meter>" % (number, serial, key))
        parts.append("</MetersInOrder>")
    else:
        parts.append("<Devices>")
        for serial, number, key in meters:
            # A Value that is not the key comes first: the key is the one of 32 hex digits.
            parts.append("<Device><ShortName>flowIQ2200</ShortName><ConsumptionType><Value>"
                         "Water</Value></ConsumptionType><CustomerDeviceNumber>%s"
                         "</CustomerDeviceNumber><SerialNumber>%s</SerialNumber>"
                         "<EncryptionKeys><EncryptionKey><Value>%s</Value></EncryptionKey>"
                         "</EncryptionKeys></Device>" % (number, serial, key))
        parts.append("</Devices>")
    return "".join(parts).encode("utf-8")


def kem_encrypt(plain, password):
    key = password.encode("utf-8").ljust(16, b"\0")
    n = 16 - len(plain) % 16
    plain = plain + os.urandom(n - 1) + bytes([n])
    e = Cipher(algorithms.AES(key), modes.CBC(key)).encryptor()
    return e.update(plain) + e.finalize()


def write_kem(path, meters, password=KEM_PASSWORD, layout="MetersInOrder", as_zip=False):
    b64 = base64.b64encode(kem_encrypt(meter_xml(meters, layout), password)).decode()
    # Line breaks inside the base64, as in Kamstrup's files.
    wrapped = "\n".join(b64[i:i + 64] for i in range(0, len(b64), 64))
    doc = ('<?xml version="1.0" encoding="utf-8"?><EncryptedData '
           'Type="http://www.w3.org/2001/04/xmlenc#aes128-cbc" '
           'xmlns="http://www.w3.org/2001/04/xmlenc#"><EncryptionMethod '
           'Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc" /><CipherData><CipherValue>'
           '\n%s\n</CipherValue></CipherData></EncryptedData>' % wrapped)
    if as_zip:
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("meter_information_file.xsd", "<xs:schema/>")
            z.writestr("363A6D7848DF4882B0991674191A9B84.kem", doc)
    else:
        with open(path, "w") as f:
            f.write(doc)
    return path


KEM_METERS = [("76348799", "kitchen-cold", KEY_A), ("12345678", "bath-hot", KEY_B)]


def new_config(folder, *extra):
    path = os.path.join(folder, "config.json")
    rc, out, err = run("new", "--out", path, *(BASE_FLAGS + list(extra)))
    assert rc == 0, err
    return path


def load(path):
    with open(path) as f:
        return json.load(f)


def meters_by_id(doc):
    return {m["id"]: m for m in doc["meters"]}


# ---------------------------------------------------------------------------------------------
# The KEM format

def test_kem_key_is_password_zero_padded():
    assert provision.kem_key("Kunde4711") == b"Kunde4711" + bytes(7)
    assert provision.kem_key("0123456789abcdef") == b"0123456789abcdef"
    try:
        provision.kem_key("0123456789abcdefX")
        assert False, "a 17-byte password was accepted"
    except provision.ProvisionError as e:
        assert "16" in str(e)


def test_kem_round_trip_both_layouts_and_zip():
    d = tmpdir()
    try:
        for layout in ("MetersInOrder", "Devices"):
            for as_zip in (False, True):
                path = write_kem(os.path.join(d, "m.kem"), KEM_METERS, layout=layout,
                                 as_zip=as_zip)
                meters = provision.read_kem(path, KEM_PASSWORD)
                assert [(m["id"], m["name"], m["key"]) for m in meters] == [
                    ("76348799", "kitchen-cold", KEY_A), ("12345678", "bath-hot", KEY_B.upper())]
    finally:
        shutil.rmtree(d)


def test_kem_wrong_password_and_damaged_files():
    d = tmpdir()
    try:
        path = write_kem(os.path.join(d, "m.kem"), KEM_METERS)
        for pw in ("kunde4711", "Kunde471", "x"):
            try:
                provision.read_kem(path, pw)
                assert False, "wrong password accepted"
            except provision.ProvisionError as e:
                assert "wrong password" in str(e)
        with open(os.path.join(d, "plain.xml"), "wb") as f:
            f.write(meter_xml(KEM_METERS))
        for name, problem in (("plain.xml", "no CipherValue"), ("missing.kem", "KEM file")):
            try:
                provision.read_kem(os.path.join(d, name), KEM_PASSWORD)
                assert False
            except provision.ProvisionError as e:
                assert problem in str(e)
                assert_no_secret(str(e), KEY_A, KEY_B)
        # Ciphertext cut short: not whole AES blocks.
        with open(path) as f:
            text = f.read()
        start = text.index("<CipherValue>") + len("<CipherValue>")
        short = text[:start] + base64.b64encode(b"x" * 20).decode() + \
            text[text.index("</CipherValue>"):]
        with open(os.path.join(d, "short.kem"), "w") as f:
            f.write(short)
        try:
            provision.read_kem(os.path.join(d, "short.kem"), KEM_PASSWORD)
            assert False
        except provision.ProvisionError as e:
            assert "AES blocks" in str(e)
    finally:
        shutil.rmtree(d)


def test_kem_bad_meter_entries_rejected_without_quoting_keys():
    d = tmpdir()
    try:
        path = write_kem(os.path.join(d, "m.kem"),
                         [("76348799", "a", KEY_A), ("1234567890", "b", KEY_B),
                          ("11112222", "c", KEY_C[:30])])
        try:
            provision.read_kem(path, KEM_PASSWORD)
            assert False
        except provision.ProvisionError as e:
            assert "SerialNo" in str(e) and "11112222" in str(e) and "DEK" in str(e)
            assert_no_secret(str(e), *all_keys())
            assert_no_secret(str(e), KEY_C[:30])
    finally:
        shutil.rmtree(d)


# ---------------------------------------------------------------------------------------------
# The command line

def test_new_then_import_kem_keys_land_in_config_and_never_in_output():
    d = tmpdir()
    try:
        path = new_config(d, "--meter", "87654321:garden")
        kem = write_kem(os.path.join(d, "keys.kem"), KEM_METERS)
        rc, out, err = run("import-kem", "--config", path, "--kem", kem,
                           "--kem-password", KEM_PASSWORD)
        assert rc == 0, err
        assert "2 added" in out and "76348799 kitchen-cold (key set)" in out
        assert "87654321 garden (no key)" in out
        assert_no_secret(out + err, *all_keys())
        doc = load(path)
        m = meters_by_id(doc)
        assert m["76348799"]["key"].upper() == KEY_A and m["12345678"]["key"].upper() == \
            KEY_B.upper()
        assert "key" not in m["87654321"]
        cfg, errors = provision.gwconfig.load(doc)
        assert errors == []
        assert cfg.keys()["12345678"] == bytes.fromhex(KEY_B)
        # The file holds passwords and keys: owner only.
        assert os.stat(path).st_mode & 0o077 == 0
    finally:
        shutil.rmtree(d)


def test_new_with_import_kem_flag():
    d = tmpdir()
    try:
        kem = write_kem(os.path.join(d, "keys.kem"), KEM_METERS, layout="Devices", as_zip=True)
        path = os.path.join(d, "config.json")
        rc, out, err = run("new", "--out", path, *(BASE_FLAGS + [
            "--import-kem", kem, "--kem-password", KEM_PASSWORD]))
        assert rc == 0, err
        assert_no_secret(out + err, *all_keys())
        assert set(meters_by_id(load(path))) == {"76348799", "12345678"}
    finally:
        shutil.rmtree(d)


def test_wrong_kem_password_clear_error_and_no_write():
    d = tmpdir()
    try:
        path = new_config(d, "--meter", "87654321:garden:" + KEY_C)
        with open(path, "rb") as f:
            before = f.read()
        kem = write_kem(os.path.join(d, "keys.kem"), KEM_METERS)
        rc, out, err = run("import-kem", "--config", path, "--kem", kem,
                           "--kem-password", "not-it")
        assert rc == 1
        assert "wrong password" in err
        assert_no_secret(out + err, *all_keys())
        with open(path, "rb") as f:
            assert f.read() == before
        assert sorted(os.listdir(d)) == ["config.json", "keys.kem"]  # no temporary left over
        # The same for `new`: no file at all.
        other = os.path.join(d, "other.json")
        rc, out, err = run("new", "--out", other, *(BASE_FLAGS + [
            "--import-kem", kem, "--kem-password", "wrong"]))
        assert rc == 1 and "wrong password" in err and not os.path.exists(other)
    finally:
        shutil.rmtree(d)


def test_kem_password_from_prompt_when_not_given():
    d = tmpdir()
    try:
        path = new_config(d)
        kem = write_kem(os.path.join(d, "keys.kem"), KEM_METERS)
        asked = []

        def secret(prompt):
            asked.append(prompt)
            return KEM_PASSWORD
        console = provision.Console(ask=lambda p: "", secret=secret, say=asked.append)
        out = io.StringIO()
        stdout, sys.stdout = sys.stdout, out
        try:
            rc = provision.main(["import-kem", "--config", path, "--kem", kem], console)
        finally:
            sys.stdout = stdout
        assert rc == 0
        assert len(asked) == 1 and "password" in asked[0]
        assert len(load(path)["meters"]) == 2
        assert_no_secret(out.getvalue(), *all_keys())
    finally:
        shutil.rmtree(d)


def test_invalid_values_rejected_naming_the_field():
    d = tmpdir()
    try:
        path = new_config(d)
        with open(path, "rb") as f:
            before = f.read()
        cases = [
            (["add-meter", "--config", path, "--id", "1234567g", "--key", KEY_A],
             "meters[0].id: must be 8 hex digits"),
            (["add-meter", "--config", path, "--id", "123456789"], "meters[0].id"),
            (["add-meter", "--config", path, "--id", "11223344", "--key", KEY_A[:31]],
             "meters[0].key: must be 32 hex digits (meter 11223344)"),
            (["set", "--config", path, "--broker-port", "70000"],
             "mqtt.port: must be an integer 1-65535 (--broker-port)"),
            (["set", "--config", path, "--broker-port", "eighty"], "mqtt.port"),
            (["set", "--config", path, "--gateway-id", "a/b"], "gateway_id"),
            (["set", "--config", path, "--radio-kind", "sx1276"], "radio.kind: must be one of"),
            (["set", "--config", path, "--radio-mode", "S1"], "radio.mode"),
            (["set", "--config", path, "--prefix", "wmbus/#"], "mqtt.prefix"),
            (["set", "--config", path, "--cert", "/c.pem"], "mqtt.tls: cert and key go together"),
            (["set", "--config", path, "--no-tls", "--ca", "/ca.pem"], "mqtt.tls"),
        ]
        for args, expected in cases:
            rc, out, err = run(*args)
            assert rc == 1, (args, err)
            assert expected in err, (expected, err)
            assert "not written" in err or "--no-tls" in err
            assert_no_secret(out + err, *all_keys())
            assert_no_secret(out + err, KEY_A[:31])
            with open(path, "rb") as f:
                assert f.read() == before
        rc, out, err = run("new", "--out", os.path.join(d, "x.json"), "--broker-port", "70000")
        assert rc == 1
        for field in ("gateway_id: required (--gateway-id)", "wifi.ssid: required (--ssid)",
                      "mqtt.host: required", "radio.kind: required", "mqtt.port: must be"):
            assert field in err
        assert not os.path.exists(os.path.join(d, "x.json"))
    finally:
        shutil.rmtree(d)


def test_merge_keeps_existing_fields():
    d = tmpdir()
    try:
        path = os.path.join(d, "config.json")
        with open(EXAMPLE) as f:
            doc = json.load(f)
        doc["installer_note"] = "keep me"  # unknown to the gateway: a warning, but kept
        doc["meters"][0]["name"] = "cold water main"
        with open(path, "w") as f:
            json.dump(doc, f)
        kem = write_kem(os.path.join(d, "keys.kem"),
                        [("76348799", "from-kem", KEY_A), ("55554444", "new-one", KEY_C)])
        rc, out, err = run("import-kem", "--config", path, "--kem", kem,
                           "--kem-password", KEM_PASSWORD)
        assert rc == 0, err
        assert "1 added, 1 updated" in out
        assert "installer_note: unknown field" in err
        rc, out, err = run("add-meter", "--config", path, "--id", "87654321", "--key", KEY_B)
        assert rc == 0, err
        assert_no_secret(out + err, *all_keys())
        after = load(path)
        for field in ("gateway_id", "wifi", "mqtt", "radio", "filters", "publish",
                      "installer_note"):
            assert after[field] == doc[field], field
        m = meters_by_id(after)
        assert m["76348799"]["name"] == "cold water main"  # the existing name wins
        assert m["76348799"]["key"] == KEY_A  # the KEM key replaces the old one
        assert m["12345678"] == doc["meters"][1]
        assert m["87654321"]["name"] == "unencrypted meter" and m["87654321"]["key"] == \
            KEY_B.upper()
        assert m["55554444"] == {"id": "55554444", "name": "new-one", "key": KEY_C}
        assert [x["id"] for x in after["meters"]] == ["76348799", "12345678", "87654321",
                                                       "55554444"]
        # `set` changes one field and nothing else.
        rc, out, err = run("set", "--config", path, "--broker-port", "8884")
        assert rc == 0, err
        again = load(path)
        assert again["mqtt"]["port"] == 8884
        again["mqtt"]["port"] = after["mqtt"]["port"]
        assert again == after
    finally:
        shutil.rmtree(d)


def test_check_and_show_never_print_secrets():
    d = tmpdir()
    try:
        path = new_config(d, "--meter", "11223344:boiler:" + KEY_C)
        rc, out, err = run("check", path)
        assert rc == 0 and "ok" in out and "11223344 boiler (key set)" in out
        rc, out, err = run("show", path)
        assert rc == 0
        shown = json.loads(out[:out.rindex("}") + 1])
        assert shown["wifi"]["password"] == "***" and shown["mqtt"]["password"] == "***"
        assert shown["meters"][0]["key"] == "***"
        assert_no_secret(out + err, KEY_C, "wifi-pw-1", "mqtt-pw-1")
        with open(path, "w") as f:
            f.write('{"gateway_id": "x", "meters": [{"id": "1", "key": "%s"}]}' % KEY_C[:30])
        rc, out, err = run("check", path)
        assert rc == 1 and "wifi.ssid: required" in err and "meters[0].key" in err
        assert "(--ssid)" not in err  # a file, not flags: no flag hints
        assert_no_secret(out + err, KEY_C[:30])
        with open(path, "w") as f:
            f.write("{not json")
        rc, out, err = run("check", path)
        assert rc == 1 and "not valid JSON" in err
        rc, out, err = run("check", os.path.join(d, "missing.json"))
        assert rc == 1 and "missing.json" in err
    finally:
        shutil.rmtree(d)


def test_new_refuses_to_overwrite_without_force():
    d = tmpdir()
    try:
        path = new_config(d)
        rc, out, err = run("new", "--out", path, *BASE_FLAGS)
        assert rc == 1 and "exists" in err and "--force" in err
        rc, out, err = run("new", "--out", path, "--force", *(BASE_FLAGS[:-2] + [
            "--radio-kind", "im871a"]))
        assert rc == 0, err
        assert load(path)["radio"]["kind"] == "im871a"
    finally:
        shutil.rmtree(d)


def test_usage_errors_hide_hex():
    rc, out, err = run("add-meter", "--config", "x.json", "--id", "1", "--kee", KEY_A)
    assert rc == 2 and "usage" in err
    assert_no_secret(out + err, KEY_A)


# ---------------------------------------------------------------------------------------------
# Interactive use (the prompts replaced by scripted answers)

class Script:
    """Answers in order; records every prompt and message."""

    def __init__(self, answers, secrets):
        self.answers = list(answers)
        self.secrets = list(secrets)
        self.prompts = []
        self.said = []

    def ask(self, prompt):
        self.prompts.append(prompt)
        return self.answers.pop(0)

    def secret(self, prompt):
        self.prompts.append(prompt)
        return self.secrets.pop(0)

    def console(self):
        return provision.Console(ask=self.ask, secret=self.secret, say=self.said.append)


def test_interactive_new_checks_each_answer_and_never_shows_keys():
    d = tmpdir()
    try:
        path = os.path.join(d, "config.json")
        s = Script(
            answers=["bad id!", "attic",          # gateway id, re-asked after a bad one
                     "home-net",                   # SSID
                     "broker.lan",                 # broker
                     "y", "/certs/ca.pem",         # TLS with a CA
                     "70000", "",                  # port: rejected, then the default (8883)
                     "gw",                         # MQTT user
                     "",                           # prefix: the default
                     "cc1101", "",                 # radio kind, mode (default)
                     "76348799", "kitchen",        # a meter
                     "12345678", "",               # another, name = id
                     ""],                          # done
            secrets=["wifi-pw-1", "wifi-pw-1",     # WiFi password twice
                     "mqtt-pw-1", "mqtt-pw-1",     # MQTT password twice
                     KEY_A[:31], KEY_A, KEY_A.lower(),  # a short key refused, then confirmed
                     ""])                          # no key for the second meter
        out = io.StringIO()
        stdout, sys.stdout = sys.stdout, out
        try:
            rc = provision.main(["new", "--out", path, "-i"], s.console())
        finally:
            sys.stdout = stdout
        assert rc == 0, s.said
        doc = load(path)
        assert doc["gateway_id"] == "attic" and doc["mqtt"]["port"] == 8883
        assert doc["mqtt"]["tls"] == {"ca": "/certs/ca.pem"}
        assert doc["mqtt"]["prefix"] == "wmbus/attic" and doc["radio"]["mode"] == "C1+T1"
        m = meters_by_id(doc)
        assert m["76348799"]["key"] == KEY_A and "key" not in m["12345678"]
        assert any(x.startswith("gateway_id:") for x in s.said)
        assert any(x.startswith("mqtt.port: must be") for x in s.said)
        assert any("32 hex digits" in x for x in s.said)
        assert_no_secret("\n".join(s.prompts + s.said) + out.getvalue(), KEY_A, KEY_A[:31],
                         "wifi-pw-1", "mqtt-pw-1")
    finally:
        shutil.rmtree(d)


def test_add_meter_key_asked_without_echo():
    d = tmpdir()
    try:
        path = new_config(d)
        s = Script(answers=[], secrets=[KEY_B, "0" * 32, KEY_B, KEY_B])  # a mismatch first
        rc = provision.main(["add-meter", "--config", path, "--id", "1234", "--key"],
                            s.console())
        assert rc == 0
        m = meters_by_id(load(path))
        assert m["00001234"]["key"] == KEY_B.upper()
        assert any("differ" in x for x in s.said)
        assert_no_secret("\n".join(s.prompts + s.said), KEY_B)
    finally:
        shutil.rmtree(d)


def test_password_flag_without_value_asks_twice():
    d = tmpdir()
    try:
        path = new_config(d)
        s = Script(answers=[], secrets=["first-try", "frist-try", "new-mqtt-pw", "new-mqtt-pw"])
        rc = provision.main(["set", "--config", path, "--broker-password"], s.console())
        assert rc == 0
        assert load(path)["mqtt"]["password"] == "new-mqtt-pw"
        assert any("differ" in x for x in s.said)
        assert_no_secret("\n".join(s.prompts + s.said), "new-mqtt-pw", "first-try")
    finally:
        shutil.rmtree(d)
