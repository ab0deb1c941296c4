"""What is computed from image cubes: per-pixel statistics streamed over frames, timestacks."""
