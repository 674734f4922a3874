"""ESP32 DevKitC (ESP32-WROOM-32) with a CC1101 868 MHz module on VSPI.

Wiring (README, "Hardware"): SCK 18, MISO 19, MOSI 23, CSn 5, GDO0 4, GDO2 2, 3V3, GND.
GPIO2 and GPIO5 are strapping pins but safe here: the CC1101 holds GDO2 low at power-up (as
download mode needs) and CSn idles high. On boards with an LED on GPIO2 use GPIO16 for GDO2.
"""

NAME = "ESP32 DevKitC + CC1101"
RADIO = "cc1101"
SPI = {"id": 2, "sck": 18, "mosi": 23, "miso": 19, "baudrate": 4000000}  # VSPI, IO_MUX pins
CS = 5
GDO0 = 4  # RX FIFO threshold (IOCFG0 0x00): IRQ on the rising edge
GDO2 = 2  # sync word .. end of packet (IOCFG2 0x06): IRQ on both edges
SAFE_MODE_PIN = 0  # the BOOT button: hold it while pressing EN to skip the gateway
