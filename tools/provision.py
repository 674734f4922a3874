#!/usr/bin/env python3
"""provision: write and check the gateway's config.json on the host (CPython).

    tools/provision.py new [--out config.json] [-i] [--gateway-id ID] [--ssid S] [--wifi-password]
        [--broker-host H] [--broker-port N] [--broker-user U] [--broker-password]
        [--tls | --no-tls] [--ca PATH] [--prefix P] [--radio-kind K] [--radio-mode M]
        [--meter ID[:NAME[:KEY]] ...] [--import-kem FILE [--kem-password]]
    tools/provision.py set --config PATH [any of the flags of `new`]
    tools/provision.py add-meter --config PATH --id ID [--name NAME] [--key [HEX]]
    tools/provision.py import-kem --config PATH --kem FILE [--kem-password [PW]]
                                  (--import-kem FILE is the same as --kem FILE)
    tools/provision.py check CONFIG
    tools/provision.py show CONFIG

The rules are the gateway's own: every result goes through lib/config.py's `load`, and nothing
is written unless it passes. A file is replaced atomically (a temporary file beside it, then a
rename), so a failed run leaves it as it was; fields this tool does not know are kept.

Secrets: a password or key flag given without a value is asked for with getpass (no echo); a
meter key is never printed, not in prompts, summaries or errors ("12345678 kitchen (key set)").
Exit status: 0 ok, 1 an invalid value or a file that cannot be used, 2 usage.
"""

import argparse
import base64
import getpass
import json
import os
import re
import sys
import tempfile
import zipfile
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))

import config as gwconfig  # noqa: E402  (lib/config.py, the validator the firmware runs)

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes  # noqa: E402

ASK = object()  # a secret flag given without a value: ask for it without echo
HEX_RUN = re.compile(r"[0-9A-Fa-f]{16,}")


class ProvisionError(Exception):
    """One line for the user: names the field or file, never contains a key or password."""


class Parser(argparse.ArgumentParser):
    def error(self, message):
        # argparse quotes the arguments it rejects; one of them may be a key.
        self.print_usage(sys.stderr)
        self.exit(2, "%s: error: %s\n" % (self.prog, HEX_RUN.sub("<hex hidden>", message)))


# ---------------------------------------------------------------------------------------------
# Kamstrup KEM files (../shared/docs/protocol.md §5.1)
#
# A KEM file is W3C XML Encryption (xmlenc#aes128-cbc): an <EncryptedData> whose
# <CipherData><CipherValue> holds base64 AES-128-CBC ciphertext. The key is the password's bytes
# zero-padded to 16, and the IV is that same key (wmbusmeters utils/kem-import.py,
# kem-extract.sh and XMLExtract.java agree). Kamstrup's download is often a zip ("*.zip.kem")
# holding the .kem (or .kem2, the signed variant) next to an .xsd schema.
# The plaintext is a meter list: <MetersInOrder><Meter> with SerialNo, MeterNo, MeterName, DEK
# (the key in hex), or <Devices><Device> with SerialNumber, CustomerDeviceNumber, ShortName and
# the key in a <Value>.

AES_BLOCK = 16


def kem_key(password):
    """The AES-128 key (and IV) of a KEM file: the password's UTF-8 bytes, zero-padded to 16."""
    raw = password.encode("utf-8")
    if not raw:
        raise ProvisionError("KEM password: empty")
    if len(raw) > AES_BLOCK:
        # The key is the password itself: Kamstrup's tools allow at most 16 characters.
        raise ProvisionError("KEM password: longer than 16 bytes, cannot be a KEM password")
    return raw + bytes(AES_BLOCK - len(raw))


def _local(tag):
    return tag.rsplit("}", 1)[-1]


def kem_ciphertext(data):
    """The CipherValue of a KEM file's bytes (the file itself or a zip holding it)."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError:
        raise ProvisionError("KEM file: not XML (nor a zip holding a .kem file)")
    for el in root.iter():
        if _local(el.tag) == "CipherValue":
            try:
                return base64.b64decode("".join((el.text or "").split()), validate=True)
            except ValueError:
                raise ProvisionError("KEM file: CipherValue is not base64")
    raise ProvisionError("KEM file: no CipherValue element (not an encrypted KEM file?)")


def kem_decrypt(ciphertext, password):
    """The plaintext XML of a KEM file as text; ProvisionError when the password is wrong."""
    if not ciphertext or len(ciphertext) % AES_BLOCK:
        raise ProvisionError("KEM file: CipherValue is not whole AES blocks (damaged file?)")
    key = kem_key(password)
    d = Cipher(algorithms.AES(key), modes.CBC(key)).decryptor()
    plain = d.update(ciphertext) + d.finalize()
    # XML Encryption padding: the last byte counts the padding bytes (1-16), the others are
    # arbitrary. PKCS#7 is a special case of it.
    n = plain[-1]
    if 1 <= n <= AES_BLOCK:
        plain = plain[:-n]
    wrong = ProvisionError("KEM file: cannot decrypt it with this password (wrong password?)")
    try:
        text = plain.decode("utf-8")
    except UnicodeDecodeError:
        raise wrong
    # Tolerate padding that did not follow the rule: NULs or control bytes after the XML.
    text = text.rstrip("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10 \t\r\n")
    if "<" not in text[:64]:
        raise wrong
    return text


def _child_text(el, names, want=None):
    """The first non-empty text of a descendant named one of `names` (and passing `want`)."""
    for sub in el.iter():
        if _local(sub.tag) in names and sub.text and sub.text.strip():
            if want is None or want(sub.text.strip()):
                return sub.text.strip()
    return None


def _is_key(text):
    return re.fullmatch(r"[0-9A-Fa-f]{32}", text) is not None


def _serial_to_id(serial):
    # Printed as xxxxxxxx/WW/yy on the meter (serial / device code / year): the wM-Bus id is
    # the 8-digit serial number, sent unencrypted in the A field.
    s = serial.split("/", 1)[0].strip()
    if s.isdigit() and len(s) <= 8:
        return s.rjust(8, "0")
    return None


def kem_meters(text):
    """[{"id", "name", "key"}] of a decrypted KEM meter list."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        raise ProvisionError("KEM file: cannot decrypt it with this password (wrong password?)")
    kind = _local(root.tag)
    if kind == "MetersInOrder":
        entries, serial, number, model, key = "Meter", ("SerialNo",), ("MeterNo",), \
            ("MeterName",), ("DEK",)
    elif kind == "Devices":
        entries, serial, number, model, key = "Device", ("SerialNumber",), \
            ("CustomerDeviceNumber",), ("ShortName",), ("Value",)
    else:
        raise ProvisionError("KEM file: decrypted, but holds no meter list (root element %s)"
                             % kind[:40])
    meters = []
    problems = []
    for i, el in enumerate(e for e in root.iter() if _local(e.tag) == entries):
        sn = _child_text(el, serial)
        mid = _serial_to_id(sn) if sn else None
        if mid is None:
            problems.append("KEM meter %d: %s missing or not an 8-digit serial number"
                            % (i + 1, serial[0]))
            continue
        k = _child_text(el, key, _is_key)
        if k is None:
            problems.append("KEM meter %s: %s missing or not 32 hex digits" % (mid, key[0]))
            continue
        name = _child_text(el, number) or _child_text(el, model)
        meters.append({"id": mid, "name": name, "key": k.upper()})
    if problems:
        raise ProvisionError("; ".join(problems))
    if not meters:
        raise ProvisionError("KEM file: the meter list is empty")
    return meters


def read_kem(path, password):
    """The meters of a KEM file (or a zip holding one); ProvisionError on any problem."""
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as z:
                names = [n for n in z.namelist() if n.lower().endswith((".kem", ".kem2"))]
                if not names:
                    raise ProvisionError("KEM file %s: a zip without a .kem file in it" % path)
                data = z.read(names[0])
        else:
            with open(path, "rb") as f:
                data = f.read()
    except OSError as e:
        raise ProvisionError("KEM file %s: %s" % (path, e.strerror or e))
    return kem_meters(kem_decrypt(kem_ciphertext(data), password))


# ---------------------------------------------------------------------------------------------
# The configuration document (the parsed JSON, kept as it is apart from what we change)

# Where a field comes from on the command line, named in its error messages.
FLAGS = {"gateway_id": "--gateway-id", "wifi.ssid": "--ssid", "wifi.password": "--wifi-password",
         "mqtt.host": "--broker-host", "mqtt.port": "--broker-port",
         "mqtt.user": "--broker-user", "mqtt.password": "--broker-password",
         "mqtt.tls": "--tls/--no-tls/--ca/--cert/--cert-key", "mqtt.prefix": "--prefix",
         "radio.kind": "--radio-kind", "radio.mode": "--radio-mode"}


def id_input(s):
    """A meter id as typed: digits only and fewer than 8 get their leading zeros back."""
    s = s.strip()
    return s.rjust(8, "0") if s.isdigit() and len(s) < 8 else s


def meter_id(v):
    """A meter id as lib/config normalises it, or None."""
    if type(v) is int and 0 <= v <= 99999999:
        return "%08d" % v
    if type(v) is str and re.fullmatch(r"[0-9A-Fa-f]{8}", v):
        return v.lower()
    return None


def validate(doc, flags=True):
    """(Config, errors) of lib/config.load, each error naming its meter id and (`flags`) the
    command-line flag that sets the field."""
    cfg, errors = gwconfig.load(doc)
    meters = doc.get("meters") if type(doc.get("meters")) is list else []
    out = []
    for e in errors:
        field = e.split(":", 1)[0]
        m = re.match(r"meters\[(\d+)\]", field)
        if field in FLAGS and flags:
            e += " (" + FLAGS[field] + ")"
        elif m and int(m.group(1)) < len(meters) and type(meters[int(m.group(1))]) is dict:
            mid = meters[int(m.group(1))].get("id")
            if meter_id(mid) is not None:
                e += " (meter %s)" % meter_id(mid)
        out.append(e)
    return cfg, out


def summary(cfg):
    """"3 meters: 12345678 kitchen (key set), ...": never a key."""
    keys = cfg.keys()
    parts = []
    for mid in sorted(cfg.meters):
        name = cfg.meters[mid]
        parts.append("%s%s (%s)" % (mid, "" if name == mid else " " + name,
                                    "key set" if mid in keys else "no key"))
    n = len(parts)
    return "%d meter%s%s" % (n, "" if n == 1 else "s", (": " + ", ".join(parts)) if n else "")


def merge_meters(doc, meters):
    """Add `meters` ([{"id", "name", "key"}]) to doc["meters"]: a known id gets the new key
    (and a name if it had none), its other fields stay. Returns (added, updated) counts."""
    if doc.get("meters") is None:
        doc["meters"] = []
    if type(doc["meters"]) is not list:
        raise ProvisionError("meters: must be a list (fix the file first)")
    index = {}
    for entry in doc["meters"]:
        if type(entry) is dict and meter_id(entry.get("id")) is not None:
            index[meter_id(entry.get("id"))] = entry
    added = updated = 0
    for m in meters:
        mid = meter_id(m["id"]) or m["id"]
        entry = index.get(mid)
        if entry is None:
            entry = {"id": m["id"]}
            if m.get("name"):
                entry["name"] = m["name"]
            doc["meters"].append(entry)
            index[mid] = entry
            added += 1
        else:
            if m.get("name") and not entry.get("name"):
                entry["name"] = m["name"]
            updated += 1
        if m.get("key") is not None:
            entry["key"] = m["key"]
    return added, updated


def read_doc(path):
    try:
        with open(path, "rb") as f:
            text = f.read()
    except OSError as e:
        raise ProvisionError("%s: %s" % (path, e.strerror or e))
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        # Line and column only, never the content.
        raise ProvisionError("%s: not valid JSON (%s at line %d column %d)"
                             % (path, e.msg, e.lineno, e.colno))
    except ValueError:
        raise ProvisionError("%s: not valid JSON (not UTF-8 text)" % path)
    if type(doc) is not dict:
        raise ProvisionError("%s: must be a JSON object" % path)
    return doc


def write_doc(path, doc):
    """Replace `path` atomically: the whole new file or the old one, never half of either."""
    path = os.path.abspath(path)
    folder = os.path.dirname(path)
    try:
        mode = os.stat(path).st_mode & 0o777
    except OSError:
        mode = 0o600  # it holds the WiFi and broker passwords and the meter keys
    fd, tmp = tempfile.mkstemp(prefix=".config-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:  # the rename itself reaches the disk with the directory
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


# ---------------------------------------------------------------------------------------------
# Asking (replaceable in tests)

class Console:
    """Prompts on the terminal: `ask` echoes, `secret` does not (getpass)."""

    def __init__(self, ask=None, secret=None, say=None):
        self._ask = ask or input
        self._secret = secret or getpass.getpass
        self.say = say or (lambda text: print(text, file=sys.stderr))

    def ask(self, prompt, default=None):
        shown = prompt + (" [%s]" % default if default not in (None, "") else "") + ": "
        answer = self._ask(shown).strip()
        return answer if answer else default

    def secret(self, prompt):
        return self._secret(prompt + ": ")


def _field_errors(doc, path):
    _, errors = validate(doc)
    return [e for e in errors if e.startswith(path + ":") or e.startswith(path + ".")]


def _ask_field(console, doc, section, name, prompt, default=None, convert=None, tries=5):
    """Ask until lib/config accepts the answer for `section.name` (section None: top level)."""
    path = name if section is None else section + "." + name
    target = doc if section is None else doc.setdefault(section, {})
    for _ in range(tries):
        answer = console.ask(prompt, default)
        if answer is None:
            target.pop(name, None)
        else:
            target[name] = convert(answer) if convert else answer
        problems = _field_errors(doc, path)
        if not problems:
            return
        for p in problems:
            console.say(p)
    raise ProvisionError("%s: no valid answer, giving up" % path)


def _ask_secret(console, prompt):
    """A password: asked twice so that a typo without echo is caught."""
    for _ in range(3):
        first = console.secret(prompt)
        if not first:
            return None
        if console.secret(prompt + " (again)") == first:
            return first
        console.say("the two entries differ, once more")
    raise ProvisionError(prompt + ": entries differ, giving up")


def ask_key(console, mid):
    """A meter key without echo, checked and confirmed; None for a meter without one."""
    for _ in range(5):
        key = console.secret("key of meter %s (32 hex digits, empty: none)" % mid)
        key = "".join(key.split())
        if not key:
            return None
        if not re.fullmatch(r"[0-9A-Fa-f]{32}", key):
            console.say("meter %s key: must be 32 hex digits (got %d characters)"
                        % (mid, len(key)))
            continue
        again = "".join(console.secret("key of meter %s again" % mid).split())
        if again.upper() == key.upper():
            return key.upper()
        console.say("meter %s key: the two entries differ, once more" % mid)
    raise ProvisionError("meter %s key: no valid answer, giving up" % mid)


def _int_or_text(s):
    try:
        return int(s)
    except ValueError:
        return s


def interactive(doc, console):
    """Ask for every field `doc` does not have yet, each checked as it is answered."""
    if "gateway_id" not in doc:
        _ask_field(console, doc, None, "gateway_id", "gateway id (letters, digits, - _ .)")
    wifi = doc.setdefault("wifi", {})
    if "ssid" not in wifi:
        _ask_field(console, doc, "wifi", "ssid", "WiFi network name (SSID)")
    if "password" not in wifi:
        pw = _ask_secret(console, "WiFi password (empty: open network)")
        if pw is not None:
            wifi["password"] = pw
    mqtt = doc.setdefault("mqtt", {})
    if "host" not in mqtt:
        _ask_field(console, doc, "mqtt", "host", "MQTT broker host")
    if "tls" not in mqtt:
        use = console.ask("TLS to the broker? (y/n)", "y").lower().startswith("y")
        if use:
            ca = console.ask("CA certificate path on the gateway (empty: none)", "")
            mqtt["tls"] = {"ca": ca} if ca else True
        else:
            mqtt["tls"] = False
    if "port" not in mqtt:
        default = str(gwconfig.TLS_PORT if mqtt["tls"] not in (False, None) else gwconfig.PORT)
        _ask_field(console, doc, "mqtt", "port", "MQTT broker port", default, _int_or_text)
    if "user" not in mqtt:
        _ask_field(console, doc, "mqtt", "user", "MQTT user (empty: none)", None)
    if "password" not in mqtt and mqtt.get("user"):
        pw = _ask_secret(console, "MQTT password")
        if pw is not None:
            mqtt["password"] = pw
    if "prefix" not in mqtt:
        _ask_field(console, doc, "mqtt", "prefix", "topic prefix",
                   "wmbus/" + str(doc.get("gateway_id")))
    radio = doc.setdefault("radio", {})
    if "kind" not in radio:
        _ask_field(console, doc, "radio", "kind",
                   "radio module (" + ", ".join(gwconfig.RADIO_KINDS) + ")")
    if "mode" not in radio:
        _ask_field(console, doc, "radio", "mode",
                   "link mode (" + ", ".join(gwconfig.RADIO_MODES) + ")", "C1+T1")
    while True:
        mid = console.ask("meter id to add (8 digits, empty: done)", "")
        if not mid:
            break
        mid = id_input(mid)
        if meter_id(mid) is None:
            console.say("meter id: must be 8 hex digits")
            continue
        name = console.ask("name of meter %s (empty: the id)" % mid, "")
        meter = {"id": mid, "name": name or None, "key": ask_key(console, mid)}
        merge_meters(doc, [meter])


# ---------------------------------------------------------------------------------------------
# Commands

def _secret_value(value, console, prompt):
    if value is ASK:
        return _ask_secret(console, prompt)
    return value


def parse_meter(spec):
    """--meter ID[:NAME[:KEY]]: with three or more parts the last is the key ("?" asks)."""
    parts = spec.split(":")
    mid = parts[0].strip()
    name = key = None
    if len(parts) == 2:
        name = parts[1]
    elif len(parts) > 2:
        name = ":".join(parts[1:-1])
        key = parts[-1].strip() or None
    return {"id": id_input(mid), "name": name or None, "key": key}


def apply_flags(doc, args, console):
    """Set the fields given as flags; the others stay as they are."""
    def put(section, name, value):
        if value is None:
            return
        target = doc if section is None else doc.setdefault(section, {})
        if type(target) is not dict:
            raise ProvisionError("%s: must be an object (fix the file first)" % section)
        target[name] = value

    put(None, "gateway_id", args.gateway_id)
    put("wifi", "ssid", args.ssid)
    put("wifi", "password", _secret_value(args.wifi_password, console, "WiFi password"))
    put("mqtt", "host", args.broker_host)
    if args.broker_port is not None:
        put("mqtt", "port", _int_or_text(args.broker_port))
    put("mqtt", "user", args.broker_user)
    put("mqtt", "password", _secret_value(args.broker_password, console, "MQTT password"))
    if args.ca is not None or args.cert is not None:
        if args.tls is False:
            raise ProvisionError("mqtt.tls: --no-tls together with --ca or --cert")
        tls = {}
        if args.ca:
            tls["ca"] = args.ca
        if args.cert:
            tls["cert"], tls["key"] = args.cert, args.cert_key
        put("mqtt", "tls", tls)
    elif args.tls is not None:
        put("mqtt", "tls", args.tls)
    put("mqtt", "prefix", args.prefix)
    put("radio", "kind", args.radio_kind)
    put("radio", "mode", args.radio_mode)
    meters = []
    for spec in args.meter or ():
        m = parse_meter(spec)
        if m["key"] == "?":
            m["key"] = ask_key(console, m["id"])
        meters.append(m)
    if meters:
        merge_meters(doc, meters)


def import_kem(doc, path, password, console):
    if password is None or password is ASK:
        password = console.secret("password of KEM file %s" % os.path.basename(path))
    meters = read_kem(path, password)
    return merge_meters(doc, meters)


def finish(doc, path, console, what):
    """Validate, then write `doc` to `path`; nothing is written when anything is wrong."""
    cfg, errors = validate(doc)
    if errors:
        raise ProvisionError("not written, %s: %d problem%s:\n  %s" % (
            path, len(errors), "" if len(errors) == 1 else "s", "\n  ".join(errors)))
    try:
        write_doc(path, doc)
    except OSError as e:
        raise ProvisionError("%s: cannot write it: %s" % (path, e.strerror or e))
    for w in cfg.warnings:
        console.say("warning: " + w)
    if not cfg.mqtt["tls"] and cfg.mqtt["password"] is not None:
        console.say("warning: mqtt.tls is off: the broker password goes over the network in "
                    "clear")
    print("%s: %s; gateway %s, %s" % (path, what, cfg.gateway_id, summary(cfg)))


def cmd_new(args, console):
    if os.path.exists(args.out) and not args.force:
        raise ProvisionError("%s exists: change it with `set`, `add-meter` or `import-kem` "
                             "--config %s, or overwrite it with --force" % (args.out, args.out))
    doc = {}
    apply_flags(doc, args, console)
    if args.import_kem:
        import_kem(doc, args.import_kem, args.kem_password, console)
    if args.interactive:
        interactive(doc, console)
    finish(doc, args.out, console, "written")


def cmd_set(args, console):
    doc = read_doc(args.config)
    apply_flags(doc, args, console)
    if args.import_kem:
        import_kem(doc, args.import_kem, args.kem_password, console)
    finish(doc, args.config, console, "updated")


def cmd_add_meter(args, console):
    doc = read_doc(args.config)
    mid = id_input(args.id)
    key = args.key
    if key is ASK:
        key = ask_key(console, mid)
    elif key is not None:
        key = "".join(key.split()).upper() or None
    added, _ = merge_meters(doc, [{"id": mid, "name": args.name, "key": key}])
    finish(doc, args.config, console, "meter %s %s" % (mid, "added" if added else "updated"))


def cmd_import_kem(args, console):
    doc = read_doc(args.config)
    added, updated = import_kem(doc, args.kem, args.kem_password, console)
    finish(doc, args.config, console, "KEM import: %d added, %d updated" % (added, updated))


def cmd_check(args, console):
    cfg, errors = validate(read_doc(args.config), flags=False)
    for w in cfg.warnings:
        console.say("warning: " + w)
    if errors:
        raise ProvisionError("%s: %d problem%s:\n  %s" % (
            args.config, len(errors), "" if len(errors) == 1 else "s", "\n  ".join(errors)))
    print("%s: ok; gateway %s, %s" % (args.config, cfg.gateway_id, summary(cfg)))


def cmd_show(args, console):
    cfg, errors = validate(read_doc(args.config), flags=False)
    print(json.dumps(cfg.redacted(), indent=2))
    print(summary(cfg))
    for w in cfg.warnings:
        console.say("warning: " + w)
    if errors:
        raise ProvisionError("%s: %d problem%s:\n  %s" % (
            args.config, len(errors), "" if len(errors) == 1 else "s", "\n  ".join(errors)))


def _field_flags(p):
    p.add_argument("--gateway-id")
    p.add_argument("--ssid", help="WiFi network name")
    p.add_argument("--wifi-password", nargs="?", const=ASK,
                   help="WiFi password (without a value: asked without echo)")
    p.add_argument("--broker-host")
    p.add_argument("--broker-port")
    p.add_argument("--broker-user")
    p.add_argument("--broker-password", nargs="?", const=ASK,
                   help="MQTT password (without a value: asked without echo)")
    tls = p.add_mutually_exclusive_group()
    tls.add_argument("--tls", dest="tls", action="store_const", const=True, default=None)
    tls.add_argument("--no-tls", dest="tls", action="store_const", const=False)
    p.add_argument("--ca", help="CA certificate path on the gateway (turns TLS on)")
    p.add_argument("--cert", help="client certificate path on the gateway (with --cert-key)")
    p.add_argument("--cert-key", help="client certificate's private key path on the gateway")
    p.add_argument("--prefix", help="MQTT topic prefix (default wmbus/<gateway id>)")
    p.add_argument("--radio-kind", help=", ".join(gwconfig.RADIO_KINDS))
    p.add_argument("--radio-mode", help=", ".join(gwconfig.RADIO_MODES))
    p.add_argument("--meter", action="append", metavar="ID[:NAME[:KEY]]",
                   help="a meter (repeatable); KEY '?' asks for it without echo")
    p.add_argument("--import-kem", metavar="FILE", help="meters and keys from a Kamstrup KEM file")
    p.add_argument("--kem-password", nargs="?", const=ASK,
                   help="the KEM file's password (without it: asked without echo)")


def parser():
    p = Parser(prog="provision.py", description=__doc__.split("\n\n")[0],
               formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)
    new = sub.add_parser("new", help="write a new config.json")
    new.add_argument("--out", default="config.json")
    new.add_argument("--force", action="store_true", help="overwrite an existing file")
    new.add_argument("-i", "--interactive", action="store_true",
                     help="ask for every field not given as a flag")
    _field_flags(new)
    new.set_defaults(run=cmd_new)
    st = sub.add_parser("set", help="change fields of an existing config, keep the rest")
    st.add_argument("--config", required=True)
    _field_flags(st)
    st.set_defaults(run=cmd_set)
    am = sub.add_parser("add-meter", help="add or update one meter")
    am.add_argument("--config", required=True)
    am.add_argument("--id", required=True)
    am.add_argument("--name")
    am.add_argument("--key", nargs="?", const=ASK,
                    help="32 hex digits; without a value: asked without echo")
    am.set_defaults(run=cmd_add_meter)
    ik = sub.add_parser("import-kem", help="add the meters and keys of a Kamstrup KEM file")
    ik.add_argument("--config", required=True)
    ik.add_argument("--kem", "--import-kem", dest="kem", required=True, metavar="FILE",
                    help="the KEM file, or the .zip.kem download holding it")
    ik.add_argument("--kem-password", nargs="?", const=ASK)
    ik.set_defaults(run=cmd_import_kem)
    ck = sub.add_parser("check", help="validate a config as the gateway does")
    ck.add_argument("config")
    ck.set_defaults(run=cmd_check)
    sh = sub.add_parser("show", help="print a config with passwords and keys hidden")
    sh.add_argument("config")
    sh.set_defaults(run=cmd_show)
    return p


def main(argv=None, console=None):
    args = parser().parse_args(argv)
    console = console or Console()
    try:
        args.run(args, console)
    except ProvisionError as e:
        print("provision: " + str(e), file=sys.stderr)
        return 1
    except (EOFError, KeyboardInterrupt):
        print("\nprovision: stopped, nothing written", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
