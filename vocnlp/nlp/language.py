"""A Japanese spaCy ``Language`` on our own morphology (fugashi + unidic-lite), without SudachiPy.

``spacy.blank("ja")`` builds spaCy's ``JapaneseTokenizer``, which imports SudachiPy and fails without it
(and SudachiPy would be a second tokenizer beside fugashi). :class:`JapaneseFugashi` is a ``Language``
whose tokenizer is :class:`FugashiTokenizer`: one fugashi analysis (:func:`vocnlp.japanese.analyse`,
cached per text) becomes a ``Doc`` whose tokens carry

* ``lemma_``: our readable base form (``orthBase``: する, not 為る; no ``-exhaust`` glosses),
* ``norm_``: the UniDic lemma (無い for ない/無い, 遅い for おそい): orthographic variants share it,
* ``tag_``: the full UniDic POS (名詞-普通名詞-サ変可能),
* ``pos_``: UPOS, mapped with spaCy's own UniDic tables for Japanese (``spacy.lang.ja``; pure data,
  no SudachiPy),

and ``doc._.morphs`` gives the :class:`~vocnlp.japanese.Morph` tuple the morphology functions take.
Whitespace that MeCab skips becomes ``SPACE`` tokens (or a token's trailing space), so ``doc.text`` is
the input exactly.

Importing spaCy imports thinc, which imports torch when it is installed (≈ 4 s, for GPU ops we never
use): :func:`import_spacy` keeps torch out while thinc loads; torch imports normally later if another
part of the program needs it.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from typing import NamedTuple

import numpy

from ..japanese import Morph, analyse
from ..text import normalize


def import_spacy():
    """``import spacy`` without thinc importing torch (see the module docstring)."""
    if "thinc.compat" not in sys.modules and "torch" not in sys.modules:
        sys.modules["torch"] = None  # type: ignore[assignment]  # makes `import torch` raise ImportError
        try:
            import thinc.compat  # noqa: F401
        finally:
            if sys.modules.get("torch", 0) is None:
                del sys.modules["torch"]
    import spacy

    return spacy


spacy = import_spacy()

from spacy.attrs import LEMMA, NORM, TAG  # noqa: E402
from spacy.lang.ja.stop_words import STOP_WORDS  # noqa: E402  (after import_spacy)
from spacy.lang.ja.tag_bigram_map import TAG_BIGRAM_MAP  # noqa: E402
from spacy.lang.ja.tag_map import TAG_MAP  # noqa: E402
from spacy.lang.ja.tag_orth_map import TAG_ORTH_MAP  # noqa: E402
from spacy.language import BaseDefaults, Language  # noqa: E402
from spacy.symbols import POS, SPACE, X  # noqa: E402
from spacy.tokens import Doc, Span  # noqa: E402
from spacy.util import DummyTokenizer, load_config_from_str, registry  # noqa: E402

SPACE_TAG = "空白"
MORPHS_KEY = "vocnlp_morphs"  # doc.user_data: the Morph tuple the Doc was built from
TEXT_KEY = "vocnlp_text"  # doc.user_data: doc.text, which spaCy otherwise rebuilds from the tokens on every access
TOKENIZER_NAME = "vocnlp.fugashi_tokenizer.v1"


class Sentiment(NamedTuple):
    """``doc._.sentiment`` and each segment span's ``span._.sentiment``."""

    label: str  # negative | neutral | positive
    score: float  # [-1, 1]


def populate() -> None:
    """Register the Doc/Span extensions once (spaCy's extensions are process-global)."""
    for name, kw in {
        "morphs": {"getter": lambda doc: doc.user_data.get(MORPHS_KEY) or analyse(text_of(doc))},
        "sentiment": {"default": None},
        "sentiment_evidence": {"default": ""},
        "cx_dimensions": {"default": None},
        "cx_scores": {"default": None},
        "journey_stage": {"default": None},
        "journey_confidence": {"default": None},
        "codes": {"default": None},
        "embedding": {"default": None},
    }.items():
        if not Doc.has_extension(name):
            Doc.set_extension(name, **kw)
    for name in ("sentiment", "weight"):
        if not Span.has_extension(name):
            Span.set_extension(name, default=None)


def _tag_pos(tag: str) -> int:
    while tag:
        if tag in TAG_MAP:
            return TAG_MAP[tag][POS]
        tag = tag.rpartition("-")[0]
    return 0  # unknown: X


@lru_cache(maxsize=100_000)
def _upos(orth: str, tag: str, next_tag: str | None) -> tuple[int, int | None]:
    """UPOS symbol for a token (and, for some bigrams, for the next token), as spaCy's Japanese does it."""
    if tag == SPACE_TAG:
        return SPACE, None
    if tag in TAG_ORTH_MAP and orth in TAG_ORTH_MAP[tag]:
        return TAG_ORTH_MAP[tag][orth], None
    if next_tag and (tag, next_tag) in TAG_BIGRAM_MAP:
        cur, nxt = TAG_BIGRAM_MAP[(tag, next_tag)]
        return (cur if cur is not None else _tag_pos(tag)) or X, nxt
    return _tag_pos(tag) or X, None


_CONTEXT_TAGS = frozenset(TAG_ORTH_MAP) | frozenset(a for a, _ in TAG_BIGRAM_MAP)


class FugashiTokenizer(DummyTokenizer):
    """text -> Doc from one fugashi analysis. ``normalize=True`` first applies vocnlp's text normalisation
    (NFKC, whitespace, repeats, URLs: what a run's clean stage does), for callers that pass raw text."""

    def __init__(self, vocab, normalize: bool = False) -> None:
        self.vocab = vocab
        self.normalize = normalize
        self._cache: dict[tuple[str, str, str, str], list] = {}

    def __reduce__(self):
        return FugashiTokenizer, (self.vocab, self.normalize)

    def _attrs(self, surface: str, tag: str, lemma: str, norm: str) -> list:
        """[TAG, POS, LEMMA, NORM] ids for one token, cached: the same morpheme recurs across texts."""
        key = (surface, tag, lemma, norm)
        row = self._cache.get(key)
        if row is None:
            add = self.vocab.strings.add
            row = self._cache[key] = [add(tag), _upos(surface, tag, None)[0], add(lemma), add(norm)]
        return row

    def __call__(self, text: str) -> Doc:
        if self.normalize:
            text = normalize(text)
        morphs = analyse(text)
        words: list[str] = []
        spaces: list[bool] = []
        rows: list[list] = []
        context: list[int] = []  # tokens whose UPOS depends on the word or the next tag
        pos = 0
        for m in morphs:
            if m.start != pos:
                if not m.surface or m.start < pos or not text.startswith(m.surface, m.start):
                    continue  # pragma: no cover - MeCab surfaces are slices of the text; doc.text stays exact
                w = text[pos:m.start]  # whitespace MeCab skipped
                if w == " " and words and not spaces[-1]:
                    spaces[-1] = True
                else:
                    words.append(w)
                    spaces.append(False)
                    rows.append(self._attrs(w, SPACE_TAG, w, w))
            pos = m.start + len(m.surface)
            tag = m.tag or m.pos1 or "補助記号"
            if tag in _CONTEXT_TAGS:
                context.append(len(words))
            words.append(m.surface)
            spaces.append(False)
            rows.append(self._attrs(m.surface, tag, m.base or m.surface, m.lemma or m.surface))
        if pos < len(text):
            w = text[pos:]
            words.append(w)
            spaces.append(False)
            rows.append(self._attrs(w, SPACE_TAG, w, w))
        doc = Doc(self.vocab, words=words, spaces=spaces, user_data={MORPHS_KEY: morphs, TEXT_KEY: text})
        if not words:
            return doc
        arr = numpy.array(rows, dtype="uint64")
        if context:
            strings, n = self.vocab.strings, len(words)
            for i in context:
                cur, nxt = _upos(words[i], strings[int(arr[i, 0])], strings[int(arr[i + 1, 0])] if i + 1 < n else None)
                arr[i, 1] = cur
                if nxt is not None:
                    arr[i + 1, 1] = nxt
        doc.from_array([TAG, POS, LEMMA, NORM], arr)  # one call instead of four per-token setters
        return doc


@registry.tokenizers(TOKENIZER_NAME)
def create_fugashi_tokenizer(normalize: bool = False):
    def make(nlp: Language) -> FugashiTokenizer:
        return FugashiTokenizer(nlp.vocab, normalize=normalize)

    return make


DEFAULT_CONFIG = f"""
[nlp]

[nlp.tokenizer]
@tokenizers = "{TOKENIZER_NAME}"
normalize = false
"""


class JapaneseFugashiDefaults(BaseDefaults):
    config = load_config_from_str(DEFAULT_CONFIG)
    stop_words = STOP_WORDS
    writing_system = {"direction": "ltr", "has_case": False, "has_letters": False}


class JapaneseFugashi(Language):
    """Japanese on fugashi + unidic-lite. ``lang`` stays "ja" so language-keyed spaCy data applies."""

    lang = "ja"
    Defaults = JapaneseFugashiDefaults


def make_nlp(normalize: bool = False) -> JapaneseFugashi:
    """A new pipeline with only the tokenizer; add components with ``nlp.add_pipe``."""
    populate()
    from . import segmenter  # noqa: F401  (registers the vocnlp_segmenter factory)

    return JapaneseFugashi.from_config({"nlp": {"tokenizer": {"@tokenizers": TOKENIZER_NAME, "normalize": normalize}}})


@lru_cache(maxsize=1)
def stage_nlp() -> JapaneseFugashi:
    """The pipeline the run's stages share (tokenizer only; texts arrive normalised by the clean stage)."""
    return make_nlp()


def morphs_of(doc: Doc) -> tuple[Morph, ...]:
    return doc._.morphs


def text_of(doc: Doc) -> str:
    """``doc.text`` without rebuilding it from the tokens (a Doc made by our tokenizer remembers it)."""
    return doc.user_data.get(TEXT_KEY) or doc.text
