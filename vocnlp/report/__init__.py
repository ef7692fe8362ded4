"""The HTML report: one self-contained file (inline CSS, no scripts or fonts from the network)."""
