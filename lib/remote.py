"""Remote operation over MQTT: authenticated commands on `<prefix>/command`, every answer on
`<prefix>/state/command`. Portable: the firmware hands in how to publish, where the files are,
how to restart and how to update (lib/ota.py); nothing here touches hardware.

A command is one JSON object signed with HMAC-SHA256 (RFC 2104) under the gateway's secret
(config `remote.secret`). The MAC is the object's last member, written exactly as
`,"mac":"<64 lower-case hex>"}`; it covers the message text without that member, i.e. the
bytes before `,"mac"` followed by `}`. Whoever signs serialises the body as they like and
appends the member (tools/bundle.py sign); the gateway checks the MAC over the bytes as
received, before parsing anything, so no JSON canonical form has to agree between signer and
gateway.

    {"seq": 7, "cmd": "config", "merge": {"publish": {"raw": false}}, "mac": "..."}
    {"seq": 8, "cmd": "config", "config": {...a whole config.json...}, "mac": "..."}
    {"seq": 9, "cmd": "update", "url": "http://host/bundle/", "manifest_sha256": "...", ...}
    {"seq": 10, "cmd": "state", "mac": "..."}      {"seq": 11, "cmd": "restart", "mac": "..."}

Replay: `seq` must be greater than the last accepted one, which is kept in a small file
(written atomically, before the command runs, so that a restart cannot be replayed).
A configuration is checked with config.load before anything is written; any error refuses it
with the reasons (field names and what is wrong, never a value) and leaves the running
configuration and config.json as they were. A valid one replaces config.json atomically and the
gateway restarts into it. No answer and no log line carries the secret, a password or a key:
the answers are built from the command name, seq, config.load's messages and fixed texts.

umqtt delivers a subscribed message from inside publish() (while it waits for a PUBACK), so
handle() only keeps the message; service(), called from the main loop, acts on it.
"""

import hashlib
import json
import os

_HEX = "0123456789abcdef"
_MAC_HEAD = b',"mac":"'
_MAC_TAIL = 74  # len(',"mac":"') + 64 hex digits + len('"}')
MAX_COMMAND = 32768  # bytes: a whole config.json with a few hundred meters and their keys
MAX_REASONS = 20  # errors/warnings listed in one answer
MAX_PENDING = 4  # commands kept between two passes of the main loop (a config may be 32 KB)
COMMANDS = ("config", "update", "state", "restart")


# -- HMAC-SHA256 (RFC 2104; the ESP32 firmware has hashlib.sha256 but no hmac module) --------

_BLOCK = 64  # SHA-256 block size in bytes (FIPS 180-4 §5.1.2)


def _pads(key):
    """The inner and outer padded keys (RFC 2104 §2: K xor ipad, K xor opad)."""
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    inner = bytearray(_BLOCK)
    outer = bytearray(_BLOCK)
    for i in range(_BLOCK):
        k = key[i] if i < len(key) else 0
        inner[i] = k ^ 0x36
        outer[i] = k ^ 0x5C
    return bytes(inner), bytes(outer)


def hmac_sha256(key, message, pads=None):
    """HMAC-SHA256 of `message` (bytes, or a list of bytes taken in order) under `key`."""
    inner, outer = pads or _pads(key)
    h = hashlib.sha256(inner)
    if type(message) is list:
        for part in message:
            h.update(part)
    else:
        h.update(message)
    return hashlib.sha256(outer + h.digest()).digest()


def hexlify(data):
    return "".join(_HEX[b >> 4] + _HEX[b & 15] for b in data)


def same(a, b):
    """Equal, in a time that does not depend on where they differ."""
    if len(a) != len(b):
        return False
    d = 0
    for i in range(len(a)):
        d |= a[i] ^ b[i]
    return d == 0


def signed_part(message):
    """(the signed bytes as a list of parts, the MAC's hex as bytes), or None when the message
    does not end in the MAC member. Trailing white space is allowed."""
    end = len(message)
    while end and message[end - 1] in b" \t\r\n":
        end -= 1
    start = end - _MAC_TAIL
    if start < 1 or message[end - 2:end] != b'"}' or \
            message[start:start + len(_MAC_HEAD)] != _MAC_HEAD:
        return None
    return [message[:start], b"}"], message[start + len(_MAC_HEAD):end - 2]


def sign(body, secret):
    """The command text for `body` (JSON text of an object, str) signed with `secret` (str):
    what tools/bundle.py sign does; here so that both sides share one definition."""
    body = body.strip()
    if not body.endswith("}"):
        raise ValueError("not a JSON object")
    mac = hexlify(hmac_sha256(secret.encode(), body.encode()))
    return body[:-1] + ',"mac":"' + mac + '"}'


# -- merging a partial configuration ---------------------------------------------------------

def merge(base, change):
    """`change` merged into `base` (both dicts from JSON): objects merge member by member, any
    other value (lists too: the meter list is replaced whole) replaces, null deletes."""
    out = dict(base)
    for k, v in change.items():
        if v is None:
            out.pop(k, None)
        elif type(v) is dict and type(out.get(k)) is dict:
            out[k] = merge(out[k], v)
        else:
            out[k] = v
    return out


def write_atomic(path, text):
    """`text` to `path` through a temporary file and a rename: a power cut leaves the old file
    or the new one, never half of one (LittleFS and POSIX rename replace the target)."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


class Remote:
    """Commands for one gateway.

    secret          the key (str, config remote.secret's value)
    topics          publish.Topics of the gateway (command, state)
    publish         publish(topic, payload, retain) -> bool (the MQTT link's)
    seq_path        where the last accepted seq is kept
    config_path     config.json: read for merges, replaced by a valid new one
    restart         called after a new configuration or update is in place (machine.reset
                    on the device; on the host board a hook that starts the firmware again)
    publish_state   called for "state" (Gateway.publish_state)
    updater         for "update": updater(url, manifest_sha256, tick) -> (version, errors)
                    (ota.Updater.install)
    tick            called while an update downloads: the firmware feeds the watchdog and
                    services the radio
    log             log(text): the console
    """

    def __init__(self, secret, topics, publish, seq_path, config_path, restart,
                 publish_state=None, updater=None, tick=None, log=None, max_bytes=MAX_COMMAND):
        self._pads = _pads(secret.encode() if type(secret) is str else bytes(secret))
        self.command_topic = topics.command
        self._command_topic = topics.command.encode()
        self.reply_topic = topics.state + "/command"
        self.publish = publish
        self.seq_path = seq_path
        self.config_path = config_path
        self.restart = restart
        self.publish_state = publish_state
        self.updater = updater
        self.tick = tick
        self.log = log or (lambda text: None)
        self.max_bytes = max_bytes
        self.last_seq = self._load_seq()
        self._pending = []  # commands waiting for service(), oldest first
        self.counters = {"accepted": 0, "rejected_auth": 0, "rejected_replay": 0,
                         "refused": 0, "dropped": 0}

    # -- from the MQTT link --------------------------------------------------------------

    def handle(self, topic, msg):
        """Link.on_message: keep a command for service(). At most MAX_PENDING wait: one more
        is dropped (counted) and its sender sees no answer."""
        if type(topic) is str:
            topic = topic.encode()
        if topic != self._command_topic:  # umqtt hands in bytes
            return False
        if len(self._pending) >= MAX_PENDING:
            self.counters["dropped"] += 1
            return False
        self._pending.append(msg)
        return True

    def service(self):
        """Act on the waiting command, if any (from the main loop). True when there was one."""
        if not self._pending:
            return False
        self.execute(self._pending.pop(0))
        return True

    # -- one command ---------------------------------------------------------------------

    def execute(self, msg):
        """Check and run one command; returns the answer it published (a dict)."""
        if type(msg) is str:
            msg = msg.encode()
        cmd = self.authenticate(msg)
        if cmd is None:
            self.counters["rejected_auth"] += 1
            self.log("remote: command rejected (not authenticated)")
            # Which check failed is not said: it would help someone forging commands.
            return self._reply(None, False, errors=["not authenticated"])
        seq = cmd["seq"]
        if seq <= self.last_seq:
            self.counters["rejected_replay"] += 1
            self.log("remote: command seq %d rejected (last accepted %d)" % (seq, self.last_seq))
            return self._reply(seq, False, errors=["seq: must be greater than %d" % self.last_seq])
        try:
            self._save_seq(seq)
        except OSError as e:
            # Without the seq on flash a restart would accept this command again.
            return self._refuse(seq, ["seq: could not be stored (%s)" % _describe(e)])
        name = cmd.get("cmd")
        if name not in COMMANDS:
            return self._refuse(seq, ["cmd: must be one of " + ", ".join(COMMANDS)])
        self.counters["accepted"] += 1
        self.log("remote: command seq %d: %s" % (seq, name))
        if name == "state":
            ok = self.publish_state() if self.publish_state is not None else False
            return self._reply(seq, bool(ok), errors=[] if ok else ["state: not published"])
        if name == "restart":
            self._reply(seq, True, restarting=True)
            self.restart()
            return None
        if name == "config":
            return self._config(seq, cmd)
        return self._update(seq, cmd)

    def authenticate(self, msg):
        """The command (a dict with an int seq) when `msg` carries a valid MAC under our
        secret, else None."""
        if len(msg) > self.max_bytes:
            return None
        parts = signed_part(msg)
        if parts is None:
            return None
        signed, mac_hex = parts
        mac = hexlify(hmac_sha256(None, signed, self._pads)).encode()
        if not same(mac, mac_hex):
            return None
        try:
            cmd = json.loads(signed[0] + signed[1])
        except ValueError:
            return None
        if type(cmd) is not dict or type(cmd.get("seq")) is not int:
            return None
        return cmd

    # -- config --------------------------------------------------------------------------

    def _config(self, seq, cmd):
        import config

        whole = cmd.get("config")
        change = cmd.get("merge")
        if (whole is None) == (change is None):
            return self._refuse(seq, ["config: give either config (whole) or merge (partial)"])
        if type(whole if change is None else change) is not dict:
            return self._refuse(seq, ["config: must be an object"])
        if change is not None:
            try:
                with open(self.config_path) as f:
                    current = json.loads(f.read())
            except (OSError, ValueError):
                current = None
            if type(current) is not dict:
                return self._refuse(seq, ["config: the current one is unreadable; send it "
                                          "whole (config, not merge)"])
            whole = merge(current, change)
            current = None
        cfg, errors = config.load(whole)
        if not errors and cfg.remote is None and not cmd.get("disable_remote"):
            # Accepting it would leave no way back over MQTT.
            errors = ["remote: missing; it ends remote operation (disable_remote: true if "
                      "that is meant)"]
        if errors:
            return self._refuse(seq, errors, warnings=cfg.warnings)
        try:
            write_atomic(self.config_path, json.dumps(whole))
        except OSError as e:
            return self._refuse(seq, ["config: not written (%s)" % _describe(e)])
        whole = None
        self.log("remote: new configuration written, restarting")
        self._reply(seq, True, warnings=cfg.warnings, restarting=True)
        self.restart()
        return None

    # -- update --------------------------------------------------------------------------

    def _update(self, seq, cmd):
        url = cmd.get("url")
        digest = cmd.get("manifest_sha256")
        errors = []
        if type(url) is not str or \
                not (url.startswith("http://") or url.startswith("https://")):
            errors.append("url: must be an http:// or https:// address")
        if type(digest) is not str or len(digest) != 64 or \
                any(c not in _HEX for c in digest):
            errors.append("manifest_sha256: must be 64 lower-case hex digits")
        if self.updater is None:
            errors.append("update: not available on this gateway")
        if errors:
            return self._refuse(seq, errors)
        self._reply(seq, True, errors=[], downloading=True)
        version, errors = self.updater(url, digest, self.tick)
        if errors:
            return self._refuse(seq, errors)
        self.log("remote: version %s installed, restarting to try it" % version)
        self._reply(seq, True, version=version, restarting=True)
        self.restart()
        return None

    # -- answers and the seq file ------------------------------------------------------------

    def _refuse(self, seq, errors, warnings=None):
        self.counters["refused"] += 1
        return self._reply(seq, False, errors=errors, warnings=warnings)

    def _reply(self, seq, ok, errors=None, warnings=None, **more):
        answer = {"seq": seq, "ok": ok}
        if errors is not None:
            answer["errors"] = errors[:MAX_REASONS]
        if warnings:
            answer["warnings"] = warnings[:MAX_REASONS]
        for k in more:
            answer[k] = more[k]
        self.publish(self.reply_topic, json.dumps(answer), False)
        return answer

    def _load_seq(self):
        try:
            with open(self.seq_path) as f:
                return int(f.read())
        except (OSError, ValueError):
            # Never written (or unreadable): any seq >= 0 is new. The file is written before
            # a command runs, so a lost file only re-opens commands never run after it.
            return -1

    def _save_seq(self, seq):
        write_atomic(self.seq_path, str(seq))
        self.last_seq = seq


def _describe(e):
    """An OSError as "OSError 28": no paths or messages."""
    if e.args and type(e.args[0]) is int:
        return "%s %d" % (type(e).__name__, e.args[0])
    return type(e).__name__
