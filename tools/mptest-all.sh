#!/usr/bin/env bash
# Every portable test module in its own MicroPython process with the same small heap, as each
# would run on a freshly booted device, then one summary line like pytest's.
#   tools/mptest-all.sh MICROPYTHON HEAP LIBDIR TESTSDIR
set -u
mp=$1 heap=$2 lib=$3 tests=$4
passed=0 failed=0 skipped=0
for f in host_tests/test_*.py; do
  if head -5 "$f" | grep -q cpython-only; then skipped=$((skipped + 1)); continue; fi
  # A module that loads the whole gateway (decoder, spool, config, MQTT: code from .mpy lives
  # in the heap on the unix port) may ask for more in its first lines: "# micropython-heap=256K".
  h=$(head -5 "$f" | grep -o 'micropython-heap=[0-9]*w*[KM]' | cut -d= -f2)
  out=$("$mp" -X heapsize="${h:-$heap}" tools/mptest.py --lib="$lib" --tests="$tests" "$f" 2>&1)
  last=$(printf '%s\n' "$out" | tail -1)
  if [[ $last =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
    passed=$((passed + BASH_REMATCH[1])); failed=$((failed + BASH_REMATCH[2]))
    [ "${BASH_REMATCH[2]}" = 0 ] || printf '%s\n' "$out" | grep -v '^micropython (lib' | head -40
  else
    failed=$((failed + 1)); echo "$f: the runner did not finish:"; printf '%s\n' "$out" | tail -20
  fi
done
echo "micropython -X heapsize=$heap, one process per module: $skipped cpython-only modules skipped"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
