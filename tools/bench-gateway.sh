#!/usr/bin/env bash
# `make bench` part for the gateway (issue 5): a local mosquitto on a free port, the backlog
# drain, then the smallest heap that runs 500 meters.   tools/bench-gateway.sh MICROPYTHON LIBDIR
set -u
mp=$1 lib=$2
m=$(command -v mosquitto || echo /usr/sbin/mosquitto)
[ -x "$m" ] || { echo "bench-gateway: mosquitto not installed, skipped"; exit 0; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p build
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$port" > build/bench-mosquitto.conf
[ "$(id -u)" = 0 ] && echo "user root" >> build/bench-mosquitto.conf
"$m" -c build/bench-mosquitto.conf > build/bench-mosquitto.log 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null' EXIT
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
"$mp" -X heapsize=4M tools/bench_gateway.py --lib="$lib" --port="$port" drain
echo "-- heap: 500 meters (meters.txt), 2,000 telegrams received and published:"
"$mp" -X heapsize=1M tools/bench_gateway.py --lib="$lib" --port="$port" heap | head -1
smallest=
# A heap so tight that the collector runs on every allocation "runs" for many minutes: more
# than 120 s for what takes 10 s with room counts as failing.
for h in 1M 512K 384K 320K 288K 272K 256K 224K 192K 96wK 160K 128K 96K; do
  if timeout 120 "$mp" -X heapsize=$h tools/bench_gateway.py --lib="$lib" --port="$port" heap \
      2>/dev/null | grep -q "heap ok"; then smallest=$h
  else echo "   -X heapsize=$h: fails (MemoryError, or over 120 s collecting)"; break; fi
done
echo "   smallest heap that runs it on this 64-bit port (code loaded from .mpy included): ${smallest:-none}"
