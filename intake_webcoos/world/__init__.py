"""Pixels to metres: camera geometry and its files, GCP solving, rectification, shorelines."""
