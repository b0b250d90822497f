"""The lexicon service: thin servicers over `cliplens.lexicon.catalog.Lexicon`.

The lexicon (WordNet index, store, preset dictionaries) is opened in the warm-up, so health
turns SERVING only once lookups are ready; blocking work runs in worker threads.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any

import grpc

from cliplens.core.errors import InvalidArgument, Unavailable
from cliplens.core.server import RunningServer, start_server
from cliplens.lexicon.banks import Bank, BankInfo
from cliplens.lexicon.catalog import Lexicon
from cliplens.lexicon.config import LexiconConfig
from cliplens.lexicon.dictionaries import Dictionary
from cliplens.lexicon.index import RELATIONS
from cliplens.lexicon.synsets import SynsetRecord
from cliplens.v1 import lexicon_pb2 as pb
from cliplens.v1 import lexicon_pb2_grpc

log = logging.getLogger(__name__)
SERVICE_NAME = "cliplens.v1.LexiconService"
POS_BY_ENUM = {pb.PART_OF_SPEECH_NOUN: "n", pb.PART_OF_SPEECH_VERB: "v",
               pb.PART_OF_SPEECH_ADJECTIVE: "a", pb.PART_OF_SPEECH_ADJECTIVE_SATELLITE: "s",
               pb.PART_OF_SPEECH_ADVERB: "r"}
ENUM_BY_POS = {v: k for k, v in POS_BY_ENUM.items()}
# RELATION_HYPERNYM -> "hypernyms", ...: the enum and the Synset fields share the names.
RELATION_BY_ENUM = {pb.Relation.Value(f"RELATION_{r[:-1].upper()}"): r for r in RELATIONS}


def synset_proto(r: SynsetRecord) -> pb.Synset:
    """The Synset message of a record."""
    return pb.Synset(name=r.name, offset=r.offset, wnid=r.wnid, pos=ENUM_BY_POS[r.pos],
                     lemmas=r.lemmas, definition=r.definition, examples=r.examples,
                     lexname=r.lexname, min_depth=r.min_depth, max_depth=r.max_depth,
                     **{rel: r.related(rel) for rel in RELATIONS})


def dictionary_info(d: Dictionary) -> pb.DictionaryInfo:
    """The DictionaryInfo message of a dictionary."""
    return pb.DictionaryInfo(id=d.id, name=d.name, content_hash=d.content_hash, size=d.size,
                             source=d.source, word_count=len(d.words))


def bank_info(b: BankInfo) -> pb.BankInfo:
    """The BankInfo message of a bank."""
    return pb.BankInfo(id=b.id, name=b.name, content_hash=b.content_hash,
                       class_count=b.class_count, descriptor_count=b.descriptor_count,
                       source=b.source, created_at=b.created_at)


def bank_proto(b: Bank) -> pb.GetBankResponse:
    """A bank in full as GetBank answers it."""
    return pb.GetBankResponse(info=bank_info(b.info), classes=[
        pb.ClassDescriptors(class_name=c.class_name, synset=c.synset, descriptors=c.descriptors)
        for c in b.classes])


def _enum(table: dict, value: int, field: str, default: Any = None) -> Any:
    if value == 0 and default is not None:
        return default
    if value not in table:
        raise InvalidArgument(f"{field}: expected one of {sorted(table)}, got {value}")
    return table[value]


class LexiconServicer(lexicon_pb2_grpc.LexiconServiceServicer):
    """LexiconService: proto in, a `Lexicon` call in a worker thread, proto out."""

    def __init__(self) -> None:
        self.lexicon: Lexicon | None = None

    async def _run(self, method: str, *args: Any, **kwargs: Any) -> Any:
        if self.lexicon is None:
            raise Unavailable("lexicon: still loading WordNet and the dictionaries")
        call = functools.partial(getattr(self.lexicon, method), *args, **kwargs)
        return await asyncio.to_thread(call)

    async def GetSynset(self, request: pb.GetSynsetRequest,
                        context: grpc.aio.ServicerContext) -> pb.GetSynsetResponse:
        return pb.GetSynsetResponse(synset=synset_proto(await self._run("synset", request.id)))

    async def GetSynsets(self, request: pb.GetSynsetsRequest,
                         context: grpc.aio.ServicerContext) -> pb.GetSynsetsResponse:
        found = await self._run("synsets", list(request.ids))
        return pb.GetSynsetsResponse(synsets=[synset_proto(r) for r in found])

    async def SearchSynsets(self, request: pb.SearchSynsetsRequest,
                            context: grpc.aio.ServicerContext) -> pb.SearchSynsetsResponse:
        pos = _enum(POS_BY_ENUM, request.pos, "pos", default="") or None
        if request.limit < 0:
            raise InvalidArgument(f"limit: expected >= 0, got {request.limit}")
        lemma, found = await self._run("search", request.lemma, pos, request.limit)
        return pb.SearchSynsetsResponse(lemma=lemma, synsets=[synset_proto(r) for r in found])

    async def ExpandSynset(self, request: pb.ExpandSynsetRequest,
                           context: grpc.aio.ServicerContext) -> pb.ExpandSynsetResponse:
        relation = _enum(RELATION_BY_ENUM, request.relation, "relation", default="hyponyms")
        root, found, truncated = await self._run("expand", request.id, relation,
                                                 request.max_depth, request.limit)
        return pb.ExpandSynsetResponse(
            root=root.name, truncated=truncated,
            synsets=[pb.ExpandedSynset(name=r.name, depth=d, definition=r.definition)
                     for r, d in found])

    async def GetLowestCommonHypernyms(self, request: pb.GetLowestCommonHypernymsRequest,
                                       context: grpc.aio.ServicerContext
                                       ) -> pb.GetLowestCommonHypernymsResponse:
        found = await self._run("lowest_common_hypernyms", list(request.ids))
        return pb.GetLowestCommonHypernymsResponse(synsets=found)

    async def ListDictionaries(self, request: pb.ListDictionariesRequest,
                               context: grpc.aio.ServicerContext) -> pb.ListDictionariesResponse:
        found = await self._run("dictionaries")
        return pb.ListDictionariesResponse(dictionaries=[dictionary_info(d) for d in found])

    async def GetDictionary(self, request: pb.GetDictionaryRequest,
                            context: grpc.aio.ServicerContext) -> pb.GetDictionaryResponse:
        d = await self._run("dictionary", request.id)
        return pb.GetDictionaryResponse(info=dictionary_info(d), entries=[
            pb.DictionaryEntry(synset=e.synset, definition=e.definition, lemmas=e.lemmas)
            for e in d.entries])

    async def CreateDictionary(self, request: pb.CreateDictionaryRequest,
                               context: grpc.aio.ServicerContext) -> pb.CreateDictionaryResponse:
        d = await self._run("create_dictionary", request.name, list(request.words))
        return pb.CreateDictionaryResponse(info=dictionary_info(d), unknown_words=d.unknown_words)

    async def GetSubtree(self, request: pb.GetSubtreeRequest,
                         context: grpc.aio.ServicerContext) -> pb.GetSubtreeResponse:
        sub = await self._run("subtree", request.dictionary_id, request.synset)
        return pb.GetSubtreeResponse(synset=sub.synset, synsets=sub.synsets, indices=sub.indices,
                                     dictionary_content_hash=sub.dictionary.content_hash)

    async def ListBanks(self, request: pb.ListBanksRequest,
                        context: grpc.aio.ServicerContext) -> pb.ListBanksResponse:
        return pb.ListBanksResponse(banks=[bank_info(b) for b in await self._run("list_banks")])

    async def GetBank(self, request: pb.GetBankRequest,
                      context: grpc.aio.ServicerContext) -> pb.GetBankResponse:
        return bank_proto(await self._run("bank", request.id))

    async def ImportBank(self, request: pb.ImportBankRequest,
                         context: grpc.aio.ServicerContext) -> pb.ImportBankResponse:
        info, warnings = await self._run("import_bank", request.name, request.json,
                                         replace=request.replace,
                                         strict_classes=request.strict_classes)
        return pb.ImportBankResponse(info=bank_info(info), warnings=warnings)

    async def GenerateBank(self, request: pb.GenerateBankRequest,
                           context: grpc.aio.ServicerContext) -> pb.GenerateBankResponse:
        info = await self._run("generate_bank", request.name, list(request.synsets),
                               replace=request.replace)
        return pb.GenerateBankResponse(info=bank_info(info))

    async def DeleteBank(self, request: pb.DeleteBankRequest,
                         context: grpc.aio.ServicerContext) -> pb.DeleteBankResponse:
        await self._run("delete_bank", request.id)
        return pb.DeleteBankResponse()


async def start(config: LexiconConfig) -> RunningServer:
    """Start the lexicon service (SERVING once WordNet and the dictionaries are loaded)."""
    servicer = LexiconServicer()

    def register(server: grpc.aio.Server) -> list[str]:
        lexicon_pb2_grpc.add_LexiconServiceServicer_to_server(servicer, server)
        return [SERVICE_NAME]

    async def warmup() -> None:
        servicer.lexicon = await asyncio.to_thread(
            Lexicon.open, wordnet_index=config.wordnet_index, database=config.database,
            limits=config.bank_limits, max_words=config.max_words,
            max_user_dictionaries=config.max_user_dictionaries)
        # Touch the lookup path once so the first caller does not pay for cold caches.
        await asyncio.to_thread(servicer.lexicon.synset, "entity.n.01")

    async def close_on_stop() -> None:
        try:
            await asyncio.Event().wait()
        finally:  # cancelled by RunningServer.stop
            if servicer.lexicon is not None:
                servicer.lexicon.close()

    running = await start_server(config, name="lexicon", register=register, warmup=warmup)
    running.background.append(asyncio.create_task(close_on_stop()))
    return running
