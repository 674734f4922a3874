"""Kamstrup OMNIPOWER electricity meters (wmbusmeters: omnipower): A+ and A- energy, P+ and P-
power, and the reactive energies and error flags of the longer telegram. The two compact
formats are the record lists of the two telegram kinds the meter sends.
"""

from . import Driver, register

OMNIPOWER = Driver("""
driver omnipower
detect KAM 30 02
format 040404843C042B04AB3C
format 040504FB827504853C04FB82F53C01FD17
field total_energy_consumption_kwh energy
field total_energy_production_kwh energy.backward
field current_power_consumption_kw power
field current_power_production_kw power.backward
field total_reactive_energy_consumption_kvarh reactive_energy
field total_reactive_energy_production_kvarh reactive_energy.backward
field error_flags error_flags raw
""")

register(OMNIPOWER)
