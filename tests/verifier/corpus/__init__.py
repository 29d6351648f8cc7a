"""The labelled verifier corpus (issue 8): hand-written (text, reference, expected) cases as YAML data.

`load_corpus` reads every ``*.yaml`` file here; see README.md for the case format.
"""

from .loader import CASE_KINDS, Case, load_corpus

__all__ = ["CASE_KINDS", "Case", "load_corpus"]
