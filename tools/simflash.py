"""Flash for the host board: a LittleFS block device backed by an image file under build/.

The image persists across runs (a reboot of the host gateway keeps its spool) and follows the
extended block-device protocol (docs/library/vfs.rst): readblocks/writeblocks with offsets,
ioctl 4 (count), 5 (size), 6 (erase). MicroPython only (vfs).
"""

import os

BLOCK = 4096


class FileFlash:
    def __init__(self, path, blocks=512):
        self.path = path
        self.blocks = blocks
        try:
            size = os.stat(path)[6]
        except OSError:
            size = -1
        if size != blocks * BLOCK:
            with open(path, "wb") as f:
                erased = b"\xff" * BLOCK
                for _ in range(blocks):
                    f.write(erased)
        self.f = open(path, "r+b")
        self._erased = b"\xff" * BLOCK  # one buffer for every erase: erases are frequent
        self.erases = 0
        self.programmed = 0

    def readblocks(self, block, buf, offset=0):
        self.f.seek(block * BLOCK + offset)
        self.f.readinto(buf)

    def writeblocks(self, block, buf, offset=None):
        if offset is None:  # the two-argument form erases first
            self.ioctl(6, block)
            offset = 0
        self.f.seek(block * BLOCK + offset)
        self.f.write(buf)
        self.programmed += len(buf)

    def ioctl(self, op, arg):
        if op == 4:
            return self.blocks
        if op == 5:
            return BLOCK
        if op == 6:
            self.f.seek(arg * BLOCK)
            self.f.write(self._erased)
            self.erases += 1
            return 0
        if op == 3:
            self.f.flush()
            return 0
        return 0


def mount(path, mountpoint="/flash", blocks=512):
    """Mount (formatting a new image) and return the block device."""
    import vfs

    dev = FileFlash(path, blocks)
    try:
        vfs.mount(vfs.VfsLfs2(dev), mountpoint)
    except OSError:
        vfs.VfsLfs2.mkfs(dev)
        vfs.mount(vfs.VfsLfs2(dev), mountpoint)
    return dev
