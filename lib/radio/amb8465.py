"""Amber / Würth AMB8465 (AMB8x26 firmware family) wM-Bus module (radio.md §4.2).

Command frames in both directions: FF | CMD | LEN | payload | CS, CS = XOR of every byte
before it including the FF. The module confirms a request with CMD | 0x80. Received
telegrams come in "command mode" (NVM UART_CMD_Out_Enable, offset 5, = 1) as DATA_IND:
FF 03 LEN | C .. end of telegram | RSSI | CS, where LEN counts the RSSI byte too (NVM
RSSI_Enable, offset 69, = 1; wmbusmeters PR #1560) and the DLL CRCs are already removed
(frames failing them are dropped by the module). The driver writes those two NVM bytes only
when they differ (flash wear) and resets the module for them to take effect.

Baud rate: the module powers up at 9600 (its default), which caps it near 24 telegrams/s
(radio.md §4.6), below a 500-meter building's 31/s. start() therefore switches it with
CMD_SETUARTSPEED_REQ (0x10; the rate is an index: 0 1200, 1 2400, 2 4800, 3 9600, 4 19200,
5 38400, 6 56000, 7 115200, from Würth's driver for the AMB8465's successor) and reopens the
ESP32 UART with uart.init(baudrate=...). The module keeps the rate in flash, so start() first
tries the target rate and only falls back to 9600 (then switches) when the module does not
answer there. The confirmation of the switch comes at the old rate.

Receive modes (SET_MODE_REQ 0x04, volatile): 0x08 T1 (T2-other), 0x0E C1 (C2-other),
0x09 C1+T1 (C2/T2-other). The indication does not say which mode a telegram came in.
"""

from wmbus.compat import const
from radio import MODE_T1, MODE_C1, FORMAT_A
from radio.uartmod import UartModule, NEED, SKIP, MSG, xor_sum

SOF = const(0xFF)
CNF = const(0x80)
DATA_IND = const(0x03)
SET_MODE_REQ = const(0x04)
RESET_REQ = const(0x05)
SET_REQ = const(0x09)
GET_REQ = const(0x0A)
SERIALNO_REQ = const(0x0B)
FWV_REQ = const(0x0C)
SETUARTSPEED_REQ = const(0x10)
NVM_CMD_OUT = const(5)  # UART_CMD_Out_Enable
NVM_RSSI = const(69)  # RSSI_Enable
MODE_RX_T1 = const(0x08)
MODE_RX_C1 = const(0x0E)
MODE_RX_T1C1 = const(0x09)
DEFAULT_BAUD = const(9600)
BAUD_INDEX = {1200: 0, 2400: 1, 4800: 2, 9600: 3, 19200: 4, 38400: 5, 56000: 6, 115200: 7}


def _known():
    # What the module sends: DATA_IND and the confirmations of the requests of radio.md §4.2
    # (data, set mode, reset, channel, set, get, serial, firmware, RSSI, UART speed, factory
    # reset), as a 256-byte table so that checking a byte allocates nothing.
    t = bytearray(256)
    for c in (DATA_IND, CNF | 0x00, CNF | SET_MODE_REQ, CNF | RESET_REQ, CNF | 0x06,
              CNF | SET_REQ, CNF | GET_REQ, CNF | SERIALNO_REQ, CNF | FWV_REQ, CNF | 0x0D,
              CNF | SETUARTSPEED_REQ, CNF | 0x11):
        t[c] = 1
    return bytes(t)


_KNOWN = _known()


def rssi_dbm(raw):
    """AMB8465 RSSI byte (two's complement, 0.5 dB steps) -> dBm (manual §7.9): raw/2 - 74,
    halved by an arithmetic shift (floor), the rounding the simulator uses too."""
    s = raw - 256 if raw >= 128 else raw
    return (s >> 1) - 74


def command(cmd, payload=b""):
    out = bytearray(4 + len(payload))
    out[0] = SOF
    out[1] = cmd
    out[2] = len(payload)
    out[3:3 + len(payload)] = payload
    out[-1] = xor_sum(out, 0, len(out) - 1)
    return bytes(out)


class AMB8465(UartModule):
    NAME = "amb8465"
    BAUDRATE = DEFAULT_BAUD
    BOOT_MS = 300  # Würth's driver waits 300 ms after a reset before talking to the module

    def __init__(self, queue, baudrate=115200, **kw):
        if baudrate not in BAUD_INDEX:
            raise ValueError("amb8465: baud rate %r not one of %s" % (
                baudrate, sorted(BAUD_INDEX)))
        UartModule.__init__(self, queue, **kw)
        self.target_baud = baudrate
        self.counters.setdefault("checksum", 0)
        first = self.mode.upper().replace(",", "+").split("+")[0]
        self._frame_mode = MODE_T1 if first == "T1" else MODE_C1
        self._ping_msg = command(FWV_REQ)

    def _ask(self, cmd, payload=b"", timeout=None):
        return self._request(command(cmd, payload), CNF | cmd, timeout or self.reply_ms)

    def _status_ok(self):
        return self._reply_n >= 1 and self._reply[0] == 0

    def _answers_at(self, baud):
        self.uart.init(baudrate=baud)
        self._baud(baud)
        self._p = self._n = 0
        return self._ask(FWV_REQ)

    def _find(self):
        """Find the module's baud rate (target first) and switch it to the target."""
        if self._answers_at(self.target_baud):
            return True
        if self.target_baud == DEFAULT_BAUD or not self._answers_at(DEFAULT_BAUD):
            return False
        if not self._ask(SETUARTSPEED_REQ, bytes((BAUD_INDEX[self.target_baud],))):
            self.error = "AMB8465: no answer to the UART speed request"
            return False
        if not self._status_ok():
            self.error = "AMB8465: UART speed %d rejected (status 0x%02x)" % (
                self.target_baud, self._reply[0])
            return False
        self._sleep(10)
        if not self._answers_at(self.target_baud):
            self.error = "AMB8465: switched to %d baud but no answer there" % self.target_baud
            return False
        return True

    def _configure(self):
        if not self._find():
            if self.error:
                return False
            if not (self._hw_reset() and self._find()):
                if not self.error:
                    self.error = "AMB8465: no answer on the UART at %d or %d baud" % (
                        self.target_baud, DEFAULT_BAUD)
                return False
        r = self._reply
        self.info["firmware"] = ".".join(str(r[i]) for i in range(self._reply_n))
        if self._ask(SERIALNO_REQ) and self._reply_n == 4:
            self.info["serial"] = "%02x%02x%02x%02x" % (r[0], r[1], r[2], r[3])
        changed = False
        for addr in (NVM_CMD_OUT, NVM_RSSI):
            if not self._ask(GET_REQ, bytes((addr, 1))) or self._reply_n < 3:
                self.error = "AMB8465: cannot read NVM parameter %d" % addr
                return False
            if r[2] != 1:
                if not self._ask(SET_REQ, bytes((addr, 1, 1)), 1000) or not self._status_ok():
                    self.error = "AMB8465: cannot write NVM parameter %d" % addr
                    return False
                changed = True
        if changed:  # NVM parameters take effect after a reset
            self._ask(RESET_REQ)
            self._wait_ms(self.BOOT_MS)
        if self.has_t1 and self.has_c1:
            mode = MODE_RX_T1C1
        else:
            mode = MODE_RX_T1 if self.has_t1 else MODE_RX_C1
        if not self._ask(SET_MODE_REQ, bytes((mode,))):
            self.error = "AMB8465: no answer to the set-mode request"
            return False
        if not self._status_ok():
            self.error = "AMB8465: receive mode 0x%02x rejected (status 0x%02x)" % (mode, r[0])
            return False
        self.info["rx_mode"] = mode
        return True

    def _ping(self):
        self.uart.write(self._ping_msg)

    def _soft_reset(self):
        self.uart.write(command(RESET_REQ))
        self._sleep(self.BOOT_MS)

    # ---- framing --------------------------------------------------------------------------------

    def _scan(self, buf, p, n):
        if buf[p] != SOF:
            i = buf.find(b"\xff", p + 1, n)
            return SKIP, (i - p if i >= 0 else n - p)
        if n - p < 3:
            return NEED, 0
        if not _KNOWN[buf[p + 1]]:
            return SKIP, 1
        total = 4 + buf[p + 2]
        if n - p < total:
            return NEED, 0
        if xor_sum(buf, p, p + total - 1) != buf[p + total - 1]:
            self.counters["checksum"] += 1
            return SKIP, 1
        return MSG, total

    def _message(self, buf, p, total, now):
        cmd = buf[p + 1]
        n = buf[p + 2]
        if cmd == DATA_IND:
            # payload = C .. end of telegram, then the RSSI byte (counted by LEN)
            return self._put(self._mv, p + 3, n - 1, self._frame_mode, FORMAT_A,
                             rssi_dbm(buf[p + 2 + n]), now)
        if cmd == self._want:
            self._reply[0:n] = self._mv[p + 3:p + 3 + n]
            self._reply_n = n
            self._got = True
        return 0
