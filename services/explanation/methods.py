"""The one registry of explanation methods and their options, derived from the proto enums.

Every name is the enum value's name with its prefix stripped, lower case (`CONVIS_MODE_GRID` ->
"grid"); nothing here repeats a name by hand. The pipelines, the SDK, every CLI `choices=`, the
evaluation and the contract test read these tables, so a mode added to the proto appears
everywhere at once.

A map method (`MapMethod`) is one way of drawing a map: a family (the RPC that draws it,
"surgery" or "convis") and that family's mode. `raw` is surgery's `raw` mode (the unmodified
tokens); `surgery` takes the surgery mode the caller chose; `convis_<mode>` is ConVis in that
mode.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper

from cliplens.core.errors import InvalidArgument
from cliplens.v1 import embedding_pb2
from cliplens.v1 import explanation_pb2 as pb


@dataclass(frozen=True)
class Choices(Mapping[str, int]):
    """Names -> values of one proto enum, UNSPECIFIED (0) left out unless it has a name."""

    enum_name: str
    by_name: dict[str, int]
    unspecified: str = ""  # the name of value 0, when 0 means something ("auto")

    @classmethod
    def of(cls, enum: EnumTypeWrapper, *, unspecified: str = "") -> Choices:
        """The choices of `enum` (its values' common prefix is stripped)."""
        prefix = enum.DESCRIPTOR.values[0].name.removesuffix("UNSPECIFIED")
        names = {v.name.removeprefix(prefix).lower(): v.number for v in enum.DESCRIPTOR.values
                 if v.number != 0}
        if unspecified:
            names = {unspecified: 0, **names}
        return cls(enum.DESCRIPTOR.name, names, unspecified)

    def __getitem__(self, name: str) -> int:
        return self.by_name[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.by_name)

    def __len__(self) -> int:
        return len(self.by_name)

    @property
    def names(self) -> tuple[str, ...]:
        """Every name, in the proto's order."""
        return tuple(self.by_name)

    def name(self, value: int) -> str:
        """The name of `value` (InvalidArgument for a value the enum lacks)."""
        for name, number in self.by_name.items():
            if number == value:
                return name
        raise InvalidArgument(f"{self.enum_name}: unknown value {value}, expected one of "
                              f"{sorted(self.by_name.values())}")

    def value(self, name: str, *, field: str = "") -> int:
        """The value of `name` (ValueError naming the choices for an unknown name)."""
        if name not in self.by_name:
            raise ValueError(f"{field or self.enum_name}: expected one of {list(self.by_name)}, "
                             f"got {name!r}")
        return self.by_name[name]

    def check(self, value: int, *, field: str) -> int:
        """`value` if it is one of the choices (0 too when it has a name), else
        InvalidArgument naming `field`."""
        if value not in self.by_name.values():
            raise InvalidArgument(f"{field}: unknown value {value}, expected one of "
                                  f"{sorted(self.by_name.values())} ({', '.join(self.by_name)})")
        return value


SURGERY_MODES = Choices.of(pb.SurgeryMode, unspecified="auto")
CONVIS_MODES = Choices.of(pb.ConvisMode)
CONCEPT_TEXTS = Choices.of(pb.ConceptText)
OOD_METHODS = Choices.of(pb.OodMethod)
CONCEPT_FEATURES = Choices.of(pb.ConceptFeatures)
CONCEPT_METHODS = Choices.of(pb.ConceptMethod)
MI_ESTIMATORS = Choices.of(pb.MiEstimator)
PADDINGS = Choices.of(embedding_pb2.Padding)
MAP_METHOD_CHOICES = Choices.of(pb.MapMethod)
TEMPLATE_SETS = Choices.of(pb.TemplateSet, unspecified="default")
DESCRIPTOR_TEXTS = Choices.of(pb.DescriptorText)
TOKEN_STAGES = Choices.of(pb.TokenStage)
KEY_BIASES = Choices.of(pb.KeyBias)


@dataclass(frozen=True)
class MapMethod:
    """One way of drawing a map: the `MapMethod` value, the family and the family's mode."""

    name: str
    value: int
    family: str  # "surgery" or "convis"
    # The family's mode; 0 for `surgery`, whose mode the caller picks.
    mode: int


def _map_method(name: str, value: int) -> MapMethod:
    if name.startswith("convis_"):
        return MapMethod(name, value, "convis", CONVIS_MODES[name.removeprefix("convis_")])
    if name in SURGERY_MODES:  # raw: a surgery mode of its own
        return MapMethod(name, value, "surgery", SURGERY_MODES[name])
    if name == "surgery":
        return MapMethod(name, value, "surgery", 0)
    raise AssertionError(f"MapMethod {name!r} has no family: add it to methods.py")


MAP_METHODS: dict[str, MapMethod] = {name: _map_method(name, value)
                                     for name, value in MAP_METHOD_CHOICES.items()}
MAP_METHODS_BY_VALUE: dict[int, MapMethod] = {m.value: m for m in MAP_METHODS.values()}
# The map families with their modes, and every explanation the `explain` command offers.
FAMILIES: dict[str, Choices] = {"surgery": SURGERY_MODES, "convis": CONVIS_MODES}
EXPLANATIONS = (*FAMILIES, "mutual")


def map_method(value: int, *, field: str = "method") -> MapMethod:
    """The registered map method of a `MapMethod` value (InvalidArgument if unknown)."""
    if value not in MAP_METHODS_BY_VALUE:
        raise InvalidArgument(f"{field}: unknown value {value}, expected one of "
                              f"{sorted(MAP_METHODS_BY_VALUE)} ({', '.join(MAP_METHODS)})")
    return MAP_METHODS_BY_VALUE[value]
