"""The gateway's configuration: `config.json` parsed, checked field by field and completed with
defaults, on CPython and MicroPython alike (no hardware, no file access).

    cfg, errors = config.load(text)     # text, bytes or an already parsed dict
    cfg.mqtt["port"], cfg.publish["raw_unknown"], cfg.warnings
    cfg.meters                          # {meter_id: name}: the meters that are ours
    Decoder(cfg.keys())                 # {meter_id: 16 bytes}

Every problem is one string "field: what is wrong", the field named by its path
("mqtt.port", "meters[2].key", "filters.id[0]"). Nothing is fatal: a bad field falls back to
its default (None when it has none and is required; a bad `mqtt.tls` to true, never to
plain text), a meter with a bad id or key is left out, a bad filter entry is dropped. The
caller decides what it cannot run without (None in `gateway_id`, `wifi.ssid`, `mqtt.host`,
`radio.kind`). Unknown fields only give warnings.

The passwords are held as `Secret`, whose str() and repr() are "***"; the meter keys only in
the dict that `keys()` returns. No message, repr or `redacted()` / `to_json()` output ever
contains one, and no message ever quotes a value from the file. With hundreds of meters the
heap matters: a meter costs one entry in `meters` and one in the keys, nothing more.
"""

import json

REDACTED = "***"
PORT = 1883
TLS_PORT = 8883
RADIO_KINDS = ("cc1101", "im871a", "amb8465", "rc1180")
RADIO_MODES = ("T1", "C1", "C1+T1")
REMOTE_SECRET_MIN = 16
_HEX = "0123456789abcdef"
# gateway_id is a topic level: no MQTT wildcards, separators or spaces.
_ID_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_."
_REQUIRED = object()


class Secret:
    """A password: `.value` holds it, str() and repr() show "***"."""

    def __init__(self, value):
        self.value = value

    def __repr__(self):
        return REDACTED

    __str__ = __repr__


# Checkers: the value from the file in, the normalised value out, or ValueError with a
# message that never quotes the value.

def _bool(v):
    if type(v) is not bool:
        raise ValueError("must be true or false")
    return v


def _text(v):
    if type(v) is not str or not v:
        raise ValueError("must be a non-empty string")
    return v


def _password(v):
    if type(v) is not str:
        raise ValueError("must be a string")
    return Secret(v)


def _remote_secret(v):
    # The HMAC key of the command topic (remote.py): shorter ones are guessable offline from
    # one captured command.
    if type(v) is not str or len(v) < REMOTE_SECRET_MIN:
        raise ValueError("must be a string of at least %d characters" % REMOTE_SECRET_MIN)
    return Secret(v)


def _seconds(v):
    if type(v) is not int or v < 0:
        raise ValueError("must be a whole number of seconds >= 0")
    return v


def _port(v):
    if type(v) is not int or not 0 < v < 65536:
        raise ValueError("must be an integer 1-65535")
    return v


def _byte(v):
    if type(v) is not int or not 0 <= v < 256:
        raise ValueError("must be an integer 0-255")
    return v


def _gateway_id(v):
    if type(v) is not str or not 0 < len(v) <= 64 or any(c not in _ID_CHARS for c in v):
        raise ValueError("must be 1-64 letters, digits, '-', '_' or '.'")
    return v


def _prefix(v):
    if (type(v) is not str or not v or "+" in v or "#" in v or v[0] == "/" or v[-1] == "/"
            or "//" in v):
        raise ValueError("must be a topic without '+', '#', empty levels or outer '/'")
    return v


def _is_hex(s, n):
    return len(s) == n and all(c in _HEX for c in s)


def _meter_id(v):
    # As the decoder prints it: 8 lower-case hex (BCD) digits. A JSON number is read as the
    # digits it shows (leading zeros restored).
    if type(v) is int and 0 <= v <= 99999999:
        return "%08d" % v
    if type(v) is str and _is_hex(v.lower(), 8):
        return v.lower()
    raise ValueError("must be 8 hex digits")


def _key(v):
    if v is None:
        return None
    if type(v) in (bytes, bytearray) and len(v) == 16:
        return bytes(v)
    if type(v) is not str or not _is_hex(v.lower(), 32):
        raise ValueError("must be 32 hex digits")
    return bytes.fromhex(v)


def _manufacturer(v):
    if type(v) is not str or len(v) != 3 or any(not "A" <= c <= "Z" for c in v.upper()):
        raise ValueError("must be 3 letters")
    return v.upper()


def _one_of(options):
    message = "must be one of " + ", ".join(options)

    def check(v):
        if v not in options:
            raise ValueError(message)
        return v
    return check


def _tls(v):
    if type(v) is bool:
        return v
    if type(v) is not dict:
        raise ValueError("must be true, false or an object with ca, cert, key")
    # Paths only: whether the files exist is the firmware's business when it connects.
    out = {}
    for name in ("ca", "cert", "key"):
        p = v.get(name)
        if p is not None and (type(p) is not str or not p):
            raise ValueError(name + " must be a file path")
        out[name] = p
    if (out["cert"] is None) != (out["key"] is None):
        raise ValueError("cert and key go together")
    for name in v:
        if name not in out:
            raise ValueError("unknown field " + name)
    return out


# The sections: (field, checker, default). _REQUIRED: an error when missing, then None.
_WIFI = (("ssid", _text, _REQUIRED), ("password", _password, None))
_MQTT = (("host", _text, _REQUIRED), ("port", _port, None), ("user", _text, None),
         ("password", _password, None), ("tls", _tls, False), ("prefix", _prefix, None))
_RADIO = (("kind", _one_of(RADIO_KINDS), _REQUIRED), ("mode", _one_of(RADIO_MODES), "C1+T1"))
_PUBLISH = (("decoded", _bool, True), ("raw", _bool, True),
            # Privacy by default: meters not in `meters` are the neighbours'.
            ("raw_unknown", _bool, False), ("discovery", _bool, True),
            ("min_interval_s", _seconds, 0), ("repeat_window_s", _seconds, 10))
# Remote operation (remote.py, ota.py); the whole section absent: off.
_REMOTE = (("secret", _remote_secret, _REQUIRED), ("confirm_s", _seconds, 300))
_METER = (("id", _meter_id, _REQUIRED), ("name", _text, None), ("key", _key, None))
# Filters: lists of entries, each checked alone; an empty list accepts everything.
_FILTERS = (("manufacturer", _manufacturer), ("device_type", _byte), ("id", _meter_id),
            ("ci", _byte))
_TOP = ("gateway_id", "wifi", "mqtt", "radio", "meters", "filters", "publish", "remote")


def _section(obj, path, table, errors, warnings):
    """The fields of `table` read from the object `obj`; returns (values, names that failed)."""
    not_object = obj is not None and type(obj) is not dict
    if not_object:
        errors.append(path + ": must be an object")  # and not again for each missing field
    if type(obj) is not dict:
        obj = {}
    out = {}
    failed = []
    for name, check, default in table:
        v = obj.get(name)
        if v is None:
            if default is _REQUIRED:
                if not not_object:
                    errors.append("%s.%s: required" % (path, name))
                failed.append(name)
            v = None if default is _REQUIRED else default
        else:
            try:
                v = check(v)
            except ValueError as e:
                errors.append("%s.%s: %s" % (path, name, e.args[0]))
                failed.append(name)
                v = None if default is _REQUIRED else default
        out[name] = v
    _unknown(obj, out, path + ".", warnings)
    return out, failed


def _unknown(obj, known, prefix, warnings):
    for name in obj:
        if name not in known:
            warnings.append(prefix + str(name) + ": unknown field, ignored")


def _list(v, path, errors):
    if v is None:
        return ()
    if type(v) is not list:
        errors.append(path + ": must be a list")
        return ()
    return v


class Config:
    """The validated configuration: `gateway_id`, and the sections `wifi`, `mqtt`, `radio`,
    `publish`, `filters` as dicts, `meters` as {meter_id: name}; `warnings`."""

    def __init__(self):
        self.gateway_id = None
        self.remote = None  # {"secret": Secret, "confirm_s": n} when remote operation is on
        self.meters = {}
        self._keys = {}
        self.warnings = []

    def keys(self):
        """{meter_id: 16-byte key} for wmbus.Decoder: the meters that have a key (the dict
        itself, not a copy: the firmware may drop it from here once the decoder holds it)."""
        return self._keys

    def redacted(self):
        """Everything as JSON-ready data, every password and key shown as "***"."""
        def show(section):
            return {k: (REDACTED if type(v) is Secret else v) for k, v in section.items()}
        meters = [{"id": i, "name": n, "key": REDACTED if i in self._keys else None}
                  for i, n in self.meters.items()]
        return {"gateway_id": self.gateway_id, "wifi": show(self.wifi), "mqtt": show(self.mqtt),
                "radio": dict(self.radio), "meters": meters, "filters": dict(self.filters),
                "publish": dict(self.publish),
                "remote": show(self.remote) if self.remote is not None else None}

    def to_json(self):
        return json.dumps(self.redacted())

    def __repr__(self):
        return "Config(" + self.to_json() + ")"


def load(source):
    """Parse and check a configuration: `source` is the text (str or bytes) of config.json, an
    open file of it, or the dict it holds. Returns (Config, errors); never raises for bad
    content."""
    errors = []
    cfg = Config()
    warnings = cfg.warnings
    unreadable = None
    parsed_here = type(source) is not dict  # ours to take apart as we go
    if parsed_here:
        try:
            # An open file is parsed as it is read: the text of a config with hundreds of
            # meters never sits in the heap beside what it parses into.
            source = json.load(source) if hasattr(source, "read") else json.loads(source)
        except (ValueError, TypeError) as e:
            # CPython names line and column; MicroPython only says "syntax error in JSON".
            unreadable = "config.json: " + (str(e) or "not valid JSON")
            source = None
        if type(source) is not dict:
            unreadable = unreadable or "config.json: must be a JSON object"
            source = {}
    _unknown(source, _TOP, "", warnings)

    gid = source.get("gateway_id")
    if gid is None:
        errors.append("gateway_id: required")
    else:
        try:
            cfg.gateway_id = _gateway_id(gid)
        except ValueError as e:
            errors.append("gateway_id: " + e.args[0])

    cfg.wifi = _section(source.get("wifi"), "wifi", _WIFI, errors, warnings)[0]
    mqtt, failed = _section(source.get("mqtt"), "mqtt", _MQTT, errors, warnings)
    cfg.mqtt = mqtt
    if "tls" in failed:
        # Fail closed: a misspelt TLS setting must not send the password in clear.
        mqtt["tls"] = True
    if mqtt["port"] is None:
        mqtt["port"] = TLS_PORT if mqtt["tls"] else PORT
    if mqtt["prefix"] is None and cfg.gateway_id is not None:
        mqtt["prefix"] = "wmbus/" + cfg.gateway_id
    cfg.radio = _section(source.get("radio"), "radio", _RADIO, errors, warnings)[0]
    cfg.publish = _section(source.get("publish"), "publish", _PUBLISH, errors, warnings)[0]
    if source.get("remote") is not None:
        remote, failed = _section(source.get("remote"), "remote", _REMOTE, errors, warnings)
        # Without a usable secret remote operation stays off: never on with a weak key.
        cfg.remote = None if failed or type(source.get("remote")) is not dict else remote

    filters = source.get("filters")
    if filters is not None and type(filters) is not dict:
        errors.append("filters: must be an object")
        filters = None
    cfg.filters = {}
    for name, check in _FILTERS:
        path = "filters." + name
        kept = []
        for i, v in enumerate(_list(filters.get(name) if filters else None, path, errors)):
            try:
                v = check(v)
            except ValueError as e:
                errors.append("%s[%d]: %s" % (path, i, e.args[0]))
                continue
            if v not in kept:
                kept.append(v)
        cfg.filters[name] = kept
    if filters:
        _unknown(filters, cfg.filters, "filters.", warnings)

    # A meter with a bad id or key is left out (its telegrams stay undecoded and unpublished,
    # as for an unknown meter); a bad name falls back to the id.
    # Hundreds of meters: each parsed entry is dropped once it is taken, so that the parsed
    # file and the result are not both whole in the heap at once.
    meters = _list(source.get("meters"), "meters", errors)
    seen = {}
    for i in range(len(meters)):
        m = meters[i]
        if parsed_here:
            meters[i] = None
        path = "meters[%d]" % i
        m, failed = _section(m, path, _METER, errors, warnings)
        if "id" in failed or "key" in failed:
            errors.append(path + ": left out")
            continue
        if m["id"] in seen:
            errors.append("%s.id: same meter as meters[%d], left out" % (path, seen[m["id"]]))
            continue
        seen[m["id"]] = i
        cfg.meters[m["id"]] = m["name"] or m["id"]
        if m["key"] is not None:
            cfg._keys[m["id"]] = m["key"]
    meters = seen = None
    if unreadable:
        # One error, not one per missing field; the defaults are still filled in.
        return cfg, [unreadable]
    return cfg, errors
