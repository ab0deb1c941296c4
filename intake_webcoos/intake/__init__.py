"""The intake faces: intake 2 readers, intake v1 sources and the catalog of cameras.

``import intake`` imports :mod:`intake_webcoos.intake.readers` (the ``intake.imports``
entry point), so nothing here imports anything heavy at module level.
"""
