"""vocnlp: weekly analysis of Japanese customer feedback."""

__version__ = "0.1.0"


def load(*args, **kwargs):  # a spaCy pipeline of vocnlp's components; spaCy is imported only when called
    return __import__("vocnlp.nlp", fromlist=["load"]).load(*args, **kwargs)
