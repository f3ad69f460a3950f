"""Morgana: the runtime library of Python unikernels (and the host-side tool)."""
