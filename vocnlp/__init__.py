"""vocnlp: weekly analysis of Japanese customer feedback.

    import vocnlp
    result = vocnlp.analyze("export.csv")   # or a pandas DataFrame
    result.issues.head()                    # items, segments, topics, issues: DataFrames
    result.save("runs/W47")                 # the run folder `vocnlp run` writes

Importing vocnlp is cheap: the pipeline loads on first use of ``analyze``, and the topic libraries
(BERTopic, scikit-learn) only when topics are fitted.
"""

__version__ = "0.1.0"

__all__ = ["Analysis", "__version__", "analyze", "load"]

_LAZY = {"analyze": "pipeline", "Analysis": "pipeline", "load": "nlp"}  # spaCy is imported only when load is used


def __getattr__(name: str):
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'vocnlp' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
