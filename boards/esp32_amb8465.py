"""ESP32 DevKitC with an Amber/Würth AMB8465 (AMB8x26-M) wM-Bus module on UART2.

The module leaves the factory at 9600 baud, which caps it near 24 telegrams/s (radio.md §4.6):
the driver switches it to 115200 once (kept in the module's flash) and reopens the UART.
Wiring (README, "Hardware"): GPIO17 -> RXD, GPIO16 <- TXD, GPIO4 -> /RESET, 3V3, GND.
"""

NAME = "ESP32 + Amber AMB8465"
RADIO = "amb8465"
UART = {"id": 2, "tx": 17, "rx": 16, "baudrate": 9600, "rxbuf": 8192}
RESET = 4
SAFE_MODE_PIN = 0
