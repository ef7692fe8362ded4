"""Analyst codes: named rules that tag comments, as KH Coder's coding rules or Text iQ topic queries do.

A rules file (YAML) maps each code to spaCy ``Matcher`` patterns and ``PhraseMatcher`` phrases::

    codes:
      配送遅延:
        description: 配送・配達が遅い、届かない
        patterns:
          - 配送|配達|発送 … 遅い|遅れる        # shorthand: words by lemma, … = any words in the same sentence
          - 届く ない
          - [{LEMMA: 荷物}, {OP: "*"}, {LEMMA: 来る}, {NORM: 無い}]   # or a raw spaCy Matcher token pattern
        phrases: [届くのが遅い]              # PhraseMatcher on lemmas: 届くのが遅かった matches too

Shorthand words are written in their dictionary form and matched on ``lemma_`` (our readable base form);
a word the tokenizer splits (バーコード = バー + コード) becomes that sequence of tokens; ``word/POS``
adds a UPOS constraint (``表示/VERB``), ``*/ADJ`` is any adjective, ``A|B`` is either, ``ます?`` is
optional (来る ます? ない|ぬ: 来ない, 来ません). Raw patterns are
validated by spaCy (``Matcher(validate=True)``); every problem is reported with the code and the
pattern's number, as one line with the fix (exit 2 from the CLI).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path

from ..config import read_yaml
from ..errors import ConfigError
from .language import Language, make_nlp, populate, spacy, stage_nlp  # noqa: F401  (spaCy without torch)

from spacy.errors import MatchPatternError  # noqa: E402  isort: skip
from spacy.matcher import Matcher, PhraseMatcher  # noqa: E402  isort: skip
from spacy.tokens import Span  # noqa: E402  isort: skip

UPOS = frozenset(["ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON", "PROPN", "PUNCT", "SCONJ", "SYM", "VERB", "X", "SPACE"])
GAP = frozenset({"…", "...", "‥", "*"})
CODE_KEYS = frozenset({"description", "patterns", "phrases"})
MAX_EXPANSIONS = 64
SPAN_KEY = "codes"
EXAMPLE = "configs/codes.example.yaml"


@dataclass
class Code:
    name: str
    description: str = ""
    patterns: list[list[dict]] = field(default_factory=list)  # Matcher token patterns (shorthand expanded)
    phrases: list[str] = field(default_factory=list)


@dataclass
class CodeRules:
    """Validated codes, in file order, and the matchers built from them."""

    path: str
    codes: list[Code]
    matcher: Matcher
    phrase_matcher: PhraseMatcher

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.codes]

    def match(self, doc) -> list[str]:
        """The codes a Doc matches, in file order; sets ``doc._.codes`` and ``doc.spans["codes"]``."""
        strings = doc.vocab.strings
        hits = list(self.matcher(doc)) + list(self.phrase_matcher(doc))
        found = {strings[k] for k, _, _ in hits}
        doc._.codes = [n for n in self.names if n in found]
        doc.spans[SPAN_KEY] = [Span(doc, s, e, label=k) for k, s, e in sorted(hits, key=lambda h: (h[1], h[2], h[0]))]
        return doc._.codes


def _bad(path: str, where: str, what: str, fix: str) -> ConfigError:
    return ConfigError(f"rules file {path}: {where}: {what}.", fix=fix)


def _words_to_tokens(word: str, nlp) -> list[dict]:
    """One shorthand word (dictionary form) as token dicts on LEMMA (several if the tokenizer splits it)."""
    return [{"LEMMA": t.lemma_} for t in nlp(word) if not t.is_space]


def _shorthand(pattern: str, nlp, path: str, where: str) -> list[list[dict]]:
    """「配送|配達 … 遅い|遅れる」 -> Matcher patterns (alternatives that split differently expand)."""
    slots: list[list[list[dict]]] = []
    items = pattern.split()
    if not items:
        raise _bad(path, where, "empty pattern", "write words separated by spaces, e.g. 配送 … 遅い|遅れる")
    for k, item in enumerate(items):
        if item in GAP:
            if k == 0 or k == len(items) - 1 or items[k - 1] in GAP:
                raise _bad(path, where, f"'{item}' (any words) must stand between two words",
                           "write it between words: 配送 … 遅い")
            slots.append([[{"IS_SENT_START": False, "OP": "*"}]])
            continue
        optional = len(item) > 1 and item.endswith("?")
        word, _, pos = (item[:-1] if optional else item).partition("/")
        if pos and pos not in UPOS:
            raise _bad(path, where, f"unknown part of speech '{pos}' in '{item}'",
                       f"use one of {', '.join(sorted(UPOS - {'SPACE'}))}")
        alternatives: list[list[dict]] = []
        single: list[str] = []
        for alt in word.split("|"):
            if not alt:
                raise _bad(path, where, f"empty word in '{item}'", "remove the extra '|'")
            if alt == "*":
                if not pos:
                    raise _bad(path, where, "'*' alone matches any word", "give a part of speech (*/ADJ) or use …")
                alternatives.append([{}])
                continue
            toks = _words_to_tokens(alt, nlp)
            if len(toks) == 1:
                single.append(toks[0]["LEMMA"])
            else:
                alternatives.append(toks)
        if single:
            alternatives.insert(0, [{"LEMMA": single[0]} if len(single) == 1 else {"LEMMA": {"IN": single}}])
        if pos:
            alternatives = [[*alt[:-1], {**alt[-1], "POS": pos}] for alt in alternatives]
        if optional:
            if any(len(alt) != 1 for alt in alternatives):
                raise _bad(path, where, f"'{item}': only a one-token word can be optional", "drop the '?' or split the word")
            alternatives = [[{**alt[0], "OP": "?"}] for alt in alternatives]
        slots.append(alternatives)
    expanded = list(itertools.islice(itertools.product(*slots), MAX_EXPANSIONS + 1))
    if len(expanded) > MAX_EXPANSIONS:
        raise _bad(path, where, f"expands to more than {MAX_EXPANSIONS} token patterns",
                   "split it into several patterns")
    return [[tok for part in combo for tok in part] for combo in expanded]


def _first_problem(err: MatchPatternError) -> str:
    lines = [ln[2:] for ln in str(err).splitlines() if ln.startswith("- ")]
    return lines[0] if lines else str(err).splitlines()[0]


def load_rules(path: str | Path, nlp=None) -> CodeRules:
    """Read and validate a rules file; every problem is a ConfigError naming the code and the pattern."""
    nlp = nlp or stage_nlp()
    path = Path(path)
    shown = str(path)
    data = read_yaml(path, f"rules file {shown}", f"set codes.rules to an existing file (see {EXAMPLE}), or remove it.")
    if not isinstance(data, dict) or not isinstance(data.get("codes"), dict) or not data["codes"]:
        raise ConfigError(f"rules file {shown} must hold a mapping 'codes:' of code names to patterns.",
                          fix=f"start from {EXAMPLE}.")
    extra = set(data) - {"codes"}
    if extra:
        raise ConfigError(f"rules file {shown}: unknown top-level key(s) {', '.join(sorted(map(str, extra)))}.",
                          fix="only 'codes:' is allowed at the top.")
    matcher = Matcher(nlp.vocab, validate=True)
    phrase_matcher = PhraseMatcher(nlp.vocab, attr="LEMMA")
    codes: list[Code] = []
    for name, spec in data["codes"].items():
        name = str(name).strip()
        here = f"code '{name}'"
        if not name or "|" in name:
            raise _bad(shown, here, "a code name must be non-empty and without '|'", "rename the code")
        if isinstance(spec, list):
            spec = {"patterns": spec}
        if not isinstance(spec, dict):
            raise _bad(shown, here, "expected a mapping with patterns / phrases",
                       "write patterns: [...] (and optionally phrases: [...], description: ...)")
        unknown = set(spec) - CODE_KEYS
        if unknown:
            raise _bad(shown, here, f"unknown key(s) {', '.join(sorted(map(str, unknown)))}",
                       f"use {', '.join(sorted(CODE_KEYS))}")
        patterns_in = spec.get("patterns") or []
        phrases_in = spec.get("phrases") or []
        if not isinstance(patterns_in, list) or not isinstance(phrases_in, list):
            raise _bad(shown, here, "patterns and phrases must be lists", "write each item on its own '- ' line")
        if not patterns_in and not phrases_in:
            raise _bad(shown, here, "no patterns and no phrases", "add at least one pattern, e.g. 配送 … 遅い")
        code = Code(name, str(spec.get("description") or ""))
        for k, pat in enumerate(patterns_in, 1):
            where = f"{here}, pattern {k}"
            if isinstance(pat, str):
                token_patterns = _shorthand(pat, nlp, shown, where)
            elif isinstance(pat, list) and pat:
                token_patterns = [pat]
                for tok in pat:
                    pos = tok.get("POS") if isinstance(tok, dict) else None
                    values = pos.get("IN", []) if isinstance(pos, dict) else [pos] if pos else []
                    bad_pos = [v for v in values if v not in UPOS]
                    if bad_pos:
                        raise _bad(shown, where, f"unknown part of speech {bad_pos[0]!r}",
                                   f"use one of {', '.join(sorted(UPOS - {'SPACE'}))}")
            else:
                raise _bad(shown, where, f"expected a shorthand string or a list of token dicts, got {pat!r}",
                           "write 配送 … 遅い, or [{LEMMA: 配送}, {LEMMA: 遅い}]")
            try:
                matcher.add(name, token_patterns)
            except MatchPatternError as err:
                raise _bad(shown, where, f"invalid spaCy Matcher pattern ({_first_problem(err)})",
                           "use token attributes such as LEMMA, NORM, POS, TAG, ORTH and OP "
                           "(https://spacy.io/api/matcher#patterns)") from None
            code.patterns.extend(token_patterns)
        for k, phrase in enumerate(phrases_in, 1):
            if not isinstance(phrase, str) or not phrase.strip():
                raise _bad(shown, f"{here}, phrase {k}", "a phrase must be non-empty text", "write the phrase as text")
            phrase_matcher.add(name, [nlp.make_doc(phrase.strip())])
            code.phrases.append(phrase.strip())
        if any(c.name == name for c in codes):  # pragma: no cover - YAML mappings already refuse duplicate keys
            raise _bad(shown, here, "defined twice", "merge the two definitions")
        codes.append(code)
    populate()
    return CodeRules(shown, codes, matcher, phrase_matcher)


class CodeMatcher:
    """The ``vocnlp_codes`` component: ``doc._.codes`` (names, in file order) and ``doc.spans["codes"]``."""

    def __init__(self, nlp, rules: str) -> None:
        self.rules = load_rules(rules, nlp)

    def __call__(self, doc):
        self.rules.match(doc)
        return doc


@Language.factory("vocnlp_codes", default_config={"rules": EXAMPLE})
def make_code_matcher(nlp, name: str, rules: str) -> CodeMatcher:
    return CodeMatcher(nlp, rules)


