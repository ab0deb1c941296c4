"""The ``intake-webcoos`` command line, and what it is made of: downloads, maps, the demo."""
