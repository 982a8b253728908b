"""Developer tooling that is not shipped in the ``rheostat`` distribution."""
