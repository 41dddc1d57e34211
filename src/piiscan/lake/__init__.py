"""The lake layer: storage backends, lake keys, state I/O and the clock (the outside world)."""
