#!/usr/bin/env bash
# `make run`: the gateway firmware on the MicroPython unix port (board `host`), with a local
# MQTT broker unless BROKER=host:port names one. Ctrl-C stops both.
#   tools/run-host.sh MICROPYTHON HEAP LIBDIR UMQTTDIR
# Environment: RADIO, CONFIG, SCENARIO, BROKER, RUN_PORT (the local broker's port).
set -u
mp=$1 heap=$2 lib=$3 umqtt=$4
port=${RUN_PORT:-18830}
mkdir -p build/run
cp boards/host.py build/run/board.py
broker_pid=
cleanup() { [ -n "$broker_pid" ] && kill "$broker_pid" 2>/dev/null; wait 2>/dev/null; }
trap cleanup EXIT INT TERM

if [ -z "${BROKER:-}" ]; then
  BROKER=127.0.0.1:$port
  if command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ]; then
    m=$(command -v mosquitto || echo /usr/sbin/mosquitto)
    printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$port" \
      > build/run/mosquitto.conf
    "$m" -c build/run/mosquitto.conf > build/run/broker.log 2>&1 &
    broker_pid=$!
    echo "broker: mosquitto on $BROKER (log: build/run/broker.log)"
  else
    # No mosquitto: a pure-Python broker from PyPI, installed into the venv on first use.
    .venv/bin/python -c "import amqtt" 2>/dev/null || \
      .venv/bin/python -m pip install --quiet "amqtt==0.12.1" || { echo "run: no mosquitto and amqtt could not be installed"; exit 1; }
    printf 'listeners:\n  default:\n    type: tcp\n    bind: 127.0.0.1:%s\nplugins:\n  amqtt.plugins.authentication.AnonymousAuthPlugin:\n    allow_anonymous: true\n' "$port" > build/run/amqtt.yaml
    .venv/bin/amqtt -c build/run/amqtt.yaml > build/run/broker.log 2>&1 &
    broker_pid=$!
    echo "broker: amqtt on $BROKER (log: build/run/broker.log)"
  fi
  for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
fi
echo "watch it: mosquitto_sub -h ${BROKER%:*} -p ${BROKER##*:} -v -t 'wmbus/#'"
# A remote configuration change rewrites the config file: the sample is copied, not changed.
cfg=${CONFIG:-}
if [ -z "$cfg" ]; then cfg=build/run/config.json; cp tools/samples/host-config.json "$cfg"; fi
# boards/host.py restart() (a new configuration or version) exits with 75: start again. A
# crash while a new version is on trial starts again too, and boot.py rolls back.
while :; do
  WMBUS_BROKER=$BROKER WMBUS_RADIO=${RADIO:-} WMBUS_CONFIG=$cfg WMBUS_SCENARIO=${SCENARIO:-} \
  MICROPYPATH=build/run:$lib:$umqtt:tools:.frozen \
    "$mp" -X heapsize="$heap" tools/hostrun.py firmware
  rc=$?
  if [ $rc = 75 ]; then echo "run: restarting the firmware"; continue; fi
  if [ $rc != 0 ] && grep -q '"pending": true' build/run/ota/boot.json 2>/dev/null; then
    echo "run: the new version failed on trial; starting again (boot.py rolls back)"; continue
  fi
  exit $rc
done
