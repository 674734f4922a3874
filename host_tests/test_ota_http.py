# cpython-only: builds a bundle with tools/bundle.py (mpy-cross), serves it with http.server
# and runs the download, the signed update command and firmware/boot.py under the real
# MicroPython unix port (.venv/bin/micropython) in subprocesses.
"""The update path end to end on the host: tools/bundle.py builds and signs, Python's
http.server serves, MicroPython's own `requests` downloads (lib/ota.py's default opener),
lib/remote.py checks a MAC made by CPython's hmac module, and the real firmware/boot.py picks
the slot at each simulated boot and rolls back when the new version never confirms."""

import functools
import http.server
import json
import os
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tools"))
sys.path.insert(0, os.path.join(ROOT, "lib"))

import bundle  # noqa: E402  (tools/bundle.py)
import publish  # noqa: E402
import remote  # noqa: E402

MICROPYTHON = os.path.join(ROOT, ".venv", "bin", "micropython")
SECRET = "gw-1-remote-secret-0123"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class Serve:
    """http.server on a free local port, serving `directory`, in a thread."""

    def __init__(self, directory):
        handler = functools.partial(_Quiet, directory=directory)
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = "http://127.0.0.1:%d/" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def micropython(script, *args, heap="1M"):
    """Run `script` (source text) under the MicroPython unix port from the repository root."""
    r = subprocess.run([MICROPYTHON, "-X", "heapsize=" + heap, "-c", script] + list(args),
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def built(tmp_path, version="2.0"):
    out = str(tmp_path / "bundle")
    manifest, digest = bundle.build(out, version, host=True)
    return out, json.loads(manifest), digest


def test_bundle_contents_and_manifest(tmp_path):
    out, manifest, digest = built(tmp_path)
    files = manifest["files"]
    assert manifest["version"] == "2.0"
    assert "lib/gateway.mpy" in files and "lib/wmbus/decoder.mpy" in files
    assert "app.mpy" in files and "lib/ota.mpy" in files and "lib/remote.mpy" in files
    for name in ("boot.mpy", "main.mpy", "safemode.mpy", "boot.py", "main.py"):
        assert name not in files
    import hashlib

    for path, sha in files.items():
        with open(os.path.join(out, path), "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == sha, path
    with open(os.path.join(out, "manifest.json"), "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == digest


def test_device_build(tmp_path):
    # -march=xtensawin: .mpy version 6 bytecode. The header's arch field stays 0 for a file
    # without native code (py/persistentcode.c), so the same bytecode loads on any port: the
    # device build and the host build hold the same files.
    dev, _ = bundle.build(str(tmp_path / "dev"), "d1")
    host, _ = bundle.build(str(tmp_path / "host"), "d1", host=True)
    assert json.loads(dev)["files"].keys() == json.loads(host)["files"].keys()
    with open(os.path.join(str(tmp_path / "dev"), "lib", "gateway.mpy"), "rb") as f:
        assert f.read(2) == b"M\x06"


def test_cli_signs_without_secret_on_command_line(tmp_path, capsys):
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET + "\n")
    out = str(tmp_path / "cli")
    assert bundle.main(["build", "--out", out, "--host", "--version", "3.1",
                        "--url", "http://10.0.0.2/b/", "--secret-file", str(secret_file),
                        "--seq", "41"]) == 0
    text = capsys.readouterr().out.strip()
    assert SECRET not in text
    cmd = json.loads(text)
    assert cmd["cmd"] == "update" and cmd["seq"] == 41 and cmd["url"] == "http://10.0.0.2/b/"
    # The gateway's own HMAC (lib/remote.py) accepts what Python's hmac module signed.
    sent = []
    r = remote.Remote(SECRET, publish.Topics("p"), lambda t, p, x=False: sent.append(p),
                      str(tmp_path / "seq"), str(tmp_path / "c.json"), lambda: None)
    assert r.authenticate(text.encode())["manifest_sha256"] == cmd["manifest_sha256"]
    assert r.authenticate(text.replace("b/", "c/").encode()) is None
    # sign: any command from a file; seq defaults to the time.
    f = tmp_path / "cmd.json"
    f.write_text(json.dumps({"cmd": "config", "merge": {"publish": {"raw": False}}}))
    assert bundle.main(["sign", "--secret-file", str(secret_file), str(f)]) == 0
    signed = capsys.readouterr().out.strip()
    c = r.authenticate(signed.encode())
    assert c["cmd"] == "config" and c["seq"] > 1700000000
    # A short secret is refused, and named by its file only.
    secret_file.write_text("short")
    assert bundle.main(["sign", "--secret-file", str(secret_file), str(f)]) == 1
    assert "at least 16" in capsys.readouterr().err


_DOWNLOAD = """
import sys, json
sys.path.insert(0, "lib")
import ota, remote, publish
root, url, signed = sys.argv[1], sys.argv[2], sys.argv[3]
replies = []
restarts = []
u = ota.Updater(root)
r = remote.Remote(%r, publish.Topics("wmbus/gw-1"),
                  lambda t, p, x=False: replies.append((t, json.loads(p))),
                  root + "-seq", root + "-config.json", lambda: restarts.append(1),
                  updater=u.install)
r.handle(b"wmbus/gw-1/command", signed.encode())
r.service()
print(json.dumps({"replies": replies, "restarts": len(restarts), "bytes": u.bytes,
                  "boot": ota.read_boot(root)}))
""" % SECRET


def test_signed_update_downloads_with_micropython_requests(tmp_path):
    out, manifest, digest = built(tmp_path)
    root = str(tmp_path / "ota")
    with Serve(out) as srv:
        cmd = bundle.sign(bundle.update_command(srv.url, digest), SECRET, seq=7)
        result = json.loads(micropython(_DOWNLOAD, root, srv.url, cmd))
    topics = {t for t, _ in result["replies"]}
    assert topics == {"wmbus/gw-1/state/command"}
    assert [p for _, p in result["replies"]] == [
        {"seq": 7, "ok": True, "errors": [], "downloading": True},
        {"seq": 7, "ok": True, "version": "2.0", "restarting": True}]
    assert result["restarts"] == 1
    assert result["boot"] == {"active": "a", "previous": None, "pending": True, "tries": 0,
                              "version": "2.0", "previous_version": None}
    for path in manifest["files"]:
        with open(os.path.join(out, path), "rb") as a, \
                open(os.path.join(root, "a", path), "rb") as b:
            assert a.read() == b.read(), path
    total = sum(os.path.getsize(os.path.join(out, p)) for p in manifest["files"])
    assert result["bytes"] == total + os.path.getsize(os.path.join(out, "manifest.json"))


def test_tampered_bundle_refused_under_micropython(tmp_path):
    out, manifest, digest = built(tmp_path)
    with open(os.path.join(out, "lib", "gateway.mpy"), "r+b") as f:
        f.seek(100)
        b = f.read(1)
        f.seek(100)
        f.write(bytes([b[0] ^ 1]))
    root = str(tmp_path / "ota")
    with Serve(out) as srv:
        cmd = bundle.sign(bundle.update_command(srv.url, digest), SECRET, seq=8)
        result = json.loads(micropython(_DOWNLOAD, root, srv.url, cmd))
        assert result["replies"][-1][1] == {"seq": 8, "ok": False, "errors": [
            "lib/gateway.mpy: sha256 does not match the manifest"]}
        # A wrong address: refused with the status, nothing switched.
        cmd = bundle.sign(bundle.update_command(srv.url + "nothing/", digest), SECRET, seq=9)
        result = json.loads(micropython(_DOWNLOAD, root, srv.url, cmd))
        assert result["replies"][-1][1] == {"seq": 9, "ok": False,
                                            "errors": ["manifest.json: HTTP 404"]}
    assert result["restarts"] == 0 and result["boot"] is None
    assert not os.path.exists(os.path.join(root, "a"))


# One boot: a board module, the real firmware/boot.py, then what the app's import finds.
_BOOT = """
import sys
sys.path[:0] = [sys.argv[2], "firmware", "lib"]
exec(open("firmware/boot.py").read())
import gateway, app
print(gateway.__file__, app.__file__, "ota" in sys.modules)
"""


def boot(board_dir):
    """What boot.py printed before the app (its own lines), and the import result."""
    lines = micropython(_BOOT, "-", board_dir).strip().split("\n")
    boot.said = lines[:-1]
    return lines[-1].split()


def test_boot_py_selects_slot_and_rolls_back(tmp_path):
    out, manifest, digest = built(tmp_path, version="2.0")
    root = str(tmp_path / "ota")
    board_dir = tmp_path / "board"
    board_dir.mkdir()
    (board_dir / "board.py").write_text("SAFE_MODE_PIN = None\nOTA_ROOT = %r\n" % root)
    # Before any update: the installed firmware (lib/, firmware/).
    assert boot(str(board_dir)) == ["lib/gateway.py", "firmware/app.py", "False"]
    with Serve(out) as srv:
        cmd = bundle.sign(bundle.update_command(srv.url, digest), SECRET, seq=1)
        micropython(_DOWNLOAD, root, srv.url, cmd)
    # First boot after the switch: the new slot's modules, ota unloaded for the app.
    gw, app, ota_loaded = boot(str(board_dir))
    assert gw == root + "/a/lib/gateway.mpy" and app == root + "/a/app.mpy"
    assert ota_loaded == "False"
    assert boot.said == ["ota: running version 2.0 from " + root + "/a"]
    # It never confirmed (crashed, or reset at its deadline): the next boot rolls back.
    assert boot(str(board_dir))[:2] == ["lib/gateway.py", "firmware/app.py"]
    with open(os.path.join(root, "boot.json")) as f:
        st = json.load(f)
    assert st["rolled_back"] == "2.0" and st["pending"] is False and st["active"] is None


def test_boot_py_confirmed_version_stays(tmp_path):
    out, manifest, digest = built(tmp_path, version="2.1")
    root = str(tmp_path / "ota")
    board_dir = tmp_path / "board"
    board_dir.mkdir()
    (board_dir / "board.py").write_text("SAFE_MODE_PIN = None\nOTA_ROOT = %r\n" % root)
    with Serve(out) as srv:
        cmd = bundle.sign(bundle.update_command(srv.url, digest), SECRET, seq=1)
        micropython(_DOWNLOAD, root, srv.url, cmd)
    assert boot(str(board_dir))[0] == root + "/a/lib/gateway.mpy"
    # The app came up and reported: ota.confirm() (from the new slot, as the app runs it).
    micropython("import sys\nsys.path.insert(0, %r)\nimport ota\nassert ota.confirm(%r)"
                % (root + "/a/lib", root))
    for _ in range(3):
        assert boot(str(board_dir))[0] == root + "/a/lib/gateway.mpy"
    # A broken boot.json never stops the board: the installed firmware starts.
    with open(os.path.join(root, "boot.json"), "w") as f:
        f.write("{")
    assert boot(str(board_dir))[0] == "lib/gateway.py"


_BOOT_WDT = """
import sys
sys.path[:0] = [sys.argv[2], "firmware", "lib", "tools/standins"]
exec(open("firmware/boot.py").read())
import machine
w = machine._sim_wdt()
print(w.timeout if w is not None else None)
"""


def test_boot_py_arms_watchdog_only_on_trial(tmp_path):
    # A new version that dies at import leaves the REPL, which never resets: boot.py's
    # watchdog (the stand-in machine module here) resets it, and the next boot rolls back.
    out, manifest, digest = built(tmp_path, version="2.2")
    root = str(tmp_path / "ota")
    board_dir = tmp_path / "board"
    board_dir.mkdir()
    (board_dir / "board.py").write_text(
        "SAFE_MODE_PIN = None\nOTA_ROOT = %r\nWDT_MS = 45000\n" % root)
    assert micropython(_BOOT_WDT, "-", str(board_dir)).split()[-1] == "None"  # no update
    with Serve(out) as srv:
        cmd = bundle.sign(bundle.update_command(srv.url, digest), SECRET, seq=1)
        micropython(_DOWNLOAD, root, srv.url, cmd)
    assert micropython(_BOOT_WDT, "-", str(board_dir)).split()[-1] == "45000"  # on trial
    assert micropython(_BOOT_WDT, "-", str(board_dir)).split()[-1] == "None"  # rolled back
