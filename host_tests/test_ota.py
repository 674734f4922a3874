"""Application updates (lib/ota.py) on both interpreters: the manifest checks, download with
verification into the spare slot, nothing switched on any failure, the switch, confirmation,
and rollback after a crash loop (boots simulated by calling select() as boot.py does), with a
fake HTTP opener and slots under /tmp. The real HTTP download under the MicroPython binary and
the real boot.py: test_ota_http.py (CPython only)."""

import gc
import hashlib
import json
import os
import sys
import time

import ota

_n = [0]
BASE = "http://10.0.0.2:8000/bundle/"


def tmpdir():
    _n[0] += 1
    d = "/tmp/ota-test-%s-%d-%d" % (sys.implementation.name, int(time.time() * 1000) % 10**9,
                                    _n[0])
    os.mkdir(d)
    return d + "/ota"  # the root itself is created by the first install


def hexdigest(data):
    return ota.hexlify(hashlib.sha256(data).digest())


class Stream:
    """A response body: bytes, or `size` bytes generated on the fly (never held whole)."""

    def __init__(self, data=None, size=0, fail_after=None):
        self.data = data
        self.size = size if data is None else len(data)
        self.pos = 0
        self.fail_after = fail_after
        self.largest_read = 0
        self.closed = False

    def read(self, n):
        self.largest_read = max(self.largest_read, n)
        if self.fail_after is not None and self.pos >= self.fail_after:
            raise OSError(104)  # ECONNRESET
        n = min(n, self.size - self.pos)
        if self.data is not None:
            out = self.data[self.pos:self.pos + n]
        else:
            out = generated(self.pos, n)
        self.pos += n
        return out

    def close(self):
        self.closed = True


def generated(pos, n):
    out = bytearray(n)
    for i in range(n):
        out[i] = ((pos + i) * 7 + ((pos + i) >> 8)) & 0xFF
    return bytes(out)


class Server:
    """The opener: url -> (status, Stream); records what was asked for."""

    def __init__(self, files, version="2.0", base=BASE):
        self.base = base
        self.files = dict(files)
        self.manifest = json.dumps({"version": version, "files": {
            p: hexdigest(d) for p, d in files.items()}}).encode()
        self.status = {}
        self.fail_after = {}
        self.requests = []
        self.streams = []

    def sha(self):
        return hexdigest(self.manifest)

    def __call__(self, url):
        self.requests.append(url)
        path = url[len(self.base):]
        data = self.manifest if path == "manifest.json" else self.files.get(path)
        if data is None or path in self.status:
            return self.status.get(path, 404), Stream(b"not found")
        s = Stream(data, fail_after=self.fail_after.get(path))
        self.streams.append(s)
        return 200, s


def bundle(tag):
    """A bundle with one module whose name is unique per test (imports are cached)."""
    mod = "ota_probe_%s_%d" % (tag, _n[0])
    return mod, {"lib/%s.py" % mod: ("VERSION = %r\n" % tag).encode(),
                 "lib/wmbus/extra.py": b"X = 1\n" * 50,
                 "app.py": b"def main():\n    return 'app'\n"}


def read(path):
    with open(path, "rb") as f:
        return f.read()


def boot_bytes(root):
    try:
        return read(root + "/boot.json")
    except OSError:
        return None


def install(root, server, chunk=ota.CHUNK, ticks=None):
    u = ota.Updater(root, opener=server, chunk=chunk)
    return u.install(server.base, server.sha(), ticks)


# -- manifest ----------------------------------------------------------------------------------

def test_manifest_checks():
    good = {"version": "1.0", "files": {"lib/a.mpy": "0" * 64, "app.mpy": "f" * 64}}
    assert ota.check_manifest(good) == []
    for path in ("../x.mpy", "/lib/x.mpy", "lib/../../x.mpy", "lib//x.mpy", "lib/.x.mpy",
                 "boot.py", "main.py", "safemode.py", "board.py", "lib/x.txt", "lib/x",
                 "lib/a b.mpy", "", "x" * 95 + ".mpy"):
        assert not ota.safe_path(path), path
        bad = {"version": "1.0", "files": {path: "0" * 64}}
        assert ota.check_manifest(bad) != [], path
    assert ota.safe_path("lib/wmbus/drivers/kamstrup.mpy") and ota.safe_path("app.py")
    assert ota.check_manifest({"version": "", "files": {"a.mpy": "0" * 64}}) == [
        "manifest.version: must be a string of 1-32 characters"]
    assert ota.check_manifest({"version": "1", "files": {"a.mpy": "0" * 63}}) == [
        "manifest.files[a.mpy]: sha256 must be 64 lower-case hex digits"]
    assert ota.check_manifest({"version": "1", "files": {"a.mpy": "A" * 64}}) != []
    assert ota.check_manifest({"version": "1", "files": {}}) != []
    assert ota.check_manifest([]) == ["manifest: must be an object"]
    many = {"version": "1", "files": {"m%d.mpy" % i: "0" * 64 for i in range(201)}}
    assert ota.check_manifest(many) == ["manifest.files: more than 200 files"]


# -- install -----------------------------------------------------------------------------------

def test_install_verifies_streams_and_switches():
    root = tmpdir()
    mod, files = bundle("v2")
    server = Server(files)
    ticks = []
    version, errors = install(root, server, chunk=64, ticks=lambda: ticks.append(1))
    assert (version, errors) == ("2.0", [])
    for path, data in files.items():
        assert read(root + "/a/" + path) == data
    assert read(root + "/a/manifest.json") == server.manifest
    st = ota.read_boot(root)
    assert st == {"active": "a", "previous": None, "pending": True, "tries": 0,
                  "version": "2.0", "previous_version": None}
    # Streamed in blocks of the chunk size, every stream closed, the tick called per block.
    assert max(s.largest_read for s in server.streams) == 64
    assert all(s.closed for s in server.streams)
    assert len(ticks) >= sum(len(d) for d in files.values()) // 64
    assert not [n for n in os.listdir(root) if n.endswith(".tmp")]


def test_manifest_digest_mismatch_downloads_nothing():
    root = tmpdir()
    server = Server(bundle("v2")[1])
    u = ota.Updater(root, opener=server)
    version, errors = u.install(BASE, "0" * 64)
    assert version is None and errors == ["manifest.json: sha256 does not match the command"]
    assert server.requests == [BASE + "manifest.json"]
    assert boot_bytes(root) is None and not ota._is_dir(root + "/a")


def test_corrupted_file_refused_nothing_switched():
    root = tmpdir()
    mod, files = bundle("v1")
    assert install(root, Server(files, "1.0"))[1] == []
    assert ota.select(root) == root + "/a" and ota.confirm(root)
    before = boot_bytes(root)
    mod2, files2 = bundle("v2")
    server = Server(files2)
    server.files["lib/wmbus/extra.py"] = b"X = 2\n" * 50  # served, but not what was signed
    version, errors = install(root, server)
    assert version is None
    assert errors == ["lib/wmbus/extra.py: sha256 does not match the manifest"]
    assert boot_bytes(root) == before  # still v1 in slot a, confirmed
    assert not ota._is_dir(root + "/b")  # the staging slot is thrown away
    assert read(root + "/a/lib/%s.py" % mod) == files["lib/%s.py" % mod]
    assert ota.select(root) == root + "/a"


def test_http_error_and_broken_connection_refused():
    root = tmpdir()
    server = Server(bundle("v2")[1])
    server.status["app.py"] = 404
    assert install(root, server) == (None, ["app.py: HTTP 404"])
    assert boot_bytes(root) is None and not ota._is_dir(root + "/a")
    server = Server(bundle("v3")[1])
    server.fail_after["lib/wmbus/extra.py"] = 100
    assert install(root, server) == (None, ["update: OSError 104"])
    assert boot_bytes(root) is None and not ota._is_dir(root + "/a")
    server = Server(bundle("v4")[1])
    server.status["manifest.json"] = 500
    assert install(root, server) == (None, ["manifest.json: HTTP 500"])


def test_bad_manifest_refused():
    root = tmpdir()
    server = Server({"../../boot.py": b"evil"})
    version, errors = install(root, server)
    assert version is None and errors == [
        "manifest.files: a path is not a plain relative .mpy/.py path"]
    assert server.requests == [BASE + "manifest.json"] and boot_bytes(root) is None


def test_large_file_streams_without_buffering():
    # 200 KB through a 1 KB block: under MicroPython's 128 KB test heap a whole-file buffer
    # could not exist. The stream generates its bytes as it is read.
    root = tmpdir()
    size = 200 * 1024
    h = hashlib.sha256()
    for pos in range(0, size, 4096):
        h.update(generated(pos, 4096))
    digest = ota.hexlify(h.digest())
    manifest = json.dumps({"version": "big", "files": {"lib/big.mpy": digest}}).encode()

    def opener(url):
        if url.endswith("manifest.json"):
            return 200, Stream(manifest)
        return 200, Stream(size=size)

    gc.collect()
    version, errors = ota.Updater(root, opener=opener).install(BASE, hexdigest(manifest))
    assert (version, errors) == ("big", [])
    assert os.stat(root + "/a/lib/big.mpy")[6] == size


def test_refused_while_pending():
    root = tmpdir()
    assert install(root, Server(bundle("v2")[1]))[1] == []
    assert install(root, Server(bundle("v3")[1], "3.0")) == (
        None, ["update: the running version is not confirmed yet"])
    assert ota.read_boot(root)["version"] == "2.0"


# -- boot selection, confirmation, rollback ----------------------------------------------------

def test_no_update_boots_installed_firmware():
    root = tmpdir()
    assert ota.select(root) is None
    os.mkdir(root)
    with open(root + "/boot.json", "w") as f:
        f.write("{not json")
    assert ota.select(root) is None
    with open(root + "/boot.json", "w") as f:
        f.write(json.dumps({"active": "b", "pending": False}))
    assert ota.select(root) is None  # slot b does not exist
    with open(root + "/boot.json", "w") as f:
        f.write(json.dumps({"active": "../x"}))
    assert ota.select(root) is None


def test_switch_and_confirm():
    root = tmpdir()
    mod, files = bundle("v2")
    install(root, Server(files))
    assert ota.select(root) == root + "/a"  # first boot of the new version
    assert ota.read_boot(root)["tries"] == 1
    assert ota.status(root) == {"version": "2.0", "slot": "a", "pending": True,
                                "rolled_back": None}
    assert ota.confirm(root) and not ota.confirm(root)
    for _ in range(5):  # confirmed: it stays, whatever resets follow
        assert ota.select(root) == root + "/a"
    assert ota.read_boot(root)["pending"] is False
    # The slot goes first on sys.path, as boot.py puts it: its modules win.
    sys.path.insert(0, root + "/a/lib")
    try:
        probe = __import__(mod)
        assert probe.VERSION == "v2"
    finally:
        sys.path.pop(0)
        sys.modules.pop(mod, None)


def test_rollback_after_crash_loop():
    root = tmpdir()
    install(root, Server(bundle("v1")[1], "1.0"))
    ota.select(root)
    ota.confirm(root)
    mod, files = bundle("v2")
    assert install(root, Server(files, "2.0"))[1] == []
    st = ota.read_boot(root)
    assert (st["active"], st["previous"], st["pending"]) == ("b", "a", True)
    assert ota.select(root) == root + "/b"  # v2 boots once ... and crashes before confirming
    assert ota.select(root) == root + "/a"  # the next boot is v1 again
    assert ota.read_boot(root) == {"active": "a", "previous": None, "pending": False,
                                   "tries": 0, "version": "1.0", "rolled_back": "2.0"}
    assert ota.status(root)["rolled_back"] == "2.0"
    for _ in range(5):
        assert ota.select(root) == root + "/a"
    assert not ota.confirm(root)  # nothing pending: a late confirm changes nothing
    # The next update goes into b again (the failed version's slot), never over a.
    mod3, files3 = bundle("v3")
    assert install(root, Server(files3, "3.0"))[1] == []
    assert ota.read_boot(root)["active"] == "b" and ota.read_boot(root)["previous"] == "a"
    assert read(root + "/b/lib/%s.py" % mod3) == files3["lib/%s.py" % mod3]
    assert not os.listdir(root + "/b/lib").count("%s.py" % mod)  # the old staging is gone


def test_rollback_to_installed_firmware():
    root = tmpdir()
    install(root, Server(bundle("v2")[1]))
    assert ota.select(root) == root + "/a"
    assert ota.select(root) is None  # back to /lib and /
    assert ota.read_boot(root)["rolled_back"] == "2.0"


def test_trial_confirms_or_expires():
    root = tmpdir()
    assert ota.Trial(root).check(False) is None  # nothing pending: nothing to do
    install(root, Server(bundle("v2")[1]))
    ota.select(root)
    t = ota.Trial(root, deadline_s=300)
    assert t.pending and t.check(False) is None
    assert t.check(True) == "confirmed" and not ota.read_boot(root)["pending"]
    assert t.check(True) is None
    root = tmpdir()
    install(root, Server(bundle("v3")[1]))
    ota.select(root)
    t = ota.Trial(root, deadline_s=0)
    assert t.check(False) == "expired"
    assert ota.read_boot(root)["pending"] is True  # the reset that follows rolls back
    assert ota.select(root) is None
