"""Simulated radio hardware for host tests, `make run` and `make bench`: portable (CPython and
the MicroPython unix port), built on the telegram builder in lib/wmbus/build.py.

    onair    what a transmission puts on air (the shared description every simulator reads)
    air      meters, intervals, RSSI, noise, bit errors and collisions: a stream of transmissions
    cc1101   a CC1101 behind its SPI protocol, receiving that stream in simulated time
    modules  the UART modules (iM871A, AMB8465, RC1180), byte-exact to their protocols
"""
