"""LexiconService over real gRPC (a server on an ephemeral port, a real stub), and its CLI."""

from __future__ import annotations

import hashlib
import json

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from cliplens.core.server import ServerThread
from cliplens.lexicon.config import LexiconConfig
from cliplens.lexicon.presets import PRESETS
from cliplens.lexicon.service import start
from cliplens.v1 import lexicon_pb2 as pb
from cliplens.v1 import lexicon_pb2_grpc

BANK = {"tench": ["a fish", "olive green scales", "a fish"],
        "goldfish": ["small and orange", "kept in a bowl"],
        "n02084071": ["barks"],
        "flying spaghetti monster": ["noodly appendages"]}


def _config(database) -> LexiconConfig:
    return LexiconConfig(port=0, metrics_port=-1, database=str(database), grace_seconds=0)


class Server:
    """A lexicon server in a background thread, with a stub on it."""

    def __init__(self, database):
        self.thread = ServerThread(lambda: start(_config(database)))
        self.running = self.thread.start()
        self.target = f"127.0.0.1:{self.running.port}"
        self.channel = grpc.insecure_channel(self.target)
        self.stub = lexicon_pb2_grpc.LexiconServiceStub(self.channel)

    def stop(self) -> None:
        self.channel.close()
        self.thread.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("lexicon") / "lexicon.sqlite3")
    yield s
    s.stop()


@pytest.fixture
def stub(server):
    return server.stub


def _code(call, request):
    with pytest.raises(grpc.RpcError) as e:
        call(request)
    return e.value.code(), e.value.details()


def _bank_state(stub):
    """Every bank's info and full content: what a failed import must leave as it was."""
    banks = stub.ListBanks(pb.ListBanksRequest()).banks
    return [(b.SerializeToString(), stub.GetBank(pb.GetBankRequest(id=b.id)).SerializeToString())
            for b in banks]


def test_health_is_serving(server):
    health = health_pb2_grpc.HealthStub(server.channel)
    reply = health.Check(health_pb2.HealthCheckRequest(service="cliplens.v1.LexiconService"))
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


@pytest.mark.parametrize("ident", ["dog.n.01", "n02084071", "02084071-n"])
def test_get_synset(stub, ident):
    s = stub.GetSynset(pb.GetSynsetRequest(id=ident)).synset
    assert (s.name, s.offset, s.wnid, s.pos) == ("dog.n.01", 2084071, "n02084071",
                                                 pb.PART_OF_SPEECH_NOUN)
    assert list(s.hypernyms) == ["canine.n.02", "domestic_animal.n.01"]
    assert "pack.n.06" in s.member_holonyms and "flag.n.07" in s.part_meronyms
    assert (s.min_depth, s.max_depth) == (8, 13) and s.lexname == "noun.animal"


def test_get_synset_errors(stub):
    code, details = _code(stub.GetSynset, pb.GetSynsetRequest(id="dgo.n.01"))
    assert code == grpc.StatusCode.NOT_FOUND
    assert details.startswith("synset 'dgo.n.01' not found; did you mean dog.n.01")
    code, details = _code(stub.GetSynset, pb.GetSynsetRequest(id="dog"))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "id: expected" in details


def test_search(stub):
    reply = stub.SearchSynsets(pb.SearchSynsetsRequest(lemma="Dogs", pos=pb.PART_OF_SPEECH_NOUN,
                                                       limit=3))
    assert reply.lemma == "dog"
    assert [s.name for s in reply.synsets] == ["dog.n.01", "frump.n.01", "dog.n.03"]
    every = stub.SearchSynsets(pb.SearchSynsetsRequest(lemma="dog"))
    assert {s.pos for s in every.synsets} == {pb.PART_OF_SPEECH_NOUN, pb.PART_OF_SPEECH_VERB}
    code, details = _code(stub.SearchSynsets, pb.SearchSynsetsRequest(lemma="bycicle"))
    assert code == grpc.StatusCode.NOT_FOUND and "bicycle" in details
    code, details = _code(stub.SearchSynsets, pb.SearchSynsetsRequest(lemma="dog", pos=42))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and details.startswith("pos:")


def test_expand(stub):
    reply = stub.ExpandSynset(pb.ExpandSynsetRequest(id="vehicle.n.01", max_depth=1))
    assert reply.root == "vehicle.n.01" and not reply.truncated
    assert {e.depth for e in reply.synsets} == {1}
    assert "wheeled_vehicle.n.01" in [e.name for e in reply.synsets]
    limited = stub.ExpandSynset(pb.ExpandSynsetRequest(id="vehicle.n.01", limit=3))
    assert limited.truncated and len(limited.synsets) == 3
    up = stub.ExpandSynset(pb.ExpandSynsetRequest(id="dog.n.01",
                                                  relation=pb.RELATION_HYPERNYM))
    assert up.synsets[-1].name == "entity.n.01" and up.synsets[-1].definition
    parts = stub.ExpandSynset(pb.ExpandSynsetRequest(id="car.n.01",
                                                     relation=pb.RELATION_PART_MERONYM))
    assert "car_door.n.01" in [e.name for e in parts.synsets]


def test_lowest_common_hypernyms(stub):
    reply = stub.GetLowestCommonHypernyms(pb.GetLowestCommonHypernymsRequest(
        ids=["dog.n.01", "n02121620"]))  # cat.n.01 by wnid
    assert list(reply.synsets) == ["carnivore.n.01"]
    code, details = _code(stub.GetLowestCommonHypernyms,
                          pb.GetLowestCommonHypernymsRequest(ids=["dog.n.01"]))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "at least 2" in details


def test_presets_are_listed_with_stable_identity(stub):
    infos = {d.id: d for d in stub.ListDictionaries(pb.ListDictionariesRequest()).dictionaries}
    assert set(PRESETS) <= set(infos)
    for preset in PRESETS:
        reply = stub.GetDictionary(pb.GetDictionaryRequest(id=preset))
        assert reply.info == infos[preset] and reply.info.source == "preset"
        assert len(reply.entries) == reply.info.size
        names = [e.synset for e in reply.entries]
        assert names == sorted(names)
        lines = "".join(f"{e.synset}\t{e.definition}\t{','.join(e.lemmas)}\n"
                        for e in reply.entries)
        assert hashlib.sha256(lines.encode()).hexdigest() == reply.info.content_hash
    assert infos["physical"].word_count == 2000
    code, details = _code(stub.GetDictionary, pb.GetDictionaryRequest(id="nope"))
    assert code == grpc.StatusCode.NOT_FOUND and "toyworld" in details


@pytest.mark.parametrize("dictionary,synset,members", [
    ("physical", "bird.n.01", ["bird.n.01", "eagle.n.01", "duck.n.01"]),
    ("toyworld", "vehicle.n.01", ["car.n.01", "truck.n.01", "bicycle.n.01", "airplane.n.01",
                                  "sailboat.n.01"]),
])
def test_subtree(stub, dictionary, synset, members):
    reply = stub.GetSubtree(pb.GetSubtreeRequest(dictionary_id=dictionary, synset=synset))
    entries = stub.GetDictionary(pb.GetDictionaryRequest(id=dictionary)).entries
    assert reply.synset == synset
    assert [entries[i].synset for i in reply.indices] == list(reply.synsets)
    assert list(reply.indices) == sorted(reply.indices)
    assert set(members) <= set(reply.synsets)
    info = stub.GetDictionary(pb.GetDictionaryRequest(id=dictionary)).info
    assert reply.dictionary_content_hash == info.content_hash


def test_subtree_errors(stub):
    code, details = _code(stub.GetSubtree, pb.GetSubtreeRequest(dictionary_id="toyworld",
                                                                synset="golden_retriever.n.01"))
    assert code == grpc.StatusCode.NOT_FOUND and "not in dictionary 'toyworld'" in details
    code, _ = _code(stub.GetSubtree, pb.GetSubtreeRequest(dictionary_id="toyworld",
                                                          synset="brid.n.01"))
    assert code == grpc.StatusCode.NOT_FOUND


def test_create_dictionary(stub):
    reply = stub.CreateDictionary(pb.CreateDictionaryRequest(
        name="pets", words=["dog", "Cats", "qwertyuiop"]))
    assert reply.info.id == f"words-{reply.info.content_hash[:12]}"
    assert reply.info.source == "words" and reply.info.word_count == 3
    assert list(reply.unknown_words) == ["qwertyuiop"]
    again = stub.CreateDictionary(pb.CreateDictionaryRequest(name="x", words=["cat", "dog"]))
    assert again.info.id == reply.info.id
    listed = [d.id for d in stub.ListDictionaries(pb.ListDictionariesRequest()).dictionaries]
    assert reply.info.id in listed
    sub = stub.GetSubtree(pb.GetSubtreeRequest(dictionary_id=reply.info.id, synset="cat.n.01"))
    assert "cat.n.01" in sub.synsets
    code, details = _code(stub.CreateDictionary,
                          pb.CreateDictionaryRequest(name="x", words=["dog", ""]))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "words[1]" in details
    code, _ = _code(stub.CreateDictionary, pb.CreateDictionaryRequest(name="x", words=["zzzqq"]))
    assert code == grpc.StatusCode.INVALID_ARGUMENT


def test_import_and_read_back(stub):
    reply = stub.ImportBank(pb.ImportBankRequest(name="fish", json=json.dumps(BANK)))
    assert reply.info.class_count == 4 and reply.info.descriptor_count == 6
    assert any("repeats descriptor 0" in w for w in reply.warnings)
    assert any("'flying spaghetti monster': no WordNet synset" in w for w in reply.warnings)
    bank = stub.GetBank(pb.GetBankRequest(id="fish"))
    assert bank.info == reply.info
    assert [(c.class_name, c.synset) for c in bank.classes] == [
        ("tench", "tench.n.01"), ("goldfish", "goldfish.n.01"), ("n02084071", "dog.n.01"),
        ("flying spaghetti monster", "")]
    document = {c.class_name: list(c.descriptors) for c in bank.classes}
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    assert bank.info.content_hash == hashlib.sha256(canonical).hexdigest()
    code, details = _code(stub.ImportBank, pb.ImportBankRequest(name="fish", json="{}"))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    code, details = _code(stub.ImportBank, pb.ImportBankRequest(name="fish",
                                                                json=json.dumps(BANK)))
    assert code == grpc.StatusCode.ALREADY_EXISTS and "replace" in details
    replaced = stub.ImportBank(pb.ImportBankRequest(name="fish", json='{"tench": ["x"]}',
                                                    replace=True))
    assert replaced.info.class_count == 1
    assert stub.GetBank(pb.GetBankRequest(id="fish")).classes[0].descriptors == ["x"]


@pytest.mark.parametrize("request_args,match", [
    ({"name": "bad", "json": '{"tench": ["ok", ""]}'}, "json['tench'][1]"),
    ({"name": "bad", "json": '{"tench": []}'}, "json['tench']: expected a non-empty list"),
    ({"name": "bad", "json": '["tench"]'}, "expected an object"),
    ({"name": "bad", "json": json.dumps({"tench": ["w " * 41]})}, "json['tench'][0]"),
    ({"name": "Bad Name", "json": '{"tench": ["ok"]}'}, "name: expected"),
    ({"name": "bad", "json": '{"zzqx": ["ok"]}', "strict_classes": True}, "'zzqx'"),
    ({"name": "fish", "json": '{"tench": ["changed"]}'}, "already exists"),
])
def test_malformed_import_leaves_the_store_unchanged(stub, request_args, match):
    stub.ImportBank(pb.ImportBankRequest(name="fish", json='{"tench": ["x"]}', replace=True))
    before = _bank_state(stub)
    with pytest.raises(grpc.RpcError) as e:
        stub.ImportBank(pb.ImportBankRequest(**request_args))
    assert match in e.value.details()
    assert _bank_state(stub) == before


def test_generate_bank_for_toyworld_classes(stub):
    from cliplens.toyworld.objects import CLASSES

    synsets = [c.synset for c in CLASSES]
    reply = stub.GenerateBank(pb.GenerateBankRequest(name="toyworld-wordnet", synsets=synsets,
                                                     replace=True))
    assert reply.info.source == "wordnet" and reply.info.class_count == len(CLASSES)
    bank = stub.GetBank(pb.GetBankRequest(id="toyworld-wordnet"))
    assert [c.synset for c in bank.classes] == synsets
    car = bank.classes[0]
    assert "has a car door" in car.descriptors and "a kind of motor vehicle" in car.descriptors
    by_lemma = stub.GenerateBank(pb.GenerateBankRequest(name="lemmas", synsets=["car", "Kites"],
                                                        replace=True))
    assert by_lemma.info.class_count == 2
    code, details = _code(stub.GenerateBank, pb.GenerateBankRequest(name="x",
                                                                    synsets=["dgo.n.01"]))
    assert code == grpc.StatusCode.NOT_FOUND and "dog.n.01" in details


def test_delete_bank(stub):
    stub.ImportBank(pb.ImportBankRequest(name="doomed", json='{"a": ["b"]}', replace=True))
    stub.DeleteBank(pb.DeleteBankRequest(id="doomed"))
    assert "doomed" not in [b.id for b in stub.ListBanks(pb.ListBanksRequest()).banks]
    code, _ = _code(stub.DeleteBank, pb.DeleteBankRequest(id="doomed"))
    assert code == grpc.StatusCode.NOT_FOUND
    code, _ = _code(stub.GetBank, pb.GetBankRequest(id="doomed"))
    assert code == grpc.StatusCode.NOT_FOUND


def test_bank_and_dictionary_survive_a_restart(tmp_path):
    database = tmp_path / "lexicon.sqlite3"
    first = Server(database)
    imported = first.stub.ImportBank(pb.ImportBankRequest(name="fish", json=json.dumps(BANK)))
    bank = first.stub.GetBank(pb.GetBankRequest(id="fish"))
    words = first.stub.CreateDictionary(pb.CreateDictionaryRequest(name="pets",
                                                                   words=["dog", "cat"]))
    first.stop()
    second = Server(database)
    try:
        again = second.stub.GetBank(pb.GetBankRequest(id="fish"))
        assert again == bank and again.info.content_hash == imported.info.content_hash
        d = second.stub.GetDictionary(pb.GetDictionaryRequest(id=words.info.id))
        assert d.info == words.info
    finally:
        second.stop()


# -- the CLI against the same server ---------------------------------------------------------

def _cli(server, capsys, *argv) -> tuple[int, str, str]:
    from cliplens.client.cli import main

    with pytest.raises(SystemExit) as e:
        main(["--target", server.target, *argv])
    out = capsys.readouterr()
    return e.value.code, out.out, out.err


def test_cli_subtree_commands(server, capsys):
    code, out, _ = _cli(server, capsys, "lexicon", "subtree", "--dictionary", "physical",
                        "bird.n.01")
    assert code == 0
    assert out.startswith("bird.n.01 in physical") and "eagle.n.01" in out
    code, out, _ = _cli(server, capsys, "--json", "lexicon", "subtree", "--dictionary",
                        "toyworld", "vehicle.n.01")
    data = json.loads(out)
    assert code == 0 and "car.n.01" in data["synsets"]
    assert len(data["indices"]) == len(data["synsets"])


def test_cli_lookups(server, capsys):
    code, out, _ = _cli(server, capsys, "lexicon", "synset", "n02084071")
    assert code == 0 and out.startswith("dog.n.01  (n02084071, noun.animal)")
    code, out, _ = _cli(server, capsys, "--json", "lexicon", "search", "geese", "--pos", "noun")
    assert json.loads(out)["lemma"] == "goose"
    code, out, _ = _cli(server, capsys, "lexicon", "expand", "vehicle.n.01", "--depth", "1")
    assert code == 0 and "wheeled_vehicle.n.01" in out
    code, out, _ = _cli(server, capsys, "lexicon", "lch", "dog.n.01", "cat.n.01")
    assert out.strip() == "carnivore.n.01"
    code, out, _ = _cli(server, capsys, "lexicon", "dictionary", "list")
    assert "toyworld" in out and "physical" in out
    code, _, err = _cli(server, capsys, "lexicon", "synset", "dgo.n.01")
    assert code == 3 and "NOT_FOUND" in err and "dog.n.01" in err


def test_cli_bank_round_trip(server, capsys, tmp_path):
    source = tmp_path / "bank.json"
    source.write_text(json.dumps({"tench": ["a fish"], "goldfish": ["orange"]}))
    code, out, _ = _cli(server, capsys, "lexicon", "bank", "import", "cli-bank", str(source),
                        "--replace")
    assert code == 0 and out.startswith("imported cli-bank: 2 classes")
    exported = tmp_path / "out.json"
    code, _, _ = _cli(server, capsys, "lexicon", "bank", "export", "cli-bank", "--out",
                      str(exported))
    assert json.loads(exported.read_text()) == {"tench": ["a fish"], "goldfish": ["orange"]}
    code, out, _ = _cli(server, capsys, "lexicon", "bank", "show", "cli-bank")
    assert "tench  [tench.n.01]" in out
    source.write_text('{"tench": []}')
    code, _, err = _cli(server, capsys, "lexicon", "bank", "import", "cli-bank", str(source),
                        "--replace")
    assert code == 2 and "json['tench']" in err
    code, out, _ = _cli(server, capsys, "lexicon", "bank", "generate", "cli-gen", "car.n.01",
                        "--replace")
    assert code == 0 and out.startswith("generated cli-gen: 1 classes")
    code, out, _ = _cli(server, capsys, "lexicon", "bank", "delete", "cli-gen")
    assert code == 0
    words = tmp_path / "words.txt"
    words.write_text("# pets\ndog\ncat  # a comment\n\nqwertyuiop\n")
    code, out, _ = _cli(server, capsys, "lexicon", "dictionary", "create", "pets", "--words",
                        str(words))
    assert code == 0 and out.startswith("words-") and "qwertyuiop" in out
