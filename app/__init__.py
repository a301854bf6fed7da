"""akar-gate: screens marketplace listings for the AKAR import policy."""
