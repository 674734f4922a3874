"""The flash spool on LittleFS v2 over a 1 MiB RAM flash (256 x 4 KiB blocks), MicroPython only.

    micropython -X heapsize=4M tools/bench_spool.py [--lib=DIR]

- bytes per 40-byte telegram in the spool files;
- write amplification (bytes the flash programmed / record bytes) and erases per flush when
  the broker keeps up (every record acknowledged), for several batch sizes;
- capacity with the broker away: 40-byte telegrams appended in batches of 10 until the spool
  drops its oldest segment, on the largest max_bytes this 1 MiB filesystem holds.
The heap holds the 1 MiB image: it is no figure for the device (the spool itself takes its
two buffers, 2 x 1 KiB by default).
"""

import gc
import sys
import time

import libpath

libpath.setup(__file__)

import vfs  # noqa: E402

from spool import OVERHEAD, Spool  # noqa: E402

BLOCK = 4096
BLOCKS = 256
MOUNT = "/bench"
FRAME = bytes(range(40))


class RamFlash:
    def __init__(self, blocks):
        self.blocks = blocks
        self.mem = bytearray(BLOCK * blocks)
        self.mv = memoryview(self.mem)
        self.programmed = self.erases = 0

    def readblocks(self, block, buf, off=0):
        a = block * BLOCK + off
        buf[:] = self.mv[a:a + len(buf)]

    def writeblocks(self, block, buf, off=0):
        a = block * BLOCK + off
        self.mv[a:a + len(buf)] = buf
        self.programmed += len(buf)

    def ioctl(self, op, arg):
        if op == 4:
            return self.blocks
        if op == 5:
            return BLOCK
        if op == 6:
            self.erases += 1
        return 0


def fresh(blocks=BLOCKS):
    try:
        vfs.umount(MOUNT)
    except OSError:
        pass
    dev = None
    gc.collect()
    dev = RamFlash(blocks)
    vfs.VfsLfs2.mkfs(dev)
    vfs.mount(vfs.VfsLfs2(dev), MOUNT)
    return dev


def steady(batch, max_bytes, flushes=400):
    """Broker keeping up: each flush writes `batch` telegrams, all acknowledged before the
    next flush (whose ack file write is counted with it)."""
    dev = fresh()
    s = Spool(MOUNT + "/spool", max_bytes, buffer_bytes=max(1024, batch * 51))
    t = 0
    for _ in range(50):  # warm-up: past the first segments
        for _ in range(batch):
            s.append(FRAME, t, -70, "C1")
            t += 1
        s.flush()
        rec = s.peek()
        while rec:
            s.ack(rec[0])
            rec = s.peek()
    p0, e0, t0 = dev.programmed, dev.erases, time.ticks_us()
    for _ in range(flushes):
        for _ in range(batch):
            s.append(FRAME, t, -70, "C1")
            t += 1
        s.flush()
        rec = s.peek()
        while rec:
            s.ack(rec[0])
            rec = s.peek()
    us = time.ticks_diff(time.ticks_us(), t0) / flushes
    rec_bytes = flushes * batch * (len(FRAME) + OVERHEAD)
    print("  batch %2d: write amplification %5.2f, %.2f erases per flush, %.0f us per flush"
          " (unix port)" % (batch, (dev.programmed - p0) / rec_bytes,
                            (dev.erases - e0) / flushes, us))


def capacity(max_bytes, blocks=BLOCKS):
    """Telegrams held when the first drop comes, or the error that stopped the filling."""
    fresh(blocks)
    s = Spool(MOUNT + "/spool", max_bytes)
    best = t = 0
    try:
        while not s.counters["dropped_full"]:
            best = s.depth()
            for _ in range(10):
                s.append(FRAME, t, -70, "C1")
                t += 1
            s.flush()
        for _ in range(200):  # and it keeps going once full
            for _ in range(10):
                s.append(FRAME, t, -70, "C1")
                t += 1
            s.flush()
    except OSError as e:
        return best, "OSError %s after %d telegrams" % (e, t)
    t0 = time.ticks_us()
    s = Spool(MOUNT + "/spool", max_bytes)
    ms = time.ticks_diff(time.ticks_us(), t0) / 1000
    return best, "reopening it, %d telegrams, takes %.0f ms (unix port)" % (s.depth(), ms)


def main():
    if sys.implementation.name != "micropython":
        sys.exit("bench_spool.py runs under MicroPython (vfs.VfsLfs2)")
    print("spool on LittleFS v2, RAM flash %d x %d bytes" % (BLOCKS, BLOCK))
    print("  %d spool bytes per %d-byte telegram" % (len(FRAME) + OVERHEAD, len(FRAME)))
    for batch in (1, 5, 10, 20, 80):
        steady(batch, 512 * 1024)
    for max_bytes, blocks in ((960 * 1024, BLOCKS), (1024 * 1024, BLOCKS),
                              (1024 * 1024, BLOCKS + 64)):
        best, note = capacity(max_bytes, blocks)
        print("  max_bytes %7d on %4d KiB of LittleFS: %d telegrams held before the first drop;"
              % (max_bytes, blocks * BLOCK // 1024, best))
        print("    " + note)
    vfs.umount(MOUNT)


main()
