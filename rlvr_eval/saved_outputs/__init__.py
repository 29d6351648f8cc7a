"""Other tools' saved outputs, re-graded by rlvr (``rlvr-eval rescore PATH``).

Formats (one reader module each, every field name documented there with where it was checked):

- ``qwen``: the Qwen2.5-Math evaluation harness (``idx``, ``question``, ``gt``, ``code``, ``pred``,
  ``score``);
- ``lm-eval``: lm-evaluation-harness ``--log_samples`` files (``samples_<task>_<date>.jsonl``);
- ``lighteval``: lighteval detail files (``details_<task>_<date>.parquet``, 0.9 and 0.10+ layouts);
- ``jsonl``: plain lines of an item reference (id / idx / question) and completion(s), rlvr's own
  samples.jsonl included.

``discover`` finds and classifies files, ``ItemMatcher`` matches rows to benchmark items and
``rescore_outputs`` grades them into a new run directory.
"""

from rlvr_eval.saved_outputs.discover import detect_format, discover, task_from_name
from rlvr_eval.saved_outputs.matching import ItemMatcher, normalize_question
from rlvr_eval.saved_outputs.regrade import Regraded, rescore_outputs
from rlvr_eval.saved_outputs.rows import FORMATS, FormatName, OutputRow, OutputsError

__all__ = [
    "FORMATS",
    "FormatName",
    "ItemMatcher",
    "OutputRow",
    "OutputsError",
    "Regraded",
    "detect_format",
    "discover",
    "normalize_question",
    "rescore_outputs",
    "task_from_name",
]
