"""One MQTT session over umqtt.simple, kept alive for years: connect with a timeout, last will,
keepalive pings that detect a dead connection, QoS 1 with a timeout, reconnect with
exponential backoff and jitter.

    link = Link(MQTTClient, "gw-1", "broker", 8883, user="gw", password="...",
                tls={"ca": "/certs/ca.pem"}, will_topic="wmbus/gw-1/status")
    if link.up():                      # connects when due; never blocks longer than timeout_s
        link.publish(topic, payload)   # True once the broker's PUBACK came (QoS 1)
    link.service()                     # keepalive: call it from the main loop

umqtt.simple is frozen into the ESP32 firmware (1.7.0 in v1.27/v1.28); host runs use the PyPI
release 1.3.4. What differs (micropython-esp32.md §2, §5), and how this module covers it:
- TLS: 1.7.0 takes an SSLContext-like object as `ssl` and calls its wrap_socket(sock,
  server_hostname=...); 1.3.4 calls `ussl.wrap_socket(sock, **ssl_params)`, and `ussl` no
  longer exists. Both are given an object of ours (1.3.4 through a `ussl` stand-in in
  sys.modules) that wraps the socket, with TLS when configured and without it otherwise.
- Timeouts: 1.7.0 has connect(timeout=); 1.3.4 has none. Either way the socket is ours once
  wrapped, and every read has the timeout: umqtt's wait_msg() calls setblocking(True), which on
  the ESP32 clears a socket timeout (modsocket.c), so that a QoS 1 publish whose PUBACK never
  comes would hang forever. Our socket turns setblocking(True) back into the timeout.
- Empty user name: 1.3.4 sends credentials when user is not None, 1.7.0 when it is truthy; we
  pass None when there is no user.
- Keepalive: neither sends PINGREQ. service() pings and expects the PINGRESP within the
  timeout; a broker or network that died silently is noticed within keepalive + timeout.
Writes are gathered and sent when umqtt next reads (or at the end of each operation): one TCP
segment and one TLS record per MQTT packet instead of four, and no Nagle/delayed-ACK stall.
"""

import sys

from wmbus.compat import ticks_ms, ticks_add, ticks_diff

_ETIMEDOUT = 110


class _Socket:
    """umqtt's view of the connection: read/write/setblocking/close over the real socket,
    with writes gathered and the read timeout kept."""

    def __init__(self, raw, stream, timeout_s):
        self.raw = raw  # the TCP socket: timeouts and poll
        self.stream = stream  # what umqtt reads and writes: raw, or the TLS socket over it
        self.timeout_s = timeout_s
        self.out = bytearray()
        self.bytes_out = 0
        self.pushed = None  # a byte peek_byte() read ahead
        raw.settimeout(timeout_s)

    def write(self, buf, n=None):
        if n is None:
            self.out += buf
        else:
            self.out += memoryview(buf)[:n]
        return len(buf) if n is None else n

    def flush(self):
        if self.out:
            out = self.out
            self.out = bytearray()
            mv = memoryview(out)
            sent = 0
            while sent < len(out):
                n = self.stream.write(mv[sent:])
                if not n:
                    raise OSError(_ETIMEDOUT)
                sent += n
            self.bytes_out += sent

    def peek_byte(self):
        """One byte if the broker has sent something, else None; never blocks. The byte is
        handed back by the next read()."""
        if self.pushed is not None:
            return self.pushed
        self.flush()
        self.raw.setblocking(False)
        try:
            b = self.stream.read(1)
        except OSError as e:
            if e.args and e.args[0] in (11, 115):  # EAGAIN / EINPROGRESS: nothing yet
                b = None
            else:
                raise
        finally:
            self.raw.settimeout(self.timeout_s)
        if b == b"":
            raise OSError(-1)  # closed by the broker
        self.pushed = b or None
        return self.pushed

    def read(self, n):
        self.flush()
        if self.pushed is not None:
            data = self.pushed
            self.pushed = None
            if n == 1:
                return data
            more = self.read(n - 1)
            return data + (more or b"")
        data = self.stream.read(n)
        if data is None:
            return None
        while len(data) < n:  # a TLS record or TCP segment may end inside an MQTT packet
            more = self.stream.read(n - len(data))
            if not more:
                if more is None:
                    raise OSError(_ETIMEDOUT)
                return data  # closed: umqtt sees the short read
            data += more
        return data

    def setblocking(self, flag):
        # umqtt: check_msg() -> False, wait_msg() -> True. True means "with our timeout".
        if flag:
            self.raw.settimeout(self.timeout_s)
        else:
            self.flush()
            self.raw.setblocking(False)

    def close(self):
        try:
            self.flush()
        except OSError:
            pass
        self.stream.close()
        if self.stream is not self.raw:
            self.raw.close()


class _Wrapper:
    """Given to umqtt as its `ssl` object: wraps the freshly connected TCP socket."""

    def __init__(self, host, tls, timeout_s):
        self.host = host
        self.tls = tls  # None, or dict(ca=, cert=, key=) / True for the system's defaults
        self.timeout_s = timeout_s
        self.socket = None

    def wrap_socket(self, sock, server_hostname=None, link=None):
        sock.settimeout(self.timeout_s)
        stream = sock
        if self.tls:
            import ssl

            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            tls = self.tls if type(self.tls) is dict else {}
            if tls.get("ca"):
                ctx.verify_mode = ssl.CERT_REQUIRED
                ctx.load_verify_locations(cadata=_der(tls["ca"]))
            if tls.get("cert"):
                ctx.load_cert_chain(_der(tls["cert"]), _der(tls["key"]))
            stream = ctx.wrap_socket(sock, server_hostname=server_hostname or self.host)
        self.socket = _Socket(sock, stream, self.timeout_s)
        return self.socket


class _UsslShim:
    """`import ussl` for umqtt.simple 1.3.4: ussl.wrap_socket(sock, link=<_Wrapper>)."""

    @staticmethod
    def wrap_socket(sock, link=None, **params):
        return link.wrap_socket(sock, server_hostname=link.host)


class Link:
    def __init__(self, client_cls, client_id, host, port, user=None, password=None, tls=None,
                 keepalive_s=60, timeout_s=10, will_topic=None, will_message=b"offline",
                 backoff_ms=(1000, 300000), rand=None, clean_session=True):
        self.client_cls = client_cls
        self.client_id = client_id
        self.host = host
        self.port = port
        self.user = user or None
        self.password = password
        self.tls = tls
        self.keepalive_s = keepalive_s
        self.timeout_s = timeout_s
        self.will_topic = will_topic
        self.will_message = will_message
        self.backoff_min, self.backoff_max = backoff_ms
        self.clean_session = clean_session
        self._rand = rand or _lcg(ticks_ms() ^ 0x5DEECE)
        self.client = None
        self.connected = False
        self.failures = 0  # consecutive failed attempts
        self.next_attempt = ticks_ms()
        self.last_error = None
        self._last_io = 0
        self._ping_sent = None
        # 1.7.0+ has unsubscribe(): the SSLContext-style `ssl` and connect(timeout=).
        self.new_api = hasattr(client_cls, "unsubscribe")
        self.counters = {"connects": 0, "connect_failures": 0, "disconnects": 0,
                         "published": 0, "publish_failures": 0, "pings": 0,
                         "keepalive_failures": 0}

    # -- connection ----------------------------------------------------------------------

    def up(self, now=None):
        """Connected, or connected now if an attempt is due. Never raises."""
        if self.connected:
            return True
        now = ticks_ms() if now is None else now
        if ticks_diff(now, self.next_attempt) < 0:
            return False
        try:
            self._connect()
        except Exception as e:  # OSError, MQTTException, TLS errors: all mean "not now"
            self._failed(e, "connect_failures")
            return False
        self.connected = True
        self.failures = 0
        self.last_error = None
        self._last_io = ticks_ms()
        self._ping_sent = None
        self.counters["connects"] += 1
        return True

    def _connect(self):
        wrapper = _Wrapper(self.host, self.tls, self.timeout_s)
        password = self.password
        if password is not None and type(password) is not str:
            password = password.value  # a config.Secret
        if password is not None:
            password = _b(password)
        if self.new_api:
            c = self.client_cls(_b(self.client_id), self.host, self.port, _b(self.user),
                                password, self.keepalive_s, ssl=wrapper)
        else:
            sys.modules["ussl"] = _UsslShim
            c = self.client_cls(_b(self.client_id), self.host, self.port, _b(self.user),
                                password, self.keepalive_s, ssl=True,
                                ssl_params={"link": wrapper})
        if self.will_topic:
            c.set_last_will(_b(self.will_topic), _b(self.will_message), retain=True, qos=1)
        c.set_callback(self._on_message)
        self.client = c
        try:
            if self.new_api:
                c.connect(self.clean_session, timeout=self.timeout_s)
            else:
                c.connect(self.clean_session)
        except BaseException:
            self._close_socket()
            raise
        self.socket = wrapper.socket

    def _failed(self, error, counter):
        self.counters[counter] += 1
        self.last_error = _describe(error)
        if self.connected:
            self.counters["disconnects"] += 1
        self.connected = False
        self._close_socket()
        # Exponential backoff with +-25 % jitter: a fleet of gateways that lost the same
        # broker does not come back in lockstep.
        delay = self.backoff_min << min(self.failures, 16)
        if delay > self.backoff_max:
            delay = self.backoff_max
        delay += (delay >> 1) * (self._rand() % 1000) // 1000 - (delay >> 2)
        self.failures += 1
        self.next_attempt = ticks_add(ticks_ms(), delay)

    def _close_socket(self):
        c = self.client
        if c is not None and c.sock is not None:
            try:
                c.sock.close()
            except Exception:
                pass
            c.sock = None

    def close(self):
        """A clean disconnect (the broker then does not send the last will)."""
        if self.connected:
            try:
                self.client.disconnect()
            except Exception:
                self._close_socket()
        self.connected = False

    # -- traffic -------------------------------------------------------------------------

    def publish(self, topic, payload, retain=False, qos=1):
        """True when sent (QoS 1: and acknowledged). On any failure the connection is
        dropped and a reconnect scheduled; the caller keeps the message and retries."""
        if not self.connected:
            return False
        # umqtt counts len() of what it is given: characters for a str, so a payload with
        # "m³" or a meter named "Küche" would be announced shorter than it is sent.
        payload = _b(payload)
        topic = _b(topic)
        try:
            self.client.publish(topic, payload, retain, qos)
            self.client.sock.flush()
        except Exception as e:
            self._failed(e, "publish_failures")
            return False
        self.counters["published"] += 1
        self._last_io = ticks_ms()
        return True

    def service(self, now=None):
        """Keepalive: a PINGREQ after keepalive/2 of silence, and the PINGRESP expected within
        timeout_s, or the connection is taken for dead. Also takes whatever the broker sent."""
        if not self.connected:
            return
        now = ticks_ms() if now is None else now
        try:
            self._drain()
            if self._ping_sent is not None:
                if ticks_diff(now, self._ping_sent) > self.timeout_s * 1000:
                    raise OSError(_ETIMEDOUT)
            elif self.keepalive_s and \
                    ticks_diff(now, self._last_io) > self.keepalive_s * 500:
                self.client.ping()
                self.client.sock.flush()
                self._ping_sent = now
                self.counters["pings"] += 1
        except Exception as e:
            self._failed(e, "keepalive_failures")

    def _drain(self):
        """Read what the broker sent (PINGRESP, publishes on subscribed topics) without
        blocking: one non-blocking read of the first byte, then umqtt reads the packet with
        the timeout. (Polling the TCP socket would not do: with TLS 1.3 the broker's session
        tickets make it readable with no MQTT data behind them, and a blocking read would wait
        for the timeout.)"""
        c = self.client
        while True:
            first = c.sock.peek_byte()
            if first is None:
                return
            op = c.wait_msg()
            if op is None or op == 0xD0:  # 1.3.4 returns None for PINGRESP, newer ones too
                self._ping_sent = None
            self._last_io = ticks_ms()

    def _on_message(self, topic, msg):
        cb = getattr(self, "on_message", None)
        if cb:
            cb(topic, msg)

    def subscribe(self, topic):
        try:
            self.client.subscribe(topic, 1)
            self.client.sock.flush()
            return True
        except Exception as e:
            self._failed(e, "publish_failures")
            return False

    def status(self):
        return {"connected": self.connected, "failures": self.failures,
                "last_error": self.last_error, "counters": self.counters}


def _der(path):
    """A certificate or key file as DER: MicroPython's ssl (mbedtls) takes only DER, while
    brokers and `openssl` hand out PEM. The first PEM block is used: one CA certificate."""
    with open(path, "rb") as f:
        data = f.read()
    start = data.find(b"-----BEGIN")
    if start < 0:
        return data
    import binascii

    body = data.find(b"\n", start) + 1
    end = data.find(b"-----END", body)
    return binascii.a2b_base64(data[body:end].replace(b"\n", b"").replace(b"\r", b""))


def _b(s):
    """UTF-8 bytes for umqtt, which measures what it sends with len()."""
    return s.encode() if type(s) is str else s


def _describe(e):
    """A short reason for the state topic; never includes a password (umqtt's messages do
    not carry one, and only the exception type and code are kept)."""
    name = type(e).__name__
    if e.args and type(e.args[0]) is int:
        code = e.args[0]
        if name == "MQTTException":
            return "broker refused: " + _CONNACK.get(code, "code %d" % code)
        return "%s %d" % (name, code)
    detail = str(e)[:60]  # e.g. ValueError: invalid cert (never carries a password)
    return name + (": " + detail if detail else "")


# CONNACK return codes (MQTT 3.1.1 §3.2.2.3).
_CONNACK = {1: "unacceptable protocol version", 2: "client id rejected",
            3: "server unavailable", 4: "bad user name or password", 5: "not authorized"}


def _lcg(seed):
    state = [seed & 0x7FFFFFFF or 1]

    def rand():
        state[0] = (state[0] * 1103515245 + 12345) & 0x7FFFFFFF
        return state[0] >> 8

    return rand
