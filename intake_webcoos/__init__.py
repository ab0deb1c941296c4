"""intake_webcoos: the WebCOOS coastal webcam archive as PyData objects."""

__version__ = "0.1.0.dev0"
