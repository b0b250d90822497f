"""`cliplens lexicon ...`: WordNet synsets, ConVis concept dictionaries and descriptor banks.

    cliplens lexicon synset dog.n.01
    cliplens lexicon search Dogs --pos noun
    cliplens lexicon expand vehicle.n.01 --relation hyponym --depth 2
    cliplens lexicon lch dog.n.01 cat.n.01
    cliplens lexicon dictionary list | show ID | create NAME --words FILE
    cliplens lexicon subtree --dictionary physical bird.n.01
    cliplens lexicon bank list | show ID | import NAME FILE [--replace] | export ID [--out FILE]
    cliplens lexicon bank generate NAME SYNSET... | delete ID
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from cliplens.client.cli.common import CommandError, client, emit


def _enum_choices(enum, prefix: str) -> dict[str, int]:
    """CLI spellings of a proto enum ("part_meronym" -> RELATION_PART_MERONYM): one list."""
    return {name[len(prefix):].lower(): value for name, value in enum.items()
            if not name.endswith("_UNSPECIFIED")}


def _relations() -> dict[str, int]:
    from cliplens.v1 import lexicon_pb2

    return _enum_choices(lexicon_pb2.Relation, "RELATION_")


def _parts_of_speech() -> dict[str, int]:
    from cliplens.v1 import lexicon_pb2

    return _enum_choices(lexicon_pb2.PartOfSpeech, "PART_OF_SPEECH_")


def register(sub) -> None:
    """Add the `lexicon` command group."""
    p = sub.add_parser("lexicon", help="WordNet synsets, concept dictionaries, descriptor banks")
    lx = p.add_subparsers(dest="lexicon_command", metavar="ACTION", required=True)

    s = lx.add_parser("synset", help="one synset by name (dog.n.01), wnid or offset")
    s.add_argument("id")
    s.set_defaults(func=_synset)

    s = lx.add_parser("search", help="synsets of a lemma (case and inflection tolerant)")
    s.add_argument("lemma")
    s.add_argument("--pos", choices=sorted(_parts_of_speech()), default=None)
    s.add_argument("--limit", type=int, default=0, help="at most this many (0: all)")
    s.set_defaults(func=_search)

    s = lx.add_parser("expand", help="the closure of a synset over one relation")
    s.add_argument("id")
    s.add_argument("--relation", choices=sorted(_relations()), default="hyponym")
    s.add_argument("--depth", type=int, default=0, help="depth limit (0: none)")
    s.add_argument("--limit", type=int, default=0, help="at most this many (0: all)")
    s.set_defaults(func=_expand)

    s = lx.add_parser("lch", help="lowest common hypernyms of two or more synsets")
    s.add_argument("ids", nargs="+")
    s.set_defaults(func=_lch)

    s = lx.add_parser("subtree", help="a concept and its hyponyms inside a dictionary")
    s.add_argument("--dictionary", required=True, help="dictionary id (toyworld, physical, ...)")
    s.add_argument("synset")
    s.set_defaults(func=_subtree)

    d = lx.add_parser("dictionary", help="ConVis concept dictionaries")
    dd = d.add_subparsers(dest="dictionary_command", metavar="ACTION", required=True)
    x = dd.add_parser("list", help="presets and user dictionaries")
    x.set_defaults(func=_dictionary_list)
    x = dd.add_parser("show", help="a dictionary's synsets in its stable order")
    x.add_argument("id")
    x.add_argument("--limit", type=int, default=0, help="entries shown (0: all)")
    x.set_defaults(func=_dictionary_show)
    x = dd.add_parser("create", help="a dictionary from a word list")
    x.add_argument("name")
    x.add_argument("--words", required=True, type=Path,
                   help="file with one word or synset id per line ('#' starts a comment; "
                        "'-' reads stdin)")
    x.set_defaults(func=_dictionary_create)

    b = lx.add_parser("bank", help="descriptor banks")
    bb = b.add_subparsers(dest="bank_command", metavar="ACTION", required=True)
    x = bb.add_parser("list", help="stored banks")
    x.set_defaults(func=_bank_list)
    x = bb.add_parser("show", help="a bank's classes and descriptors")
    x.add_argument("id")
    x.set_defaults(func=_bank_show)
    x = bb.add_parser("import", help="import a JSON bank {class: [descriptor, ...]}")
    x.add_argument("name")
    x.add_argument("file", type=Path, help="JSON file ('-' reads stdin)")
    x.add_argument("--replace", action="store_true", help="overwrite a bank of that name")
    x.add_argument("--strict-classes", action="store_true",
                   help="refuse classes that map to no WordNet synset")
    x.set_defaults(func=_bank_import)
    x = bb.add_parser("export", help="a bank as JSON {class: [descriptor, ...]}")
    x.add_argument("id")
    x.add_argument("--out", type=Path, default=None, help="file to write (default: stdout)")
    x.set_defaults(func=_bank_export)
    x = bb.add_parser("generate", help="derive a bank from WordNet for class synsets")
    x.add_argument("name")
    x.add_argument("synsets", nargs="+", help="synset ids (or lemmas: their first noun sense)")
    x.add_argument("--replace", action="store_true")
    x.set_defaults(func=_bank_generate)
    x = bb.add_parser("delete", help="remove a bank")
    x.add_argument("id")
    x.set_defaults(func=_bank_delete)


def _dict(message) -> dict:
    from google.protobuf.json_format import MessageToDict

    return MessageToDict(message, preserving_proto_field_name=True,
                         always_print_fields_with_no_presence=True)


def _lexicon(args):
    return client(args).lexicon


def _read(path: Path) -> str:
    if str(path) == "-":
        return sys.stdin.read()
    try:
        return path.read_text(encoding="utf-8")
    except OSError as e:
        raise CommandError(f"cannot read {path}: {e.strerror}", 2) from None


def _list(names, n: int = 10) -> str:
    names = list(names)
    more = f", ... ({len(names)} in all)" if len(names) > n else ""
    return ", ".join(names[:n]) + more


# -- synsets --------------------------------------------------------------------------------

def _synset_text(s) -> str:
    lines = [f"{s.name}  ({s.wnid}, {s.lexname})",
             f"  lemmas       {', '.join(lemma.replace('_', ' ') for lemma in s.lemmas)}",
             f"  definition   {s.definition}"]
    if s.examples:
        lines.append(f"  examples     {'; '.join(s.examples)}")
    lines.append(f"  depth        {s.min_depth}..{s.max_depth}")
    for relation in _relations():  # the Synset message names its fields after them
        targets = getattr(s, relation + "s")
        if targets:
            lines.append(f"  {relation.replace('_', ' ') + 's':<20} {_list(targets)}")
    return "\n".join(lines)


def _synset(args) -> None:
    from cliplens.v1 import lexicon_pb2 as pb

    s = _lexicon(args).GetSynset(pb.GetSynsetRequest(id=args.id)).synset
    emit(args, _dict(s), _synset_text(s))


def _search(args) -> None:
    from cliplens.v1 import lexicon_pb2 as pb

    pos = _parts_of_speech()[args.pos] if args.pos else 0
    reply = _lexicon(args).SearchSynsets(pb.SearchSynsetsRequest(lemma=args.lemma, pos=pos,
                                                                 limit=args.limit))
    rows = [f"{s.name:<28} {s.definition}" for s in reply.synsets]
    emit(args, _dict(reply), f"lemma {reply.lemma}: {len(reply.synsets)} synset(s)\n"
         + "\n".join(rows))


def _expand(args) -> None:
    from cliplens.v1 import lexicon_pb2 as pb

    reply = _lexicon(args).ExpandSynset(pb.ExpandSynsetRequest(
        id=args.id, relation=_relations()[args.relation], max_depth=args.depth,
        limit=args.limit))
    rows = [f"{'  ' * e.depth}{e.name}  {e.definition}" for e in reply.synsets]
    tail = "\n(truncated at --limit)" if reply.truncated else ""
    emit(args, _dict(reply), f"{reply.root}: {len(reply.synsets)} {args.relation} synset(s)\n"
         + "\n".join(rows) + tail)


def _lch(args) -> None:
    from cliplens.v1 import lexicon_pb2 as pb

    reply = _lexicon(args).GetLowestCommonHypernyms(
        pb.GetLowestCommonHypernymsRequest(ids=args.ids))
    emit(args, _dict(reply), ", ".join(reply.synsets) or "(no common hypernym)")


# -- dictionaries ---------------------------------------------------------------------------

def _table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                     for r in rows)


def _dictionary_list(args) -> None:
    from cliplens.v1 import lexicon_pb2 as pb

    reply = _lexicon(args).ListDictionaries(pb.ListDictionariesRequest())
    rows = [("ID", "SOURCE", "WORDS", "SYNSETS", "CONTENT HASH", "NAME")]
    rows += [(d.id, d.source, str(d.word_count), str(d.size), d.content_hash[:16], d.name)
             for d in reply.dictionaries]
    emit(args, _dict(reply), _table(rows))


def _dictionary_show(args) -> None:
    from cliplens.v1 import lexicon_pb2 as pb

    reply = _lexicon(args).GetDictionary(pb.GetDictionaryRequest(id=args.id))
    entries = reply.entries[:args.limit] if args.limit > 0 else reply.entries
    i = reply.info
    head = f"{i.id} ({i.name}): {i.size} synsets from {i.word_count} words, hash {i.content_hash}"
    rows = [f"{k:>6}  {e.synset:<32} {e.definition}" for k, e in enumerate(entries)]
    data = _dict(reply)
    data["entries"] = data["entries"][:len(entries)]
    emit(args, data, "\n".join([head, *rows]))


def _dictionary_create(args) -> None:
    from cliplens.v1 import lexicon_pb2 as pb

    words = [line.split("#", 1)[0].strip() for line in _read(args.words).splitlines()]
    words = [w for w in words if w]
    reply = _lexicon(args).CreateDictionary(pb.CreateDictionaryRequest(name=args.name,
                                                                       words=words))
    i = reply.info
    text = f"{i.id}: {i.size} synsets from {i.word_count} words (hash {i.content_hash})"
    if reply.unknown_words:
        text += f"\nno noun sense, left out: {_list(reply.unknown_words)}"
    emit(args, _dict(reply), text)


def _subtree(args) -> None:
    from cliplens.v1 import lexicon_pb2 as pb

    lexicon = _lexicon(args)
    reply = lexicon.GetSubtree(pb.GetSubtreeRequest(dictionary_id=args.dictionary,
                                                    synset=args.synset))
    head = (f"{reply.synset} in {args.dictionary} (hash {reply.dictionary_content_hash[:16]}):"
            f" {len(reply.synsets)} synset(s)")
    rows = [f"{k:>6}  {name}" for k, name in zip(reply.indices, reply.synsets, strict=True)]
    emit(args, _dict(reply), "\n".join([head, *rows]))


# -- banks ----------------------------------------------------------------------------------

def _bank_line(b) -> tuple[str, ...]:
    return (b.id, b.source, str(b.class_count), str(b.descriptor_count), b.content_hash[:16],
            b.created_at)


def _bank_list(args) -> None:
    from cliplens.v1 import lexicon_pb2 as pb

    reply = _lexicon(args).ListBanks(pb.ListBanksRequest())
    rows = [("ID", "SOURCE", "CLASSES", "DESCRIPTORS", "CONTENT HASH", "CREATED")]
    rows += [_bank_line(b) for b in reply.banks]
    emit(args, _dict(reply), _table(rows) if reply.banks else "no banks")


def _bank_show(args) -> None:
    from cliplens.v1 import lexicon_pb2 as pb

    reply = _lexicon(args).GetBank(pb.GetBankRequest(id=args.id))
    i = reply.info
    lines = [f"{i.id}: {i.class_count} classes, {i.descriptor_count} descriptors ({i.source}, "
             f"hash {i.content_hash})"]
    for c in reply.classes:
        lines.append(f"{c.class_name}" + (f"  [{c.synset}]" if c.synset else "  [unmapped]"))
        lines.extend(f"    - {d}" for d in c.descriptors)
    emit(args, _dict(reply), "\n".join(lines))


def _bank_import(args) -> None:
    from cliplens.v1 import lexicon_pb2 as pb

    reply = _lexicon(args).ImportBank(pb.ImportBankRequest(
        name=args.name, json=_read(args.file), replace=args.replace,
        strict_classes=args.strict_classes))
    i = reply.info
    text = (f"imported {i.id}: {i.class_count} classes, {i.descriptor_count} descriptors "
            f"(hash {i.content_hash})")
    text += "".join(f"\nwarning: {w}" for w in reply.warnings)
    emit(args, _dict(reply), text)


def _bank_export(args) -> None:
    from cliplens.v1 import lexicon_pb2 as pb

    reply = _lexicon(args).GetBank(pb.GetBankRequest(id=args.id))
    document = {c.class_name: list(c.descriptors) for c in reply.classes}
    text = json.dumps(document, indent=2, ensure_ascii=False)
    if args.out is None:
        print(text)
        return
    args.out.write_text(text + "\n", encoding="utf-8")
    emit(args, {"id": reply.info.id, "out": str(args.out), "content_hash":
                reply.info.content_hash, "class_count": reply.info.class_count},
         f"wrote {reply.info.class_count} classes of {reply.info.id} to {args.out}")


def _bank_generate(args) -> None:
    from cliplens.v1 import lexicon_pb2 as pb

    reply = _lexicon(args).GenerateBank(pb.GenerateBankRequest(
        name=args.name, synsets=args.synsets, replace=args.replace))
    i = reply.info
    emit(args, _dict(reply), f"generated {i.id}: {i.class_count} classes, "
                             f"{i.descriptor_count} descriptors (hash {i.content_hash})")


def _bank_delete(args) -> None:
    from cliplens.v1 import lexicon_pb2 as pb

    _lexicon(args).DeleteBank(pb.DeleteBankRequest(id=args.id))
    emit(args, {"deleted": args.id}, f"deleted {args.id}")
