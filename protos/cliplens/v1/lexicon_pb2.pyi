from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PartOfSpeech(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PART_OF_SPEECH_UNSPECIFIED: _ClassVar[PartOfSpeech]
    PART_OF_SPEECH_NOUN: _ClassVar[PartOfSpeech]
    PART_OF_SPEECH_VERB: _ClassVar[PartOfSpeech]
    PART_OF_SPEECH_ADJECTIVE: _ClassVar[PartOfSpeech]
    PART_OF_SPEECH_ADJECTIVE_SATELLITE: _ClassVar[PartOfSpeech]
    PART_OF_SPEECH_ADVERB: _ClassVar[PartOfSpeech]

class Relation(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RELATION_UNSPECIFIED: _ClassVar[Relation]
    RELATION_HYPERNYM: _ClassVar[Relation]
    RELATION_HYPONYM: _ClassVar[Relation]
    RELATION_INSTANCE_HYPERNYM: _ClassVar[Relation]
    RELATION_INSTANCE_HYPONYM: _ClassVar[Relation]
    RELATION_PART_MERONYM: _ClassVar[Relation]
    RELATION_SUBSTANCE_MERONYM: _ClassVar[Relation]
    RELATION_MEMBER_MERONYM: _ClassVar[Relation]
    RELATION_PART_HOLONYM: _ClassVar[Relation]
    RELATION_SUBSTANCE_HOLONYM: _ClassVar[Relation]
    RELATION_MEMBER_HOLONYM: _ClassVar[Relation]
PART_OF_SPEECH_UNSPECIFIED: PartOfSpeech
PART_OF_SPEECH_NOUN: PartOfSpeech
PART_OF_SPEECH_VERB: PartOfSpeech
PART_OF_SPEECH_ADJECTIVE: PartOfSpeech
PART_OF_SPEECH_ADJECTIVE_SATELLITE: PartOfSpeech
PART_OF_SPEECH_ADVERB: PartOfSpeech
RELATION_UNSPECIFIED: Relation
RELATION_HYPERNYM: Relation
RELATION_HYPONYM: Relation
RELATION_INSTANCE_HYPERNYM: Relation
RELATION_INSTANCE_HYPONYM: Relation
RELATION_PART_MERONYM: Relation
RELATION_SUBSTANCE_MERONYM: Relation
RELATION_MEMBER_MERONYM: Relation
RELATION_PART_HOLONYM: Relation
RELATION_SUBSTANCE_HOLONYM: Relation
RELATION_MEMBER_HOLONYM: Relation

class Synset(_message.Message):
    __slots__ = ("name", "offset", "wnid", "pos", "lemmas", "definition", "examples", "lexname", "min_depth", "max_depth", "hypernyms", "hyponyms", "instance_hypernyms", "instance_hyponyms", "part_meronyms", "substance_meronyms", "member_meronyms", "part_holonyms", "substance_holonyms", "member_holonyms")
    NAME_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    WNID_FIELD_NUMBER: _ClassVar[int]
    POS_FIELD_NUMBER: _ClassVar[int]
    LEMMAS_FIELD_NUMBER: _ClassVar[int]
    DEFINITION_FIELD_NUMBER: _ClassVar[int]
    EXAMPLES_FIELD_NUMBER: _ClassVar[int]
    LEXNAME_FIELD_NUMBER: _ClassVar[int]
    MIN_DEPTH_FIELD_NUMBER: _ClassVar[int]
    MAX_DEPTH_FIELD_NUMBER: _ClassVar[int]
    HYPERNYMS_FIELD_NUMBER: _ClassVar[int]
    HYPONYMS_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_HYPERNYMS_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_HYPONYMS_FIELD_NUMBER: _ClassVar[int]
    PART_MERONYMS_FIELD_NUMBER: _ClassVar[int]
    SUBSTANCE_MERONYMS_FIELD_NUMBER: _ClassVar[int]
    MEMBER_MERONYMS_FIELD_NUMBER: _ClassVar[int]
    PART_HOLONYMS_FIELD_NUMBER: _ClassVar[int]
    SUBSTANCE_HOLONYMS_FIELD_NUMBER: _ClassVar[int]
    MEMBER_HOLONYMS_FIELD_NUMBER: _ClassVar[int]
    name: str
    offset: int
    wnid: str
    pos: PartOfSpeech
    lemmas: _containers.RepeatedScalarFieldContainer[str]
    definition: str
    examples: _containers.RepeatedScalarFieldContainer[str]
    lexname: str
    min_depth: int
    max_depth: int
    hypernyms: _containers.RepeatedScalarFieldContainer[str]
    hyponyms: _containers.RepeatedScalarFieldContainer[str]
    instance_hypernyms: _containers.RepeatedScalarFieldContainer[str]
    instance_hyponyms: _containers.RepeatedScalarFieldContainer[str]
    part_meronyms: _containers.RepeatedScalarFieldContainer[str]
    substance_meronyms: _containers.RepeatedScalarFieldContainer[str]
    member_meronyms: _containers.RepeatedScalarFieldContainer[str]
    part_holonyms: _containers.RepeatedScalarFieldContainer[str]
    substance_holonyms: _containers.RepeatedScalarFieldContainer[str]
    member_holonyms: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., offset: _Optional[int] = ..., wnid: _Optional[str] = ..., pos: _Optional[_Union[PartOfSpeech, str]] = ..., lemmas: _Optional[_Iterable[str]] = ..., definition: _Optional[str] = ..., examples: _Optional[_Iterable[str]] = ..., lexname: _Optional[str] = ..., min_depth: _Optional[int] = ..., max_depth: _Optional[int] = ..., hypernyms: _Optional[_Iterable[str]] = ..., hyponyms: _Optional[_Iterable[str]] = ..., instance_hypernyms: _Optional[_Iterable[str]] = ..., instance_hyponyms: _Optional[_Iterable[str]] = ..., part_meronyms: _Optional[_Iterable[str]] = ..., substance_meronyms: _Optional[_Iterable[str]] = ..., member_meronyms: _Optional[_Iterable[str]] = ..., part_holonyms: _Optional[_Iterable[str]] = ..., substance_holonyms: _Optional[_Iterable[str]] = ..., member_holonyms: _Optional[_Iterable[str]] = ...) -> None: ...

class GetSynsetRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetSynsetResponse(_message.Message):
    __slots__ = ("synset",)
    SYNSET_FIELD_NUMBER: _ClassVar[int]
    synset: Synset
    def __init__(self, synset: _Optional[_Union[Synset, _Mapping]] = ...) -> None: ...

class GetSynsetsRequest(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetSynsetsResponse(_message.Message):
    __slots__ = ("synsets",)
    SYNSETS_FIELD_NUMBER: _ClassVar[int]
    synsets: _containers.RepeatedCompositeFieldContainer[Synset]
    def __init__(self, synsets: _Optional[_Iterable[_Union[Synset, _Mapping]]] = ...) -> None: ...

class SearchSynsetsRequest(_message.Message):
    __slots__ = ("lemma", "pos", "limit")
    LEMMA_FIELD_NUMBER: _ClassVar[int]
    POS_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    lemma: str
    pos: PartOfSpeech
    limit: int
    def __init__(self, lemma: _Optional[str] = ..., pos: _Optional[_Union[PartOfSpeech, str]] = ..., limit: _Optional[int] = ...) -> None: ...

class SearchSynsetsResponse(_message.Message):
    __slots__ = ("synsets", "lemma")
    SYNSETS_FIELD_NUMBER: _ClassVar[int]
    LEMMA_FIELD_NUMBER: _ClassVar[int]
    synsets: _containers.RepeatedCompositeFieldContainer[Synset]
    lemma: str
    def __init__(self, synsets: _Optional[_Iterable[_Union[Synset, _Mapping]]] = ..., lemma: _Optional[str] = ...) -> None: ...

class ExpandSynsetRequest(_message.Message):
    __slots__ = ("id", "relation", "max_depth", "limit")
    ID_FIELD_NUMBER: _ClassVar[int]
    RELATION_FIELD_NUMBER: _ClassVar[int]
    MAX_DEPTH_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    id: str
    relation: Relation
    max_depth: int
    limit: int
    def __init__(self, id: _Optional[str] = ..., relation: _Optional[_Union[Relation, str]] = ..., max_depth: _Optional[int] = ..., limit: _Optional[int] = ...) -> None: ...

class ExpandedSynset(_message.Message):
    __slots__ = ("name", "depth", "definition")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DEPTH_FIELD_NUMBER: _ClassVar[int]
    DEFINITION_FIELD_NUMBER: _ClassVar[int]
    name: str
    depth: int
    definition: str
    def __init__(self, name: _Optional[str] = ..., depth: _Optional[int] = ..., definition: _Optional[str] = ...) -> None: ...

class ExpandSynsetResponse(_message.Message):
    __slots__ = ("root", "synsets", "truncated")
    ROOT_FIELD_NUMBER: _ClassVar[int]
    SYNSETS_FIELD_NUMBER: _ClassVar[int]
    TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    root: str
    synsets: _containers.RepeatedCompositeFieldContainer[ExpandedSynset]
    truncated: bool
    def __init__(self, root: _Optional[str] = ..., synsets: _Optional[_Iterable[_Union[ExpandedSynset, _Mapping]]] = ..., truncated: _Optional[bool] = ...) -> None: ...

class GetLowestCommonHypernymsRequest(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetLowestCommonHypernymsResponse(_message.Message):
    __slots__ = ("synsets",)
    SYNSETS_FIELD_NUMBER: _ClassVar[int]
    synsets: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, synsets: _Optional[_Iterable[str]] = ...) -> None: ...

class DictionaryInfo(_message.Message):
    __slots__ = ("id", "name", "content_hash", "size", "source", "word_count")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_HASH_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    WORD_COUNT_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    content_hash: str
    size: int
    source: str
    word_count: int
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., content_hash: _Optional[str] = ..., size: _Optional[int] = ..., source: _Optional[str] = ..., word_count: _Optional[int] = ...) -> None: ...

class DictionaryEntry(_message.Message):
    __slots__ = ("synset", "definition", "lemmas")
    SYNSET_FIELD_NUMBER: _ClassVar[int]
    DEFINITION_FIELD_NUMBER: _ClassVar[int]
    LEMMAS_FIELD_NUMBER: _ClassVar[int]
    synset: str
    definition: str
    lemmas: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, synset: _Optional[str] = ..., definition: _Optional[str] = ..., lemmas: _Optional[_Iterable[str]] = ...) -> None: ...

class ListDictionariesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListDictionariesResponse(_message.Message):
    __slots__ = ("dictionaries",)
    DICTIONARIES_FIELD_NUMBER: _ClassVar[int]
    dictionaries: _containers.RepeatedCompositeFieldContainer[DictionaryInfo]
    def __init__(self, dictionaries: _Optional[_Iterable[_Union[DictionaryInfo, _Mapping]]] = ...) -> None: ...

class GetDictionaryRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetDictionaryResponse(_message.Message):
    __slots__ = ("info", "entries")
    INFO_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    info: DictionaryInfo
    entries: _containers.RepeatedCompositeFieldContainer[DictionaryEntry]
    def __init__(self, info: _Optional[_Union[DictionaryInfo, _Mapping]] = ..., entries: _Optional[_Iterable[_Union[DictionaryEntry, _Mapping]]] = ...) -> None: ...

class CreateDictionaryRequest(_message.Message):
    __slots__ = ("name", "words")
    NAME_FIELD_NUMBER: _ClassVar[int]
    WORDS_FIELD_NUMBER: _ClassVar[int]
    name: str
    words: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., words: _Optional[_Iterable[str]] = ...) -> None: ...

class CreateDictionaryResponse(_message.Message):
    __slots__ = ("info", "unknown_words")
    INFO_FIELD_NUMBER: _ClassVar[int]
    UNKNOWN_WORDS_FIELD_NUMBER: _ClassVar[int]
    info: DictionaryInfo
    unknown_words: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, info: _Optional[_Union[DictionaryInfo, _Mapping]] = ..., unknown_words: _Optional[_Iterable[str]] = ...) -> None: ...

class GetSubtreeRequest(_message.Message):
    __slots__ = ("dictionary_id", "synset")
    DICTIONARY_ID_FIELD_NUMBER: _ClassVar[int]
    SYNSET_FIELD_NUMBER: _ClassVar[int]
    dictionary_id: str
    synset: str
    def __init__(self, dictionary_id: _Optional[str] = ..., synset: _Optional[str] = ...) -> None: ...

class GetSubtreeResponse(_message.Message):
    __slots__ = ("synset", "synsets", "indices", "dictionary_content_hash")
    SYNSET_FIELD_NUMBER: _ClassVar[int]
    SYNSETS_FIELD_NUMBER: _ClassVar[int]
    INDICES_FIELD_NUMBER: _ClassVar[int]
    DICTIONARY_CONTENT_HASH_FIELD_NUMBER: _ClassVar[int]
    synset: str
    synsets: _containers.RepeatedScalarFieldContainer[str]
    indices: _containers.RepeatedScalarFieldContainer[int]
    dictionary_content_hash: str
    def __init__(self, synset: _Optional[str] = ..., synsets: _Optional[_Iterable[str]] = ..., indices: _Optional[_Iterable[int]] = ..., dictionary_content_hash: _Optional[str] = ...) -> None: ...

class BankInfo(_message.Message):
    __slots__ = ("id", "name", "content_hash", "class_count", "descriptor_count", "source", "created_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_HASH_FIELD_NUMBER: _ClassVar[int]
    CLASS_COUNT_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTOR_COUNT_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    content_hash: str
    class_count: int
    descriptor_count: int
    source: str
    created_at: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., content_hash: _Optional[str] = ..., class_count: _Optional[int] = ..., descriptor_count: _Optional[int] = ..., source: _Optional[str] = ..., created_at: _Optional[str] = ...) -> None: ...

class ClassDescriptors(_message.Message):
    __slots__ = ("class_name", "synset", "descriptors")
    CLASS_NAME_FIELD_NUMBER: _ClassVar[int]
    SYNSET_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTORS_FIELD_NUMBER: _ClassVar[int]
    class_name: str
    synset: str
    descriptors: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, class_name: _Optional[str] = ..., synset: _Optional[str] = ..., descriptors: _Optional[_Iterable[str]] = ...) -> None: ...

class ListBanksRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListBanksResponse(_message.Message):
    __slots__ = ("banks",)
    BANKS_FIELD_NUMBER: _ClassVar[int]
    banks: _containers.RepeatedCompositeFieldContainer[BankInfo]
    def __init__(self, banks: _Optional[_Iterable[_Union[BankInfo, _Mapping]]] = ...) -> None: ...

class GetBankRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetBankResponse(_message.Message):
    __slots__ = ("info", "classes")
    INFO_FIELD_NUMBER: _ClassVar[int]
    CLASSES_FIELD_NUMBER: _ClassVar[int]
    info: BankInfo
    classes: _containers.RepeatedCompositeFieldContainer[ClassDescriptors]
    def __init__(self, info: _Optional[_Union[BankInfo, _Mapping]] = ..., classes: _Optional[_Iterable[_Union[ClassDescriptors, _Mapping]]] = ...) -> None: ...

class ImportBankRequest(_message.Message):
    __slots__ = ("name", "json", "replace", "strict_classes")
    NAME_FIELD_NUMBER: _ClassVar[int]
    JSON_FIELD_NUMBER: _ClassVar[int]
    REPLACE_FIELD_NUMBER: _ClassVar[int]
    STRICT_CLASSES_FIELD_NUMBER: _ClassVar[int]
    name: str
    json: str
    replace: bool
    strict_classes: bool
    def __init__(self, name: _Optional[str] = ..., json: _Optional[str] = ..., replace: _Optional[bool] = ..., strict_classes: _Optional[bool] = ...) -> None: ...

class ImportBankResponse(_message.Message):
    __slots__ = ("info", "warnings")
    INFO_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    info: BankInfo
    warnings: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, info: _Optional[_Union[BankInfo, _Mapping]] = ..., warnings: _Optional[_Iterable[str]] = ...) -> None: ...

class GenerateBankRequest(_message.Message):
    __slots__ = ("name", "synsets", "replace")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SYNSETS_FIELD_NUMBER: _ClassVar[int]
    REPLACE_FIELD_NUMBER: _ClassVar[int]
    name: str
    synsets: _containers.RepeatedScalarFieldContainer[str]
    replace: bool
    def __init__(self, name: _Optional[str] = ..., synsets: _Optional[_Iterable[str]] = ..., replace: _Optional[bool] = ...) -> None: ...

class GenerateBankResponse(_message.Message):
    __slots__ = ("info",)
    INFO_FIELD_NUMBER: _ClassVar[int]
    info: BankInfo
    def __init__(self, info: _Optional[_Union[BankInfo, _Mapping]] = ...) -> None: ...

class DeleteBankRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class DeleteBankResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
