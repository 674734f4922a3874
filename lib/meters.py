"""The configured meters and their state, for hundreds of meters in a small heap.

Flat arrays indexed by the meter's position in id order: no object and no string per meter
(500 meters take about 25 KB here; as config dicts and objects they took 100 KB and more).
Ids are kept as the 4 address bytes of the data link layer, sorted, and found by binary
search; the names as one text; the keys in one buffer. Also the decoder's key table:
get(meter_id) -> key.

    t = Meters(capacity)                   # buffers allocated once, for `capacity` meters
    t.add("12345678", "kitchen", key16)    # any order; then
    t.seal()                               # sorts; add() no more
    t = Meters.of({id: name}, {id: key})   # the same from config.json's meters
    read_lines(t, open("/meters.txt"), errors)   # the meters file, line by line

The meters file (meters.txt next to config.json) holds one meter per line:
    ID KEY NAME...      e.g. 76348799 00112233445566778899AABBCCDDEEFF kitchen cold water
    ID - NAME...        a meter without encryption
Blank lines and lines starting with # are skipped. A bad line is reported as
"meters.txt:LINE: id: must be 8 hex digits" (never quoting a key) and left out. For
installations with hundreds of meters: config.json's parsed JSON would take more heap than an
ESP32 has (500 meters: 165 KB on the unix port), a line at a time takes next to nothing.
"""

from array import array
from binascii import unhexlify

_HEX = "0123456789abcdef"


_SIZES = {"b": 1, "B": 1, "H": 2, "I": 4}


def _array(code, n):
    """n zeros in one allocation (array() copies a buffer's bytes)."""
    return array(code, bytearray(_SIZES[code] * n))


def raw_id(meter_id):
    """"12345678" -> b"\\x78\\x56\\x34\\x12": the id as the DLL carries it (EN 13757-4)."""
    b = unhexlify(meter_id)
    if len(b) != 4:
        raise ValueError("meter id")
    return bytes((b[3], b[2], b[1], b[0]))


class Meters:
    def __init__(self, capacity, name_bytes):
        # Allocated once: buffers grown meter by meter, or a string per name kept while the
        # file's lines come and go, would leave the heap in pieces too small to use.
        self.capacity = capacity
        self.n = 0
        self._ids = bytearray(4 * capacity)
        self._text = bytearray(name_bytes)  # the names, UTF-8, back to back
        self._name_end = _array("H", capacity)
        self._text_len = 0
        self._keys = bytearray(16 * capacity)
        self._has_key = bytearray(capacity)
        self.sealed = False

    @classmethod
    def of(cls, names, keys):
        t = cls(len(names), sum(len(n.encode()) for n in names.values()))
        for meter_id in names:
            t.add(meter_id, names[meter_id], keys.get(meter_id))
        t.seal()
        return t

    def add(self, meter_id, name, key):
        """False when the table is full. (An id given twice is found by seal().)"""
        raw = raw_id(meter_id)
        n = self.n
        if n >= self.capacity:
            return False
        name = name.encode()
        end = self._text_len + len(name)
        if end > len(self._text):
            return False
        self._ids[4 * n:4 * n + 4] = raw
        self._text[self._text_len:end] = name
        self._text_len = end
        self._name_end[n] = end
        if key is not None:
            self._keys[16 * n:16 * n + 16] = key
            self._has_key[n] = 1
        self.n = n + 1
        return True

    def seal(self, errors=None):
        """Sort by id and set up the state arrays. An id given twice keeps its first entry;
        the later one is left out and reported in `errors`."""
        ids, text, ends, keys, has = self._ids, self._text, self._name_end, self._keys, \
            self._has_key
        order = _sort(ids, self.n)
        kept = _array("H", 0)
        for i in order:
            if len(kept) and ids[4 * i:4 * i + 4] == ids[4 * kept[-1]:4 * kept[-1] + 4]:
                if errors is not None:
                    errors.append("meters: %s is configured twice, the later entry left out"
                                  % _id_text(ids, i))
                continue
            kept.append(i)
        order = kept
        n = self.n = len(order)
        self._ids = bytearray(4 * n)
        self._keys = bytearray(16 * n)
        self._has_key = bytearray(n)
        self._name_end = _array("H", n)
        self._text = bytearray(self._text_len)
        end = 0
        for pos in range(n):
            i = order[pos]
            self._ids[4 * pos:4 * pos + 4] = ids[4 * i:4 * i + 4]
            self._keys[16 * pos:16 * pos + 16] = keys[16 * i:16 * i + 16]
            self._has_key[pos] = has[i]
            start = ends[i - 1] if i else 0
            size = ends[i] - start
            self._text[end:end + size] = text[start:ends[i]]
            end += size
            self._name_end[pos] = end
        ids = text = ends = keys = has = order = None
        self.last_seen = _array("I", n)  # unix time, 0: never
        self.rssi = _array("b", n)
        self.telegrams = _array("I", n)
        self.error = bytearray(n)  # index into self.codes; 0: none
        self.codes = [None]
        self.sig = _array("I", n)
        self.stored = _array("I", n)  # (ticks_ms & 0x3FFFFFFF) + 1 of the last stored; 0: none
        self.announced = bytearray(n)
        self.sealed = True
        return self

    def __len__(self):
        return self.n

    def find(self, meter_id):
        """The meter's position, or None."""
        try:
            raw = raw_id(meter_id)
        except ValueError:
            return None
        ids = self._ids
        lo, hi = 0, self.n
        while lo < hi:
            mid = (lo + hi) >> 1
            p = 4 * mid
            cur = ids[p:p + 4]
            if cur == raw:
                return mid
            if cur < raw:
                lo = mid + 1
            else:
                hi = mid
        return None

    def id(self, i):
        return _id_text(self._ids, i)

    def name(self, i):
        return bytes(self._text[self._name_end[i - 1] if i else 0:self._name_end[i]]).decode()

    def get(self, meter_id):
        """The meter's AES key (bytes), or None: the decoder's key lookup."""
        i = self.find(meter_id)
        if i is None or not self._has_key[i]:
            return None
        return bytes(self._keys[16 * i:16 * i + 16])

    def set_error(self, i, code):
        if code is None:
            self.error[i] = 0
            return
        if code not in self.codes:
            self.codes.append(code)
        self.error[i] = self.codes.index(code)

    def error_of(self, i):
        return self.codes[self.error[i]]


def _sort(ids, n):
    """Positions 0..n-1 ordered by their 4-byte id (as bytes), then by position: the first
    entry of an id given twice comes first. A Shell sort over 16-bit halves, so that nothing
    is allocated per comparison (an id above 2^30 would be a long int on the ESP32, and
    sorted() with a key allocates keys by the thousand)."""
    hi = _array("H", n)
    lo = _array("H", n)
    for i in range(n):
        p = 4 * i
        hi[i] = (ids[p] << 8) | ids[p + 1]
        lo[i] = (ids[p + 2] << 8) | ids[p + 3]
    order = _array("H", n)
    for i in range(n):
        order[i] = i
    gap = 1
    while gap < n // 3:
        gap = 3 * gap + 1
    while gap > 0:
        for i in range(gap, n):
            x = order[i]
            xh, xl = hi[x], lo[x]
            j = i
            while j >= gap:
                y = order[j - gap]
                yh = hi[y]
                if yh < xh or (yh == xh and (lo[y] < xl or (lo[y] == xl and y < x))):
                    break
                order[j] = y
                j -= gap
            order[j] = x
        gap //= 3
    return order


def _id_text(b, i):
    p = 4 * i
    return "%02x%02x%02x%02x" % (b[p + 3], b[p + 2], b[p + 1], b[p])


def _is_hex(s, n):
    if len(s) != n:
        return False
    for c in s:
        if c not in _HEX:
            return False
    return True


def count_lines(lines):
    """(meters, bytes of names) a meters file holds at most: what Meters() is sized for."""
    n = 0
    text = 0
    for line in lines:
        line = line.strip()
        if line and line[0] != "#":
            n += 1
            parts = line.split(None, 2)
            text += len((parts[2] if len(parts) > 2 else parts[0]).encode())
    return n, text


def read_lines(table, lines, errors, source="meters.txt"):
    """Add the meters of a meters file to `table` (not sealed yet), one line at a time.
    Problems go to `errors` as "meters.txt:LINE: field: problem"; returns meters added."""
    added = 0
    n = 0
    for line in lines:
        n += 1
        line = line.strip()
        if not line or line[0] == "#":
            continue
        parts = line.split(None, 2)
        where = "%s:%d: " % (source, n)
        meter_id = parts[0].lower()
        if not _is_hex(meter_id, 8):
            errors.append(where + "id: must be 8 hex digits, left out")
            continue
        key = None
        if len(parts) > 1 and parts[1] != "-":
            k = parts[1].lower()
            if not _is_hex(k, 32):
                errors.append(where + "key: must be 32 hex digits or -, left out")
                continue
            key = unhexlify(k)
        name = parts[2] if len(parts) > 2 else meter_id
        if not table.add(meter_id, name, key):
            errors.append(where + "more meters than counted, left out")
            continue
        added += 1
    return added
