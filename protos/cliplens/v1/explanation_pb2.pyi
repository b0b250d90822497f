from cliplens.v1 import common_pb2 as _common_pb2
from cliplens.v1 import embedding_pb2 as _embedding_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SurgeryMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SURGERY_MODE_UNSPECIFIED: _ClassVar[SurgeryMode]
    SURGERY_MODE_LABEL_SET: _ClassVar[SurgeryMode]
    SURGERY_MODE_SINGLE_TEXT: _ClassVar[SurgeryMode]
    SURGERY_MODE_RAW: _ClassVar[SurgeryMode]

class TemplateSet(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TEMPLATE_SET_UNSPECIFIED: _ClassVar[TemplateSet]
    TEMPLATE_SET_OPENAI_IMAGENET: _ClassVar[TemplateSet]
    TEMPLATE_SET_CLIP_SURGERY: _ClassVar[TemplateSet]

class ConvisMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONVIS_MODE_UNSPECIFIED: _ClassVar[ConvisMode]
    CONVIS_MODE_GRID: _ClassVar[ConvisMode]
    CONVIS_MODE_STOCHASTIC: _ClassVar[ConvisMode]
    CONVIS_MODE_DENSE: _ClassVar[ConvisMode]

class ConceptText(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONCEPT_TEXT_UNSPECIFIED: _ClassVar[ConceptText]
    CONCEPT_TEXT_DEFINITION: _ClassVar[ConceptText]
    CONCEPT_TEXT_LEMMAS: _ClassVar[ConceptText]

class OodMethod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OOD_METHOD_UNSPECIFIED: _ClassVar[OodMethod]
    OOD_METHOD_NAIVE: _ClassVar[OodMethod]
    OOD_METHOD_HIERARCHY: _ClassVar[OodMethod]

class ConceptFeatures(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONCEPT_FEATURES_UNSPECIFIED: _ClassVar[ConceptFeatures]
    CONCEPT_FEATURES_TOKENS: _ClassVar[ConceptFeatures]
    CONCEPT_FEATURES_KEYS: _ClassVar[ConceptFeatures]

class ConceptMethod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONCEPT_METHOD_UNSPECIFIED: _ClassVar[ConceptMethod]
    CONCEPT_METHOD_PCA: _ClassVar[ConceptMethod]
    CONCEPT_METHOD_KMEANS: _ClassVar[ConceptMethod]

class MiEstimator(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MI_ESTIMATOR_UNSPECIFIED: _ClassVar[MiEstimator]
    MI_ESTIMATOR_CONTINGENCY: _ClassVar[MiEstimator]
    MI_ESTIMATOR_PAPER: _ClassVar[MiEstimator]

class TokenStage(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TOKEN_STAGE_UNSPECIFIED: _ClassVar[TokenStage]
    TOKEN_STAGE_PROJECTED: _ClassVar[TokenStage]
    TOKEN_STAGE_RESIDUAL: _ClassVar[TokenStage]

class KeyBias(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    KEY_BIAS_UNSPECIFIED: _ClassVar[KeyBias]
    KEY_BIAS_WITH: _ClassVar[KeyBias]
    KEY_BIAS_WITHOUT: _ClassVar[KeyBias]

class DescriptorText(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DESCRIPTOR_TEXT_UNSPECIFIED: _ClassVar[DescriptorText]
    DESCRIPTOR_TEXT_TEMPLATED: _ClassVar[DescriptorText]
    DESCRIPTOR_TEXT_RAW: _ClassVar[DescriptorText]

class MapMethod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MAP_METHOD_UNSPECIFIED: _ClassVar[MapMethod]
    MAP_METHOD_RAW: _ClassVar[MapMethod]
    MAP_METHOD_SURGERY: _ClassVar[MapMethod]
    MAP_METHOD_CONVIS_GRID: _ClassVar[MapMethod]
    MAP_METHOD_CONVIS_STOCHASTIC: _ClassVar[MapMethod]
    MAP_METHOD_CONVIS_DENSE: _ClassVar[MapMethod]
SURGERY_MODE_UNSPECIFIED: SurgeryMode
SURGERY_MODE_LABEL_SET: SurgeryMode
SURGERY_MODE_SINGLE_TEXT: SurgeryMode
SURGERY_MODE_RAW: SurgeryMode
TEMPLATE_SET_UNSPECIFIED: TemplateSet
TEMPLATE_SET_OPENAI_IMAGENET: TemplateSet
TEMPLATE_SET_CLIP_SURGERY: TemplateSet
CONVIS_MODE_UNSPECIFIED: ConvisMode
CONVIS_MODE_GRID: ConvisMode
CONVIS_MODE_STOCHASTIC: ConvisMode
CONVIS_MODE_DENSE: ConvisMode
CONCEPT_TEXT_UNSPECIFIED: ConceptText
CONCEPT_TEXT_DEFINITION: ConceptText
CONCEPT_TEXT_LEMMAS: ConceptText
OOD_METHOD_UNSPECIFIED: OodMethod
OOD_METHOD_NAIVE: OodMethod
OOD_METHOD_HIERARCHY: OodMethod
CONCEPT_FEATURES_UNSPECIFIED: ConceptFeatures
CONCEPT_FEATURES_TOKENS: ConceptFeatures
CONCEPT_FEATURES_KEYS: ConceptFeatures
CONCEPT_METHOD_UNSPECIFIED: ConceptMethod
CONCEPT_METHOD_PCA: ConceptMethod
CONCEPT_METHOD_KMEANS: ConceptMethod
MI_ESTIMATOR_UNSPECIFIED: MiEstimator
MI_ESTIMATOR_CONTINGENCY: MiEstimator
MI_ESTIMATOR_PAPER: MiEstimator
TOKEN_STAGE_UNSPECIFIED: TokenStage
TOKEN_STAGE_PROJECTED: TokenStage
TOKEN_STAGE_RESIDUAL: TokenStage
KEY_BIAS_UNSPECIFIED: KeyBias
KEY_BIAS_WITH: KeyBias
KEY_BIAS_WITHOUT: KeyBias
DESCRIPTOR_TEXT_UNSPECIFIED: DescriptorText
DESCRIPTOR_TEXT_TEMPLATED: DescriptorText
DESCRIPTOR_TEXT_RAW: DescriptorText
MAP_METHOD_UNSPECIFIED: MapMethod
MAP_METHOD_RAW: MapMethod
MAP_METHOD_SURGERY: MapMethod
MAP_METHOD_CONVIS_GRID: MapMethod
MAP_METHOD_CONVIS_STOCHASTIC: MapMethod
MAP_METHOD_CONVIS_DENSE: MapMethod

class ClassifyRequest(_message.Message):
    __slots__ = ("model", "images", "labels", "templates")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    TEMPLATES_FIELD_NUMBER: _ClassVar[int]
    model: str
    images: _containers.RepeatedCompositeFieldContainer[_common_pb2.Image]
    labels: _containers.RepeatedScalarFieldContainer[str]
    templates: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, model: _Optional[str] = ..., images: _Optional[_Iterable[_Union[_common_pb2.Image, _Mapping]]] = ..., labels: _Optional[_Iterable[str]] = ..., templates: _Optional[_Iterable[str]] = ...) -> None: ...

class Prediction(_message.Message):
    __slots__ = ("label", "index", "probability")
    LABEL_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    label: str
    index: int
    probability: float
    def __init__(self, label: _Optional[str] = ..., index: _Optional[int] = ..., probability: _Optional[float] = ...) -> None: ...

class ClassifyResponse(_message.Message):
    __slots__ = ("model", "labels", "probabilities", "predictions")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    PROBABILITIES_FIELD_NUMBER: _ClassVar[int]
    PREDICTIONS_FIELD_NUMBER: _ClassVar[int]
    model: _common_pb2.ModelRef
    labels: _containers.RepeatedScalarFieldContainer[str]
    probabilities: _common_pb2.Tensor
    predictions: _containers.RepeatedCompositeFieldContainer[Prediction]
    def __init__(self, model: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., labels: _Optional[_Iterable[str]] = ..., probabilities: _Optional[_Union[_common_pb2.Tensor, _Mapping]] = ..., predictions: _Optional[_Iterable[_Union[Prediction, _Mapping]]] = ...) -> None: ...

class RankRequest(_message.Message):
    __slots__ = ("model", "images", "texts", "top_k")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    TEXTS_FIELD_NUMBER: _ClassVar[int]
    TOP_K_FIELD_NUMBER: _ClassVar[int]
    model: str
    images: _containers.RepeatedCompositeFieldContainer[_common_pb2.Image]
    texts: _containers.RepeatedScalarFieldContainer[str]
    top_k: int
    def __init__(self, model: _Optional[str] = ..., images: _Optional[_Iterable[_Union[_common_pb2.Image, _Mapping]]] = ..., texts: _Optional[_Iterable[str]] = ..., top_k: _Optional[int] = ...) -> None: ...

class RankedTexts(_message.Message):
    __slots__ = ("texts",)
    TEXTS_FIELD_NUMBER: _ClassVar[int]
    texts: _containers.RepeatedCompositeFieldContainer[_common_pb2.ScoredText]
    def __init__(self, texts: _Optional[_Iterable[_Union[_common_pb2.ScoredText, _Mapping]]] = ...) -> None: ...

class RankResponse(_message.Message):
    __slots__ = ("model", "similarities", "rankings")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    SIMILARITIES_FIELD_NUMBER: _ClassVar[int]
    RANKINGS_FIELD_NUMBER: _ClassVar[int]
    model: _common_pb2.ModelRef
    similarities: _common_pb2.Tensor
    rankings: _containers.RepeatedCompositeFieldContainer[RankedTexts]
    def __init__(self, model: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., similarities: _Optional[_Union[_common_pb2.Tensor, _Mapping]] = ..., rankings: _Optional[_Iterable[_Union[RankedTexts, _Mapping]]] = ...) -> None: ...

class SurgeryRequest(_message.Message):
    __slots__ = ("model", "images", "labels", "mode", "templates", "overlay", "point_prompts", "point_threshold", "point_queries", "template_set")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    TEMPLATES_FIELD_NUMBER: _ClassVar[int]
    OVERLAY_FIELD_NUMBER: _ClassVar[int]
    POINT_PROMPTS_FIELD_NUMBER: _ClassVar[int]
    POINT_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    POINT_QUERIES_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_SET_FIELD_NUMBER: _ClassVar[int]
    model: str
    images: _containers.RepeatedCompositeFieldContainer[_common_pb2.Image]
    labels: _containers.RepeatedScalarFieldContainer[str]
    mode: SurgeryMode
    templates: _containers.RepeatedScalarFieldContainer[str]
    overlay: bool
    point_prompts: bool
    point_threshold: float
    point_queries: _containers.RepeatedScalarFieldContainer[str]
    template_set: TemplateSet
    def __init__(self, model: _Optional[str] = ..., images: _Optional[_Iterable[_Union[_common_pb2.Image, _Mapping]]] = ..., labels: _Optional[_Iterable[str]] = ..., mode: _Optional[_Union[SurgeryMode, str]] = ..., templates: _Optional[_Iterable[str]] = ..., overlay: _Optional[bool] = ..., point_prompts: _Optional[bool] = ..., point_threshold: _Optional[float] = ..., point_queries: _Optional[_Iterable[str]] = ..., template_set: _Optional[_Union[TemplateSet, str]] = ...) -> None: ...

class PointPrompts(_message.Message):
    __slots__ = ("query", "positive", "negative")
    QUERY_FIELD_NUMBER: _ClassVar[int]
    POSITIVE_FIELD_NUMBER: _ClassVar[int]
    NEGATIVE_FIELD_NUMBER: _ClassVar[int]
    query: str
    positive: _containers.RepeatedCompositeFieldContainer[_common_pb2.Point]
    negative: _containers.RepeatedCompositeFieldContainer[_common_pb2.Point]
    def __init__(self, query: _Optional[str] = ..., positive: _Optional[_Iterable[_Union[_common_pb2.Point, _Mapping]]] = ..., negative: _Optional[_Iterable[_Union[_common_pb2.Point, _Mapping]]] = ...) -> None: ...

class SurgeryImageResult(_message.Message):
    __slots__ = ("maps", "points")
    MAPS_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    maps: _containers.RepeatedCompositeFieldContainer[_common_pb2.Map]
    points: _containers.RepeatedCompositeFieldContainer[PointPrompts]
    def __init__(self, maps: _Optional[_Iterable[_Union[_common_pb2.Map, _Mapping]]] = ..., points: _Optional[_Iterable[_Union[PointPrompts, _Mapping]]] = ...) -> None: ...

class SurgeryResponse(_message.Message):
    __slots__ = ("model", "labels", "results", "mode", "parameters")
    class ParametersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    MODEL_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    model: _common_pb2.ModelRef
    labels: _containers.RepeatedScalarFieldContainer[str]
    results: _containers.RepeatedCompositeFieldContainer[SurgeryImageResult]
    mode: SurgeryMode
    parameters: _containers.ScalarMap[str, str]
    def __init__(self, model: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., labels: _Optional[_Iterable[str]] = ..., results: _Optional[_Iterable[_Union[SurgeryImageResult, _Mapping]]] = ..., mode: _Optional[_Union[SurgeryMode, str]] = ..., parameters: _Optional[_Mapping[str, str]] = ...) -> None: ...

class ConvisRequest(_message.Message):
    __slots__ = ("model", "image", "concepts", "dictionary", "mode", "seed", "iterations", "concept_text", "overlay", "padding")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    CONCEPTS_FIELD_NUMBER: _ClassVar[int]
    DICTIONARY_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    ITERATIONS_FIELD_NUMBER: _ClassVar[int]
    CONCEPT_TEXT_FIELD_NUMBER: _ClassVar[int]
    OVERLAY_FIELD_NUMBER: _ClassVar[int]
    PADDING_FIELD_NUMBER: _ClassVar[int]
    model: str
    image: _common_pb2.Image
    concepts: _containers.RepeatedScalarFieldContainer[str]
    dictionary: str
    mode: ConvisMode
    seed: int
    iterations: int
    concept_text: ConceptText
    overlay: bool
    padding: _embedding_pb2.Padding
    def __init__(self, model: _Optional[str] = ..., image: _Optional[_Union[_common_pb2.Image, _Mapping]] = ..., concepts: _Optional[_Iterable[str]] = ..., dictionary: _Optional[str] = ..., mode: _Optional[_Union[ConvisMode, str]] = ..., seed: _Optional[int] = ..., iterations: _Optional[int] = ..., concept_text: _Optional[_Union[ConceptText, str]] = ..., overlay: _Optional[bool] = ..., padding: _Optional[_Union[_embedding_pb2.Padding, str]] = ...) -> None: ...

class ConceptMap(_message.Message):
    __slots__ = ("concept", "map", "subtree_size", "subtree")
    CONCEPT_FIELD_NUMBER: _ClassVar[int]
    MAP_FIELD_NUMBER: _ClassVar[int]
    SUBTREE_SIZE_FIELD_NUMBER: _ClassVar[int]
    SUBTREE_FIELD_NUMBER: _ClassVar[int]
    concept: str
    map: _common_pb2.Map
    subtree_size: int
    subtree: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, concept: _Optional[str] = ..., map: _Optional[_Union[_common_pb2.Map, _Mapping]] = ..., subtree_size: _Optional[int] = ..., subtree: _Optional[_Iterable[str]] = ...) -> None: ...

class ConvisResult(_message.Message):
    __slots__ = ("model", "maps", "dictionary_id", "dictionary_content_hash", "dictionary_size", "windows", "parameters", "seconds")
    class ParametersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    MODEL_FIELD_NUMBER: _ClassVar[int]
    MAPS_FIELD_NUMBER: _ClassVar[int]
    DICTIONARY_ID_FIELD_NUMBER: _ClassVar[int]
    DICTIONARY_CONTENT_HASH_FIELD_NUMBER: _ClassVar[int]
    DICTIONARY_SIZE_FIELD_NUMBER: _ClassVar[int]
    WINDOWS_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    model: _common_pb2.ModelRef
    maps: _containers.RepeatedCompositeFieldContainer[ConceptMap]
    dictionary_id: str
    dictionary_content_hash: str
    dictionary_size: int
    windows: int
    parameters: _containers.ScalarMap[str, str]
    seconds: float
    def __init__(self, model: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., maps: _Optional[_Iterable[_Union[ConceptMap, _Mapping]]] = ..., dictionary_id: _Optional[str] = ..., dictionary_content_hash: _Optional[str] = ..., dictionary_size: _Optional[int] = ..., windows: _Optional[int] = ..., parameters: _Optional[_Mapping[str, str]] = ..., seconds: _Optional[float] = ...) -> None: ...

class ConvisResponse(_message.Message):
    __slots__ = ("progress", "result")
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    progress: _common_pb2.Progress
    result: ConvisResult
    def __init__(self, progress: _Optional[_Union[_common_pb2.Progress, _Mapping]] = ..., result: _Optional[_Union[ConvisResult, _Mapping]] = ...) -> None: ...

class ScoreOodRequest(_message.Message):
    __slots__ = ("model", "images", "concept", "dictionary", "method", "concept_text")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    CONCEPT_FIELD_NUMBER: _ClassVar[int]
    DICTIONARY_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    CONCEPT_TEXT_FIELD_NUMBER: _ClassVar[int]
    model: str
    images: _containers.RepeatedCompositeFieldContainer[_common_pb2.Image]
    concept: str
    dictionary: str
    method: OodMethod
    concept_text: ConceptText
    def __init__(self, model: _Optional[str] = ..., images: _Optional[_Iterable[_Union[_common_pb2.Image, _Mapping]]] = ..., concept: _Optional[str] = ..., dictionary: _Optional[str] = ..., method: _Optional[_Union[OodMethod, str]] = ..., concept_text: _Optional[_Union[ConceptText, str]] = ...) -> None: ...

class ScoreOodResponse(_message.Message):
    __slots__ = ("model", "scores", "subtree_size", "method")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    SCORES_FIELD_NUMBER: _ClassVar[int]
    SUBTREE_SIZE_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    model: _common_pb2.ModelRef
    scores: _containers.RepeatedScalarFieldContainer[float]
    subtree_size: int
    method: OodMethod
    def __init__(self, model: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., scores: _Optional[_Iterable[float]] = ..., subtree_size: _Optional[int] = ..., method: _Optional[_Union[OodMethod, str]] = ...) -> None: ...

class MutualKnowledgeOptions(_message.Message):
    __slots__ = ("features", "method", "num_concepts", "estimator", "top_descriptors", "relevance_margin", "sinkhorn_iterations", "descriptors_per_concept", "textual_top_u", "templates", "evaluate", "overlay", "seed", "connectivity", "relevance_text", "token_stage", "key_bias")
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    NUM_CONCEPTS_FIELD_NUMBER: _ClassVar[int]
    ESTIMATOR_FIELD_NUMBER: _ClassVar[int]
    TOP_DESCRIPTORS_FIELD_NUMBER: _ClassVar[int]
    RELEVANCE_MARGIN_FIELD_NUMBER: _ClassVar[int]
    SINKHORN_ITERATIONS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTORS_PER_CONCEPT_FIELD_NUMBER: _ClassVar[int]
    TEXTUAL_TOP_U_FIELD_NUMBER: _ClassVar[int]
    TEMPLATES_FIELD_NUMBER: _ClassVar[int]
    EVALUATE_FIELD_NUMBER: _ClassVar[int]
    OVERLAY_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    CONNECTIVITY_FIELD_NUMBER: _ClassVar[int]
    RELEVANCE_TEXT_FIELD_NUMBER: _ClassVar[int]
    TOKEN_STAGE_FIELD_NUMBER: _ClassVar[int]
    KEY_BIAS_FIELD_NUMBER: _ClassVar[int]
    features: ConceptFeatures
    method: ConceptMethod
    num_concepts: int
    estimator: MiEstimator
    top_descriptors: int
    relevance_margin: float
    sinkhorn_iterations: int
    descriptors_per_concept: int
    textual_top_u: int
    templates: _containers.RepeatedScalarFieldContainer[str]
    evaluate: bool
    overlay: bool
    seed: int
    connectivity: int
    relevance_text: DescriptorText
    token_stage: TokenStage
    key_bias: KeyBias
    def __init__(self, features: _Optional[_Union[ConceptFeatures, str]] = ..., method: _Optional[_Union[ConceptMethod, str]] = ..., num_concepts: _Optional[int] = ..., estimator: _Optional[_Union[MiEstimator, str]] = ..., top_descriptors: _Optional[int] = ..., relevance_margin: _Optional[float] = ..., sinkhorn_iterations: _Optional[int] = ..., descriptors_per_concept: _Optional[int] = ..., textual_top_u: _Optional[int] = ..., templates: _Optional[_Iterable[str]] = ..., evaluate: _Optional[bool] = ..., overlay: _Optional[bool] = ..., seed: _Optional[int] = ..., connectivity: _Optional[int] = ..., relevance_text: _Optional[_Union[DescriptorText, str]] = ..., token_stage: _Optional[_Union[TokenStage, str]] = ..., key_bias: _Optional[_Union[KeyBias, str]] = ...) -> None: ...

class MutualKnowledgeRequest(_message.Message):
    __slots__ = ("model", "image", "labels", "bank", "options")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    BANK_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    model: str
    image: _common_pb2.Image
    labels: _containers.RepeatedScalarFieldContainer[str]
    bank: str
    options: MutualKnowledgeOptions
    def __init__(self, model: _Optional[str] = ..., image: _Optional[_Union[_common_pb2.Image, _Mapping]] = ..., labels: _Optional[_Iterable[str]] = ..., bank: _Optional[str] = ..., options: _Optional[_Union[MutualKnowledgeOptions, _Mapping]] = ...) -> None: ...

class VisualConcept(_message.Message):
    __slots__ = ("index", "mask", "importance", "descriptors")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    MASK_FIELD_NUMBER: _ClassVar[int]
    IMPORTANCE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTORS_FIELD_NUMBER: _ClassVar[int]
    index: int
    mask: _common_pb2.Map
    importance: float
    descriptors: _containers.RepeatedCompositeFieldContainer[_common_pb2.ScoredText]
    def __init__(self, index: _Optional[int] = ..., mask: _Optional[_Union[_common_pb2.Map, _Mapping]] = ..., importance: _Optional[float] = ..., descriptors: _Optional[_Iterable[_Union[_common_pb2.ScoredText, _Mapping]]] = ...) -> None: ...

class QualityCurves(_message.Message):
    __slots__ = ("deletion", "insertion", "deletion_auc", "insertion_auc", "deletion_random", "insertion_random", "deletion_random_auc", "insertion_random_auc")
    DELETION_FIELD_NUMBER: _ClassVar[int]
    INSERTION_FIELD_NUMBER: _ClassVar[int]
    DELETION_AUC_FIELD_NUMBER: _ClassVar[int]
    INSERTION_AUC_FIELD_NUMBER: _ClassVar[int]
    DELETION_RANDOM_FIELD_NUMBER: _ClassVar[int]
    INSERTION_RANDOM_FIELD_NUMBER: _ClassVar[int]
    DELETION_RANDOM_AUC_FIELD_NUMBER: _ClassVar[int]
    INSERTION_RANDOM_AUC_FIELD_NUMBER: _ClassVar[int]
    deletion: _containers.RepeatedScalarFieldContainer[float]
    insertion: _containers.RepeatedScalarFieldContainer[float]
    deletion_auc: float
    insertion_auc: float
    deletion_random: _containers.RepeatedScalarFieldContainer[float]
    insertion_random: _containers.RepeatedScalarFieldContainer[float]
    deletion_random_auc: float
    insertion_random_auc: float
    def __init__(self, deletion: _Optional[_Iterable[float]] = ..., insertion: _Optional[_Iterable[float]] = ..., deletion_auc: _Optional[float] = ..., insertion_auc: _Optional[float] = ..., deletion_random: _Optional[_Iterable[float]] = ..., insertion_random: _Optional[_Iterable[float]] = ..., deletion_random_auc: _Optional[float] = ..., insertion_random_auc: _Optional[float] = ...) -> None: ...

class MutualKnowledgeResult(_message.Message):
    __slots__ = ("model", "prediction", "concepts", "visual_descriptors", "textual_descriptors", "mutual_information", "mi_curve", "auc", "foreground", "evaluation", "bank_id", "bank_content_hash", "parameters")
    class ParametersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PREDICTION_FIELD_NUMBER: _ClassVar[int]
    CONCEPTS_FIELD_NUMBER: _ClassVar[int]
    VISUAL_DESCRIPTORS_FIELD_NUMBER: _ClassVar[int]
    TEXTUAL_DESCRIPTORS_FIELD_NUMBER: _ClassVar[int]
    MUTUAL_INFORMATION_FIELD_NUMBER: _ClassVar[int]
    MI_CURVE_FIELD_NUMBER: _ClassVar[int]
    AUC_FIELD_NUMBER: _ClassVar[int]
    FOREGROUND_FIELD_NUMBER: _ClassVar[int]
    EVALUATION_FIELD_NUMBER: _ClassVar[int]
    BANK_ID_FIELD_NUMBER: _ClassVar[int]
    BANK_CONTENT_HASH_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    model: _common_pb2.ModelRef
    prediction: Prediction
    concepts: _containers.RepeatedCompositeFieldContainer[VisualConcept]
    visual_descriptors: _containers.RepeatedCompositeFieldContainer[_common_pb2.ScoredText]
    textual_descriptors: _containers.RepeatedCompositeFieldContainer[_common_pb2.ScoredText]
    mutual_information: float
    mi_curve: _containers.RepeatedScalarFieldContainer[float]
    auc: float
    foreground: _common_pb2.Map
    evaluation: QualityCurves
    bank_id: str
    bank_content_hash: str
    parameters: _containers.ScalarMap[str, str]
    def __init__(self, model: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., prediction: _Optional[_Union[Prediction, _Mapping]] = ..., concepts: _Optional[_Iterable[_Union[VisualConcept, _Mapping]]] = ..., visual_descriptors: _Optional[_Iterable[_Union[_common_pb2.ScoredText, _Mapping]]] = ..., textual_descriptors: _Optional[_Iterable[_Union[_common_pb2.ScoredText, _Mapping]]] = ..., mutual_information: _Optional[float] = ..., mi_curve: _Optional[_Iterable[float]] = ..., auc: _Optional[float] = ..., foreground: _Optional[_Union[_common_pb2.Map, _Mapping]] = ..., evaluation: _Optional[_Union[QualityCurves, _Mapping]] = ..., bank_id: _Optional[str] = ..., bank_content_hash: _Optional[str] = ..., parameters: _Optional[_Mapping[str, str]] = ...) -> None: ...

class MutualKnowledgeResponse(_message.Message):
    __slots__ = ("progress", "result")
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    progress: _common_pb2.Progress
    result: MutualKnowledgeResult
    def __init__(self, progress: _Optional[_Union[_common_pb2.Progress, _Mapping]] = ..., result: _Optional[_Union[MutualKnowledgeResult, _Mapping]] = ...) -> None: ...

class MutualKnowledgeDatasetRequest(_message.Message):
    __slots__ = ("model", "images", "labels", "bank", "options", "true_labels")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    BANK_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    TRUE_LABELS_FIELD_NUMBER: _ClassVar[int]
    model: str
    images: _containers.RepeatedCompositeFieldContainer[_common_pb2.Image]
    labels: _containers.RepeatedScalarFieldContainer[str]
    bank: str
    options: MutualKnowledgeOptions
    true_labels: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, model: _Optional[str] = ..., images: _Optional[_Iterable[_Union[_common_pb2.Image, _Mapping]]] = ..., labels: _Optional[_Iterable[str]] = ..., bank: _Optional[str] = ..., options: _Optional[_Union[MutualKnowledgeOptions, _Mapping]] = ..., true_labels: _Optional[_Iterable[str]] = ...) -> None: ...

class ImageSummary(_message.Message):
    __slots__ = ("index", "prediction", "mutual_information", "auc", "mi_curve", "visual_descriptors")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    PREDICTION_FIELD_NUMBER: _ClassVar[int]
    MUTUAL_INFORMATION_FIELD_NUMBER: _ClassVar[int]
    AUC_FIELD_NUMBER: _ClassVar[int]
    MI_CURVE_FIELD_NUMBER: _ClassVar[int]
    VISUAL_DESCRIPTORS_FIELD_NUMBER: _ClassVar[int]
    index: int
    prediction: Prediction
    mutual_information: float
    auc: float
    mi_curve: _containers.RepeatedScalarFieldContainer[float]
    visual_descriptors: int
    def __init__(self, index: _Optional[int] = ..., prediction: _Optional[_Union[Prediction, _Mapping]] = ..., mutual_information: _Optional[float] = ..., auc: _Optional[float] = ..., mi_curve: _Optional[_Iterable[float]] = ..., visual_descriptors: _Optional[int] = ...) -> None: ...

class DatasetAnalysis(_message.Message):
    __slots__ = ("model", "images", "mean_mutual_information", "mean_mi_curve", "auc", "accuracy", "deletion", "insertion", "acc_drop", "acc_inc", "per_image", "parameters", "deletion_random", "insertion_random")
    class ParametersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    MODEL_FIELD_NUMBER: _ClassVar[int]
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    MEAN_MUTUAL_INFORMATION_FIELD_NUMBER: _ClassVar[int]
    MEAN_MI_CURVE_FIELD_NUMBER: _ClassVar[int]
    AUC_FIELD_NUMBER: _ClassVar[int]
    ACCURACY_FIELD_NUMBER: _ClassVar[int]
    DELETION_FIELD_NUMBER: _ClassVar[int]
    INSERTION_FIELD_NUMBER: _ClassVar[int]
    ACC_DROP_FIELD_NUMBER: _ClassVar[int]
    ACC_INC_FIELD_NUMBER: _ClassVar[int]
    PER_IMAGE_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    DELETION_RANDOM_FIELD_NUMBER: _ClassVar[int]
    INSERTION_RANDOM_FIELD_NUMBER: _ClassVar[int]
    model: _common_pb2.ModelRef
    images: int
    mean_mutual_information: float
    mean_mi_curve: _containers.RepeatedScalarFieldContainer[float]
    auc: float
    accuracy: float
    deletion: float
    insertion: float
    acc_drop: float
    acc_inc: float
    per_image: _containers.RepeatedCompositeFieldContainer[ImageSummary]
    parameters: _containers.ScalarMap[str, str]
    deletion_random: float
    insertion_random: float
    def __init__(self, model: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., images: _Optional[int] = ..., mean_mutual_information: _Optional[float] = ..., mean_mi_curve: _Optional[_Iterable[float]] = ..., auc: _Optional[float] = ..., accuracy: _Optional[float] = ..., deletion: _Optional[float] = ..., insertion: _Optional[float] = ..., acc_drop: _Optional[float] = ..., acc_inc: _Optional[float] = ..., per_image: _Optional[_Iterable[_Union[ImageSummary, _Mapping]]] = ..., parameters: _Optional[_Mapping[str, str]] = ..., deletion_random: _Optional[float] = ..., insertion_random: _Optional[float] = ...) -> None: ...

class MutualKnowledgeDatasetResponse(_message.Message):
    __slots__ = ("progress", "analysis")
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    ANALYSIS_FIELD_NUMBER: _ClassVar[int]
    progress: _common_pb2.Progress
    analysis: DatasetAnalysis
    def __init__(self, progress: _Optional[_Union[_common_pb2.Progress, _Mapping]] = ..., analysis: _Optional[_Union[DatasetAnalysis, _Mapping]] = ...) -> None: ...

class LocalizationSample(_message.Message):
    __slots__ = ("image", "concept", "mask", "boxes")
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    CONCEPT_FIELD_NUMBER: _ClassVar[int]
    MASK_FIELD_NUMBER: _ClassVar[int]
    BOXES_FIELD_NUMBER: _ClassVar[int]
    image: _common_pb2.Image
    concept: str
    mask: _common_pb2.Tensor
    boxes: _containers.RepeatedCompositeFieldContainer[_common_pb2.Box]
    def __init__(self, image: _Optional[_Union[_common_pb2.Image, _Mapping]] = ..., concept: _Optional[str] = ..., mask: _Optional[_Union[_common_pb2.Tensor, _Mapping]] = ..., boxes: _Optional[_Iterable[_Union[_common_pb2.Box, _Mapping]]] = ...) -> None: ...

class EvaluateLocalizationRequest(_message.Message):
    __slots__ = ("model", "samples", "methods", "dictionary", "labels", "surgery_mode", "seed", "template_set")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_FIELD_NUMBER: _ClassVar[int]
    METHODS_FIELD_NUMBER: _ClassVar[int]
    DICTIONARY_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    SURGERY_MODE_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_SET_FIELD_NUMBER: _ClassVar[int]
    model: str
    samples: _containers.RepeatedCompositeFieldContainer[LocalizationSample]
    methods: _containers.RepeatedScalarFieldContainer[MapMethod]
    dictionary: str
    labels: _containers.RepeatedScalarFieldContainer[str]
    surgery_mode: SurgeryMode
    seed: int
    template_set: TemplateSet
    def __init__(self, model: _Optional[str] = ..., samples: _Optional[_Iterable[_Union[LocalizationSample, _Mapping]]] = ..., methods: _Optional[_Iterable[_Union[MapMethod, str]]] = ..., dictionary: _Optional[str] = ..., labels: _Optional[_Iterable[str]] = ..., surgery_mode: _Optional[_Union[SurgeryMode, str]] = ..., seed: _Optional[int] = ..., template_set: _Optional[_Union[TemplateSet, str]] = ...) -> None: ...

class MethodScores(_message.Message):
    __slots__ = ("method", "pointing", "maxboxacc", "samples", "seconds", "hits")
    METHOD_FIELD_NUMBER: _ClassVar[int]
    POINTING_FIELD_NUMBER: _ClassVar[int]
    MAXBOXACC_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    HITS_FIELD_NUMBER: _ClassVar[int]
    method: MapMethod
    pointing: float
    maxboxacc: float
    samples: int
    seconds: float
    hits: _containers.RepeatedScalarFieldContainer[bool]
    def __init__(self, method: _Optional[_Union[MapMethod, str]] = ..., pointing: _Optional[float] = ..., maxboxacc: _Optional[float] = ..., samples: _Optional[int] = ..., seconds: _Optional[float] = ..., hits: _Optional[_Iterable[bool]] = ...) -> None: ...

class LocalizationReport(_message.Message):
    __slots__ = ("model", "scores", "parameters")
    class ParametersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    MODEL_FIELD_NUMBER: _ClassVar[int]
    SCORES_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    model: _common_pb2.ModelRef
    scores: _containers.RepeatedCompositeFieldContainer[MethodScores]
    parameters: _containers.ScalarMap[str, str]
    def __init__(self, model: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., scores: _Optional[_Iterable[_Union[MethodScores, _Mapping]]] = ..., parameters: _Optional[_Mapping[str, str]] = ...) -> None: ...

class EvaluateLocalizationResponse(_message.Message):
    __slots__ = ("progress", "report")
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    REPORT_FIELD_NUMBER: _ClassVar[int]
    progress: _common_pb2.Progress
    report: LocalizationReport
    def __init__(self, progress: _Optional[_Union[_common_pb2.Progress, _Mapping]] = ..., report: _Optional[_Union[LocalizationReport, _Mapping]] = ...) -> None: ...
