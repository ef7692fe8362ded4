"""vocnlp: weekly analysis of Japanese customer feedback."""

__version__ = "0.1.0"
