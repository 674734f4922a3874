"""Application updates: a bundle of .mpy files, downloaded into a spare slot, verified, switched
to atomically, and rolled back by boot.py when the new version does not come up and report.
Portable: every path is under a root directory given by the caller (tests use /tmp dirs).

A bundle is a directory served over HTTP:
    <url>/manifest.json     {"version": "1.4.0", "files": {"lib/gateway.mpy": "<sha256 hex>",
                             "app.mpy": "<sha256 hex>", ...}}
    <url>/lib/gateway.mpy   ... every file the manifest names
The update command carries the manifest's SHA-256, so the command's MAC (remote.py) covers the
manifest and through it every file.

On the flash, under ROOT (/ota: not /app, which as a directory would shadow app.mpy - MicroPython
imports a directory of that name as a namespace package):
    ROOT/a/..., ROOT/b/...  the two slots; a slot holds the bundle's files (lib/... and the
                            firmware's modules) and its manifest.json
    ROOT/boot.json          {"active": "b", "previous": "a", "pending": true, "tries": 0,
                             "version": "1.4.0", "previous_version": "1.3.0"}
                            replaced by rename only, so it is always the old or the new one
No boot.json, or "active": null: the installed firmware (/lib and /) runs, as before any update.

The cycle:
1. install(): the manifest and each file are downloaded into the slot that is not active,
   hashed while they stream (1 KB at a time: the ESP32 has ~100 KB of heap), and the slot is
   thrown away at the first mismatch or error, boot.json untouched. Then boot.json switches:
   active = the new slot, pending, tries 0. The caller resets.
2. boot.py calls select() at every boot, before the app is imported. A pending boot counts a
   try; a second try without a confirmation in between (the new version reset or crashed, or
   missed its deadline) switches back to the previous slot. select() returns the slot to put
   first on sys.path.
3. The app, once it has connected to MQTT and published its state, calls confirm(); Trial
   does this and tells the app when the deadline has passed (the app then resets, and step 2
   rolls back).
boot.py, main.py, safemode.py and board.py are never part of a bundle: the boot-time code
that must be able to roll back is not replaced by what it might have to roll back from.

This module imports only os, json and hashlib at the top: boot.py loads it from /lib and drops
it again, and nothing it loads may stay cached for the app (see Trial for ticks).
"""

import hashlib
import json
import os

ROOT = "/ota"
SLOTS = ("a", "b")
MAX_TRIES = 1  # boots a pending version gets before it is rolled back
CHUNK = 1024  # download block: one allocation of this size per read
MAX_MANIFEST = 16384
MAX_FILES = 200
MAX_FILE_BYTES = 262144
_HEX = "0123456789abcdef"
_NAME_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-."
# Boot-time modules: never in a bundle (see above).
NOT_IN_BUNDLE = ("boot.py", "main.py", "safemode.py", "safemode.mpy", "board.py", "board.mpy",
                 "manifest.json")


# -- boot.json -------------------------------------------------------------------------------

def read_boot(root=ROOT):
    """The boot state (a dict), or None when there is none or it cannot be read."""
    try:
        with open(root + "/boot.json") as f:
            st = json.loads(f.read())
    except (OSError, ValueError):
        return None
    if type(st) is not dict or st.get("active") not in (None, "a", "b"):
        return None
    return st


def write_boot(root, st):
    """boot.json replaced atomically: written beside it, then renamed over it."""
    tmp = root + "/boot.json.tmp"
    with open(tmp, "w") as f:
        f.write(json.dumps(st))
    os.rename(tmp, root + "/boot.json")


def select(root=ROOT):
    """The boot-selection step (boot.py, once per boot): counts a pending version's try and
    rolls back after MAX_TRIES. Returns the active slot's directory, or None for the installed
    firmware. Never raises for bad state: an unreadable boot.json means the installed one."""
    st = read_boot(root)
    if st is None:
        return None
    if st.get("pending"):
        tries = st.get("tries")
        st["tries"] = (tries if type(tries) is int else 0) + 1
        if st["tries"] > MAX_TRIES:
            # The new version has had its boot and did not confirm: back to the one before.
            st = {"active": st.get("previous"), "previous": None, "pending": False, "tries": 0,
                  "version": st.get("previous_version"), "rolled_back": st.get("version")}
        try:
            write_boot(root, st)
        except OSError:
            # A try that cannot be counted could repeat forever: run the installed firmware.
            return None
    active = st.get("active")
    if active is None:
        return None
    d = root + "/" + active
    return d if _is_dir(d) else None


def confirm(root=ROOT):
    """The running version works: keep it. True when a pending version was confirmed."""
    st = read_boot(root)
    if st is None or not st.get("pending"):
        return False
    st["pending"] = False
    st["tries"] = 0
    st.pop("rolled_back", None)
    write_boot(root, st)
    return True


def status(root=ROOT):
    """For the state topic: {"version", "slot", "pending", "rolled_back"}."""
    st = read_boot(root) or {}
    return {"version": st.get("version"), "slot": st.get("active"),
            "pending": bool(st.get("pending")), "rolled_back": st.get("rolled_back")}


class Trial:
    """The new version's deadline: check() once per main-loop pass with whether the gateway
    has come up and reported (connected to MQTT and published its state). It confirms the
    version then, and says "expired" when the deadline passed first: the caller resets, and
    select() rolls back at the next boot."""

    def __init__(self, root=ROOT, deadline_s=300):
        from wmbus.compat import ticks_add, ticks_ms  # not at the top: see the docstring

        self.root = root
        st = read_boot(root)
        self.pending = bool(st and st.get("pending"))
        self.due = ticks_add(ticks_ms(), deadline_s * 1000)

    def check(self, reported):
        """None (nothing to do), "confirmed" or "expired"."""
        if not self.pending:
            return None
        if reported:
            try:
                confirm(self.root)
            except OSError:
                return None  # the flash refused: try again next pass
            self.pending = False
            return "confirmed"
        from wmbus.compat import ticks_diff, ticks_ms

        if ticks_diff(ticks_ms(), self.due) >= 0:
            return "expired"
        return None


# -- files -----------------------------------------------------------------------------------

def _is_dir(path):
    try:
        return os.stat(path)[0] & 0x4000 != 0
    except OSError:
        return False


def makedirs(path):
    p = "/" if path.startswith("/") else ""
    for part in path.split("/"):
        if not part:
            continue
        p = p + part if not p or p.endswith("/") else p + "/" + part
        if not _is_dir(p):
            os.mkdir(p)


def remove_tree(path):
    try:
        mode = os.stat(path)[0]
    except OSError:
        return
    if mode & 0x4000:
        for name in os.listdir(path):
            remove_tree(path + "/" + name)
        os.rmdir(path)
    else:
        os.remove(path)


def hexlify(data):
    return "".join(_HEX[b >> 4] + _HEX[b & 15] for b in data)


def check_manifest(m):
    """The manifest's problems (a list of strings; empty when it is usable)."""
    if type(m) is not dict:
        return ["manifest: must be an object"]
    errors = []
    v = m.get("version")
    if type(v) is not str or not 0 < len(v) <= 32:
        errors.append("manifest.version: must be a string of 1-32 characters")
    files = m.get("files")
    if type(files) is not dict or not files:
        return errors + ["manifest.files: must be a non-empty object"]
    if len(files) > MAX_FILES:
        return errors + ["manifest.files: more than %d files" % MAX_FILES]
    for path, digest in files.items():
        if not safe_path(path):
            errors.append("manifest.files: a path is not a plain relative .mpy/.py path")
        elif type(digest) is not str or len(digest) != 64 or \
                any(c not in _HEX for c in digest):
            errors.append("manifest.files[%s]: sha256 must be 64 lower-case hex digits" % path)
    return errors


def safe_path(path):
    """A relative path of plain names ending in .mpy or .py, and no boot-time module: nothing
    that could leave the slot (no "..", no leading "/") or replace what does the rollback."""
    if type(path) is not str or not 0 < len(path) <= 96:
        return False
    if not (path.endswith(".mpy") or path.endswith(".py")) or path in NOT_IN_BUNDLE:
        return False
    for part in path.split("/"):
        if not part or part[0] == "." or any(c not in _NAME_CHARS for c in part):
            return False
    return True


# -- HTTP ------------------------------------------------------------------------------------

def http_get(url, timeout_s=10):
    """(status, body stream with read(n)) for a GET. `requests` is frozen into the ESP32
    firmware (bundle-networking) and into the unix port; its Response.raw is the socket (or,
    in newer releases, a reader that undoes chunked encoding), read as a stream here."""
    import requests

    r = requests.get(url, timeout=timeout_s)
    return r.status_code, r.raw


class Updater:
    """Downloads and installs bundles under `root`. `opener(url)` -> (status, stream) is
    http_get unless a test gives its own."""

    def __init__(self, root=ROOT, opener=None, chunk=CHUNK, log=None):
        self.root = root
        self.opener = opener or http_get
        self.chunk = chunk
        self.log = log or (lambda text: None)
        self.bytes = 0  # downloaded by the last install()

    def install(self, url, manifest_sha256, tick=None):
        """Download, verify and switch to the bundle at `url` (a directory URL). Returns
        (version, []) when boot.json now points at it (reset to run it), or (None, errors)
        with nothing switched. `tick()` is called after every block (watchdog, radio)."""
        if not url.endswith("/"):
            url += "/"
        st = read_boot(self.root) or {"active": None}
        if st.get("pending"):
            # Its slot's partner holds the version to roll back to: never overwrite that.
            return None, ["update: the running version is not confirmed yet"]
        slot = "b" if st.get("active") == "a" else "a"
        staging = self.root + "/" + slot
        self.bytes = 0
        try:
            data, err = self._fetch_small(url + "manifest.json", tick)
            if err:
                return None, [err]
            if hexlify(hashlib.sha256(data).digest()) != manifest_sha256:
                return None, ["manifest.json: sha256 does not match the command"]
            try:
                manifest = json.loads(data)
            except ValueError:
                return None, ["manifest.json: not valid JSON"]
            errors = check_manifest(manifest)
            if errors:
                return None, errors
            makedirs(self.root)
            remove_tree(staging)  # what a failed or superseded install left
            makedirs(staging)
            with open(staging + "/manifest.json", "wb") as f:
                f.write(data)
            data = None  # the parsed manifest is what the heap must hold from here on
            for path, digest in manifest["files"].items():
                err = self._fetch_file(url + path, staging, path, digest, tick)
                if err:
                    remove_tree(staging)
                    return None, [err]
            write_boot(self.root, {"active": slot, "previous": st.get("active"),
                                   "pending": True, "tries": 0,
                                   "version": manifest["version"],
                                   "previous_version": st.get("version")})
        except Exception as e:  # OSError (network, flash full), MemoryError: nothing switched
            try:
                remove_tree(staging)
            except OSError:
                pass
            return None, ["update: " + _describe(e)]
        self.log("ota: version %s in slot %s, %d bytes" % (manifest["version"], slot,
                                                           self.bytes))
        return manifest["version"], []

    def _fetch_small(self, url, tick):
        status, stream = self.opener(url)
        try:
            if status != 200:
                return None, "manifest.json: HTTP %d" % status
            parts = []
            size = 0
            while True:
                block = stream.read(self.chunk)
                if not block:
                    break
                size += len(block)
                if size > MAX_MANIFEST:
                    return None, "manifest.json: larger than %d bytes" % MAX_MANIFEST
                parts.append(block)
                if tick is not None:
                    tick()
        finally:
            stream.close()
        self.bytes += size
        return b"".join(parts), None

    def _fetch_file(self, url, staging, path, digest, tick):
        """One file streamed to staging/path, hashed on the way. An error text, or None."""
        target = staging + "/" + path
        if "/" in path:
            makedirs(target.rsplit("/", 1)[0])
        status, stream = self.opener(url)
        h = hashlib.sha256()
        size = 0
        try:
            if status != 200:
                return "%s: HTTP %d" % (path, status)
            with open(target, "wb") as f:
                while True:
                    block = stream.read(self.chunk)
                    if not block:
                        break
                    size += len(block)
                    if size > MAX_FILE_BYTES:
                        return "%s: larger than %d bytes" % (path, MAX_FILE_BYTES)
                    h.update(block)
                    f.write(block)
                    if tick is not None:
                        tick()
        finally:
            stream.close()
        self.bytes += size
        if hexlify(h.digest()) != digest:
            return "%s: sha256 does not match the manifest" % path
        return None


def _describe(e):
    if e.args and type(e.args[0]) is int:
        return "%s %d" % (type(e).__name__, e.args[0])
    return type(e).__name__
