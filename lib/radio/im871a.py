"""IMST iM871A (and iM170A) wM-Bus module over its HCI (radio.md §4.1; WMBus HCI spec v1.6).

UART 57600 8N1. Every HCI message is

    A5 | control<<4 | endpoint | MsgID | Length | payload | [timestamp 4, LE] | [RSSI] | [CRC 2, LE]

control bits: 0x8 CRC-16/X-25 present (over control byte .. RSSI, SOF excluded), 0x4 RSSI
present, 0x2 timestamp present. The driver sends every request with its CRC, so a request
that a line fault corrupted is discarded by the module instead of being acted upon.

Start: ping (DEVMGMT 01 -> 02), device info (0F -> 10: module type, device mode, firmware,
HCI version, UID), set config (03 -> 04, status byte 0 = accepted) in RAM only (NVM flag 0:
no flash wear) with the link mode and the automatic RSSI (and optionally RX timestamp)
attachment. Received telegrams come as RADIOLINK WMBUSMSG_IND (endpoint 2, MsgID 03) from the
C-field on: the module has checked and removed the DLL CRCs and drops frames whose CRC fails,
and Length plays the role of L (already counting only the bytes after L).

The indication does not say in which link mode or frame format a telegram came. With a
single mode the driver reports that mode; with T1+C1 it reports the first mode named in the
configuration string, and FORMAT_A for all (the module already removed what B/A differ in).
"""

from wmbus.compat import const
from radio import MODE_T1, MODE_C1, FORMAT_A
from radio.uartmod import UartModule, NEED, SKIP, MSG, crc_x25

SOF = const(0xA5)
EP_DEVMGMT = const(0x01)
EP_RADIOLINK = const(0x02)
CTRL_TS = const(0x2)
CTRL_RSSI = const(0x4)
CTRL_CRC = const(0x8)

PING_REQ = const(0x01)
PING_RSP = const(0x02)
SET_CONFIG_REQ = const(0x03)
SET_CONFIG_RSP = const(0x04)
RESET_REQ = const(0x07)
DEVICEINFO_REQ = const(0x0F)
DEVICEINFO_RSP = const(0x10)
WMBUSMSG_IND = const(0x03)

# Link-mode byte of the set-config request (radio.md §4.1): T1 = 3; C1 = 7 (the value
# wmbusmeters uses for C1 reception); C1+T1 = 0x0A, on firmware 0x14 and later.
LINK_T1 = const(0x03)
LINK_C1 = const(0x07)
LINK_T1C1 = const(0x0A)
FW_T1C1 = const(0x14)
# IIFlag1 bit 0x02: link mode follows; IIFlag2 bits 0x10 / 0x20: RSSI / RX timestamp attachment.
IIF1_LINK_MODE = const(0x02)
IIF2_RSSI = const(0x10)
IIF2_TIMESTAMP = const(0x20)
MODULE_TYPES = {0x33: "iM871A", 0x36: "iM170A"}


def rssi_dbm(raw):
    """RSSI byte -> dBm. IMST publishes no formula; this is wmbusmeters' linear approximation
    (radio.md §4.1): -100 dBm at 45, 0.5 dB per step, floored, capped at 0 dBm."""
    d = -100 + ((raw - 45) >> 1)
    return d if d < 0 else 0


def hci(endpoint, msg_id, payload=b""):
    """An HCI request with its CRC (control 0x8)."""
    out = bytearray(4 + len(payload) + 2)
    out[0] = SOF
    out[1] = (CTRL_CRC << 4) | endpoint
    out[2] = msg_id
    out[3] = len(payload)
    out[4:4 + len(payload)] = payload
    c = crc_x25(out, 1, 4 + len(payload))
    out[-2] = c & 0xFF
    out[-1] = c >> 8
    return bytes(out)


class IM871A(UartModule):
    NAME = "im871a"
    BAUDRATE = 57600
    BOOT_MS = 100

    def __init__(self, queue, rx_timestamp=False, **kw):
        UartModule.__init__(self, queue, **kw)
        self.rx_timestamp = rx_timestamp
        self.counters.setdefault("hci_crc", 0)
        self.last_timestamp = None  # the module's RX timestamp of the last telegram, if attached
        first = self.mode.upper().replace(",", "+").split("+")[0]
        self._frame_mode = MODE_T1 if first == "T1" else MODE_C1
        self._ping_msg = hci(EP_DEVMGMT, PING_REQ)

    # ---- configuration ------------------------------------------------------------------------

    def _link_byte(self, firmware):
        if self.has_t1 and self.has_c1:
            if firmware < FW_T1C1:
                self.info["warning"] = ("firmware 0x%02x has no C1+T1 mode (needs 0x%02x): "
                                        "receiving C1 only" % (firmware, FW_T1C1))
                self.info["mode"] = "C1"
                self._frame_mode = MODE_C1
                return LINK_C1
            return LINK_T1C1
        return LINK_T1 if self.has_t1 else LINK_C1

    def _configure(self):
        ping = self._ping_msg
        want_ping = (EP_DEVMGMT << 8) | PING_RSP
        if not self._request(ping, want_ping, self.reply_ms):
            if not (self._hw_reset() and self._request(ping, want_ping, self.reply_ms)):
                self.error = "iM871A: no answer to ping on the UART"
                return False
        if not self._request(hci(EP_DEVMGMT, DEVICEINFO_REQ),
                             (EP_DEVMGMT << 8) | DEVICEINFO_RSP, self.reply_ms):
            self.error = "iM871A: answers ping but not the device-info request"
            return False
        r = self._reply
        if self._reply_n < 8:
            self.error = "iM871A: device info too short (%d bytes)" % self._reply_n
            return False
        kind = MODULE_TYPES.get(r[0])
        if kind is None:
            self.error = "iM871A: unknown module type 0x%02x in device info" % r[0]
            return False
        firmware = r[2]
        self.info["module"] = kind
        self.info["firmware"] = "0x%02x" % firmware  # as the device-info byte says
        self.info["hci"] = "0x%02x" % r[3]
        self.info["uid"] = "%02x%02x%02x%02x" % (r[7], r[6], r[5], r[4])
        link = self._link_byte(firmware)
        payload = bytes((0x00,  # NVM flag: RAM only
                         IIF1_LINK_MODE, link,
                         IIF2_RSSI | IIF2_TIMESTAMP, 1, 1 if self.rx_timestamp else 0))
        if not self._request(hci(EP_DEVMGMT, SET_CONFIG_REQ, payload),
                             (EP_DEVMGMT << 8) | SET_CONFIG_RSP, self.reply_ms):
            self.error = "iM871A: no answer to the set-config request"
            return False
        if self._reply_n < 1 or self._reply[0] != 0:
            self.error = "iM871A: set config rejected (status 0x%02x) for link mode 0x%02x" % (
                self._reply[0] if self._reply_n else 0xFF, link)
            return False
        self.info["link_mode"] = link
        return True

    def _ping(self):
        self.uart.write(self._ping_msg)

    def _soft_reset(self):
        self.uart.write(hci(EP_DEVMGMT, RESET_REQ))
        self._sleep(self.BOOT_MS)

    # ---- framing --------------------------------------------------------------------------------

    def _scan(self, buf, p, n):
        if buf[p] != SOF:
            i = buf.find(b"\xa5", p + 1, n)
            return SKIP, (i - p if i >= 0 else n - p)
        if n - p < 4:
            return NEED, 0
        ctrl = buf[p + 1] >> 4
        ep = buf[p + 1] & 0x0F
        if ep < 1 or ep > 4 or ctrl & 0x1:  # endpoints 1-4; control bit 0x1 is reserved
            return SKIP, 1
        total = 4 + buf[p + 3]
        if ctrl & CTRL_TS:
            total += 4
        if ctrl & CTRL_RSSI:
            total += 1
        if ctrl & CTRL_CRC:
            total += 2
        if n - p < total:
            return NEED, 0
        if ctrl & CTRL_CRC:
            c = crc_x25(buf, p + 1, p + total - 2)
            if buf[p + total - 2] != c & 0xFF or buf[p + total - 1] != c >> 8:
                self.counters["hci_crc"] += 1
                return SKIP, 1
        return MSG, total

    def _message(self, buf, p, total, now):
        ctrl = buf[p + 1] >> 4
        ep = buf[p + 1] & 0x0F
        msg_id = buf[p + 2]
        n = buf[p + 3]
        if ep == EP_RADIOLINK and msg_id == WMBUSMSG_IND:
            q = p + 4 + n
            if ctrl & CTRL_TS:
                self.last_timestamp = (buf[q] | (buf[q + 1] << 8) | (buf[q + 2] << 16)
                                       | (buf[q + 3] << 24))
                q += 4
            rssi = rssi_dbm(buf[q]) if ctrl & CTRL_RSSI else 0
            return self._put(self._mv, p + 4, n, self._frame_mode, FORMAT_A, rssi, now)
        if ((ep << 8) | msg_id) == self._want:
            self._reply[0:n] = self._mv[p + 4:p + 4 + n]
            self._reply_n = n
            self._got = True
        return 0
