"""Image cubes: the ``(time, y, x, band)`` contract and its producers.

:mod:`~intake_webcoos.cube.contract` holds the contract, :mod:`~intake_webcoos.cube.stills`
and :mod:`~intake_webcoos.cube.video` produce cubes from stills and clips,
:mod:`~intake_webcoos.cube.decode` turns bytes into frames, and
:mod:`~intake_webcoos.cube.backend` is the xarray engine.
"""
