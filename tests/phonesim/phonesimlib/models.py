"""The simulated phone models: family, device-type id, vendor class, platform code."""

from dataclasses import dataclass

VCI_PREFIX = "Cisco Systems, Inc. IP Phone"
# ref 5.1: pre-UAL 7940/7960 images send this bare string (plus NUL).
OLD_VCI = VCI_PREFIX + "\0"


@dataclass(frozen=True)
class Model:
    name: str          # "7960"
    family: str        # "7940-7960" or "cnu" (79x1/79x2/79x5/797x)
    device_id: int     # the N of <loadInformationN> (ref 2.2)
    vendor_class: str  # option 60 with its trailing NUL (ref 6)
    platform: str      # CNU platform code "41", "42", "45", "70" (ref 1.1); "" for 7940/7960

    @property
    def is_7940(self):
        return self.family == "7940-7960"


def _m(name, family, device_id, product, platform):
    return Model(name, family, device_id, "%s %s\0" % (VCI_PREFIX, product), platform)


MODELS = {m.name: m for m in [
    _m("7940", "7940-7960", 8, "CP-7940G", ""),
    _m("7960", "7940-7960", 7, "CP-7960G", ""),
    _m("7941", "cnu", 115, "CP-7941G", "41"),
    _m("7961", "cnu", 30018, "CP-7961G", "41"),
    _m("7942", "cnu", 434, "CP-7942G", "42"),
    _m("7962", "cnu", 404, "CP-7962G", "42"),
    _m("7945", "cnu", 435, "CP-7945G", "45"),
    _m("7965", "cnu", 436, "CP-7965G", "45"),
    _m("7970", "cnu", 30006, "CP-7970G", "70"),
    _m("7971", "cnu", 119, "CP-7971G-GE", "70"),
]}


def find_model(name):
    """The model for "7960", "CP-7960G" or "7960G"; None if not simulated."""
    key = name.upper().removeprefix("CP-").removesuffix("-GE").removesuffix("G")
    return MODELS.get(key)
