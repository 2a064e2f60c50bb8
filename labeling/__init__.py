"""Labeling workflow for kzclassify: Label Studio tasks, push, pull, validate."""
