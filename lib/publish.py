"""What the gateway publishes over MQTT, and where: topics, payloads, Home Assistant discovery.

Portable and free of I/O: the gateway hands in decode results and spool records, and gets
topic and payload strings back.

Topics, under a prefix (config `mqtt.prefix`, default "wmbus/<gateway_id>"):
    <prefix>/meter/<id>     the decoded reading: the decoder's fields (wmbusmeters' names)
                            plus name, timestamp, rssi_dbm, gateway and fingerprint
    <prefix>/raw/<id>       the telegram as received: hex (no link-layer CRCs, still encrypted
                            end to end), link mode, RSSI, time, and an "rtlwmbus" line that
                            wmbusmeters reads as it is (radio.md §4.5)
    <prefix>/state          gateway state (retained)
    <prefix>/status         "online" / "offline" (retained; "offline" is the last will)
    homeassistant/sensor/wmbus_<id>/<field>/config   discovery (retained)

The fingerprint is the first 8 bytes of SHA-256 over the frame, in hex: it depends on the
telegram only, so every gateway that hears a telegram gives it the same fingerprint and a
consumer behind a clustered broker drops the copies.
"""

import binascii
import hashlib
import json
import time

# Unix time of the ESP32 port's epoch (2000-01-01); the unix port counts from 1970.
EPOCH_OFFSET = 946684800 if time.gmtime(0)[0] == 2000 else 0
# Before NTP has set the clock the RTC runs from 2000 (or 1970): such a time is no time.
VALID_AFTER = 1700000000  # 2023-11-14

# Result fields that describe the telegram rather than the meter's reading: not sensors.
_NOT_READINGS = ("access_number", "c_field", "ci", "version", "device_type", "security_mode",
                 "tpl_status", "id", "manufacturer", "media", "meter", "decode_error",
                 "records", "name", "timestamp", "gateway", "fingerprint")

# Output-name suffix -> unit, Home Assistant device class, state class for non-total fields.
# (Units as HA spells them: homeassistant.const Unit* enums.)
_HA_UNITS = {
    "m3": ("m³", "water", "total"),
    "kwh": ("kWh", "energy", "total"),
    "mwh": ("MWh", "energy", "total"),
    "gj": ("GJ", "energy", "total"),
    "m3h": ("m³/h", "volume_flow_rate", "measurement"),
    "lh": ("L/h", "volume_flow_rate", "measurement"),
    "kw": ("kW", "power", "measurement"),
    "w": ("W", "power", "measurement"),
    "c": ("°C", "temperature", "measurement"),
    "k": ("K", None, "measurement"),
    "v": ("V", "voltage", "measurement"),
    "a": ("A", "current", "measurement"),
    "hz": ("Hz", "frequency", "measurement"),
    "h": ("h", "duration", "total_increasing"),
    "d": ("d", "duration", "measurement"),
    "bar": ("bar", "pressure", "measurement"),
    "rh": ("%", "humidity", "measurement"),
    "dbm": ("dBm", "signal_strength", "measurement"),
    "kvarh": ("kvarh", None, "total"),
    "kg": ("kg", "weight", "measurement"),
    "counter": (None, None, "total_increasing"),
    "hca": (None, None, "total_increasing"),
}


def unix_time(rtc_seconds=None):
    """Seconds since 1970 from time.time() on either epoch; 0 while the clock is unset."""
    t = int(time.time() if rtc_seconds is None else rtc_seconds) + EPOCH_OFFSET
    return t if t >= VALID_AFTER else 0


_last_iso = [0, None]  # the last second formatted: the reading and the raw payload share it


def iso_time(unix_seconds):
    """2026-11-25T10:00:00Z, or None for 0 (time unknown)."""
    if not unix_seconds:
        return None
    last = _last_iso
    if unix_seconds != last[0]:
        y, mo, d, h, mi, s = time.gmtime(unix_seconds - EPOCH_OFFSET)[:6]
        last[1] = "%04d-%02d-%02dT%02d:%02d:%02dZ" % (y, mo, d, h, mi, s)
        last[0] = unix_seconds
    return last[1]


def fingerprint(frame):
    return _hex(hashlib.sha256(bytes(frame)).digest()[:8])


def _hex(b):
    return binascii.hexlify(b).decode()


class Topics:
    def __init__(self, prefix, discovery_prefix="homeassistant"):
        self.prefix = prefix
        self.discovery_prefix = discovery_prefix
        self.state = prefix + "/state"
        self.status = prefix + "/status"
        self.command = prefix + "/command"

    def reading(self, meter_id):
        return self.prefix + "/meter/" + meter_id

    def raw(self, meter_id):
        return self.prefix + "/raw/" + meter_id

    def discovery(self, meter_id, field):
        return "%s/sensor/wmbus_%s/%s/config" % (self.discovery_prefix, meter_id, field)


def reading(result, name, rx_unix, rssi_dbm, gateway_id, fp):
    """The reading payload: the decode result with the gateway's fields beside it."""
    result["name"] = name
    result["timestamp"] = iso_time(rx_unix)
    result["rssi_dbm"] = rssi_dbm
    result["gateway"] = gateway_id
    result["fingerprint"] = fp
    return json.dumps(result)


_MODE_NAMES = ("T1", "C1", "T2", "C2", "S1", "S1m", "S2", "R2", "N1", "N2", "F2")


def raw(frame, meter_id, mode, rx_unix, rssi_dbm, gateway_id, fp):
    """The raw payload. `mode` is a spool mode code or name."""
    if type(mode) is int:
        mode = _MODE_NAMES[mode] if mode < len(_MODE_NAMES) else "?"
    h = _hex(frame)
    ts = iso_time(rx_unix)
    # wmbusmeters' rtlwmbus input: MODE;CRC_OK;3OUTOF6_OK;TIMESTAMP;RSSI;;;0x<hex>
    line = "%s;1;1;%s;%d;;;0x%s" % (mode, (ts or "").replace("T", " ").replace("Z", ".000"),
                                    rssi_dbm, h)
    return json.dumps({"id": meter_id, "hex": h, "mode": mode, "rssi_dbm": rssi_dbm,
                       "timestamp": ts, "gateway": gateway_id, "fingerprint": fp,
                       "rtlwmbus": line})


def ha_sensor(field):
    """(unit, device_class, state_class) for an output field, by its suffix; state class
    total_increasing for the meter's running totals (total_*)."""
    i = field.rfind("_")
    spec = _HA_UNITS.get(field[i + 1:]) if i > 0 else None
    if spec is None:
        return None, None, None
    unit, device_class, state_class = spec
    if field.startswith("total_") and state_class == "total":
        state_class = "total_increasing"
    return unit, device_class, state_class


def discovery_fields(result):
    """The fields of a decode result that become Home Assistant sensors: [(field, is_text)]."""
    out = []
    for field in sorted(result):
        value = result[field]
        if field in _NOT_READINGS or type(value) is bool or value is None:
            continue
        if type(value) in (int, float, str):
            out.append((field, type(value) is str))
    return out


def discovery(topics, meter_id, name, field, is_text, meter, gateway_id):
    """(topic, payload) announcing one field to Home Assistant. `meter` is the decode
    result's (manufacturer, meter, media): the device the sensor belongs to."""
    manufacturer, model, media = meter
    cfg = {"name": field, "unique_id": "wmbus_%s_%s" % (meter_id, field),
           "object_id": "wmbus_%s_%s" % (meter_id, field),
           "state_topic": topics.reading(meter_id),
           "value_template": "{{ value_json.%s }}" % field,
           "availability_topic": topics.status,
           "device": {"identifiers": ["wmbus_" + meter_id], "name": name,
                      "manufacturer": manufacturer, "model": model or media,
                      "via_device": "wmbus_gateway_" + gateway_id}}
    if not is_text:
        unit, device_class, state_class = ha_sensor(field)
        if device_class == "water" and media and "gas" in media:
            device_class = "gas"
        if unit:
            cfg["unit_of_measurement"] = unit
        if device_class:
            cfg["device_class"] = device_class
        if state_class:
            cfg["state_class"] = state_class
    return topics.discovery(meter_id, field), json.dumps(cfg)
