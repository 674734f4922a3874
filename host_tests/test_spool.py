"""The flash spool's behaviour on the host filesystem (both interpreters): order, ack, bound,
restart, torn tails, counters. Power cuts on LittleFS: test_spool_powercut.py."""

import os
import sys
import time

from spool import MAX_FRAME, OVERHEAD, Spool

_n = [0]


def tmpdir():
    # No tempfile module on MicroPython: a fresh directory under /tmp per test.
    _n[0] += 1
    d = "/tmp/spool-test-%s-%d-%d" % (sys.implementation.name, int(time.time() * 1000) % 10**9,
                                      _n[0])
    os.mkdir(d)
    return d + "/spool"


def rmtree(d):
    for n in os.listdir(d):
        os.remove(d + "/" + n)
    os.rmdir(d)
    os.rmdir(d.rsplit("/", 1)[0])


def frame(i, n=40):
    return bytes((i + k) & 0xFF for k in range(n))


def fill(s, first, count):
    for i in range(first, first + count):
        assert s.append(frame(i), 1700000000 + i, -60 - i % 40, "T1" if i % 2 else "C1")
    s.flush()


def drain(s):
    """Every record, acknowledged one by one: list of rx_time - 1700000000."""
    out = []
    rec = s.peek()
    while rec:
        i = rec[2] - 1700000000
        assert rec[1:] == (frame(i), 1700000000 + i, -60 - i % 40, "T1" if i % 2 else "C1")
        out.append(i)
        assert s.ack(rec[0])
        rec = s.peek()
    return out


def segments(d):
    return sorted(n for n in os.listdir(d) if n.startswith("seg_"))


def test_order_and_fields():
    d = tmpdir()
    s = Spool(d, 64 * 1024)
    fill(s, 0, 15)
    fill(s, 15, 15)
    assert s.depth() == 30
    assert drain(s) == list(range(30))
    assert s.depth() == 0 and s.peek() is None
    assert s.counters["appended"] == s.counters["stored"] == s.counters["acked"] == 30
    rmtree(d)


def test_record_size():
    d = tmpdir()
    s = Spool(d, 64 * 1024)
    fill(s, 0, 10)
    assert s.total == 10 * (40 + OVERHEAD) == 510
    rmtree(d)


def test_unflushed_records_are_not_delivered():
    d = tmpdir()
    s = Spool(d, 64 * 1024)
    s.append(frame(0), 1700000000, -60, "C1")
    assert s.peek() is None and s.depth() == 0
    s.flush()
    assert s.peek()[2] == 1700000000
    rmtree(d)


def test_peek_repeats_until_ack_and_stale_ack_is_noop():
    d = tmpdir()
    s = Spool(d, 64 * 1024)
    fill(s, 0, 3)
    a = s.peek()
    assert s.peek() == a
    assert s.ack(a[0]) is True
    assert s.ack(a[0]) is False  # a duplicate PUBACK
    b = s.peek()
    assert b[2] == 1700000001
    fill(s, 3, 1)
    try:
        s.ack((b[0][0], b[0][1] + 51))  # not the peeked record
        assert False
    except ValueError:
        pass
    rmtree(d)


def test_restart_keeps_unacknowledged_records():
    d = tmpdir()
    s = Spool(d, 64 * 1024, 4096)
    for k in range(20):
        fill(s, 10 * k, 10)
    for _ in range(75):
        s.ack(s.peek()[0])
    s.flush()  # makes the 75 acks durable
    for _ in range(5):
        s.ack(s.peek()[0])  # in RAM only: delivered again after the restart
    rid = s.peek()[0]
    s.append(frame(999), 1, 0, "T1")  # never flushed: lost
    s = Spool(d, 64 * 1024, 4096)
    assert s.depth() == 125
    assert s.peek()[0][0] <= rid[0]
    assert drain(s) == list(range(75, 200))
    rmtree(d)


def test_ids_survive_restart():
    d = tmpdir()
    s = Spool(d, 64 * 1024)
    fill(s, 0, 5)
    rid = s.peek()[0]
    s = Spool(d, 64 * 1024)
    assert s.peek()[0] == rid and s.ack(rid)
    rmtree(d)


def test_acknowledged_segments_are_deleted():
    d = tmpdir()
    s = Spool(d, 64 * 1024, 2048)
    for k in range(10):
        fill(s, 10 * k, 10)
    assert len(segments(d)) == 3  # 510 bytes a batch, 4 batches a segment
    assert drain(s) == list(range(100))
    s.flush()
    assert len(segments(d)) == 1  # the one appends go to
    assert s.total == os.stat(d + "/" + segments(d)[0])[6]
    s = Spool(d, 64 * 1024, 2048)
    assert s.peek() is None and s.depth() == 0
    fill(s, 100, 3)
    assert drain(s) == [100, 101, 102]
    rmtree(d)


def test_full_drops_oldest_segment():
    d = tmpdir()
    s = Spool(d, 8192, 2048)
    for k in range(30):
        fill(s, 10 * k, 10)
        assert s.total <= 8192
    lost = s.counters["dropped_full"]
    assert lost > 0 and lost % 10 == 0
    assert s.depth() == 300 - lost
    assert drain(s) == list(range(lost, 300))
    rmtree(d)


def test_drop_of_partly_acknowledged_segment_counts_only_the_rest():
    d = tmpdir()
    s = Spool(d, 4096, 2048)
    for k in range(4):
        fill(s, 10 * k, 10)  # 4 batches of 510 bytes: the first segment
    s.ack(s.peek()[0])
    s.ack(s.peek()[0])
    for k in range(4, 9):
        fill(s, 10 * k, 10)  # the ninth has no room: the first segment (2 acknowledged) goes
    assert s.counters["dropped_full"] == 38
    assert drain(s) == list(range(40, 90))
    rmtree(d)


def test_ram_batch_is_bounded():
    d = tmpdir()
    s = Spool(d, 64 * 1024, buffer_bytes=MAX_FRAME + OVERHEAD + 100)
    taken = 0
    while s.append(frame(taken), 1700000000 + taken, -60, "C1" if taken % 2 == 0 else "T1"):
        taken += 1
    assert taken == (MAX_FRAME + OVERHEAD + 100) // 51
    assert s.counters["dropped_ram"] == 1 and s.depth() == 0
    s.flush()
    assert s.buffered == 0 and s.depth() == taken
    assert s.append(frame(taken), 1700000000 + taken, -60, "C1")
    rmtree(d)


def test_torn_tail_is_ignored_and_not_appended_after():
    d = tmpdir()
    s = Spool(d, 64 * 1024)
    fill(s, 0, 4)
    seg = d + "/" + segments(d)[0]
    with open(seg, "ab") as f:
        f.write(b"\x81\x02\xc4\x01\x02")  # a cut in the middle of the next record
    s = Spool(d, 64 * 1024)
    assert s.depth() == 4
    fill(s, 4, 2)
    assert len(segments(d)) == 2
    assert drain(s) == list(range(6))
    assert s.counters["corrupt_skipped"] == 1
    rmtree(d)


def test_corrupt_record_is_never_delivered():
    d = tmpdir()
    s = Spool(d, 64 * 1024)
    fill(s, 0, 3)
    fill(s, 3, 3)
    seg = d + "/" + segments(d)[0]
    with open(seg, "rb") as f:
        b = bytearray(f.read())
    b[51 + 20] ^= 0x10  # one bit of the second record's frame
    with open(seg, "wb") as f:
        f.write(b)
    s = Spool(d, 64 * 1024)
    assert s.depth() == 1
    assert drain(s) == [0]  # nothing after a bad record can be framed
    assert s.counters["corrupt_skipped"] == 1
    fill(s, 6, 1)
    assert drain(s) == [6]
    rmtree(d)


def test_lost_ack_file_redelivers_everything():
    d = tmpdir()
    s = Spool(d, 64 * 1024)
    fill(s, 0, 5)
    s.ack(s.peek()[0])
    s.flush()
    with open(d + "/ack", "r+b") as f:
        f.write(b"\x07")
    s = Spool(d, 64 * 1024)
    assert drain(s) == list(range(5))
    rmtree(d)


def test_frame_lengths_and_modes():
    d = tmpdir()
    s = Spool(d, 64 * 1024)
    for n in (0, 1, 255, MAX_FRAME):
        s.append(frame(n, n), n, -128, "S1m")
        s.flush()
    for n in (0, 1, 255, MAX_FRAME):
        rec = s.peek()
        assert rec[1:] == (frame(n, n), n, -128, "S1m")
        s.ack(rec[0])
    for bad in ((frame(0, MAX_FRAME + 1), "T1"), (frame(0), "X9")):
        try:
            s.append(bad[0], 0, 0, bad[1])
            assert False
        except ValueError:
            pass
    rmtree(d)


def test_closed_segments_carry_their_count():
    d = tmpdir()
    s = Spool(d, 64 * 1024, 2048)
    for k in range(10):
        fill(s, 10 * k, 10)
    names = segments(d)
    assert names == ["seg_00000000_40.log", "seg_00000001_40.log", "seg_00000002.log"]
    for _ in range(5):
        s.ack(s.peek()[0])
    s.flush()
    # A cut between the last append to a segment and its rename: counted by reading it.
    os.rename(d + "/" + names[1], d + "/seg_00000001.log")
    s = Spool(d, 64 * 1024, 2048)
    assert s.depth() == 95
    fill(s, 100, 10)
    assert segments(d)[-1] == "seg_00000002.log"  # appended to: not closed yet
    assert drain(s) == list(range(5, 110))
    rmtree(d)


def test_closed_segment_is_not_appended_to_after_restart():
    d = tmpdir()
    s = Spool(d, 64 * 1024, 2048)
    for k in range(5):
        fill(s, 10 * k, 10)
    os.remove(d + "/" + segments(d)[-1])  # as if the cut came after the rename of the first
    s = Spool(d, 64 * 1024, 2048)
    fill(s, 50, 1)
    assert segments(d) == ["seg_00000000_40.log", "seg_00000001.log"]
    assert drain(s) == list(range(40)) + [50]
    rmtree(d)


def test_a_read_window_smaller_than_the_batch():
    # A CC1101 board writes 8 KB batches (fewer flash erases) but reads through 4 KB: records
    # that straddle the window's end are read again from their start, every one intact.
    d = tmpdir()
    s = Spool(d, 256 * 1024, buffer_bytes=8192, read_bytes=MAX_FRAME + 11)
    sizes = [40, MAX_FRAME, 7, 300, 123, MAX_FRAME, 1] * 3
    for i, n in enumerate(sizes):
        s.append(frame(i, n), i, -60, "C1")
    s.flush()
    for i, n in enumerate(sizes):
        rec = s.peek()
        assert rec[1:] == (frame(i, n), i, -60, "C1"), i
        s.ack(rec[0])
    assert s.peek() is None and s.depth() == 0
    for bad in (MAX_FRAME + 10, 100):  # a window must hold the largest record
        try:
            Spool(d, 256 * 1024, buffer_bytes=8192, read_bytes=bad)
            assert False
        except ValueError:
            pass
    rmtree(d)
