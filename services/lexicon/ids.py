"""The three forms of a synset id, the one definition every service reads.

A name ("dog.n.01", NLTK's reading: the lemma's n-th sense in that part of speech), an ImageNet
wnid ("n02084071") or an offset with its part of speech ("02084071-n"). Pure text: no WordNet
here, so the explanation service tells ids from free-text labels without loading anything.
"""

from __future__ import annotations

import re

NAME = re.compile(r"^(.+)\.([nvasr])\.(\d{1,3})$")
WNID = re.compile(r"^([nvasr])(\d{8})$")
OFFSET = re.compile(r"^(\d{1,8})-([nvasr])$")


def is_synset_id(text: str) -> bool:
    """Whether `text` has one of the three synset id forms (it may still be unknown)."""
    text = text.strip()
    return bool(NAME.match(text) or WNID.match(text) or OFFSET.match(text))
