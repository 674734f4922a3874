"""Flash spool: received telegrams kept until the MQTT broker has acknowledged them.

Portable (CPython and MicroPython), plain files in one directory of whatever filesystem is
mounted: LittleFS v2 on the ESP32.

    spool = Spool("/spool", 1024 * 1024)
    spool.append(frame, rx_time, rssi, "T1")   # into RAM: cheap, call it from the radio loop
    spool.flush()                              # one batch to flash: the caller picks the moment
    rec = spool.peek()                         # (rid, frame, rx_time, rssi, mode) or None
    ... publish with QoS 1, wait for PUBACK ...
    spool.ack(rec[0])

Guarantees (at-least-once, oldest first):
- A record counts as stored only once the flush() that wrote it has returned. Until then it
  is in RAM and a reset loses it. Each flush() costs about one 4 KiB erase and rewrites the
  segment's partly filled last block (LittleFS is copy-on-write): batch, e.g. every 10-20
  telegrams or every few seconds (figures: tools/bench_spool.py).
- peek() returns only flushed records, each checked against its CRC: nothing corrupt and
  nothing unflushed is ever delivered.
- One record in flight: peek() gives the oldest until ack() of its id (a duplicate PUBACK
  is harmless). ack() takes effect in RAM at once; flush() makes it durable. After a power cut the records
  acknowledged since the last flush are delivered again (the broker sees a duplicate).
- When the spool is full (max_bytes of segment files), the oldest segment is dropped, its
  unacknowledged records counted in counters["dropped_full"].

On flash: segment files seg_NNNNNNNN.log, appended in order, and one file `ack` holding the
position of the oldest unacknowledged record. When appends move on to the next segment, the
full one is renamed seg_NNNNNNNN_COUNT.log with its number of records, and never written
again: a restart reads its count from the name and scans only the first and last segments
(a full 1 MiB spool would otherwise take many seconds to count on the ESP32). A record is
    u16 LE (frame length << 4 | mode code) | i8 rssi dBm | u32 LE rx_time | frame | u32 LE CRC
with the CRC-32 (binascii.crc32) over everything before it: 11 bytes plus the frame. A torn
or corrupt record ends the readable part of its segment: the rest of that segment is skipped
(counted in counters["corrupt_skipped"], once per segment) and appends go to a new segment.
`ack` is u32 segment | u32 offset | u32 CRC-32, replaced atomically (write ack.tmp, rename:
LittleFS renames atomically). A record's id is (segment, offset of its end); ids survive a
restart.
"""

import binascii
import os
import struct

# Link modes (EN 13757-4) by code; the code is on flash, so the list only ever grows.
MODES = ("T1", "C1", "T2", "C2", "S1", "S1m", "S2", "R2", "N1", "N2", "F2")
MAX_FRAME = 512  # a format-A frame with L=255 and its block CRCs is 290 bytes
_HEAD = 7  # u16 length and mode, i8 rssi, u32 rx_time
OVERHEAD = _HEAD + 4  # and the CRC
_HEAD_FMT = "<HbI"
_ACK = "ack"
_ENOSPC = 28


class _Segment:
    def __init__(self, number, path, size, unacked, closed):
        self.number = number
        self.path = path
        self.size = size
        self.unacked = unacked  # records not yet acknowledged
        self.closed = closed  # renamed with its count: never appended to again


class Spool:
    def __init__(self, directory, max_bytes, segment_bytes=None, buffer_bytes=1024,
                 read_bytes=None):
        """Open (or create) the spool in directory, reading back what a restart left.

        max_bytes bounds the segment files together; segment_bytes (default max_bytes / 16)
        is the unit in which the oldest records are dropped and acknowledged ones deleted;
        buffer_bytes is the RAM batch: a 40-byte frame takes 51; read_bytes the read window
        (default: buffer_bytes), at least one record of the largest frame.
        """
        read_bytes = read_bytes or buffer_bytes
        if buffer_bytes < MAX_FRAME + OVERHEAD or read_bytes < MAX_FRAME + OVERHEAD:
            raise ValueError("buffer_bytes and read_bytes must hold a %d-byte record"
                             % (MAX_FRAME + OVERHEAD))
        if segment_bytes is None:
            segment_bytes = max(max_bytes // 16, buffer_bytes)
        if max_bytes < 2 * segment_bytes or segment_bytes < buffer_bytes:
            raise ValueError("need max_bytes >= 2 * segment_bytes >= 2 * buffer_bytes")
        self.dir = directory
        self.max_bytes = max_bytes
        self.segment_bytes = segment_bytes
        self.counters = {"appended": 0, "stored": 0, "acked": 0, "dropped_full": 0,
                         "dropped_ram": 0, "corrupt_skipped": 0, "flushes": 0}
        self._wbuf = bytearray(buffer_bytes)
        self._wmv = memoryview(self._wbuf)
        self.buffered = 0  # bytes of self._wbuf in use
        self._wcount = 0
        self._rbuf = bytearray(read_bytes)
        self._rmv = memoryview(self._rbuf)
        self._win_seg = -1  # the read window: bytes [_win_off, _win_off + _win_len) of a segment
        self._win_off = self._win_len = self._w = 0
        self._segs = []  # _Segment, oldest first, from the one holding the oldest unacknowledged
        self._dead = []  # fully acknowledged segments, deleted once the ack is on flash
        self._off = 0  # offset of the oldest unacknowledged record in self._segs[0]
        self._peek_end = -1
        self._ack_dirty = False
        self._written = 0  # records in the last segment, for its name when it is closed
        self._new_segment = False  # the last segment is closed, or may end in a torn record
        self.total = 0  # bytes of all segment files, acknowledged or not
        self._open()

    # -- recovery ----------------------------------------------------------------------

    def _open(self):
        try:
            names = os.listdir(self.dir)
        except OSError:
            os.mkdir(self.dir)
            names = []
        if "ack.tmp" in names:
            os.remove(self.dir + "/ack.tmp")
        found = []
        for n in names:
            if n.startswith("seg_") and n.endswith(".log"):
                count = int(n[13:-4]) if n[12:13] == "_" else -1
                found.append((int(n[4:12]), count, self.dir + "/" + n))
        found.sort()
        aseg, aoff = self._read_ack()
        self._next = max(found[-1][0] if found else -1, aseg) + 1
        for seg, count, path in found:
            if seg < aseg:  # acknowledged; the deletion was cut short
                self._remove(path)
                continue
            size = os.stat(path)[6]
            off = aoff if seg == aseg and aoff <= size else 0
            if not self._segs:
                self._off = off
            closed = count >= 0
            if closed:  # counted when it was closed
                self._new_segment = True
                if off:
                    count = self._scan(seg, path, off, size)[0]
            elif seg == found[-1][0]:  # appends go on here, after a clean end only
                self._written, clean = self._scan(seg, path, 0, size)
                count = self._scan(seg, path, off, size)[0] if off else self._written
                self._new_segment = not clean
            else:  # its rename was cut short
                count = self._scan(seg, path, off, size)[0]
            self._segs.append(_Segment(seg, path, size, count, closed))
            self.total += size
        self._depth = sum(s.unacked for s in self._segs)

    def _read_ack(self):
        """(segment, offset) from the ack file; (-1, 0) when missing or corrupt (all redelivered)."""
        try:
            with open(self.dir + "/" + _ACK, "rb") as f:
                b = f.read(12)
            if len(b) == 12 and binascii.crc32(b[:8]) == struct.unpack("<I", b[8:])[0]:
                return struct.unpack("<II", b[:8])
        except OSError:
            pass
        return -1, 0

    def _scan(self, seg, path, off, size):
        """Valid records from off to the end of a segment, and whether they reach its end."""
        count = 0
        while off < size:
            off = self._record_at(seg, path, off, size)
            if off < 0:
                return count, False
            count += 1
        return count, True

    # -- reading -----------------------------------------------------------------------

    def _load(self, seg, path, off):
        self._win_seg = -1
        with open(path, "rb") as f:
            f.seek(off)
            self._win_len = f.readinto(self._rbuf) or 0
        self._win_seg, self._win_off = seg, off

    def _record_at(self, seg, path, off, size):
        """End offset of the valid record at seg:off (left at self._w in the window), or -1."""
        if size - off < OVERHEAD:
            return -1
        w = off - self._win_off
        if seg != self._win_seg or w < 0 or w + _HEAD > self._win_len:
            self._load(seg, path, off)
            w = 0
        b = self._rbuf
        n = (b[w] | b[w + 1] << 8) >> 4
        end = w + _HEAD + n  # where the CRC is
        if n > MAX_FRAME or off + n + OVERHEAD > size:
            return -1
        if end + 4 > self._win_len:
            self._load(seg, path, off)
            w, end = 0, _HEAD + n
            if end + 4 > self._win_len:
                return -1
        if binascii.crc32(self._rmv[w:end]) != struct.unpack_from("<I", b, end)[0]:
            return -1
        self._w = w
        return off + n + OVERHEAD

    def peek(self):
        """The oldest unacknowledged stored record as (rid, frame, rx_time, rssi, mode), or None.

        The same record comes back until ack(rid); rid is (segment, end offset)."""
        while self._segs:
            s = self._segs[0]
            if self._off < s.size:
                end = self._record_at(s.number, s.path, self._off, s.size)
                if end > 0:
                    self._peek_end = end
                    w = self._w
                    head, rssi, rx_time = struct.unpack_from(_HEAD_FMT, self._rbuf, w)
                    n = head >> 4
                    mode = head & 15
                    frame = bytes(self._rmv[w + _HEAD:w + _HEAD + n])
                    return ((s.number, end), frame, rx_time, rssi,
                            MODES[mode] if mode < len(MODES) else "?")
                # Nothing after a bad record can be framed: the rest of the segment is lost.
                self.counters["corrupt_skipped"] += 1
                self._depth -= s.unacked
                s.unacked = 0
                self._off = s.size
                self._ack_dirty = True
                if len(self._segs) == 1:
                    self._new_segment = True
            if len(self._segs) == 1:
                return None  # the segment appends go to stays
            self._retire()
        return None

    def ack(self, rid):
        """Acknowledge the record peek() returned (PUBACK received). An older rid is a no-op
        (False); any other raises ValueError. Durable from the next flush()."""
        seg, end = rid
        if not self._segs:
            return False
        s = self._segs[0]
        if seg < s.number or (seg == s.number and end <= self._off):
            return False
        if seg != s.number or end != self._peek_end:
            raise ValueError("not the oldest record")
        self._off = end
        self._peek_end = -1
        s.unacked -= 1
        self._depth -= 1
        self.counters["acked"] += 1
        self._ack_dirty = True
        if end >= s.size and len(self._segs) > 1:
            self._retire()
        return True

    def _retire(self):
        self._dead.append(self._segs.pop(0))
        self._off = 0
        self._ack_dirty = True

    def depth(self):
        """Stored records not yet acknowledged (the RAM batch not included)."""
        return self._depth

    # -- writing -----------------------------------------------------------------------

    def append(self, frame, rx_time, rssi, mode):
        """Add a telegram to the RAM batch; False (and counted) when the batch is full.
        Not stored until flush() returns."""
        n = len(frame)
        if n > MAX_FRAME:
            raise ValueError("frame too long")
        o = self.buffered
        if o + n + OVERHEAD > len(self._wbuf):
            self.counters["dropped_ram"] += 1
            return False
        b = self._wbuf
        struct.pack_into(_HEAD_FMT, b, o, n << 4 | MODES.index(mode),
                         max(-128, min(127, rssi)), rx_time)
        b[o + _HEAD:o + _HEAD + n] = frame
        end = o + _HEAD + n
        struct.pack_into("<I", b, end, binascii.crc32(self._wmv[o:end]))
        self.buffered = end + 4
        self._wcount += 1
        self.counters["appended"] += 1
        return True

    def flush(self):
        """Write the RAM batch and the acknowledgements to flash. When it returns, the batch
        is stored and the acknowledgements are durable. An OSError (I/O) leaves the batch in
        RAM to try again. A full filesystem (other files, or LittleFS's own blocks leaving
        less than max_bytes) drops the oldest segment, as a full spool does."""
        while True:
            try:
                return self._flush()
            except OSError as e:
                if e.args[0] != _ENOSPC or len(self._segs) < 2:
                    raise
                self._drop_segment()

    def _flush(self):
        if self._ack_dirty:
            self._write_ack()
        n = self.buffered
        if not n:
            return
        while self.total + n > self.max_bytes and (self._dead or self._segs):
            if self._dead:  # acknowledged but not yet deleted: the ack goes to flash first
                self._write_ack()
            else:
                self._drop_segment()
        segs = self._segs
        if not segs or self._new_segment or segs[-1].size + n > self.segment_bytes:
            if segs and not segs[-1].closed:
                self._close_last()
            seg = self._next
            segs.append(_Segment(seg, "%s/seg_%08d.log" % (self.dir, seg), 0, 0, False))
            if len(segs) == 1:
                self._off = 0
            self._next += 1
            self._written = 0
            self._new_segment = False
        last = segs[-1]
        try:
            with open(last.path, "ab") as f:
                f.write(self._wmv[:n])
        except OSError:
            # Part of the batch may have landed: never append after it, and keep the batch.
            self._new_segment = True
            self._rescan_last()
            raise
        last.size += n
        last.unacked += self._wcount
        self._written += self._wcount
        self._depth += self._wcount
        self.total += n
        self.counters["stored"] += self._wcount
        self.counters["flushes"] += 1
        self.buffered = self._wcount = 0

    def _close_last(self):
        # Its count goes into its name, so that a restart need not count its records.
        s = self._segs[-1]
        path = "%s/seg_%08d_%d.log" % (self.dir, s.number, self._written)
        os.rename(s.path, path)
        s.path = path
        s.closed = True

    def _write_ack(self):
        seg = self._segs[0].number if self._segs else self._next
        b = struct.pack("<II", seg, self._off if self._segs else 0)
        tmp = self.dir + "/ack.tmp"
        with open(tmp, "wb") as f:
            f.write(b + struct.pack("<I", binascii.crc32(b)))
        os.rename(tmp, self.dir + "/" + _ACK)
        self._ack_dirty = False
        # Only now may acknowledged segments go: a cut before this line redelivers them.
        while self._dead:
            s = self._dead[0]
            self._remove(s.path)
            self._dead.pop(0)
            self.total -= s.size

    def _drop_segment(self):
        """The oldest segment goes, acknowledged or not (spool full)."""
        s = self._segs.pop(0)
        self.counters["dropped_full"] += s.unacked
        self._depth -= s.unacked
        self._off = 0
        self._peek_end = -1
        if not self._segs:
            self._new_segment = True
        self._remove(s.path)
        self.total -= s.size

    def _remove(self, path):
        try:
            os.remove(path)
        except OSError:  # already gone, or left for the next start to remove (seg < ack)
            pass

    def _rescan_last(self):
        s = self._segs[-1]
        try:
            size = os.stat(s.path)[6]
        except OSError:  # never created
            if not s.size:
                self._segs.pop()
            return
        self._written, _ = self._scan(s.number, s.path, 0, size)
        count = self._scan(s.number, s.path, self._off, size)[0] if len(self._segs) == 1 \
            else self._written
        self.total += size - s.size
        self._depth += count - s.unacked
        s.size = size
        s.unacked = count
