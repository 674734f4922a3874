"""ESP32 DevKitC with a Radiocrafts RC1180-MBUS(3) module on UART2 (19200 8N1).

The original RC1180-MBUS firmware receives T1 only; C1 needs the MBUS3 firmware. The UART
carries no checksum: prefer the iM871A or AMB8465 where there is a choice.
Wiring (README, "Hardware"): GPIO17 -> RXD, GPIO16 <- TXD, GPIO4 -> /RESET, 3V3, GND.
"""

NAME = "ESP32 + Radiocrafts RC1180-MBUS"
RADIO = "rc1180"
UART = {"id": 2, "tx": 17, "rx": 16, "baudrate": 19200, "rxbuf": 8192}
RESET = 4
SAFE_MODE_PIN = 0
