"""Opening WordNet 3.0 from the directory that `scripts/setup.sh` prepares.

NLTK cannot download its data on our machines; the set-up copies Debian's WordNet 3.0 files
(the same synset offsets as ImageNet wnids) plus a `lexnames` file into a directory private to
its owner, which NLTK 3.10 requires.
"""

from __future__ import annotations

import os
import warnings
from functools import cache
from pathlib import Path
from typing import Any

DEFAULT_NLTK_DATA = Path.home() / ".cache" / "cliplens" / "nltk_data"


def wordnet_dir() -> Path:
    """Where WordNet lives: `$CLIPLENS_NLTK_DATA/corpora/wordnet` (default under ~/.cache)."""
    root = Path(os.environ.get("CLIPLENS_NLTK_DATA", DEFAULT_NLTK_DATA))
    return root / "corpora" / "wordnet"


@cache
def open_wordnet() -> Any:
    """An NLTK WordNet reader over the prepared directory; fails with the path it looked in."""
    import nltk.data
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

    path = wordnet_dir()
    if not (path / "data.noun").is_file() or not (path / "lexnames").is_file():
        raise FileNotFoundError(
            f"WordNet 3.0 not found in {path} (need data.noun and lexnames); "
            "run `bash scripts/setup.sh` or set CLIPLENS_NLTK_DATA")
    # NLTK 3.10 only opens files under a root listed in nltk.data.path.
    root = str(path.parent.parent)
    if root not in nltk.data.path:
        nltk.data.path.insert(0, root)
    with warnings.catch_warnings():  # "multilingual functions are not available": expected
        warnings.simplefilter("ignore", UserWarning)
        return WordNetCorpusReader(str(path), None)
