"""The gateway's pipeline: radio frames -> filters -> decode -> flash spool -> MQTT.

Portable: the firmware (and the host tests) hand in the radio driver, the spool, the MQTT link
and the clock; nothing here touches hardware or the network directly.

    gw = Gateway(cfg, radio, spool, link)
    while True:
        gw.step()          # one pass: radio, then at most one unit of other work

Each pass services the radio first and again between units of work, so that no flash write or
MQTT round trip comes between the radio and a frame it is receiving for longer than one unit
(the radio issue's real-time budget, README). The units, most urgent first:
    1. frames from the radio queue: filtered, checked for repeats, decoded (known meters),
       appended to the spool's RAM batch                     (~1 ms each on an ESP32)
    2. a spool flush when the batch is due (flush_records - 64, 128 on a CC1101 board - or
       5 s: an erase, 30-50 ms, during which the radio is not served: rare erases are what
       keeps a CC1101's losses down; what a power cut can take is the last 5 s, lib/spool.py)
    3. one spooled telegram published with QoS 1, then acknowledged in the spool
    4. housekeeping: MQTT keepalive, state, discovery, learnt formats to flash

What reaches the spool (radio.md §6.3: 500 meters send 5 MB an hour; flash must not take all):
- a frame that fails the filters (manufacturer, device type, id, CI) is dropped and counted;
- a repeat of a telegram heard within publish.repeat_window_s (the same bytes: repeaters,
  several radios, C1 and T1 copies) is dropped and counted;
- a known meter's telegram is decoded; if its reading is the same as the last one stored and
  publish.min_interval_s has not passed since, it is not stored (counted as "unchanged"):
  a changed reading always is, and an unchanged one at least every min_interval_s;
- an unknown meter (not in `meters`: the neighbours') is counted in state with its id,
  manufacturer, device type and RSSI, and stored only when publish.raw_unknown is set.
"""

import gc
import json

import publish
from meters import Meters
from wmbus import Decoder
from wmbus.compat import mem_free, ticks_ms, ticks_add, ticks_diff
from wmbus.dll import identity

MAX_UNKNOWN = 32  # unknown meters listed in state (the strongest kept)
MAX_REPEATS = 64  # recent telegram fingerprints remembered for the repeat window
MAX_KEPT = 4  # decode results kept from receipt to publishing
METERS_PER_STATE = 32  # meters per state/meters/<n> message
_MODES = ("T1", "C1", "S1")  # radio.MODE_* -> name


_TICKS_MASK = 0x3FFFFFFF  # receive times kept in 30 bits (the ESP32's ticks period)


class Gateway:
    def __init__(self, cfg, radio, spool, link, decoder=None, formats_path=None,
                 flush_records=64, flush_ms=5000, state_ms=60000, now_unix=None):
        self.cfg = cfg
        self.radio = radio
        self.queue = radio.queue if radio is not None else None
        self.spool = spool
        self.link = link

        self.topics = publish.Topics(cfg.mqtt["prefix"])
        self.gateway_id = cfg.gateway_id
        p = cfg.publish
        self.repeat_window_ms = p["repeat_window_s"] * 1000
        self.min_interval_ms = p["min_interval_s"] * 1000
        self.flush_records = flush_records
        self.flush_ms = flush_ms
        self.state_ms = state_ms
        self.now_unix = now_unix or publish.unix_time
        self.mem_free = mem_free
        self.formats_path = formats_path
        self.meters = cfg.table if getattr(cfg, "table", None) is not None else \
            Meters.of(cfg.meters, cfg.keys())
        if decoder is None:
            decoder = Decoder()
            decoder.keys = self.meters  # the meter table answers the decoder's key lookups
        self.decoder = decoder
        self._chunks = []  # state chunks still to publish
        self.unknown = {}  # id -> [manufacturer, device type, rssi, telegrams]
        self.errors = {}  # decode_error code -> count
        self.counters = {"received": 0, "filtered": 0, "repeats": 0, "unchanged": 0,
                         "stored": 0, "unknown": 0, "published": 0, "spool_full": 0}
        self._repeats = {}  # fingerprint -> ticks_ms heard
        self._buffered = 0  # records appended since the last flush
        self._first_buffered = 0
        self._acked = 0  # acknowledgements since the last flush
        self._flushed_ms = ticks_ms()
        self.ack_flush_ms = 10000
        self._partial = None  # rid of a record whose reading is out and raw is not
        self._results = []  # (fingerprint, decode result) decoded on receipt, to publish
        self._discovery = []  # (meter id, field, is_text, meter) not yet announced
        self._state_due = ticks_ms()
        self._was_up = False
        self._formats_saved = None
        self.started_ms = ticks_ms()
        self.config_errors = []
        self.extra_state = None  # a function adding the firmware's part (WiFi) to state
        self.remote_state = None  # a function adding remote operation's part (remote, ota)
        self.on_connect = None  # called after every (re)connect: the command subscription
        self._load_formats()

    # -- the loop ------------------------------------------------------------------------

    def step(self, online=True):
        """One pass of the main loop; online: the network is up. True when it did something
        (the caller may sleep briefly when it did nothing)."""
        busy = self.service_radio()
        if getattr(self.radio, "receiving", False):
            # A frame is arriving (CC1101): no flash erase, no network round trip until it
            # is in; the next pass comes back within the FIFO deadline.
            return True
        if self._flush_due():
            self.flush()
            self.service_radio()
            busy = True
        if online and self.link.up():
            if not self._was_up:
                self._on_connect()
            if self._discovery:
                meter_id, field, is_text, meter = self._discovery[-1]
                name = self.meters.name(self.meters.find(meter_id))
                topic, payload = publish.discovery(self.topics, meter_id, name, field,
                                                   is_text, meter, self.gateway_id)
                if self.link.publish(topic, payload, True):
                    self._discovery.pop()
                busy = True
            elif self._chunks:
                self._publish_chunk()
                busy = True
            elif self.publish_one():
                busy = True
            self.service_radio()
            self.link.service()
        self._was_up = self.link.connected
        if ticks_diff(ticks_ms(), self._state_due) >= 0:
            self.publish_state()
            self.save_formats()
        return busy

    def service_radio(self):
        """Poll the radio and take every frame it has queued. True when there was one."""
        if self.radio is None:
            return False
        self.radio.poll()
        got = False
        q = self.queue
        while len(q):
            frame, mode, _fmt, rssi, rx_ticks = q.get()
            self.accept(frame, _MODES[mode], rssi, rx_ticks)
            got = True
        return got

    # -- receiving -----------------------------------------------------------------------

    def accept(self, frame, mode, rssi, rx_ticks=None):
        """A frame from the radio (CRCs removed, L first). Returns what happened to it:
        "stored", "filtered", "repeat", "unchanged", "unknown", "short" or "spool_full"."""
        self.counters["received"] += 1
        now = ticks_ms() if rx_ticks is None else rx_ticks
        if len(frame) < 12:
            self.counters["filtered"] += 1
            return "short"
        meter_id, manufacturer, _version, device_type, _media = identity(bytes(frame[2:10]))
        f = self.cfg.filters
        if (f["id"] and meter_id not in f["id"]) or \
                (f["manufacturer"] and manufacturer not in f["manufacturer"]) or \
                (f["device_type"] and device_type not in f["device_type"]) or \
                (f["ci"] and frame[10] not in f["ci"]):
            self.counters["filtered"] += 1
            return "filtered"
        fp = publish.fingerprint(frame)
        if self._repeat(fp, now):
            self.counters["repeats"] += 1
            return "repeat"
        t = self.meters
        m = t.find(meter_id)
        if m is None:
            self._heard_unknown(meter_id, manufacturer, device_type, rssi)
            if not self.cfg.publish["raw_unknown"]:
                return "unknown"
        else:
            t.last_seen[m] = self.now_unix()
            t.rssi[m] = max(-128, min(127, rssi))
            t.telegrams[m] += 1
            if self.min_interval_ms:
                # Whether the reading changed needs the decoded values: decode now, and keep
                # the result for publishing (one decode per telegram, ~20 ms on an ESP32).
                result = self._decode(m, meter_id, frame, rssi)
                if result is not None:
                    sig = _signature(result)
                    stored = t.stored[m]
                    if sig == t.sig[m] and stored and \
                            ((now - stored + 1) & _TICKS_MASK) < self.min_interval_ms:
                        self.counters["unchanged"] += 1
                        return "unchanged"
                    t.sig[m] = sig
                    t.stored[m] = (now & _TICKS_MASK) + 1
                    self._keep(fp, result)
                    result = None
        rx_unix = self.now_unix()
        if not self.spool.append(frame, rx_unix, rssi, mode):
            # The RAM batch is full (the flash was busy or failing): write it out now.
            if not self.flush() or not self.spool.append(frame, rx_unix, rssi, mode):
                self.counters["spool_full"] += 1
                return "spool_full"
        if not self._buffered:
            self._first_buffered = ticks_ms()  # the gateway's clock (rx_ticks is the radio's)
        self._buffered += 1
        self.counters["stored"] += 1
        return "stored"

    def _decode(self, m, meter_id, frame, rssi):
        """Decode a known meter's telegram: the result, or None (the error goes to state).
        A MemoryError is the heap's fault, not the telegram's: collect and try once more."""
        result = self.decoder.decode(frame)
        if result.get("decode_error") == "no_memory":
            result = None
            gc.collect()
            result = self.decoder.decode(frame)
        err = result.get("decode_error")
        t = self.meters
        t.set_error(m, err)
        if err:
            self.errors[err] = self.errors.get(err, 0) + 1
            return None
        if not t.announced[m] and self.cfg.publish["discovery"]:
            t.announced[m] = 1
            result["rssi_dbm"] = rssi
            meter = (result["manufacturer"], result.get("meter"), result["media"])
            for field, is_text in publish.discovery_fields(result):
                self._discovery.append((meter_id, field, is_text, meter))
        return result

    def _keep(self, fp, result):
        """Keep a decode result until its telegram is published (a few: the spool is
        normally drained as fast as it fills; after an outage the backlog decodes again)."""
        if len(self._results) >= MAX_KEPT:
            self._results.pop(0)
        self._results.append((fp, result))

    def _taken(self, fp):
        r = self._results
        for i in range(len(r)):
            if r[i][0] == fp:
                return r.pop(i)[1]
        return None

    def _repeat(self, fp, now):
        r = self._repeats
        seen = r.get(fp)
        if seen is not None and ticks_diff(now, seen) < self.repeat_window_ms:
            return True
        if len(r) >= MAX_REPEATS:
            for k in list(r):
                if ticks_diff(now, r[k]) >= self.repeat_window_ms:
                    del r[k]
            if len(r) >= MAX_REPEATS:
                r.clear()
        r[fp] = now
        return False

    def _heard_unknown(self, meter_id, manufacturer, device_type, rssi):
        self.counters["unknown"] += 1
        u = self.unknown.get(meter_id)
        if u is not None:
            u[2] = rssi
            u[3] += 1
            return
        if len(self.unknown) >= MAX_UNKNOWN:
            # Keep the strongest: an installer looks for the meters near the gateway.
            weakest = min(self.unknown, key=lambda k: self.unknown[k][2])
            if self.unknown[weakest][2] >= rssi:
                return
            del self.unknown[weakest]
        self.unknown[meter_id] = [manufacturer, device_type, rssi, 1]

    # -- flash ---------------------------------------------------------------------------

    def _flush_due(self):
        if not self._buffered:
            # Acknowledgements alone: durable every ack_flush_ms, so that a restart does not
            # publish much again (a flush costs an erase: not after every PUBACK).
            return self._acked and ticks_diff(ticks_ms(), self._flushed_ms) >= self.ack_flush_ms
        return self._buffered >= self.flush_records or \
            ticks_diff(ticks_ms(), self._first_buffered) >= self.flush_ms

    def flush(self):
        try:
            self.spool.flush()
        except OSError as e:
            # Flash full or failing: the batch stays in RAM and is retried; say so in state.
            self.errors["flash"] = self.errors.get("flash", 0) + 1
            self.last_flash_error = e.args[0] if e.args else None
            return False
        self._buffered = 0
        self._acked = 0
        self._flushed_ms = ticks_ms()
        return True

    # -- publishing ----------------------------------------------------------------------

    def publish_one(self):
        """Publish the oldest spooled telegram: its reading (known meter, decoded) and its
        raw form (when configured). Acknowledged in the spool once every part has its PUBACK.
        True when a record was published."""
        rec = self.spool.peek()
        if rec is None:
            return False
        rid, frame, rx_unix, rssi, mode = rec
        meter_id = identity(bytes(frame[2:10]))[0]
        fp = publish.fingerprint(frame)
        p = self.cfg.publish
        m = self.meters.find(meter_id)
        done = self._partial is not None and self._partial == rid
        if m is not None and p["decoded"] and not done:
            result = self._taken(fp) or self._decode(m, meter_id, frame, rssi)
            if result is not None:
                payload = publish.reading(result, self.meters.name(m), rx_unix, rssi,
                                          self.gateway_id, fp)
                result = None
                if not self.link.publish(self.topics.reading(meter_id), payload):
                    return False
                self.counters["published"] += 1
            self._partial = rid
        if p["raw"] or (m is None and p["raw_unknown"]):
            payload = publish.raw(frame, meter_id, mode, rx_unix, rssi, self.gateway_id, fp)
            if not self.link.publish(self.topics.raw(meter_id), payload):
                return False
        self.spool.ack(rid)
        self._acked += 1
        self._partial = None
        return True

    def _on_connect(self):
        """After every (re)connect: availability, and discovery for the meters already heard
        (a broker restarted without persistence has lost the retained messages)."""
        self.link.publish(self.topics.status, b"online", True)
        if self.on_connect is not None:
            self.on_connect()  # a clean session: subscriptions are gone after a reconnect
        a = self.meters.announced
        for i in range(len(a)):
            a[i] = 0
        self._state_due = ticks_ms()

    def state(self):
        """The gateway state: a summary dict (the per-meter part goes out in chunks)."""
        radio = None
        if self.radio is not None:
            radio = dict(self.queue.counters)
            radio["info"] = getattr(self.radio, "info", None)
            radio["queue_high_water"] = self.queue.high_water
        spool = dict(self.spool.counters)
        spool["depth"] = self.spool.depth()
        spool["bytes"] = self.spool.total
        unknown = {}
        for i, u in self.unknown.items():
            unknown[i] = {"manufacturer": u[0], "device_type": u[1], "rssi_dbm": u[2],
                          "telegrams": u[3]}
        t = self.meters
        wrong_key = [t.id(i) for i in range(len(t))
                     if t.error_of(i) in ("decrypt_failed", "mac_failed", "no_key")]
        return {"gateway": self.gateway_id,
                "uptime_s": ticks_diff(ticks_ms(), self.started_ms) // 1000,
                "time": publish.iso_time(self.now_unix()), "heap_free": self.mem_free(),
                "radio": radio, "spool": spool, "mqtt": self.link.counters,
                "counters": self.counters, "decode_errors": self.errors,
                "meters_configured": len(self.meters),
                "meters_heard": sum(1 for n in t.telegrams if n),
                "meters_key_problem": wrong_key, "unknown_meters": unknown,
                "config_errors": self.config_errors,
                "network": self.extra_state() if self.extra_state else None,
                "remote": self.remote_state() if self.remote_state else None}

    def meter_state(self, n):
        """Chunk n of the per-meter state: {id: {name, last_seen, rssi_dbm, telegrams,
        error}} for METERS_PER_STATE meters, as JSON."""
        chunk = {}
        t = self.meters
        for i in range(n * METERS_PER_STATE, min((n + 1) * METERS_PER_STATE, len(t))):
            heard = t.telegrams[i]
            chunk[t.id(i)] = {"name": t.name(i), "last_seen": publish.iso_time(t.last_seen[i]),
                               "rssi_dbm": t.rssi[i] if heard else None,
                               "telegrams": heard, "error": t.error_of(i)}
        return json.dumps(chunk)

    def meter_chunks(self):
        return max(1, (len(self.meters) + METERS_PER_STATE - 1) // METERS_PER_STATE)

    def publish_state(self):
        """The summary now; the per-meter chunks follow one per pass of step(), with the
        radio serviced in between (500 meters are 16 messages)."""
        self._state_due = ticks_add(ticks_ms(), self.state_ms)
        if not self.link.connected:
            return False
        gc.collect()  # heap_free: what is really free, not what garbage hides
        if not self.link.publish(self.topics.state, json.dumps(self.state()), True):
            return False
        self._chunks = list(range(self.meter_chunks()))
        return True

    def _publish_chunk(self):
        n = self._chunks[0]
        if self.link.publish(self.topics.state + "/meters/%d" % n, self.meter_state(n), True):
            self._chunks.pop(0)

    # -- learnt compact formats ----------------------------------------------------------

    def _load_formats(self):
        if not self.formats_path:
            return
        try:
            with open(self.formats_path) as f:
                self.decoder.import_formats(f.read().split("\n"))
        except OSError:
            pass
        self._formats_saved = "\n".join(self.decoder.export_formats())

    def save_formats(self):
        """Learnt compact formats to flash (atomically), when there are new ones."""
        if not self.formats_path:
            return False
        text = "\n".join(self.decoder.export_formats())
        if text == self._formats_saved:
            return False
        import os

        tmp = self.formats_path + ".tmp"
        try:
            with open(tmp, "w") as f:
                f.write(text)
            os.rename(tmp, self.formats_path)
        except OSError:
            return False
        self._formats_saved = text
        return True


def _signature(result):
    """A number that changes when the reading changes: the record values hashed in order,
    without the meter's clock (it changes with every telegram while the reading does not)."""
    h = 0
    for r in result["records"]:
        q = r["quantity"]
        if q == "datetime" or q == "time_point":
            continue
        v = r["value"]
        if type(v) is float:
            v = hash(str(v))  # MicroPython hashes 1.0 and 1.001 alike
        else:
            try:
                v = hash(v)
            except TypeError:  # a list or dict value
                v = hash(str(v))
        h = (h * 1000003 + v) & 0x3FFFFFFF
    return h
