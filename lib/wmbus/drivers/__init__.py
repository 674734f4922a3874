"""Meter drivers: from the records of a telegram to the reading fields users know.

A driver is data: a text in the form of wmbusmeters' xmq drivers, one declaration a line
(kamstrup.py holds the Kamstrup ones):

    detect KAM 1b 16              manufacturer, version, device type it decodes
    format 02FF2004134413615B6167 a compact-frame format (DIB+VIB bytes) known in advance
    field total_m3 volume         an output field and the record it comes from
    field target_m3 volume s1
    field accoustic_noise 06ff1b hex

A record is named either by its DIB+VIB hex (`06ff1b`: vendor records), or by
`quantity[.qualifier] [max|min|err] [sN] [tN] [uN]` (function, storage, tariff, subunit), so
that a field is found whatever data size or scale a meter chose. The output name's suffix gives
the unit (`_kwh`, `_m3`, `_m3h`, `_c`, ...) as in wmbusmeters' JSON, and the value is converted
to it; the last word may say `hex` (vendor bytes as sent), `xint` (a number shown in hex) or
`raw`. The first record that matches a field gives its value. Code only where a table cannot
say it (Kamstrup info-code bits), beside its driver.

Text rather than tuples and dicts: a driver costs its characters in RAM (none when frozen), and
the lookups are built lazily, per DIB+VIB actually seen, into a small cache.

A meter no driver detects gets top-level fields by one generic scheme (generic.py).
"""

from ..crc import crc16
from ..dll import manufacturer, manufacturer_code

_FUNCTIONS = {"max": "maximum", "min": "minimum", "err": "error"}

# Output-name suffix, then the record units it accepts with their factors. A value in a unit
# its field does not list is not given (a field named _m3 never shows litres as m3).
_UNITS = """
kwh kWh 1 GJ 277.77777777777777 MCal 1.163
m3 m3 1
m3h m3/h 1 m3/min 60 m3/s 3600
kw kW 1 GJ/h 277.77777777777777
c C 1 K 1
h h 1 min 0.016666666666666666 s 0.0002777777777777778 d 24
d d 1 h 0.041666666666666664
bar bar 1
v V 1
a A 1
hz Hz 1
kvarh kVARh 1
rh % 1
dbm dBm 1
kg kg 1
"""
_factors = {}  # (suffix, unit) -> factor, or None when the suffix is not a unit


def _factor(suffix, unit):
    key = (suffix, unit)
    if key in _factors:
        return _factors[key]
    factor = 1  # a suffix that is no unit (_counter, _date): the value as it is
    i = _UNITS.find("\n" + suffix + " ")
    if i >= 0:
        words = _UNITS[i + 1 : _UNITS.find("\n", i + 1)].split()
        factor = None
        for k in range(1, len(words), 2):
            if words[k] == unit:
                factor = float(words[k + 1]) if "." in words[k + 1] else int(words[k + 1])
    if len(_factors) >= 64:
        _factors.clear()
    _factors[key] = factor
    return factor


# DIF data field -> data bytes, for the vendor blobs shown as hex.
_SIZE = b"\x00\x01\x02\x03\x04\x04\x06\x08\x00\x01\x02\x03\x04\x00\x06\x00"

MAX_CACHE = 48  # DIB+VIB strings resolved per driver


def convert(rec, name, how=None):
    """A record's value as the output field `name` wants it, or None to leave the field out."""
    factor = 1
    if how is None:
        factor = _factor(name[name.rfind("_") + 1 :], rec["unit"])
        if factor is None:
            return None  # a unit this field cannot be given in: leave the field out
    return converted(rec, how, factor)


def converted(rec, how, factor):
    """convert() with the unit factor already found (drivers cache it per DIB+VIB)."""
    value = rec["value"]
    if value is None:
        return None
    if how is None:
        if isinstance(value, str):
            return _as_wmbusmeters_date(value)
        if factor != 1:
            value *= factor
        if isinstance(value, float):
            value = round(value, 6)  # as wmbusmeters prints them: 6 decimals at most
        return value
    if how == "hex":  # the data bytes in transmission order (a vendor blob)
        n = _SIZE[int(rec["dif_vif"][:2], 16) & 0x0F]
        return "".join(["%02X" % ((value >> (8 * i)) & 0xFF) for i in range(n)])
    if how == "xint":  # an identifier shown as the hex number it is
        return "%X" % value
    return value  # raw


_DAYS = (31, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # index 0: December


def _as_wmbusmeters_date(text):
    """A type G date with day or month 0 ("2000-00-*": no date set) as wmbusmeters shows it:
    normalised the way C's mktime does, day 0 being the last day of the month before."""
    if len(text) < 9 or text[4] != "-" or text[7] != "-" or not text[:4].isdigit():
        return text
    month = text[5:7]
    day = text[8:10] if text[8:9] != "*" else "*"
    if month == "*" or not month.isdigit() or (month != "00" and day not in ("00", "*")):
        return text
    year, m = int(text[:4]), int(month)
    if m == 0:
        year, m = year - 1, 12
    d = int(day) if day.isdigit() else 0
    if d == 0:
        m -= 1
        if m == 0:
            year, m = year - 1, 12
        d = _DAYS[m] + (1 if m == 2 and year % 4 == 0 and (year % 100 or year % 400 == 0) else 0)
    return "%04d-%02d-%02d%s" % (year, m, d, text[8 + len(day):])


def matches(words, rec):
    """Whether a record is the one a field's match words name."""
    first = words[0]
    if first == rec["dif_vif"]:
        return True
    quantity, _, qualifier = first.partition(".")
    if quantity != rec["quantity"] or (qualifier or None) != rec.get("qualifier"):
        return False
    function, storage, tariff, subunit = "instantaneous", 0, 0, 0
    for w in words[1:]:
        if w in _FUNCTIONS:
            function = _FUNCTIONS[w]
        elif w[0] == "s":
            storage = int(w[1:])
        elif w[0] == "t":
            tariff = int(w[1:])
        elif w[0] == "u":
            subunit = int(w[1:])
    return (function == rec["function"] and storage == rec["storage"]
            and tariff == rec["tariff"] and subunit == rec["subunit"])


class Driver:
    """A driver from its declaration text.

    status: function(result, records) adding the status fields from the records whose DIB+VIB
    are in status_records (a dict DIB+VIB hex -> record, the first of each).
    """

    def __init__(self, text, status=None, status_records=(), manufacturer_ci=None, apl=None,
                 keyed=False):
        self.text = text
        self.status = status
        self.status_records = status_records
        # function(result, payload[, key]) -> decode_error or None, for telegrams whose CI is
        # manufacturer specific (0xA0-0xB7): payload = the CI byte and everything after it.
        # It fills the result's top-level fields itself (decode_manufacturer_ci has set
        # result["meter"]); keyed: it also gets the meter's key, or None.
        self.manufacturer_ci = manufacturer_ci
        self.keyed = keyed
        # function(result, apl) -> decode_error or None: reads the application layer of a
        # telegram with a records CI (0x72/0x7A/0x78) whose layout is not made of records.
        self.apl = apl
        self.name = None
        self.detect = []
        for line in text.split("\n"):
            words = line.split()
            if not words:
                continue
            if words[0] == "driver":
                self.name = words[1]
            elif words[0] == "detect":
                self.detect.append((manufacturer_code(words[1]),
                                    -1 if words[2] == "*" else int(words[2], 16),
                                    -1 if words[3] == "*" else int(words[3], 16)))
        self._fields = {}  # dif_vif -> ((name, how, factor), ...) for the records seen so far
        self._formats = None

    def fields_for(self, rec):
        """The output fields a record gives, ((name, how, unit factor), ...), resolved once per
        DIB+VIB (a DIB+VIB always comes with the same quantity and unit)."""
        dv = rec["dif_vif"]
        found = self._fields.get(dv)
        if found is None:
            out = []
            for line in self.text.split("\n"):
                words = line.split()
                if len(words) >= 3 and words[0] == "field":
                    how = words[-1] if words[-1] in ("hex", "xint", "raw") else None
                    if matches(words[2 : len(words) - (how is not None)], rec):
                        name = words[1]
                        factor = 1 if how else _factor(name[name.rfind("_") + 1 :], rec["unit"])
                        if factor is not None:
                            out.append((name, how, factor))
            found = tuple(out)
            if len(self._fields) >= MAX_CACHE:
                self._fields.clear()
            self._fields[dv] = found
        return found

    def apply(self, result):
        result["meter"] = self.name
        records = result["records"]
        cache = self._fields
        for rec in records:
            specs = cache.get(rec["dif_vif"])
            if specs is None:
                specs = self.fields_for(rec)
            for name, how, factor in specs:
                if name not in result:
                    value = rec["value"]
                    if how is not None or factor != 1 or not isinstance(value, int):
                        value = converted(rec, how, factor)  # the usual integer needs nothing
                    if value is not None:
                        result[name] = value
        if self.status is not None:
            found = {}
            wanted = self.status_records
            for rec in records:
                dv = rec["dif_vif"]
                if dv in wanted and dv not in found:
                    found[dv] = rec
            self.status(result, found)

    def format_by_signature(self, signature):
        """The DIB+VIB bytes of a compact format this driver knows, by its signature."""
        if self._formats is None:
            self._formats = {}
            for line in self.text.split("\n"):
                words = line.split()
                if len(words) == 2 and words[0] == "format":
                    fmt = bytes.fromhex(words[1])
                    self._formats[crc16(fmt)] = fmt
        return self._formats.get(signature)


# Which module declares the driver of which meters: `module: MMM vv tt, ...` (lower-case hex, as
# in the drivers' `detect` lines; `MMM * *`: any version and type, for vendor CIs only). One
# string, searched: tuples of strings would cost kilobytes of heap on the device.
# Only this small table is loaded with the decoder; a driver module is imported when its first
# meter is heard, so a gateway pays the heap of the drivers it uses, not of all of them.
_MODULES = """
kamwater: KAM 1b 06, KAM 1b 16, KAW 3a 16, KAW 3c 16, KAM 1d 16, KAW 42 06, KAW 42 16
kamheat: KAM 30 04, KAM 30 0d, KAM 30 0c, KAM 40 04, KAM 40 0c, KAM 40 0d, KAM 19 04, KAM 34 04, KAM 34 0a, KAM 34 0b, KAM 34 0c, KAM 34 0d, KAM 1c 04, KAM 35 04, KAM 35 0c, KAM 39 04
omnipower: KAM 30 02
kampress: KAM 01 18
izar: HYD 85 07, HYD 86 07, SAP 00 07, DME 78 07, DME 78 06, SAP * *, DME * *, HYD * *
apator08: APT 03 03, APT 0f 0f
apator172: APT 04 11
apatoreitn: APA 04 08, APT 04 08
apatorna1: APA 14 07
bfw240radio: BFW 02 08
mkradio3: TCH 74 62, TCH 74 72
mkradio4: TCH 95 62, TCH 70 62, TCH 95 72, TCH 70 72
fhkvdataiii: TCH 69 80, TCH 94 80
vario451: TCH 27 04, TCH 27 c3
compact5: TCH 45 04, TCH 45 c3, TCH 22 43, TCH 45 43, TCH 39 43
tsd2: TCH 76 f0
engelmann_faw: EFE 00 06, EFE 00 07, EFE 00 16
"""

_REGISTRY = {}  # (M code, version, device type) -> Driver, filled as modules load
_NO_DRIVER = {}  # kinds known to have none (bounded): spares them the scan of _MODULES


def module_of(kind):
    """The driver module that detects `MMM vv tt`, or None."""
    i = _MODULES.find(" " + kind)
    while i >= 0:
        after = _MODULES[i + 1 + len(kind) : i + 2 + len(kind)]
        if after in (",", "\n"):
            line = _MODULES.rfind("\n", 0, i) + 1
            return _MODULES[line : _MODULES.find(":", line)]
        i = _MODULES.find(" " + kind, i + 1)
    return None


def modules():
    """[(module, [kinds])] of the table, for tests and tools."""
    out = []
    for line in _MODULES.split("\n"):
        if line:
            name, _, kinds = line.partition(": ")
            out.append((name, kinds.split(", ")))
    return out


def register(driver):
    for key in driver.detect:
        _REGISTRY[key] = driver


def find(m_code, version, device_type):
    key = (m_code, version, device_type)
    driver = _REGISTRY.get(key)
    if driver is None and key not in _NO_DRIVER:
        # _MODULES is scanned, not indexed: a dict of every kind listed would cost heap (about
        # 200 bytes a kind on the unix port) for meters a gateway never hears.
        kind = ("%s * *" % manufacturer(m_code) if version < 0 else
                "%s %02x %02x" % (manufacturer(m_code), version, device_type))
        name = module_of(kind)
        if name is not None:
            __import__("wmbus.drivers." + name)  # registers its drivers
            return _REGISTRY.get(key)
        if len(_NO_DRIVER) >= 32:
            _NO_DRIVER.clear()
        _NO_DRIVER[key] = True
    return driver


def find_for(result):
    if result.get("manufacturer") is None:
        return None
    return find(manufacturer_code(result["manufacturer"]), result["version"],
                result["device_type"])


def apply(result):
    """Add the top-level reading fields to a decode result."""
    driver = find_for(result)
    if driver is not None:
        driver.apply(result)
    else:
        from . import generic

        generic.apply(result)


def builtin_format(m_code, version, device_type, signature):
    """The DIB+VIB bytes of a compact format known for this kind of meter, or None."""
    driver = find(m_code, version, device_type)
    return None if driver is None else driver.format_by_signature(signature)


def decode_manufacturer_ci(result, payload, key=None):
    """A telegram with a manufacturer-specific CI: decoded by its meter's driver, if it has one
    that reads it; otherwise unsupported_ci (the payload stays in manufacturer_data). A driver
    may detect `MFT * *`, any version and type, for such telegrams only: Diehl puts id bytes
    there. The meter's key is passed to drivers declared keyed (their payload is encrypted in a
    vendor way)."""
    driver = find_for(result)
    if (driver is None or driver.manufacturer_ci is None) and result.get("manufacturer"):
        driver = find(manufacturer_code(result["manufacturer"]), -1, -1)
    if driver is None or driver.manufacturer_ci is None:
        return "unsupported_ci"
    result["meter"] = driver.name
    if driver.keyed:
        return driver.manufacturer_ci(result, payload, key)
    return driver.manufacturer_ci(result, payload)
