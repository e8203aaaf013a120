"""Business logic of PFMON: trade derivation and statistics, free of AWS and HTTP."""
