"""A small MQTT 3.1.1 subscriber for the integration tests (CPython): collects what a real
broker delivers, so the tests see what a consumer would see. Not a product: QoS 0 delivery,
no reconnect (a test that restarts the broker opens a new one)."""

import socket
import ssl
import struct
import threading
import time


def _str(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("!H", len(b)) + b


def _varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


class Subscriber:
    def __init__(self, port, topics=("#",), host="127.0.0.1", user=None, password=None,
                 cafile=None, timeout=10):
        self.messages = []  # (topic, payload bytes, retained)
        self.lock = threading.RLock()
        deadline = time.time() + timeout
        while True:
            try:
                sock = socket.create_connection((host, port), timeout=2)
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.1)
        if cafile:
            ctx = ssl.create_default_context(cafile=cafile)
            sock = ctx.wrap_socket(sock, server_hostname=host)
        self.sock = sock
        flags = 0x02
        payload = _str("test-sub-%d" % id(self))
        if user:
            flags |= 0xC0
            payload += _str(user) + _str(password or "")
        var = _str("MQTT") + bytes((4, flags)) + struct.pack("!H", 60)
        self._send(0x10, var + payload)
        head, body = self._read()
        assert head == 0x20 and body[1] == 0, "CONNACK %r" % (body,)
        sub = struct.pack("!H", 1) + b"".join(_str(t) + b"\x00" for t in topics)
        self._send(0x82, sub)
        head, _body = self._read()
        assert head == 0x90
        sock.settimeout(None)
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _send(self, head, body):
        self.sock.sendall(bytes((head,)) + _varint(len(body)) + body)

    def _recv(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data

    def _read(self):
        head = self._recv(1)[0]
        n, shift = 0, 0
        while True:
            b = self._recv(1)[0]
            n |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        return head & 0xF0, self._recv(n) if n else b""

    def _loop(self):
        try:
            while True:
                head_full = self._recv(1)[0]
                n, shift = 0, 0
                while True:
                    b = self._recv(1)[0]
                    n |= (b & 0x7F) << shift
                    shift += 7
                    if not b & 0x80:
                        break
                body = self._recv(n) if n else b""
                if head_full & 0xF0 == 0x30:
                    tl = struct.unpack("!H", body[:2])[0]
                    topic = body[2:2 + tl].decode()
                    rest = body[2 + tl:]
                    if head_full & 0x06:
                        rest = rest[2:]
                    with self.lock:
                        self.messages.append((topic, rest, bool(head_full & 1)))
        except (EOFError, OSError):
            pass

    def publish(self, topic, payload, retain=False):
        """QoS 0: enough for a test's command (the broker delivers it to the subscriber)."""
        if isinstance(payload, str):
            payload = payload.encode()
        self._send(0x30 | (1 if retain else 0), _str(topic) + payload)

    def ping(self):
        self._send(0xC0, b"")

    def where(self, part):
        with self.lock:
            return [(t, p, r) for t, p, r in self.messages if part in t]

    def wait_for(self, predicate, timeout=30):
        """Wait until predicate(messages) is true; returns it (or its last value)."""
        deadline = time.time() + timeout
        while True:
            with self.lock:
                value = predicate(list(self.messages))
            if value or time.time() > deadline:
                return value
            time.sleep(0.1)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
