"""Models: classifiers and scorers used by the classify and sentiment stages."""
