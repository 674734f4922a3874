"""ESP32 DevKitC with an IMST iM871A wM-Bus module on UART2 (57600 8N1).

Wiring (README, "Hardware"): GPIO17 (U2 TX) -> module RXD, GPIO16 (U2 RX) <- module TXD,
GPIO4 -> /RESET (active low), 3V3, GND.
"""

NAME = "ESP32 + IMST iM871A"
RADIO = "im871a"
UART = {"id": 2, "tx": 17, "rx": 16, "baudrate": 57600, "rxbuf": 8192}
RESET = 4
SAFE_MODE_PIN = 0
