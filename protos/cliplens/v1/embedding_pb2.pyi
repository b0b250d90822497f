from cliplens.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class VisionKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VISION_KIND_UNSPECIFIED: _ClassVar[VisionKind]
    VISION_KIND_VIT: _ClassVar[VisionKind]
    VISION_KIND_RESNET: _ClassVar[VisionKind]
    VISION_KIND_OTHER: _ClassVar[VisionKind]

class DenseMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DENSE_MODE_UNSPECIFIED: _ClassVar[DenseMode]
    DENSE_MODE_RAW: _ClassVar[DenseMode]
    DENSE_MODE_SURGERY: _ClassVar[DenseMode]

class Padding(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PADDING_UNSPECIFIED: _ClassVar[Padding]
    PADDING_NOISE: _ClassVar[Padding]
    PADDING_BLACK: _ClassVar[Padding]
VISION_KIND_UNSPECIFIED: VisionKind
VISION_KIND_VIT: VisionKind
VISION_KIND_RESNET: VisionKind
VISION_KIND_OTHER: VisionKind
DENSE_MODE_UNSPECIFIED: DenseMode
DENSE_MODE_RAW: DenseMode
DENSE_MODE_SURGERY: DenseMode
PADDING_UNSPECIFIED: Padding
PADDING_NOISE: Padding
PADDING_BLACK: Padding

class ModelInfo(_message.Message):
    __slots__ = ("ref", "architecture", "embed_dim", "image_height", "image_width", "context_length", "vision_kind", "vision_layers", "grid_height", "grid_width", "surgery_depth", "surgery_unsupported_reason", "load_seconds", "source", "prompt_templates", "logit_scale")
    REF_FIELD_NUMBER: _ClassVar[int]
    ARCHITECTURE_FIELD_NUMBER: _ClassVar[int]
    EMBED_DIM_FIELD_NUMBER: _ClassVar[int]
    IMAGE_HEIGHT_FIELD_NUMBER: _ClassVar[int]
    IMAGE_WIDTH_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_LENGTH_FIELD_NUMBER: _ClassVar[int]
    VISION_KIND_FIELD_NUMBER: _ClassVar[int]
    VISION_LAYERS_FIELD_NUMBER: _ClassVar[int]
    GRID_HEIGHT_FIELD_NUMBER: _ClassVar[int]
    GRID_WIDTH_FIELD_NUMBER: _ClassVar[int]
    SURGERY_DEPTH_FIELD_NUMBER: _ClassVar[int]
    SURGERY_UNSUPPORTED_REASON_FIELD_NUMBER: _ClassVar[int]
    LOAD_SECONDS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    PROMPT_TEMPLATES_FIELD_NUMBER: _ClassVar[int]
    LOGIT_SCALE_FIELD_NUMBER: _ClassVar[int]
    ref: _common_pb2.ModelRef
    architecture: str
    embed_dim: int
    image_height: int
    image_width: int
    context_length: int
    vision_kind: VisionKind
    vision_layers: int
    grid_height: int
    grid_width: int
    surgery_depth: int
    surgery_unsupported_reason: str
    load_seconds: float
    source: str
    prompt_templates: _containers.RepeatedScalarFieldContainer[str]
    logit_scale: float
    def __init__(self, ref: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., architecture: _Optional[str] = ..., embed_dim: _Optional[int] = ..., image_height: _Optional[int] = ..., image_width: _Optional[int] = ..., context_length: _Optional[int] = ..., vision_kind: _Optional[_Union[VisionKind, str]] = ..., vision_layers: _Optional[int] = ..., grid_height: _Optional[int] = ..., grid_width: _Optional[int] = ..., surgery_depth: _Optional[int] = ..., surgery_unsupported_reason: _Optional[str] = ..., load_seconds: _Optional[float] = ..., source: _Optional[str] = ..., prompt_templates: _Optional[_Iterable[str]] = ..., logit_scale: _Optional[float] = ...) -> None: ...

class ListModelsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListModelsResponse(_message.Message):
    __slots__ = ("models", "default_model")
    MODELS_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_MODEL_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[ModelInfo]
    default_model: str
    def __init__(self, models: _Optional[_Iterable[_Union[ModelInfo, _Mapping]]] = ..., default_model: _Optional[str] = ...) -> None: ...

class GetModelRequest(_message.Message):
    __slots__ = ("model",)
    MODEL_FIELD_NUMBER: _ClassVar[int]
    model: str
    def __init__(self, model: _Optional[str] = ...) -> None: ...

class GetModelResponse(_message.Message):
    __slots__ = ("model",)
    MODEL_FIELD_NUMBER: _ClassVar[int]
    model: ModelInfo
    def __init__(self, model: _Optional[_Union[ModelInfo, _Mapping]] = ...) -> None: ...

class EncodeImagesRequest(_message.Message):
    __slots__ = ("model", "images", "pixels", "normalize")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    PIXELS_FIELD_NUMBER: _ClassVar[int]
    NORMALIZE_FIELD_NUMBER: _ClassVar[int]
    model: str
    images: _containers.RepeatedCompositeFieldContainer[_common_pb2.Image]
    pixels: _common_pb2.Tensor
    normalize: bool
    def __init__(self, model: _Optional[str] = ..., images: _Optional[_Iterable[_Union[_common_pb2.Image, _Mapping]]] = ..., pixels: _Optional[_Union[_common_pb2.Tensor, _Mapping]] = ..., normalize: _Optional[bool] = ...) -> None: ...

class EncodeImagesResponse(_message.Message):
    __slots__ = ("model", "embeddings")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    EMBEDDINGS_FIELD_NUMBER: _ClassVar[int]
    model: _common_pb2.ModelRef
    embeddings: _common_pb2.Tensor
    def __init__(self, model: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., embeddings: _Optional[_Union[_common_pb2.Tensor, _Mapping]] = ...) -> None: ...

class EncodeTextsRequest(_message.Message):
    __slots__ = ("model", "texts", "normalize")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    TEXTS_FIELD_NUMBER: _ClassVar[int]
    NORMALIZE_FIELD_NUMBER: _ClassVar[int]
    model: str
    texts: _containers.RepeatedScalarFieldContainer[str]
    normalize: bool
    def __init__(self, model: _Optional[str] = ..., texts: _Optional[_Iterable[str]] = ..., normalize: _Optional[bool] = ...) -> None: ...

class EncodeTextsResponse(_message.Message):
    __slots__ = ("model", "embeddings", "truncated", "token_counts", "context_length")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    EMBEDDINGS_FIELD_NUMBER: _ClassVar[int]
    TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    TOKEN_COUNTS_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_LENGTH_FIELD_NUMBER: _ClassVar[int]
    model: _common_pb2.ModelRef
    embeddings: _common_pb2.Tensor
    truncated: _containers.RepeatedScalarFieldContainer[bool]
    token_counts: _containers.RepeatedScalarFieldContainer[int]
    context_length: int
    def __init__(self, model: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., embeddings: _Optional[_Union[_common_pb2.Tensor, _Mapping]] = ..., truncated: _Optional[_Iterable[bool]] = ..., token_counts: _Optional[_Iterable[int]] = ..., context_length: _Optional[int] = ...) -> None: ...

class EncodeDenseRequest(_message.Message):
    __slots__ = ("model", "images", "pixels", "mode", "include_keys", "normalize", "input_height", "input_width", "residual", "keys_without_bias")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    PIXELS_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_KEYS_FIELD_NUMBER: _ClassVar[int]
    NORMALIZE_FIELD_NUMBER: _ClassVar[int]
    INPUT_HEIGHT_FIELD_NUMBER: _ClassVar[int]
    INPUT_WIDTH_FIELD_NUMBER: _ClassVar[int]
    RESIDUAL_FIELD_NUMBER: _ClassVar[int]
    KEYS_WITHOUT_BIAS_FIELD_NUMBER: _ClassVar[int]
    model: str
    images: _containers.RepeatedCompositeFieldContainer[_common_pb2.Image]
    pixels: _common_pb2.Tensor
    mode: DenseMode
    include_keys: bool
    normalize: bool
    input_height: int
    input_width: int
    residual: bool
    keys_without_bias: bool
    def __init__(self, model: _Optional[str] = ..., images: _Optional[_Iterable[_Union[_common_pb2.Image, _Mapping]]] = ..., pixels: _Optional[_Union[_common_pb2.Tensor, _Mapping]] = ..., mode: _Optional[_Union[DenseMode, str]] = ..., include_keys: _Optional[bool] = ..., normalize: _Optional[bool] = ..., input_height: _Optional[int] = ..., input_width: _Optional[int] = ..., residual: _Optional[bool] = ..., keys_without_bias: _Optional[bool] = ...) -> None: ...

class EncodeDenseResponse(_message.Message):
    __slots__ = ("model", "tokens", "grid_height", "grid_width", "keys", "mode", "surgery_depth")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    GRID_HEIGHT_FIELD_NUMBER: _ClassVar[int]
    GRID_WIDTH_FIELD_NUMBER: _ClassVar[int]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    SURGERY_DEPTH_FIELD_NUMBER: _ClassVar[int]
    model: _common_pb2.ModelRef
    tokens: _common_pb2.Tensor
    grid_height: int
    grid_width: int
    keys: _common_pb2.Tensor
    mode: DenseMode
    surgery_depth: int
    def __init__(self, model: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., tokens: _Optional[_Union[_common_pb2.Tensor, _Mapping]] = ..., grid_height: _Optional[int] = ..., grid_width: _Optional[int] = ..., keys: _Optional[_Union[_common_pb2.Tensor, _Mapping]] = ..., mode: _Optional[_Union[DenseMode, str]] = ..., surgery_depth: _Optional[int] = ...) -> None: ...

class EncodeRegionsRequest(_message.Message):
    __slots__ = ("model", "image", "windows", "padding", "noise_seed", "normalize", "chunk_size")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    WINDOWS_FIELD_NUMBER: _ClassVar[int]
    PADDING_FIELD_NUMBER: _ClassVar[int]
    NOISE_SEED_FIELD_NUMBER: _ClassVar[int]
    NORMALIZE_FIELD_NUMBER: _ClassVar[int]
    CHUNK_SIZE_FIELD_NUMBER: _ClassVar[int]
    model: str
    image: _common_pb2.Image
    windows: _containers.RepeatedCompositeFieldContainer[_common_pb2.Box]
    padding: Padding
    noise_seed: int
    normalize: bool
    chunk_size: int
    def __init__(self, model: _Optional[str] = ..., image: _Optional[_Union[_common_pb2.Image, _Mapping]] = ..., windows: _Optional[_Iterable[_Union[_common_pb2.Box, _Mapping]]] = ..., padding: _Optional[_Union[Padding, str]] = ..., noise_seed: _Optional[int] = ..., normalize: _Optional[bool] = ..., chunk_size: _Optional[int] = ...) -> None: ...

class EncodeRegionsResponse(_message.Message):
    __slots__ = ("model", "offset", "embeddings", "total")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    EMBEDDINGS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    model: _common_pb2.ModelRef
    offset: int
    embeddings: _common_pb2.Tensor
    total: int
    def __init__(self, model: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., offset: _Optional[int] = ..., embeddings: _Optional[_Union[_common_pb2.Tensor, _Mapping]] = ..., total: _Optional[int] = ...) -> None: ...
