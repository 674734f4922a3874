# The gateway frozen into a MicroPython ESP32 firmware (`make firmware`): its bytecode, strings
# and constant tables then stay in flash instead of taking most of the ~100 KB heap as .mpy
# files in the filesystem do (README, "Real hardware").
#
# MicroPython reads this file with tools/manifestfile.py (docs/reference/manifest.rst):
# relative paths are relative to this file; package() takes every .py below a folder,
# module() one file. boot.py, main.py and board.py are not frozen: MicroPython runs the first
# two by file name, and board.py is the one file that differs between boards (`make deploy
# FROZEN=1` copies them). host_tests/test_device_mk.py checks that this list names every
# module of lib/ and firmware/.

# What the stock ESP32 firmware has frozen (umqtt.simple, ntptime, asyncio, ...).
include("$(PORT_DIR)/boards/manifest.py")

package("wmbus", base_path="../lib")
package("radio", base_path="../lib")
for name in ("config", "gateway", "meters", "mqttlink", "ota", "publish", "remote", "spool"):
    module(name + ".py", base_path="../lib")
for name in ("app", "safemode"):
    module(name + ".py", base_path="../firmware")
