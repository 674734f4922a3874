# micropython-only: needs vfs.VfsLfs2
"""The spool on LittleFS v2 with the power cut at every program and erase of a scenario.

A RAM NOR flash (erase sets 0xFF; programming a byte that is not erased is a violation) tears
its N-th program or erase (only a prefix lands, or half the block is erased) and then answers
EIO. After the cut: a fresh device over the same bytes, remount, and check that
- what the spool delivers is a gap-free run of the scenario's records, each intact;
- it holds every record whose flush had returned, unless acknowledged (durably) or dropped
  by the flush in flight; and nothing acknowledged before the flush in flight comes back;
- depth() counts what it delivers; and appending after the restart works and keeps all that.
"""

import vfs

from spool import Spool

BLOCK = 1024  # small blocks: more block boundaries per byte, and the image fits the heap
BLOCKS = 32
MOUNT = "/pc"
DIR = MOUNT + "/spool"
ARGS = (4096, 1024, 523)  # max_bytes, segment_bytes, buffer_bytes: 4 segments, drops happen
ROUNDS = 90
ERASED = b"\xff" * BLOCK
AFTER = 100000  # serials appended after the restart


class Flash:
    """NOR flash in a bytearray that dies at its cut-th program or erase (0: never)."""

    def __init__(self, mem, cut=0):
        self.mem = mem
        self.mv = memoryview(mem)
        self.cut = cut
        self.ops = 0
        self.dead = False
        self.violations = 0
        self.blocks = BLOCKS

    def readblocks(self, block, buf, off=0):
        if self.dead:
            return -5
        a = block * BLOCK + off
        buf[:] = self.mv[a:a + len(buf)]
        return 0

    def writeblocks(self, block, buf, off=None):
        # Called from GC finalisers with the heap locked after the cut: no allocation when dead.
        if self.dead:
            return -5
        if off is None:  # the erasing form: LittleFS never uses it
            self.violations += 1
            off = 0
        a = block * BLOCK + off
        n = len(buf)
        self.ops += 1
        if bytes(self.mv[a:a + n]) != ERASED[:n]:
            self.violations += 1
        if self.ops == self.cut:
            n = (self.ops * 37) % (n + 1)  # a varying prefix lands
            self.dead = True
        self.mv[a:a + n] = buf[:n]
        return -5 if self.dead else 0

    def ioctl(self, op, arg):
        if op == 4:
            return self.blocks
        if op == 5:
            return BLOCK
        if op == 6:
            if self.dead:
                return -5
            self.ops += 1
            a = arg * BLOCK
            if self.ops == self.cut:
                self.mv[a:a + BLOCK // 2] = ERASED[:BLOCK // 2]
                self.dead = True
                return -5
            self.mv[a:a + BLOCK] = ERASED
        return 0


def frame(serial):
    return bytes((serial * 7 + k) & 0xFF for k in range(8 + serial % 24))


def mount(dev):
    try:
        vfs.umount(MOUNT)
    except OSError:
        pass
    vfs.mount(vfs.VfsLfs2(dev), MOUNT)


def scenario(dev, states):
    """Appends, flushes and acks; after each flush states gets (ops, stored, gone): records
    with serial < stored are stored, those < gone acknowledged durably or dropped."""
    s = Spool(DIR, *ARGS)
    states.append((dev.ops, 0, 0))
    serial = 0
    for r in range(ROUNDS):
        for _ in range(1 + r % 5):
            s.append(frame(serial), serial, -40 - serial % 80, "C1" if serial % 3 else "T1")
            serial += 1
        s.flush()
        c = s.counters
        states.append((dev.ops, c["stored"], c["acked"] + c["dropped_full"]))
        for _ in range(r % 4):
            rec = s.peek()
            if rec:
                s.ack(rec[0])
    return s.counters


def delivered():
    """Serials of what a freshly opened spool delivers (acknowledged in RAM only), checked."""
    s = Spool(DIR, *ARGS)
    out = []
    rec = s.peek()
    while rec:
        i = rec[2]
        assert rec[1:] == (frame(i), i, -40 - i % 80, "C1" if i % 3 else "T1"), rec
        if out and i != AFTER:
            assert i == out[-1] + 1, (out[-1], i)
        out.append(i)
        s.ack(rec[0])
        rec = s.peek()
    assert s.depth() == 0
    assert Spool(DIR, *ARGS).depth() == len(out)
    return out


def run_cut(mem, cut, states):
    for i in range(len(mem)):
        mem[i] = 0  # not erased: LittleFS must erase before it programs
    dev = Flash(mem)
    vfs.VfsLfs2.mkfs(dev)
    mount(dev)
    dev.ops = 0
    dev.cut = cut
    try:
        scenario(dev, [])
    except OSError:
        pass
    assert dev.dead, cut
    violations = dev.violations
    # The flush in flight: the first whose end lies at or after the cut.
    k = 0
    while states[k][0] < cut:
        k += 1
    _, stored_before, gone_before = states[k - 1] if k else (0, 0, 0)
    _, stored_after, gone_after = states[k]

    dev = Flash(mem)
    mount(dev)
    got = delivered()
    for i in got:
        assert gone_before <= i < stored_after, (cut, i, gone_before, stored_after)
    for i in range(gone_after, stored_before):
        assert i in got, (cut, i, got)
    # Life goes on: three more records, then a restart keeps them after what was there.
    s = Spool(DIR, *ARGS)
    for i in range(AFTER, AFTER + 3):
        s.append(frame(i), i, -40 - i % 80, "C1" if i % 3 else "T1")
    s.flush()
    again = delivered()
    assert again[-3:] == [AFTER, AFTER + 1, AFTER + 2], (cut, again)
    old = again[:-3]
    assert not old or got[len(got) - len(old):] == old, (cut, got, again)
    return violations + dev.violations


def test_every_cut_point():
    mem = bytearray(BLOCK * BLOCKS)
    dev = Flash(mem)
    vfs.VfsLfs2.mkfs(dev)
    mount(dev)
    dev.ops = 0
    states = []
    c = scenario(dev, states)
    total = dev.ops
    assert total > 500 and c["dropped_full"] > 0 and c["acked"] > 0
    violations = 0
    for cut in range(1, total + 1):
        violations += run_cut(mem, cut, states)
    vfs.umount(MOUNT)
    assert violations == 0
    print("power cut at each of %d program/erase points: ok" % total)


def test_filesystem_full_drops_oldest():
    # max_bytes far beyond the filesystem: LittleFS's ENOSPC drops the oldest segment instead.
    mem = bytearray(BLOCK * 16)
    dev = Flash(mem)
    dev.blocks = 16
    vfs.VfsLfs2.mkfs(dev)
    mount(dev)
    s = Spool(DIR, 64 * 1024, 2048, 523)
    for serial in range(600):
        s.append(frame(serial), serial, -40 - serial % 80, "C1" if serial % 3 else "T1")
        if serial % 10 == 9:
            s.flush()
    assert s.counters["dropped_full"] > 0
    got = delivered()
    assert got[-1] == 599 and len(got) == 600 - s.counters["dropped_full"]
    vfs.umount(MOUNT)
    assert dev.violations == 0
