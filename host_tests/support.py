"""What several test modules build their telegrams with (imported, never collected as tests)."""

from wmbus import Decoder, build

# MULTICAL 21 records: info code 0x71 (DRY for 22-31 days), volume, target volume, minimum
# flow temperature and minimum external temperature of the month.
MC21 = (("02FF20", 0x0071), ("0413", 6408), ("4413", 6100), ("615B", 12), ("6167", 21))
MC21_ID = "76348799"


def values(result):
    return [x["value"] for x in result["records"]]


def kamstrup(apl, key, meter_id=MC21_ID, version=0x1B, device_type=0x16, ci=0x78,
             manufacturer="KAM", **kw):
    """A Kamstrup telegram: ELL 0x8D with AES-CTR under `key`, then CI `ci` and `apl`."""
    return build.telegram(apl, manufacturer=manufacturer, meter_id=meter_id, version=version,
                          device_type=device_type, ci=ci, ell=0x8D, key=key, **kw)


def decode_with(frame, meter_id, key, decoder=None):
    return (decoder or Decoder({meter_id: key})).decode(frame)
