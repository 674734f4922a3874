"""Radiocrafts RC1180-MBUS wM-Bus module (radio.md §4.3 and Errata 7).

UART 19200 8N1. In normal mode the module sends each received telegram as

    L | C | M(2) | A(6) | CI | ... | [RSSI]

with L counting every byte after it, the RSSI byte included when RSSI_MODE (NVM 0x05) is 1;
the module checked the DLL CRCs, removed them and outputs only frames that passed. There is
no start byte and no checksum on the UART, so the driver resynchronises by plausibility (a
meter's C-field, a manufacturer of three letters and a meter-to-gateway CI after L) and by
time (a message that pauses for 25 byte times is dropped, uartmod). Garbage immediately
followed by a message, with a plausible false start in it, can still swallow that message:
the decoder then sees a frame it cannot parse. A lost byte is caught the same way when the
next message follows after a pause.

Configuration mode: one 0x00 byte -> '>' prompt; '0' lists the 256-byte configuration memory
followed by '>'; 'M' '>' then address/value pairs and 0xFF -> '>' writes NVM; 'X' leaves
(no answer). While in configuration mode the module receives nothing.

The configuration map depends on the firmware (Errata 7): the original RC1180-MBUS
(RF_CHANNEL 12, RF_DATA_RATE 3 and MBUS_MODE 1 for T1; S1/T1 only) and the MBUS3 firmware
(MBUS_MODE 1 T1, 9 C1, 10 T1+C; channel and data rate unused), which also takes the mode in
RAM with 'G' <mode>. start() therefore reads the memory first and looks for the part number
("RC1180-MBUS3") in it; a listing without one whose upper half is all 0xFF (as wmbusmeters
checks) is the original firmware. Writing the original's T1 values into an MBUS3 module is
harmless (same MBUS_MODE value, the other two unused), so a part number stored elsewhere
degrades to T1-only, not to a wrong configuration. MBUS4 firmware (169 MHz N mode) is refused.
NVM is written only where it differs from what is wanted.
"""

from wmbus.compat import const
from radio import MODE_T1, MODE_C1, FORMAT_A
from radio.uartmod import UartModule, NEED, SKIP, MSG, plausible_header

PROMPT = const(0x3E)  # '>'
ENTER_CONFIG = b"\x00"
NVM_RF_CHANNEL = const(0x00)
NVM_DATA_RATE = const(0x02)
NVM_MBUS_MODE = const(0x03)
NVM_RSSI_MODE = const(0x05)
NVM_UART_BAUD = const(0x30)
NVM_DATA_INTERFACE = const(0x36)
BAUD_19200 = const(5)  # UART_BAUD_RATE code 5 in both maps
MBUS3_MODES = {"T1": 1, "C1": 9, "T1+C1": 10}


def rssi_dbm(raw):
    """P = -RSSI/2 dBm (MBUS user manual, 'S' command), halved by a shift (floor of raw/2)."""
    return -(raw >> 1)


def part_number(dump):
    """The ASCII part number around 'MBUS' in a configuration listing, or None."""
    i = dump.find(b"MBUS")
    if i < 0:
        return None
    a = i
    while a > 0 and 0x20 < dump[a - 1] < 0x7F:
        a -= 1
    b = i
    while b < len(dump) and 0x20 < dump[b] < 0x7F:
        b += 1
    return bytes(dump[a:b]).decode()


class RC1180(UartModule):
    NAME = "rc1180"
    BAUDRATE = 19200
    RESYNC_ON_OVERFLOW = True
    BOOT_MS = 200
    CFG_PROMPT_MS = 300  # wmbusmeters waits 200 ms for the prompt
    NVM_WRITE_MS = 1500

    def __init__(self, queue, **kw):
        UartModule.__init__(self, queue, **kw)
        self._cfg = False  # in configuration mode: bytes are replies, not telegrams
        self._pinging = False
        self._rssi = 1
        self.config = None  # the 256-byte listing read at start
        first = self.mode.upper().replace(",", "+").split("+")[0]
        self._frame_mode = MODE_T1 if first == "T1" else MODE_C1

    # ---- configuration mode -----------------------------------------------------------------

    def _cfg_request(self, msg, count, timeout_ms):
        """Send msg in configuration mode and wait for at least `count` bytes ending in '>'.
        The last `count` bytes are in self._reply[self._reply_n - count:self._reply_n]."""
        self._drain()
        self._cfg = True
        self._reply_n = 0
        return self._request(msg, count, timeout_ms)

    def _enter(self):
        self._cfg = False
        self._pinging = False
        self._drain()
        return self._cfg_request(ENTER_CONFIG, 1, self.CFG_PROMPT_MS)

    def _leave(self):
        self.uart.write(b"X")
        self._cfg = False
        self._reply_n = 0

    def _write_nvm(self, pairs):
        if not self._cfg_request(b"M", 1, self.CFG_PROMPT_MS):
            return False
        out = bytearray()
        for a, v in pairs:
            out.append(a)
            out.append(v)
        out.append(0xFF)
        return self._cfg_request(bytes(out), 1, self.NVM_WRITE_MS)

    def _configure(self):
        if not self._enter():
            if not (self._hw_reset() and self._enter()):
                self.error = "RC1180: no '>' prompt after 0x00 on the UART"
                return False
        if not self._cfg_request(b"0", 257, 1000):
            self._leave()
            self.error = "RC1180: configuration listing ('0') incomplete"
            return False
        k = self._reply_n - 257
        dump = bytes(self._reply[k:k + 256])
        self.config = dump
        part = part_number(dump)
        if part is None:
            if any(b != 0xFF for b in dump[128:256]):
                self._leave()
                self.error = "RC1180: unknown firmware (no part number in the configuration)"
                return False
            part = "RC1180-MBUS"
        self.info["firmware"] = part
        if "MBUS4" in part:
            self._leave()
            self.error = "RC1180: %s is a 169 MHz N-mode module, not T1/C1" % part
            return False
        mbus3 = "MBUS3" in part
        if dump[NVM_UART_BAUD] != BAUD_19200:
            self._leave()
            self.error = "RC1180: UART_BAUD_RATE code %d, expected 5 (19200)" % dump[NVM_UART_BAUD]
            return False
        want = [(NVM_RSSI_MODE, 1), (NVM_DATA_INTERFACE, 0)]
        if not mbus3:
            if self.has_c1:
                self._leave()
                self.error = "RC1180: %s receives T1 only (mode %s asked)" % (part, self.mode)
                return False
            want += [(NVM_RF_CHANNEL, 12), (NVM_DATA_RATE, 3), (NVM_MBUS_MODE, 1)]
        pairs = [(a, v) for a, v in want if dump[a] != v]
        if pairs and not self._write_nvm(pairs):
            self._leave()
            self.error = "RC1180: NVM write ('M') not confirmed"
            return False
        if mbus3:
            key = "T1+C1" if self.has_t1 and self.has_c1 else ("T1" if self.has_t1 else "C1")
            mode = MBUS3_MODES[key]
            if not (self._cfg_request(b"G", 1, self.CFG_PROMPT_MS)
                    and self._cfg_request(bytes((mode,)), 1, self.CFG_PROMPT_MS)):
                self._leave()
                self.error = "RC1180: M-Bus mode %d ('G') not confirmed" % mode
                return False
            self.info["mbus_mode"] = mode
        self._leave()
        self._rssi = 1
        self.info["nvm_written"] = len(pairs)
        return True

    def _ping(self):
        # Enter and leave configuration mode: the '>' proves the module's UART side works.
        self._cfg = True
        self._pinging = True
        self._reply_n = 0
        self._want = 1
        self._got = False
        self.uart.write(ENTER_CONFIG)

    # ---- framing --------------------------------------------------------------------------------

    def _scan(self, buf, p, n):
        if self._cfg:
            return MSG, n - p
        L = buf[p]
        if L < 10 + self._rssi:
            return SKIP, 1
        if n - p < 11:  # L C M(2) A(6) CI
            return NEED, 0
        if not plausible_header(buf, p + 1):
            return SKIP, 1
        if n - p < L + 1:
            return NEED, 0
        return MSG, L + 1

    def _message(self, buf, p, total, now):
        if self._cfg:
            r = self._reply
            k = self._reply_n
            if k + total > len(r):  # keep the newest bytes: the answer is at the end
                k = 0
                if total > len(r):
                    p += total - len(r)
                    total = len(r)
            r[k:k + total] = self._mv[p:p + total]
            self._reply_n = k + total
            if self._reply_n >= self._want and r[self._reply_n - 1] == PROMPT:
                self._got = True
                if self._pinging:
                    self._pinging = False
                    self._leave()
            return 0
        L = buf[p]
        n = L - self._rssi
        rssi = rssi_dbm(buf[p + L]) if self._rssi else 0
        return self._put(self._mv, p + 1, n, self._frame_mode, FORMAT_A, rssi, now)
