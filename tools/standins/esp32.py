"""Host stand-in for MicroPython's `esp32` module (ports/esp32/esp32_nvs.c, esp32_partition.c,
modesp32.c; docs/library/esp32.rst) on the original ESP32.

NVS: values live in a module-level store per namespace, which outlives NVS objects and
machine._sim_reboot() as flash does. A set_*/erase_key is seen by the same NVS object at once
but by nobody else until commit() - the documented contract (esp32.rst: "Failure to call
commit results in changes being lost at the next reset"). Errors are the port's
OSError(-esp_err, "ESP_ERR_NVS_...") from check_esp_err.

Partition: an OTA partition table (ESP32_GENERIC, BOARD_VARIANT=OTA; micropython-esp32.md §1)
backed by sparse 4 KiB sectors that read 0xFF until written. Flash is NOR: programming can only
clear bits, so writeblocks(n, buf) erases first and writeblocks(n, buf, offset) never does.
The bootloader is simulated by _sim_reboot(): it boots the slot set_boot() chose, and rolls back
a new image that was not confirmed with mark_app_valid_cancel_rollback() before the next reset.
Everything named `_sim_*` is host-only. There is no mcu_temperature() on the ESP32 (S2/S3/C3
only), so there is none here.
"""

import sys

_MICROPYTHON = sys.implementation.name == "micropython"

HEAP_DATA = 4  # MALLOC_CAP_8BIT
HEAP_EXEC = 1  # MALLOC_CAP_EXEC
WAKEUP_ALL_LOW = False
WAKEUP_ANY_HIGH = True

# ESP-IDF error codes (esp_err.h, nvs.h, esp_ota_ops.h)
_ERR = {
    0x102: "ESP_ERR_INVALID_ARG",
    0x104: "ESP_ERR_INVALID_SIZE",
    0x105: "ESP_ERR_NOT_FOUND",
    0x10B: "ESP_ERR_NOT_ALLOWED",
    0x1102: "ESP_ERR_NVS_NOT_FOUND",
    0x1106: "ESP_ERR_NVS_INVALID_NAME",
    0x1109: "ESP_ERR_NVS_KEY_TOO_LONG",
    0x110C: "ESP_ERR_NVS_INVALID_LENGTH",
    0x1503: "ESP_ERR_OTA_VALIDATE_FAILED",
}
_KEY_MAX = 15  # NVS key and namespace names: at most 15 characters


def _esp_err(code):
    return OSError(-code, _ERR[code])


def _enoent():
    return OSError(2) if _MICROPYTHON else OSError(2, "ENOENT")


# -- chip ---------------------------------------------------------------------------------------
_raw_temperature = 128  # the ESP32 sensor's raw reading, roughly degrees Fahrenheit
_heap_info = [(240, 0, 0, 0), (7288, 0, 0, 0), (16648, 4, 4, 4), (79912, 35712, 35512, 35108),
              (15072, 15036, 15036, 15036), (113840, 0, 0, 0)]  # the example of esp32.rst


def raw_temperature():
    return _raw_temperature


def idf_heap_info(capabilities):
    if capabilities not in (HEAP_DATA, HEAP_EXEC):
        return []
    return list(_heap_info)


def gpio_deep_sleep_hold(enable):
    pass


def wake_on_ext0(pin, level):
    pass


def wake_on_ext1(pins, level):
    pass


def wake_on_touch(wake):
    pass


def wake_on_ulp(wake):
    pass


def _sim_set(raw_temperature=None, heap_info=None):
    global _raw_temperature, _heap_info
    if raw_temperature is not None:
        _raw_temperature = raw_temperature
    if heap_info is not None:
        _heap_info = list(heap_info)


# -- NVS ----------------------------------------------------------------------------------------
_nvs = {}  # namespace -> {key: int or bytes}: what commit() has written to flash
_I32_MIN = -(1 << 31)
_I32_MAX = (1 << 31) - 1


def _check_key(key):
    if not isinstance(key, str):
        raise TypeError("can't convert to str implicitly")
    if len(key) > _KEY_MAX:
        raise _esp_err(0x1109)
    if not key:
        raise _esp_err(0x1106)


class NVS:
    def __init__(self, *args):  # NVS(namespace): one positional argument, no keywords
        if len(args) != 1:
            raise TypeError("function takes 1 positional arguments but %d were given" % len(args))
        namespace = args[0]
        _check_key(namespace)
        self.namespace = namespace
        self._pending = {}  # key -> value, or _ERASED
        self.commits = 0  # host-only

    def _get(self, key):
        _check_key(key)
        if key in self._pending:
            v = self._pending[key]
            return None if v is _ERASED else v
        return _nvs.get(self.namespace, {}).get(key)

    def set_i32(self, key, value):
        _check_key(key)
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError("can't convert %s to int" % type(value).__name__)
        if value < _I32_MIN or value > _I32_MAX:
            raise OverflowError("overflow converting long int to machine word")
        self._pending[key] = value

    def get_i32(self, key):
        v = self._get(key)
        if not isinstance(v, int):  # missing, or stored as a blob: the IDF finds no i32 item
            raise _esp_err(0x1102)
        return v

    def set_blob(self, key, value):
        _check_key(key)
        if isinstance(value, str):
            value = value.encode()
        self._pending[key] = bytes(value)  # TypeError for objects without the buffer protocol

    def get_blob(self, key, buffer):
        if not isinstance(buffer, bytearray):
            raise TypeError("object with buffer protocol required")
        v = self._get(key)
        if not isinstance(v, bytes):
            raise _esp_err(0x1102)
        if len(v) > len(buffer):
            raise _esp_err(0x110C)
        buffer[:len(v)] = v
        return len(v)

    def erase_key(self, key):
        if self._get(key) is None:
            raise _esp_err(0x1102)
        self._pending[key] = _ERASED

    def commit(self):
        ns = _nvs.setdefault(self.namespace, {})
        for key in self._pending:
            v = self._pending[key]
            if v is _ERASED:
                ns.pop(key, None)
            else:
                ns[key] = v
        self._pending = {}
        self.commits += 1


_ERASED = object()


def _sim_nvs(namespace):
    """Host-only: a copy of what is committed in `namespace`."""
    return dict(_nvs.get(namespace, {}))


def _sim_nvs_erase():
    """Host-only: an erased NVS partition (a factory-new board)."""
    _nvs.clear()


# -- Partition ---------------------------------------------------------------------------------
_SECTOR = 4096  # the flash erase unit (SPI_FLASH_SEC_SIZE)
_PAGE = 1024  # how the stand-in stores it
_APP_MAGIC = 0xE9  # first byte of an ESP app image (esp_image_header_t.magic)

TYPE_APP = 0
TYPE_DATA = 1
_SUB_FACTORY = 0x00
_SUB_OTA_0 = 0x10
_SUB_ANY = 0xFF

# partitions-4MiB-ota.csv: (label, type, subtype, offset, size)
OTA_TABLE = (
    ("nvs", TYPE_DATA, 0x02, 0x9000, 0x4000),
    ("otadata", TYPE_DATA, 0x00, 0xD000, 0x2000),
    ("phy_init", TYPE_DATA, 0x01, 0xF000, 0x1000),
    ("ota_0", TYPE_APP, 0x10, 0x10000, 0x180000),
    ("ota_1", TYPE_APP, 0x11, 0x190000, 0x180000),
    ("vfs", TYPE_DATA, 0x81, 0x310000, 0xF0000),
)


class _Flash:
    """One partition's bytes, kept in 1 KiB pages allocated on first write (0xFF, erased,
    otherwise). Small pages keep a 128 KB MicroPython test heap from needing 4 KiB holes."""

    def __init__(self, label, ptype, subtype, addr, size):
        self.label, self.type, self.subtype, self.addr, self.size = \
            label, ptype, subtype, addr, size
        self.pages = {}
        self.erases = 0
        self.programs = 0

    def _range(self, offset, n):
        if offset < 0 or offset > self.size:
            raise _esp_err(0x102)
        if offset + n > self.size:
            raise _esp_err(0x104)

    def _spans(self, offset, n):
        """(index into the caller's buffer, page number, offset in page, length) pieces."""
        i = 0
        while i < n:
            p, o = divmod(offset + i, _PAGE)
            k = min(n - i, _PAGE - o)
            yield i, p, o, k
            i += k

    def read(self, offset, buf):
        self._range(offset, len(buf))
        for i, p, o, k in self._spans(offset, len(buf)):
            page = self.pages.get(p)
            if page is None:
                for j in range(i, i + k):
                    buf[j] = 0xFF
            else:
                buf[i:i + k] = page[o:o + k]

    def erase(self, offset, n):
        """esp_partition_erase_range: whole 4 KiB sectors only."""
        if offset % _SECTOR:
            raise _esp_err(0x102)
        if n % _SECTOR:
            raise _esp_err(0x104)
        self.erase_bytes(offset, n)

    def erase_bytes(self, offset, n):
        """Erase a range, keeping the rest of its sectors (the port's read-erase-rewrite for
        block sizes under 4 KiB)."""
        self._range(offset, n)
        for i, p, o, k in self._spans(offset, n):
            page = self.pages.get(p)
            if page is None:
                continue
            if k == _PAGE:
                del self.pages[p]
            else:
                for j in range(o, o + k):
                    page[j] = 0xFF
        self.erases += 1

    def program(self, offset, data):
        """NOR programming: each byte ANDs into what is there (bits go 1 -> 0 only)."""
        self._range(offset, len(data))
        for i, p, o, k in self._spans(offset, len(data)):
            page = self.pages.get(p)
            if page is None:
                page = self.pages[p] = bytearray(_PAGE)
                for j in range(_PAGE):
                    page[j] = 0xFF
            for j in range(k):
                page[o + j] &= data[i + j]
        self.programs += 1


class _Boot:
    """otadata and the bootloader's app-rollback state (CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE,
    on in every esp32 build since PR #12475)."""

    def __init__(self, running, rollback):
        self.running = running
        self.boot = running
        self.previous = None  # the slot to go back to while `running` awaits confirmation
        self.pending_verify = False
        self.rollback = rollback
        self.rolled_back = 0
        self.boots = 0


_flash = {}
_boot = None


def _sim_setup(partitions=OTA_TABLE, running="ota_0", rollback=True):
    """Host-only: a fresh, erased flash with `partitions` ((label, type, subtype, offset,
    size) rows), running the app in `running`. rollback=False: firmware built without app
    rollback (mark_app_valid_cancel_rollback raises OSError(-261))."""
    global _boot
    _flash.clear()
    for row in partitions:
        _flash[row[0]] = _Flash(*row)
    _boot = _Boot(running, rollback)


def _sim_reboot():
    """Host-only: what the bootloader does at a reset. A slot chosen by set_boot() starts in
    PENDING_VERIFY; if the app running in that state did not confirm itself, this reset rolls
    back to the previous slot. machine._sim_reboot() does the rest of the board."""
    b = _boot
    b.boots += 1
    if b.pending_verify and b.boot == b.running:
        b.running = b.boot = b.previous
        b.previous = None
        b.pending_verify = False
        b.rolled_back += 1
        return
    if b.boot != b.running:
        b.previous = b.running
        b.running = b.boot
        b.pending_verify = b.rollback
        return


def _sim_boot_state():
    """Host-only: {'running', 'boot', 'pending_verify', 'rolled_back', 'boots'}."""
    b = _boot
    return {"running": b.running, "boot": b.boot, "pending_verify": b.pending_verify,
            "rolled_back": b.rolled_back, "boots": b.boots}


def _sim_flash(label):
    """Host-only: the _Flash behind a partition (erases, programs, pages)."""
    return _flash[label]


class Partition:
    BOOT = 0
    RUNNING = 1
    TYPE_APP = TYPE_APP
    TYPE_DATA = TYPE_DATA

    def __init__(self, *args):
        # Partition(id, block_size=4096, /): both positional-only
        if not args or len(args) > 2:
            raise TypeError("function takes 1 or 2 positional arguments")
        id = args[0]
        block_size = args[1] if len(args) > 1 else _SECTOR
        if not isinstance(block_size, int) or block_size <= 0 or block_size > _SECTOR or \
                block_size & (block_size - 1):
            raise ValueError("invalid block size")
        if isinstance(id, int) and not isinstance(id, bool):
            if id == Partition.BOOT:
                label = _boot.boot
            elif id == Partition.RUNNING:
                label = _boot.running
            else:
                raise ValueError()
        elif isinstance(id, str):
            label = id
            if label not in _flash:
                raise _enoent()
        else:
            raise TypeError("can't convert %s to str" % type(id).__name__)
        self._f = _flash[label]
        self.block_size = block_size

    @staticmethod
    def find(type=TYPE_APP, subtype=_SUB_ANY, label=None, block_size=_SECTOR):
        found = []
        for f in sorted(_flash.values(), key=lambda f: f.addr):
            if f.type == type and (subtype == _SUB_ANY or f.subtype == subtype) and (
                    label is None or f.label == label):
                found.append(Partition(f.label, block_size))
        return found

    def info(self):
        f = self._f
        return (f.type, f.subtype, f.addr, f.size, f.label, False)

    def readblocks(self, block_num, buf, *args):
        if len(args) > 1:
            raise TypeError("function takes at most 4 positional arguments")
        self._f.read(block_num * self.block_size + (args[0] if args else 0), buf)

    def writeblocks(self, block_num, buf, *args):
        if len(args) > 1:
            raise TypeError("function takes at most 4 positional arguments")
        f = self._f
        if f.type == TYPE_APP and f.label == _boot.running:
            # SPI_FLASH_DANGEROUS_WRITE_ABORTS (the IDF default) panics the chip instead.
            raise _esp_err(0x10B)
        start = block_num * self.block_size
        if args:
            f.program(start + args[0], buf)  # the offset form never erases
            return None
        if self.block_size >= _SECTOR:
            f.erase(start, len(buf))
        else:
            f.erase_bytes(start, len(buf))
        f.program(start, buf)
        return None

    def ioctl(self, cmd, arg):
        if cmd in (1, 2, 3):  # init, deinit, sync
            return 0
        if cmd == 4:  # block count
            return self._f.size // self.block_size
        if cmd == 5:  # block size
            return self.block_size
        if cmd == 6:  # erase block
            if self.block_size >= _SECTOR:
                self._f.erase(arg * self.block_size, self.block_size)
            else:
                self._f.erase_bytes(arg * self.block_size, self.block_size)
            return 0
        return None

    def set_boot(self):
        f = self._f
        if f.type != TYPE_APP:
            raise _esp_err(0x102)
        head = bytearray(1)
        f.read(0, head)
        if head[0] != _APP_MAGIC:  # esp_ota_set_boot_partition verifies the image first
            raise _esp_err(0x1503)
        _boot.boot = f.label

    def get_next_update(self):
        """esp_ota_get_next_update_partition: the OTA slot after this one, wrapping."""
        slots = sorted((g for g in _flash.values() if g.type == TYPE_APP and
                        _SUB_OTA_0 <= g.subtype < _SUB_OTA_0 + 16), key=lambda g: g.subtype)
        if not slots:
            raise _enoent()
        nxt = slots[0]
        for i in range(len(slots)):
            if slots[i].label == self._f.label:
                nxt = slots[(i + 1) % len(slots)]
        if nxt.label == self._f.label:
            raise _enoent()
        return Partition(nxt.label, self.block_size)

    @classmethod
    def mark_app_valid_cancel_rollback(cls):
        if not _boot.rollback:
            raise _esp_err(0x105)
        _boot.pending_verify = False
        _boot.previous = None

    def __repr__(self):
        f = self._f
        return "<Partition type=%d, subtype=%d, address=%d, size=%d, label=%s, encrypted=0>" % (
            f.type, f.subtype, f.addr, f.size, f.label)

    def __eq__(self, other):
        return isinstance(other, Partition) and other._f is self._f

    def __hash__(self):
        return self._f.addr


_sim_setup()
