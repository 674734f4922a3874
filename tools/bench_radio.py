"""The radio loss budget: what share of the telegrams on air the gateway itself loses.

    micropython -X heapsize=8M tools/bench_radio.py --lib=build/host-mpy [--seconds=120]
        [--radios=cc1101:firmware,cc1101:guarded,cc1101:irq,im871a,amb8465,rc1180]
        [--meters=500] [--factor=150] [--seed=1] [--seeds=N (seed .. seed+N-1, and the total)]
        [--policy=firmware|guarded|irq] [--publish-ms=5-20] [--flash-ms=30-50]
        [--stall-every-s=600] [--stall-ms=1000-3000] [--rxbuf=8192]
        [--queue=0 (the firmware's: 128 CC1101, 64 UART)] [--batch=0 (the firmware's: 8192
        CC1101, 4096 UART)] [--raw=1] [--gc-every=65536] [--gc-ms=1.8] [--irq-latency-us=200]
        [--quiet]

For each radio: the building of tools/simradio/air.py (500 Kamstrup C1 meters every 16 s plus
20 OMS T1 meters: 31 telegrams/s, bursts to ~50/s) is played into the radio's simulator for
--seconds of simulated time, and the real firmware pipeline receives it: the driver from
lib/radio, lib/gateway.Gateway (filters, repeats, decode, spool append, flush, publish) with
the real Spool (a LittleFS RAM disk under MicroPython) and the firmware's main loop
(firmware/app.py run(): step, and a 1-5 ms sleep when there was nothing to do), with the
firmware's defaults (a CC1101: 128 queue slots in an 8 KB ring, flush every 128 records or
5 s; a UART module: 64 slots in 4 KB, UART rxbuf 8192, flush every 64 records or 5 s; state
every 60 s, publish.decoded and publish.raw on; discovery off: a steady state, not a boot).

Time: one simulated clock. The CPU time of all Python work - driver, decoder, JSON, spool,
gateway - is measured on this interpreter and multiplied by --factor (150: the unix port vs an
ESP32 at 240 MHz, micropython-esp32.md §3); the clock moves by that much at the next touch of
the hardware (every SPI/pin/UART call and every ticks_ms read catches it up first), so the radio
is served exactly as late as on the device, and the simulator meanwhile keeps receiving: a
CC1101 FIFO overflows, a UART buffer fills. The simulators' and the air model's own time is
excluded, and so is the bench's own cost per hardware touch (calibrated at start). Modelled
device time on top: each spool flush (--flash-ms, a 4 KiB erase and the writes: the issue's
30-50 ms; the host's file I/O is excluded), each MQTT QoS-1 publish with its PUBACK wait
(--publish-ms), now and then a reconnect/WiFi stall of the link (--stall-ms, one every
--stall-every-s on average, the first one in the middle of the run), and a garbage collection
(--gc-ms, 1.8 ms on an ESP32 without SPIRAM, micropython-esp32.md §1) for every --gc-every
bytes allocated (heap bytes of the 64-bit unix port, simulators included: conservative).

Policies (a CC1101 only; the UART modules buffer by themselves):
    firmware  the driver polled from the main loop only (the gateway itself holds back flush
              and publish while the driver says a frame is arriving: Gateway.step);
    guarded   and the bench also checks GDO2 before each unit of work;
    irq       guarded, and GDO0 rising / GDO2 edges call CC1101.on_gdo() as soft IRQs
              (what firmware/app.py registers: the firmware's configuration)
              (Pin.irq): modelled as running within --irq-latency-us during Python code and
              MQTT waits, never during a flash write or a garbage collection (C code).

Counted per radio: telegrams on air, lost on air (collisions, noise: no receiver gets them),
"late" captures (intact on air, but a single-channel receiver already synchronised on the
weaker frame misses them), received by the gateway bit-exact (every frame the driver queues is
checked against the air's ground truth), and the gateway's own loss, 1 - received / (perfect -
late), with the counters that explain it; the CPU share of Python work, and the share of time
the loop was blocked (Python + flash + MQTT). Run it under MicroPython: the x150 factor is for
its bytecode (CPython runs are for debugging the bench only).
"""

import gc
import json
import math
import sys
import time

import libpath

LIB = libpath.setup(__file__)

import config  # noqa: E402
import gateway  # noqa: E402
from radio import FrameQueue  # noqa: E402
from simradio.air import Air, Rng  # noqa: E402
from spool import Spool  # noqa: E402

MICROPYTHON = sys.implementation.name == "micropython"
S = 1000000
WINDOW_US = S // 2  # the air is generated half a second at a time
# After the last transmission the loop runs this much longer, so that the last frames are
# counted as received when they are, not lost because the run ended.
DRAIN_US = S // 2
SAMPLE_EVERY = 25  # one call in this many has its heap allocation measured
# The host's garbage collector is off (gc.disable()) while the clock runs: a collection inside a
# measured stretch would count x150. The bench collects itself, outside the measurement,
# whenever less than this is free. The heap is kept small on purpose (-X heapsize=8M): the
# firmware's allocations then land in memory the host's caches hold, as an ESP32's internal
# SRAM always is; in a 32 MB heap they walk cold memory and allocation-heavy code (JSON, the
# decoder) measured 3-5x slower, which x150 turned into losses the device would not have.
HOST_GC_MARGIN = 3 * 1024 * 1024

if MICROPYTHON:
    ticks_us = time.ticks_us
    ticks_diff = time.ticks_diff
else:
    def ticks_us():
        return int(time.perf_counter() * 1000000)

    def ticks_diff(a, b):
        return a - b


def options(argv):
    o = {"seconds": 120,
         "radios": "cc1101:guarded,cc1101:irq,im871a,amb8465,rc1180",
         "factor": 150.0,
         "meters": 500, "t1_meters": 20, "seed": 1, "seeds": 1, "policy": "firmware",
         "publish_ms": "5-20", "flash_ms": "30-50", "stall_every_s": 600.0,
         "stall_ms": "1000-3000", "rxbuf": 8192, "gc_every": 65536, "gc_ms": 1.8,
         "raw": 1, "discovery": 0, "queue": 0, "irq_latency_us": 200, "quiet": False, "batch": 0,
         "normalise": 1}
    for a in argv:
        if a.startswith("--lib="):
            continue
        if a == "--quiet":
            o["quiet"] = True
            continue
        if not a.startswith("--") or "=" not in a:
            raise SystemExit("bench_radio: unknown argument %s" % a)
        k, v = a[2:].split("=", 1)
        k = k.replace("-", "_")
        if k not in o:
            raise SystemExit("bench_radio: unknown option --%s" % k)
        d = o[k]
        o[k] = v if type(d) is str else type(d)(float(v) if type(d) is float else int(v))
    for k in ("publish_ms", "flash_ms", "stall_ms"):
        lo, _, hi = o[k].partition("-")
        o[k] = (float(lo), float(hi or lo))
    return o


# The host's speed. x150 is the unix port on an unloaded PC against an ESP32; this VM's speed
# drifts by 20% and more with its neighbours' load, and near saturation the loss follows it
# (the same code lost 5% or 11%). So the bench times a reference - decoding a Kamstrup
# telegram and its JSON, the firmware's own bulk work - every REF_EVERY_US of simulated time,
# outside the measurement, and scales the factor by REF_NOMINAL_US / that time: the figures
# are for a host that takes REF_NOMINAL_US (this machine class unloaded, best of many runs).
REF_NOMINAL_US = 70.0
REF_EVERY_US = 5 * S


class Reference:
    def __init__(self):
        from wmbus import Decoder, build

        key = bytes(range(16))
        self.frame = build.telegram(
            build.records(("0413", 1000), ("4413", 900), ("615B", 12), ("6167", 8)),
            manufacturer="KAM", meter_id="30000001", version=0x1B, device_type=0x16, ci=0x78,
            ell=0x8D, key=key, access_number=3)
        self.decoder = Decoder({"30000001": key})
        self.samples = []

    def us(self):
        """Best of 5 rounds of 10: the host's speed now, preemptions filtered out."""
        best = None
        for _ in range(5):
            t0 = ticks_us()
            for _ in range(10):
                json.dumps(self.decoder.decode(self.frame))
            t = ticks_diff(ticks_us(), t0)
            best = t if best is None or t < best else best
        us = best / 10
        self.samples.append(us)
        return us


class Cpu:
    """The device's clock: Python time measured since the last hardware touch, x factor, plus
    the modelled device time (flash, MQTT, GC), added to the simulated clock at each touch.

    The harness's own share of each measured stretch (entering the proxy that called sync(),
    leaving resume()) is calibrated at start and taken off (self.overhead, in host ns)."""

    def __init__(self, factor, gc_every, gc_ms):
        self.factor = factor
        # Integer arithmetic in sync(): a float would be a heap object on every hardware
        # touch, and the allocations of the measured code are sampled.
        self._f1000 = int(factor * 1000)
        self.scale = 1.0
        self.paused = False  # the bench's set-up: the device clock does not run
        self.gc_every = gc_every
        self.gc_us = int(gc_ms * 1000)
        self.advance = None  # set per radio: advance the simulator by n us
        self.busy_us = 0  # device CPU time of Python work
        self.modelled = {"flash": 0, "publish": 0, "stall": 0, "gc": 0}
        self.extra_us = 0
        self.alloc = 0  # bytes allocated since the last modelled collection
        self.overhead = 0  # host ns
        # --policy=irq: soft IRQ handlers (scheduled callbacks) run between bytecodes and
        # while MicroPython waits (sleep_ms, a socket): modelled by advancing the simulator in
        # slices of irq_latency_us, so that a pending handler runs at most that late.
        self.irq_latency_us = 0
        self.extra_wait_us = 0  # modelled waiting time during which callbacks run
        self.mark = ticks_us()

    def calibrate(self):
        """Host us that a sync()/resume() pair around a do-nothing pin read adds."""
        pin = TimedPin(_NullPin(), self)
        advance, self.advance = self.advance, _nothing
        best = None
        for _ in range(5):
            self.overhead = 0
            self.busy_us = 0
            self.resume()
            for _ in range(200):
                pin.value()
            self.sync()
            per = self.busy_us * 1000 * 1000 // self._f1000 // 201
            best = per if best is None or per < best else best
        self.overhead = best
        self.busy_us = 0
        self.advance = advance

    def sync(self):
        """Bring the simulated clock up to the device's present; the caller then runs
        simulator code, excluded until resume()."""
        t = ticks_us()
        d = ticks_diff(t, self.mark) * 1000 - self.overhead
        if self.paused:
            d = 0
        cost = d * self._f1000 // 1000000 if d > 0 else 0
        self.busy_us += cost
        blocked = self.extra_us  # flash and GC: C code, no callback runs meanwhile
        waiting = self.extra_wait_us
        self.extra_us = self.extra_wait_us = 0
        if not self.irq_latency_us:
            if cost + blocked + waiting > 0:
                self.advance(cost + blocked + waiting)
            return
        self.wait(cost)
        if blocked:
            self.advance(blocked)
        self.wait(waiting)

    def wait(self, us):
        """Let us pass: in slices when soft IRQs are modelled (the simulator runs the pending
        handlers at the end of each slice; their own cost is added by their hardware calls)."""
        step = self.irq_latency_us
        if not step:
            if us > 0:
                self.advance(us)
            return
        while us > 0:
            n = step if us > step else us
            self.advance(n)
            us -= n

    def resume(self):
        self.mark = ticks_us()

    def rescale(self, ref):
        """The factor for the host's speed now (between sync() and resume())."""
        self.scale = min(2.0, max(0.5, REF_NOMINAL_US / ref.us()))
        self._f1000 = int(self.factor * self.scale * 1000)

    def allocated(self, n):
        """n bytes allocated by the firmware's code: a collection every gc_every bytes."""
        self.alloc += n
        while self.alloc >= self.gc_every:
            self.alloc -= self.gc_every
            self.add(self.gc_us, "gc")

    def add(self, us, kind):
        us = int(us)
        if kind == "publish" or kind == "stall":
            self.extra_wait_us += us  # blocked in a socket: callbacks still run
        else:
            self.extra_us += us
        self.modelled[kind] += us


class _NullPin:
    def value(self, v=None):
        return 0


def _nothing(us):
    pass


# -- the hardware the driver sees: the simulator's objects, with the clock caught up first ------

class TimedSPI:
    def __init__(self, spi, cpu):
        self._spi = spi
        self._cpu = cpu

    def write_readinto(self, out, buf):
        self._cpu.sync()
        self._spi.write_readinto(out, buf)
        self._cpu.resume()

    def write(self, buf):
        self._cpu.sync()
        self._spi.write(buf)
        self._cpu.resume()

    def readinto(self, buf, write=0):
        self._cpu.sync()
        self._spi.readinto(buf, write)
        self._cpu.resume()

    def read(self, n, write=0):
        self._cpu.sync()
        r = self._spi.read(n, write)
        self._cpu.resume()
        return r


class TimedPin:
    def __init__(self, pin, cpu):
        self._pin = pin
        self._cpu = cpu

    def value(self, v=None):
        self._cpu.sync()
        r = self._pin.value(v) if v is not None else self._pin.value()
        self._cpu.resume()
        return r

    def __call__(self, v=None):
        return self.value(v)

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)

    def irq(self, *a, **kw):
        return self._pin.irq(*a, **kw)


class TimedUART:
    def __init__(self, uart, cpu):
        self._uart = uart
        self._cpu = cpu

    def any(self):
        self._cpu.sync()
        r = self._uart.any()
        self._cpu.resume()
        return r

    def read(self, n=None):
        self._cpu.sync()
        r = self._uart.read(n)
        self._cpu.resume()
        return r

    def readinto(self, buf, n=None):
        self._cpu.sync()
        r = self._uart.readinto(buf, n) if n is not None else self._uart.readinto(buf)
        self._cpu.resume()
        return r

    def write(self, data):
        self._cpu.sync()
        r = self._uart.write(data)
        self._cpu.resume()
        return r

    def init(self, *a, **kw):
        self._cpu.sync()
        self._uart.init(*a, **kw)
        self._cpu.resume()

    def deinit(self):
        pass

    def flush(self):
        pass


class Profiled:
    """The driver as the gateway sees it, with the device time of its poll() counted apart."""

    def __init__(self, driver, cpu):
        self._drv = driver
        self._cpu = cpu
        self.queue = driver.queue
        self.poll_us = 0
        self.polls = 0

    def poll(self):
        cpu = self._cpu
        cpu.sync()
        before = cpu.busy_us
        cpu.resume()
        n = self._drv.poll()
        cpu.sync()
        self.poll_us += cpu.busy_us - before
        self.polls += 1
        cpu.resume()
        return n

    def __getattr__(self, name):  # info, error, counters, start
        return getattr(self._drv, name)


class CheckedQueue(FrameQueue):
    """The driver's queue, checking each frame the gateway takes against the air's truth."""

    def __init__(self, slots, cpu, truth):
        FrameQueue.__init__(self, slots)
        self._cpu = cpu
        self._truth = truth  # frame bytes -> [transmissions perfect on air, times received]
        self.received = 0
        self.unexpected = 0  # a frame no meter sent intact: must stay 0

    def get(self):
        item = FrameQueue.get(self)
        if item is not None:
            self._cpu.sync()
            t = self._truth.get(item[0])
            if t is None:
                self.unexpected += 1
            elif t[1] < t[0]:
                t[1] += 1
                self.received += 1
            self._cpu.resume()
        return item


class Link:
    """MQTT with QoS 1: every publish blocks for its PUBACK (publish_ms); now and then the
    connection stalls (a reconnect, a WiFi hiccup) for stall_ms."""

    def __init__(self, cpu, clock_us, o, rng):
        self.cpu = cpu
        self.clock_us = clock_us
        self.connected = True
        self.rng = rng
        self.publish_ms = o["publish_ms"]
        self.stall_ms = o["stall_ms"]
        self.stall_every_us = int(o["stall_every_s"] * S)
        self.next_stall = int(o["seconds"] * S) // 2 if self.stall_every_us else -1
        self.published = 0
        self.stalls = 0
        self.counters = {"published": 0, "stalls": 0}

    def up(self):
        return True

    def publish(self, topic, payload, retain=False, qos=1):
        self.cpu.sync()
        now = self.clock_us()
        if 0 <= self.next_stall <= now:
            self.stalls += 1
            self.cpu.add(self.rng.uniform(*self.stall_ms) * 1000, "stall")
            self.next_stall = now + int(-self.stall_every_us * math.log(1.0 - self.rng.random()))
        self.cpu.add(self.rng.uniform(*self.publish_ms) * 1000, "publish")
        self.published += 1
        self.counters["published"] = self.published
        self.counters["stalls"] = self.stalls
        self.cpu.resume()
        return True

    def service(self):
        pass


def make_spool(radio, cpu, rng, flash_ms, batch):
    """The real Spool; each flush costs flash_ms of device time instead of the host's I/O."""

    class BenchSpool(Spool):
        def flush(self):
            cpu.sync()
            r = Spool.flush(self)
            cpu.add(rng.uniform(*flash_ms) * 1000, "flash")
            cpu.resume()
            return r

    if MICROPYTHON:
        import vfs

        mount = "/bench_radio"  # one for all radios: the last one's RAM disk is freed here
        try:
            vfs.umount(mount)
        except OSError:
            pass
        gc.collect()
        dev = RamDisk(256)
        vfs.VfsLfs2.mkfs(dev)
        vfs.mount(vfs.VfsLfs2(dev), mount)
        return BenchSpool(mount + "/spool", 512 * 1024, buffer_bytes=batch,
                          read_bytes=4096)  # as firmware/app.py
    import tempfile

    return BenchSpool(tempfile.mkdtemp(prefix="bench_radio_") + "/spool", 512 * 1024,
                      buffer_bytes=batch, read_bytes=4096)


class RamDisk:
    """1 MiB of RAM as a LittleFS block device (4 KiB blocks)."""

    def __init__(self, blocks):
        self.blocks = blocks
        self.mem = bytearray(4096 * blocks)

    def readblocks(self, block, buf, off=0):
        a = block * 4096 + off
        buf[:] = self.mem[a:a + len(buf)]

    def writeblocks(self, block, buf, off=0):
        a = block * 4096 + off
        self.mem[a:a + len(buf)] = buf

    def ioctl(self, op, arg):
        if op == 4:
            return self.blocks
        if op == 5:
            return 4096
        return 0


# -- one radio ----------------------------------------------------------------------------------

def make_radio(kind, o, cpu, queue, window, capture_db, end_us):
    """(driver, advance(us), now_us(), feed(until_us), sim) for one radio on its simulator."""
    if kind == "cc1101":
        import simradio.cc1101 as simmod
        from radio.cc1101 import CC1101

        # The air model decides what survives (noise, collisions, capture: air.py); the
        # simulator then models only the receiver (sync, FIFO, timing) with the same capture
        # threshold and no sensitivity cut of its own.
        simmod.CAPTURE_DB = capture_db
        simmod.SENSITIVITY_DBM = -200
        # spi_call_cost_us: the ESP-IDF SPI transaction set-up around each machine.SPI call
        # (assumed 25 us); the bytes at 4 MHz come on top in the simulator.
        sim = simmod.SimCC1101(spi_baud=4000000, spi_call_cost_us=25)
        cpu.advance = sim.advance_us

        def stream():
            t = 0
            while t < end_us:
                for tx in window(t, t + WINDOW_US):
                    yield tx
                t += WINDOW_US

        sim.feed(stream())

        def clock_us():
            return sim.clock_us

        def ticks_ms():
            cpu.sync()
            t = sim.clock_us // 1000
            cpu.resume()
            return t

        cpu.resume()
        drv = CC1101(queue, spi=TimedSPI(sim.spi, cpu), cs=TimedPin(sim.cs, cpu),
                     gdo0=TimedPin(sim.gdo0, cpu), gdo2=TimedPin(sim.gdo2, cpu),
                     mode="T1+C1", ticks_ms=ticks_ms, ticks_us=lambda: sim.clock_us)
        return drv, sim.advance_us, clock_us, ticks_ms, None, sim
    from simradio import modules

    clock = modules.Clock()
    if kind == "im871a":
        from radio.im871a import IM871A as cls
        sim = modules.SimIM871A(clock, rxbuf=o["rxbuf"])
        kw = {}
    elif kind == "amb8465":
        from radio.amb8465 import AMB8465 as cls
        sim = modules.SimAMB8465(clock, rxbuf=o["rxbuf"])
        kw = {}
    elif kind == "rc1180":
        from radio.rc1180 import RC1180 as cls
        sim = modules.SimRC1180(clock, rxbuf=o["rxbuf"], firmware="MBUS3")  # C1 needs MBUS3
        kw = {}
    else:
        raise SystemExit("bench_radio: unknown radio %s" % kind)

    def advance(us):
        clock.us += us

    cpu.advance = advance

    def clock_us():
        return clock.us

    def ticks_ms():
        cpu.sync()
        t = clock.ticks_ms()
        cpu.resume()
        return t

    def sleep_ms(ms):
        cpu.sync()
        clock.us += int(ms * 1000)
        cpu.resume()

    fed = [0]

    def feed(until_us):
        while fed[0] < until_us and fed[0] < end_us:
            sim.feed(window(fed[0], fed[0] + WINDOW_US))
            fed[0] += WINDOW_US

    cpu.resume()
    drv = cls(queue, uart=TimedUART(sim, cpu), reset=sim.reset, mode="T1+C1",
              ticks_ms=ticks_ms, sleep_ms=sleep_ms, rxbuf=o["rxbuf"], **kw)
    return drv, advance, clock_us, ticks_ms, feed, sim


def profiled(fn, name, cpu, prof, alloc=False):
    """fn, with the device time it takes (and its calls) added up in prof[name]. alloc: the
    heap it allocates is sampled (one call in SAMPLE_EVERY: gc.mem_alloc() walks the host's
    heap) and every call is charged the mean, for the modelled garbage collections."""
    prof[name] = p = [0, 0, 0, 0]  # calls, device us, sampled bytes, samples

    def call(*a):
        cpu.sync()
        before = cpu.busy_us + cpu.extra_us
        extra = dict(cpu.modelled)
        sample = alloc and MICROPYTHON and p[0] % SAMPLE_EVERY == 0
        if sample:
            a0 = gc.mem_alloc()
        cpu.resume()
        r = fn(*a)
        cpu.sync()
        if sample:
            p[2] += gc.mem_alloc() - a0
            p[3] += 1
        p[0] += 1
        p[1] += cpu.busy_us - before + sum(cpu.modelled[k] - extra[k] for k in extra)
        if p[3]:
            cpu.allocated(p[2] // p[3])
        cpu.resume()
        return r
    return call


def warm_up(decoder, air):
    """A gateway that has run for a while has its decoder's driver tables loaded and the
    compact formats learnt: one full frame of each kind of meter, before the clock starts."""
    done = {}
    for m in air.meters:
        if m.kind not in done:
            done[m.kind] = 1
            decoder.decode(m.telegram())


def run_radio(kind, o):
    gc.collect()
    if MICROPYTHON:
        gc.disable()  # from here on the bench collects, outside the measured stretches
    seed = o["seed"]
    end_us = int(o["seconds"] * S)
    air = Air.building(o["meters"], seed=seed, t1_meters=o["t1_meters"])
    keys = air.keys()
    cpu = Cpu(o["factor"], o["gc_every"], o["gc_ms"])
    cpu.calibrate()
    truth = {}

    generated = [0]  # the air is generated up to here

    def window(t0, t1):
        """The air's next transmissions, and the ground truth: the frames intact on air."""
        txs = air.transmissions(t0, t1)
        generated[0] = t1
        for tx in txs:
            if tx.lost is None:
                t = truth.get(tx.frame)
                if t is None:
                    truth[tx.frame] = [1, 0]
                else:
                    t[0] += 1
        if MICROPYTHON and gc.mem_free() < HOST_GC_MARGIN:
            gc.collect()
        return txs

    # the firmware's queue (firmware/app.py): 128 frames for a CC1101, 64 for a UART module
    queue = CheckedQueue(o["queue"] or (128 if kind == "cc1101" else 64), cpu, truth)
    drv, advance, clock_us, ticks_ms, feed, sim = make_radio(kind, o, cpu, queue, window,
                                                             air.capture_db, end_us)
    rng = Rng(seed * 31 + 7)
    cfg, errors = config.load({
        "gateway_id": "bench", "wifi": {"ssid": "x"}, "mqtt": {"host": "broker"},
        "radio": {"kind": kind, "mode": "C1+T1"},
        "meters": [{"id": m, "key": "".join("%02x" % b for b in k)} for m, k in keys.items()],
        "publish": {"raw": bool(o["raw"]), "discovery": bool(o["discovery"])}})
    if errors:
        raise SystemExit("bench_radio: config: %s" % errors)
    link = Link(cpu, clock_us, o, rng)
    # the firmware's RAM batch (firmware/app.py): 8 KB, 128 telegrams between a CC1101's
    # flash writes, 4 KB, 64 between a UART module's
    batch = o["batch"] or (8192 if kind == "cc1101" else 4096)
    spool = make_spool(kind, cpu, rng, o["flash_ms"], batch)
    # The gateway's clock is the device's: simulated.
    gateway.ticks_ms = ticks_ms
    radio = Profiled(drv, cpu)
    # The gateway is built, and its decoder warmed up, before the clock starts: a boot is
    # not the steady state this bench measures (its ticks_ms reads must not charge it).
    cpu.paused = True
    gw = gateway.Gateway(cfg, radio, spool, link, flush_records=batch // 64,
                         now_unix=lambda: 1795600000 + clock_us() // S)
    cfg = None
    warm_up(gw.decoder, air)
    prof = {}
    # The units of work (their allocations sampled: the heap the firmware churns) and, for
    # the profile only, what contains them.
    for name in ("accept", "publish_one", "flush", "publish_state", "save_formats"):
        setattr(gw, name, profiled(getattr(gw, name), name, cpu, prof, alloc=True))
    for name in ("service_radio", "_flush_due"):
        setattr(gw, name, profiled(getattr(gw, name), name, cpu, prof))
    # The drivers' polls are profiled, but not sampled: they are written not to allocate,
    # and the simulators' allocations inside them could not be told apart.
    radio.poll = profiled(radio.poll, "radio.poll", cpu, prof)
    for name in ("peek", "append", "ack"):
        setattr(spool, name, profiled(getattr(spool, name), "spool." + name, cpu, prof))
    ref = cpu.ref = Reference()
    cpu.paused = False
    cpu.resume()
    started = drv.start()
    cpu.sync()
    if not started:
        raise SystemExit("bench_radio: %s did not start: %s" % (kind, drv.error))
    t_start = clock_us()
    cpu.busy_us = 0  # utilisation from here: the start-up (module configuration) is not load
    for k in cpu.modelled:
        cpu.modelled[k] = 0
    # The firmware's own view of GDO2 (sync word .. end of packet): the guard of the
    # guarded and irq policies. The driver has no "frame arriving" method to ask.
    gdo2 = TimedPin(sim.gdo2, cpu) if kind == "cc1101" else None
    guarded = o["policy"] in ("guarded", "irq") and gdo2 is not None
    if o["policy"] == "irq" and kind == "cc1101":
        # GDO0 (FIFO threshold) rising, GDO2 (sync word .. end of packet) both edges call
        # the driver's on_gdo() as soft IRQs (Pin.irq on the ESP32; CC1101.on_gdo): the
        # falling edge is what hands over a frame shorter than the FIFO threshold.
        def on_edge(pin):
            cpu.resume()
            drv.on_gdo(pin)
            cpu.sync()

        cpu.irq_latency_us = o["irq_latency_us"]
        sim.gdo0.irq(handler=on_edge, trigger=sim.gdo0.IRQ_RISING)
        sim.gdo2.irq(handler=on_edge, trigger=sim.gdo2.IRQ_RISING | sim.gdo2.IRQ_FALLING)
    idle = 0
    steps = step_us = 0
    next_gc_check = 0
    next_ref = 0
    if MICROPYTHON:
        gc.collect()
        gc.disable()
    wall0 = ticks_us()
    cpu.resume()
    while True:
        cpu.sync()
        now = clock_us()
        if now >= end_us + DRAIN_US:
            break
        # Harness work (excluded): new air for the UART simulators, the ground truth of
        # what was sent, the host's own garbage collection.
        if feed is not None:
            feed(now + WINDOW_US)
        if MICROPYTHON and now >= next_gc_check:
            next_gc_check = now + 100000  # gc.mem_free() walks the heap: not every pass
            if gc.mem_free() < HOST_GC_MARGIN:
                gc.collect()
        if o["normalise"] and now >= next_ref:
            next_ref = now + REF_EVERY_US
            cpu.rescale(ref)
        cpu.resume()
        b0 = cpu.busy_us
        if guarded and gdo2.value():
            busy = gw.service_radio()
        else:
            busy = gw.step(True)
        cpu.sync()
        steps += 1
        step_us += cpu.busy_us - b0
        if busy:
            idle = 0
        else:  # firmware/app.py run(): nothing to do, a short sleep
            idle += 1
            cpu.wait(1000 if idle < 10 else 5000)
        cpu.resume()
    wall = ticks_diff(ticks_us(), wall0) / 1e6
    gc.enable()
    # What was on air after the loop had stopped asking (a stall at the end) still counts.
    while generated[0] < end_us:
        window(generated[0], generated[0] + WINDOW_US)
    r = report(kind, o, air, queue, radio, sim, gw, link, cpu, clock_us() - t_start, wall,
               end_us)
    # name: (calls, device ms, bytes allocated per call (sampled))
    r["device_ms"] = dict((k, (v[0], v[1] // 1000, v[2] // v[3] if v[3] else None))
                          for k, v in prof.items())
    r["loop"] = {"steps": steps, "step_cpu_ms": step_us // 1000}
    return r


def report(kind, o, air, queue, drv, sim, gw, link, cpu, elapsed_us, wall, end_us):
    st = air.stats
    perfect = st["perfect"]
    # A single-channel receiver locked on a weaker frame misses a stronger one that starts
    # during it (the air keeps it intact: captured_late). No receiver of this kind can do
    # better; the gateway's own share is measured against what it could have had.
    single = perfect - st["captured_late"]
    got = queue.received
    c = queue.counters
    busy = cpu.busy_us + cpu.modelled["gc"]
    util = busy / elapsed_us
    blocked = util + (cpu.modelled["flash"] + cpu.modelled["publish"] + cpu.modelled["stall"]) \
        / elapsed_us
    ref = sorted(cpu.ref.samples) if getattr(cpu, "ref", None) else []
    out = {"radio": kind, "seconds": o["seconds"], "meters": o["meters"],
           "host_ref_us": round(ref[len(ref) // 2], 1) if ref else None,
           "policy": o["policy"], "on_air": st["sent"],
           "lost_on_air": st["collision"] + st["noise"], "collision": st["collision"],
           "noise": st["noise"], "captured": st["captured"],
           "captured_late": st["captured_late"], "perfect": perfect,
           "perfect_single_channel": single, "received": got,
           # >= 0: a chain of three overlapping frames can leave a late capture receivable
           "gateway_loss_pct": max(0.0, round(100.0 * (1.0 - got / single), 2)) if single
           else 0.0,
           "loss_vs_perfect_pct": round(100.0 * (1.0 - got / perfect), 2) if perfect else 0.0,
           "unexpected": queue.unexpected,
           "cpu_python_pct": round(util * 100, 1), "busy_pct": round(blocked * 100, 1),
           "queue": dict(c), "queue_high_water": queue.high_water,
           "published": link.published, "stalls": link.stalls,
           "spool_depth": gw.spool.depth(), "gateway": dict(gw.counters),
           "poll_cpu_pct": round(drv.poll_us * 100 / elapsed_us, 1), "polls": drv.polls,
           "decode_errors": dict(gw.errors),
           "modelled_ms": dict((k, v // 1000) for k, v in cpu.modelled.items()),
           "wall_s": round(wall, 1)}
    if kind == "cc1101":
        out["sim"] = dict((k, v) for k, v in sim.stats.items() if v)
    else:
        out["sim"] = {"missed": sim.missed, "dropped_crc": sim.dropped_crc,
                      "lost_bytes": sim.lost_bytes, "delivered": len(sim.delivered)}
    return out


def main():
    o = options(sys.argv[1:])
    if not MICROPYTHON:
        print("bench_radio: CPython run, for debugging the bench only: the x%g factor is for "
              "MicroPython bytecode" % o["factor"])
    print("bench_radio (%s): %d meters + %d T1, %g s simulated, factor %g, policy %s, "
          "publish %s ms, flash %s ms, stall %s ms every %g s, rxbuf %d, raw %d"
          % (sys.implementation.name, o["meters"], o["t1_meters"], o["seconds"], o["factor"],
             o["policy"], o["publish_ms"], o["flash_ms"], o["stall_ms"], o["stall_every_s"],
             o["rxbuf"], o["raw"]))
    print("%-15s %6s %6s %6s %7s %7s %7s %6s %6s %5s  %s" % (
        "radio", "onair", "lostair", "late", "single", "recvd", "gwloss%", "cpu%", "busy%",
        "wall", "where the gateway's losses went"))
    results = []
    runs = []
    for spec in o["radios"].split(","):
        for seed in range(o["seed"], o["seed"] + o["seeds"]):
            runs.append((spec, seed))
    for spec, seed in runs:
        kind, _, policy = spec.partition(":")
        r = run_radio(kind, dict(o, policy=policy or o["policy"], seed=seed))
        r["spec"] = spec
        results.append(r)
        if o["seeds"] > 1:
            spec = "%s s%d" % (spec, seed)
        q = r["queue"]
        causes = "host ref %s us; overflow %d (queue full %d), crc %d, resets %d; sim %s" % (
            r["host_ref_us"],
            q.get("overflow", 0), q.get("queue_full", 0), q.get("crc", 0), q.get("resets", 0),
            " ".join("%s=%s" % (k, r["sim"][k]) for k in sorted(r["sim"])
                     if k not in ("spi_calls", "strobes", "sres", "scal", "calibrations")))
        print("%-15s %6d %6d %6d %7d %7d %7.2f %6.1f %6.1f %5.1f  %s" % (
            spec, r["on_air"], r["lost_on_air"], r["captured_late"],
            r["perfect_single_channel"], r["received"], r["gateway_loss_pct"],
            r["cpu_python_pct"], r["busy_pct"], r["wall_s"], causes))
        if not o["quiet"]:
            print("  " + json.dumps(r))
        if r["unexpected"]:
            print("  ERROR: %d frames received that no meter sent intact" % r["unexpected"])
        gc.collect()
    if o["seeds"] > 1:
        # Near saturation one run moves by points with the host's timing of the moment: the
        # figure is the share over all the seeds' telegrams (each seed a different air, the
        # same building), with the single runs' range beside it.
        for spec in o["radios"].split(","):
            rs = [r for r in results if r["spec"] == spec]
            single = sum(r["perfect_single_channel"] for r in rs)
            got = sum(min(r["received"], r["perfect_single_channel"]) for r in rs)
            losses = sorted(r["gateway_loss_pct"] for r in rs)
            print("%-15s gateway's own loss over %d seeds: %.2f%% of %d telegrams (runs "
                  "%.2f-%.2f%%, median %.2f%%)"
                  % (spec, len(rs), 100.0 * (single - got) / single, single, losses[0],
                     losses[-1], losses[len(losses) // 2]))
    return results


if __name__ == "__main__":
    main()
