"""The labelled verifier corpus (issue 8): hand-written (text, reference, expected) cases as YAML data.

`load_corpus` reads every ``*.yaml`` file here (see README.md for the case format); `dev` reads a
real-completions file with stable row ids and the table of rows whose labels we checked by reading.
"""

from .dev import CheckedRow, DevRow, load_checked, read_dev_rows
from .loader import CASE_KINDS, Case, CorpusError, load_corpus

__all__ = [
    "CASE_KINDS",
    "Case",
    "CheckedRow",
    "CorpusError",
    "DevRow",
    "load_checked",
    "load_corpus",
    "read_dev_rows",
]
