"""spaCy on vocnlp's Japanese morphology: the Language, its components, analyst codes, and :func:`load`.

Importing this package imports spaCy (not torch, see :func:`.language.import_spacy`); ``import vocnlp``
does not import it.
"""

from .language import FugashiTokenizer, JapaneseFugashi, Sentiment, make_nlp, morphs_of, stage_nlp


def load(*args, **kwargs):
    """See :func:`vocnlp.nlp.components.load`."""
    from .components import load as _load

    return _load(*args, **kwargs)


__all__ = ["FugashiTokenizer", "JapaneseFugashi", "Sentiment", "load", "make_nlp", "morphs_of", "stage_nlp"]
