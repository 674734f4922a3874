"""Radiocrafts RC1180-MBUS (simulator; see simradio.modules for the model)."""

from simradio.modules import SimModule


RC_MBUS3_MODES = {1: ("T1",), 9: ("C1",), 10: ("T1", "C1")}
RC_PART_OFFSET = 0x70  # where this simulator keeps the MBUS3 part number (not documented)


class SimRC1180(SimModule):
    """RC1180-MBUS (original firmware, T1 needs RF_CHANNEL 12, RF_DATA_RATE 3, MBUS_MODE 1)
    or RC1180-MBUS3 (firmware="MBUS3": MBUS_MODE 1 T1, 9 C1, 10 T1+C; 'G' sets it in RAM),
    19200 baud (radio.md §4.3, Errata 7). Factory state: original S1 (mode 0, channel 11,
    rate 2), RSSI_MODE 0; MBUS3 T1. NVM changes apply when configuration mode is left."""
    NAME = "rc1180"
    DEFAULT_BAUD = 19200
    BOOT_MS = 100
    NVM_WRITE_MS = 30

    def __init__(self, clock=None, air=(), rxbuf=256, firmware="original", **kw):
        self.firmware = firmware
        m = bytearray(256)
        if firmware == "original":
            for a, v in ((0x00, 0x0B), (0x01, 5), (0x02, 2), (0x03, 0), (0x06, 0x64),
                         (0x0A, 4), (0x0E, 0x80), (0x0F, 0x80), (0x10, 0x7C)):
                m[a] = v
            m[128:256] = b"\xff" * 128
        else:
            for a, v in ((0x00, 1), (0x01, 5), (0x03, 1), (0x10, 0x7C), (0x12, 1), (0x3D, 2)):
                m[a] = v
            part = ("RC1180-%s" % firmware).encode()
            m[RC_PART_OFFSET:RC_PART_OFFSET + len(part)] = part
        for a, v in ((0x19, 0x0C), (0x1A, 0xAE), (0x1B, 0x12), (0x1C, 0x34), (0x1D, 0x56),
                     (0x1E, 0x78), (0x1F, 1), (0x20, 7), (0x30, 5), (0x36, 0)):
            m[a] = v
        self.nvm = m
        self.nvm_writes = 0
        SimModule.__init__(self, clock, air, rxbuf, **kw)
        self._boot()

    def _boot(self):
        self.config_mode = False
        self._cstate = "idle"
        self.active = bytearray(self.nvm)
        self.mbus_mode = self.nvm[3]

    def _hears(self, mode):
        if self.config_mode:
            return False
        if self.firmware == "original":
            a = self.active
            return mode == "T1" and self.mbus_mode == 1 and a[2] == 3 and a[0] == 12
        return mode in RC_MBUS3_MODES.get(self.mbus_mode, ())

    def _indication(self, frame, rssi_dbm, t_us):
        body = bytearray(frame[1:])
        if self.active[5]:
            r = -2 * rssi_dbm
            body.append(0 if r < 0 else (255 if r > 255 else r))
        return bytes((len(body),)) + bytes(body)

    def _damage(self, msg):
        k = len(msg) // 2  # no checksum on this UART: damage = a byte lost on the line
        return msg[:k] + msg[k + 1:]

    def _parse_host(self, due):
        b = self._in
        self._in = bytearray()
        for c in b:
            if not self.config_mode:
                if c == 0x00:
                    self.config_mode = True
                    self._cstate = "idle"
                    self._schedule(due, b">")
                continue  # other bytes would be data to transmit: not used by a receiver
            st = self._cstate
            if st == "idle":
                if c == ord("0"):
                    self._schedule(due, bytes(self.nvm) + b">")
                elif c == ord("M"):
                    self._cstate = "m_addr"
                    self._pending = {}
                    self._schedule(due, b">")
                elif c == ord("X"):
                    self.config_mode = False
                    self.active = bytearray(self.nvm)
                    if self.firmware == "original":
                        self.mbus_mode = self.nvm[3]
                    if self.state == "deaf":
                        self.state = "ok"
                elif c == ord("S"):
                    self._schedule(due, bytes((180,)) + b">")
                elif c == ord("G") and self.firmware != "original":
                    self._cstate = "g_arg"
                    self._schedule(due, b">")
                else:
                    self._schedule(due, b">")
            elif st == "m_addr":
                if c == 0xFF:
                    for a, v in self._pending.items():
                        self.nvm[a] = v
                    if self._pending:
                        self.nvm_writes += 1
                    self._cstate = "idle"
                    self._schedule(due + self.NVM_WRITE_MS * 1000, b">")
                else:
                    self._addr = c
                    self._cstate = "m_val"
            elif st == "m_val":
                self._pending[self._addr] = c
                self._cstate = "m_addr"
            elif st == "g_arg":
                if c in (0, 1, 2, 3, 4, 8, 9, 10, 11):
                    self.mbus_mode = c
                self._cstate = "idle"
                self._schedule(due, b">")
