"""The verifier: format layer (extraction) and content layer (equivalence), kept apart."""
