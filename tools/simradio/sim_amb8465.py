"""Amber AMB8465 (simulator; see simradio.modules for the model)."""

from simradio.modules import SimModule, xor_cs


AMB_BAUDS = (1200, 2400, 4800, 9600, 19200, 38400, 56000, 115200)
AMB_MODES = {0x03: (), 0x08: ("T1",), 0x09: ("T1", "C1"), 0x0E: ("C1",)}


class SimAMB8465(SimModule):
    """AMB8465 command interface (radio.md §4.2). Factory state: 9600 baud, transparent output
    (UART_CMD_Out_Enable 0), no RSSI (RSSI_Enable 0), receive mode S2. The NVM (128 bytes) and
    the UART speed survive resets; `nvm_writes` counts flash writes."""
    NAME = "amb8465"
    DEFAULT_BAUD = 9600
    BOOT_MS = 100

    def __init__(self, clock=None, air=(), rxbuf=256, baud_index=3, serial=0x2701D949,
                 firmware=(1, 6, 1), cmd_out=0, rssi_enable=0, **kw):
        self.nvm = bytearray(128)
        self.nvm[5] = cmd_out
        self.nvm[69] = rssi_enable
        self.nvm[70] = 0x03
        self.baud_index = baud_index
        self.serial = serial
        self.fw = firmware
        self.nvm_writes = 0
        SimModule.__init__(self, clock, air, rxbuf, host_baud=kw.get("host_baud", 9600))
        self._boot()

    def _boot(self):
        self.baud = AMB_BAUDS[self.baud_index]
        self.cmd_out = self.nvm[5]
        self.rssi_on = self.nvm[69]
        self.rx_mode = self.nvm[70]

    def _hears(self, mode):
        return mode in AMB_MODES.get(self.rx_mode, ())

    @staticmethod
    def frame(cmd, payload=b""):
        out = bytearray((0xFF, cmd, len(payload))) + payload
        out.append(xor_cs(out))
        return bytes(out)

    @staticmethod
    def rssi_raw(dbm):
        return ((dbm + 74) * 2) & 0xFF

    def _indication(self, frame, rssi_dbm, t_us):
        body = bytearray(frame[1:])
        if self.rssi_on:
            body.append(self.rssi_raw(rssi_dbm))
        if self.cmd_out:
            return self.frame(0x03, bytes(body))
        return bytes((len(body),)) + bytes(body)

    def _parse_host(self, due):
        b = self._in
        i = 0
        while i < len(b):
            if b[i] != 0xFF:
                i += 1
                continue
            if len(b) - i < 3:
                break
            total = 4 + b[i + 2]
            if len(b) - i < total:
                break
            msg = bytes(b[i:i + total])
            if xor_cs(msg[:-1]) != msg[-1]:
                i += 1  # checksum wrong: the command is discarded
                continue
            i += total
            self._command(msg[1], msg[3:-1], due)
        self._in = b[i:]

    def _command(self, cmd, p, due):
        out = None
        if cmd == 0x04:
            ok = len(p) == 1 and p[0] in AMB_MODES
            if ok:
                self.rx_mode = p[0]
                if self.state == "deaf":
                    self.state = "ok"
            out = self.frame(0x84, b"\x00" if ok else b"\x01")
        elif cmd == 0x05:
            out = self.frame(0x85, b"\x00")
            self._schedule(due + 2000, self._reboot_now)
        elif cmd == 0x09:
            ok = len(p) >= 2 and len(p) == p[1] + 2 and p[0] + p[1] <= len(self.nvm)
            if ok:
                self.nvm[p[0]:p[0] + p[1]] = p[2:]
                self.nvm_writes += 1
            out = self.frame(0x89, b"\x00" if ok else b"\x02")
        elif cmd == 0x0A:
            if len(p) == 2:
                a = min(p[0], len(self.nvm))
                n = min(p[1], len(self.nvm) - a)
                out = self.frame(0x8A, bytes((a, n)) + bytes(self.nvm[a:a + n]))
        elif cmd == 0x0B:
            s = self.serial
            out = self.frame(0x8B, bytes((s >> 24, (s >> 16) & 0xFF, (s >> 8) & 0xFF, s & 0xFF)))
        elif cmd == 0x0C:
            out = self.frame(0x8C, bytes(self.fw))
        elif cmd == 0x0D:
            out = self.frame(0x8D, bytes((self.rssi_raw(-90),)))
        elif cmd == 0x10:
            ok = len(p) == 1 and p[0] < len(AMB_BAUDS)
            out = self.frame(0x90, b"\x00" if ok else b"\x01")
            if ok:
                idx = p[0]

                def switch(at):
                    self.baud_index = idx
                    self.baud = AMB_BAUDS[idx]
                    self.nvm_writes += 1
                # The confirmation goes out at the old rate; the switch follows it.
                self._schedule(due + (len(out) * 10000000 // self.baud) + 100, switch)
        if out is not None:
            self._schedule(due, out)
