"""Prepare WordNet: `python -m cliplens.lexicon.setup [--index PATH]`.

NLTK cannot download its data here. Debian's `wordnet-base` and `wordnet-sense-index` carry
WordNet 3.0 under /usr/share/wordnet; NLTK's reader also needs a `lexnames` file and, since
NLTK 3.10, files under a data directory it trusts (copied, not symlinked, and private to the
owner). Then the lexicon's prepared index (`cliplens.lexicon.index`) is built from it, unless
one built from the same WordNet files (by hash) and in the current format is there.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from pathlib import Path

from cliplens.lexicon.wordnet import wordnet_dir

DEBIAN_WORDNET = Path("/usr/share/wordnet")
FILES = ("data.noun", "data.verb", "data.adj", "data.adv", "index.noun", "index.verb",
         "index.adj", "index.adv", "noun.exc", "verb.exc", "adj.exc", "adv.exc", "index.sense",
         "cntlist.rev")
# The 45 lexicographer files of WordNet 3.0 (lexnames(5WN)): number, name, syntactic category.
LEXNAMES = (
    "adj.all", "adj.pert", "adv.all", "noun.Tops", "noun.act", "noun.animal", "noun.artifact",
    "noun.attribute", "noun.body", "noun.cognition", "noun.communication", "noun.event",
    "noun.feeling", "noun.food", "noun.group", "noun.location", "noun.motive", "noun.object",
    "noun.person", "noun.phenomenon", "noun.plant", "noun.possession", "noun.process",
    "noun.quantity", "noun.relation", "noun.shape", "noun.state", "noun.substance",
    "noun.time", "verb.body", "verb.change", "verb.cognition", "verb.communication",
    "verb.competition", "verb.consumption", "verb.contact", "verb.creation", "verb.emotion",
    "verb.motion", "verb.perception", "verb.possession", "verb.social", "verb.stative",
    "verb.weather", "adj.ppl",
)
_CATEGORY = {"adj": 3, "adv": 4, "noun": 1, "verb": 2}

log = logging.getLogger(__name__)


def lexnames_text() -> str:
    """The `lexnames` file: 'NN<TAB>name<TAB>category' per lexicographer file."""
    return "".join(f"{i:02d}\t{name}\t{_CATEGORY[name.split('.')[0]]}\n"
                   for i, name in enumerate(LEXNAMES))


def prepare(source: Path = DEBIAN_WORDNET, target: Path | None = None) -> Path:
    """Copy WordNet into NLTK's layout under `target` (default: `wordnet_dir()`)."""
    target = target or wordnet_dir()
    missing = [f for f in FILES if not (source / f).is_file()]
    if missing:
        raise FileNotFoundError(
            f"WordNet 3.0 files missing in {source}: {', '.join(missing)} "
            "(apt-get install wordnet-base wordnet-sense-index)")
    root = target.parent.parent
    for d in (root.parent, root, target.parent, target):
        d.mkdir(parents=True, exist_ok=True)
    for d in (root.parent, root, target.parent, target):
        d.chmod(0o700)
    for name in FILES:
        src, dst = source / name, target / name
        if not dst.is_file() or dst.stat().st_size != src.stat().st_size:
            shutil.copyfile(src, dst)
    (target / "lexnames").write_text(lexnames_text())
    return target


def main(argv: list[str] | None = None) -> None:
    """Prepare the directory, check NLTK reads it, and build the prepared index."""
    import argparse

    from cliplens.lexicon.index import DEFAULT_INDEX, ensure_index

    parser = argparse.ArgumentParser(prog="python -m cliplens.lexicon.setup")
    parser.add_argument("--index", type=Path, default=Path(os.environ.get(
        "CLIPLENS_LEXICON_WORDNET_INDEX", DEFAULT_INDEX)), help="prepared index file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        path = prepare()
    except (FileNotFoundError, PermissionError) as e:
        sys.exit(f"[setup] {e}")
    from cliplens.lexicon.wordnet import open_wordnet

    wn = open_wordnet()
    dog = wn.synset("dog.n.01")
    if dog.offset() != 2084071:
        sys.exit("[setup] WordNet is not version 3.0 (dog.n.01 offset mismatch)")
    log.info("[setup] WordNet 3.0 ready in %s", path)
    ensure_index(args.index.expanduser(), check_hash=True)
    log.info("[setup] lexicon WordNet index ready in %s", args.index)


if __name__ == "__main__":
    main()
