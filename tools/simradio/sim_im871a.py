"""IMST iM871A (simulator; see simradio.modules for the model)."""

from simradio.modules import SimModule, crc_x25


IM_LINK_MODES = {0x00: "S1", 0x01: "S1m", 0x02: "S2", 0x03: "T1", 0x04: "T2", 0x05: "R2",
                 0x06: "C1", 0x07: "C1", 0x08: "C2", 0x09: "C2", 0x0A: "T1+C1"}
# Set-config field sizes per IIFlag bit (radio.md §4.1): IIFlag1 device mode, link mode,
# C-field, M-field (2), ID (4), version, device type, radio channel; IIFlag2 power level,
# data rate, RX window, auto power saving, RSSI, timestamp, LED, RTC: one byte each.
IIF1_SIZES = (1, 1, 1, 2, 4, 1, 1, 1)


class SimIM871A(SimModule):
    """iM871A HCI (radio.md §4.1). Factory state: link mode S2 (hears none of T1/C1), no RSSI
    or timestamp attached; every message it sends carries its CRC-16/X-25."""
    NAME = "im871a"
    DEFAULT_BAUD = 57600
    BOOT_MS = 50

    def __init__(self, clock=None, air=(), rxbuf=256, firmware=0x15, module_type=0x33,
                 uid=0x01020304, **kw):
        self.firmware = firmware
        self.module_type = module_type
        self.uid = uid
        SimModule.__init__(self, clock, air, rxbuf, **kw)
        self._boot()

    def _boot(self):
        self.link_mode = 0x02
        self.rssi_on = False
        self.ts_on = False
        self.device_mode = 0x01

    def _hears(self, mode):
        m = IM_LINK_MODES.get(self.link_mode, "")
        return mode in m.split("+")

    def hci(self, ep, msg_id, payload=b"", ts=None, rssi=None):
        ctrl = 0x8 | (0x2 if ts is not None else 0) | (0x4 if rssi is not None else 0)
        out = bytearray((0xA5, (ctrl << 4) | ep, msg_id, len(payload)))
        out += payload
        if ts is not None:
            out += bytes((ts & 0xFF, (ts >> 8) & 0xFF, (ts >> 16) & 0xFF, (ts >> 24) & 0xFF))
        if rssi is not None:
            out.append(rssi)
        c = crc_x25(out[1:])
        out.append(c & 0xFF)
        out.append(c >> 8)
        return bytes(out)

    @staticmethod
    def rssi_raw(dbm):
        r = 45 + 2 * (dbm + 100)
        return 0 if r < 0 else (255 if r > 255 else r)

    def _indication(self, frame, rssi_dbm, t_us):
        ts = (t_us // 1000) & 0xFFFFFFFF if self.ts_on else None
        rssi = self.rssi_raw(rssi_dbm) if self.rssi_on else None
        return self.hci(0x02, 0x03, frame[1:], ts, rssi)

    def _parse_host(self, due):
        b = self._in
        i = 0
        while i < len(b):
            if b[i] != 0xA5:
                i += 1
                continue
            if len(b) - i < 4:
                break
            ctrl = b[i + 1] >> 4
            total = 4 + b[i + 3] + (4 if ctrl & 2 else 0) + (1 if ctrl & 4 else 0) + (
                2 if ctrl & 8 else 0)
            if len(b) - i < total:
                break
            msg = bytes(b[i:i + total])
            if ctrl & 8 and crc_x25(msg[1:total - 2]) != msg[total - 2] | (msg[total - 1] << 8):
                i += 1  # a request with a bad CRC is discarded
                continue
            i += total
            self._request(msg[1] & 0x0F, msg[2], msg[4:4 + msg[3]], due)
        self._in = b[i:]

    def _request(self, ep, msg_id, payload, due):
        if ep != 0x01:
            return
        reply = None
        if msg_id == 0x01:
            reply = self.hci(1, 0x02)
        elif msg_id == 0x0F:
            u = self.uid
            reply = self.hci(1, 0x10, bytes((self.module_type, self.device_mode, self.firmware,
                                             0x11, u & 0xFF, (u >> 8) & 0xFF, (u >> 16) & 0xFF,
                                             u >> 24)))
        elif msg_id == 0x03:
            reply = self.hci(1, 0x04, bytes((self._set_config(payload),)))
        elif msg_id == 0x07:
            reply = self.hci(1, 0x08, b"\x00")
            self._schedule(due + 2000, self._reboot_now)
        if reply is not None:
            self._schedule(due, reply)

    def _set_config(self, p):
        """Apply a set-config payload; 0 = OK, 1 = rejected (nothing applied)."""
        if len(p) < 2:
            return 1
        i = 2
        f1 = p[1]
        vals = {}
        for bit in range(8):
            if f1 & (1 << bit):
                size = IIF1_SIZES[bit]
                if i + size > len(p):
                    return 1
                vals[("f1", bit)] = p[i]
                i += size
        f2 = 0
        if i < len(p):
            f2 = p[i]
            i += 1
            for bit in range(8):
                if f2 & (1 << bit):
                    if i >= len(p):
                        return 1
                    vals[("f2", bit)] = p[i]
                    i += 1
        if i != len(p):
            return 1
        link = vals.get(("f1", 1), self.link_mode)
        if link not in IM_LINK_MODES or (link == 0x0A and self.firmware < 0x14):
            return 1
        self.link_mode = link
        self.rssi_on = bool(vals.get(("f2", 4), self.rssi_on))
        self.ts_on = bool(vals.get(("f2", 5), self.ts_on))
        if self.state == "deaf":
            self.state = "ok"
        return 0
