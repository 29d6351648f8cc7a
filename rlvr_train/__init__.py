"""rlvr_train: a compact GRPO trainer for 1-shot RLVR whose reward is ``rlvr_eval.verify``."""

__version__ = "0.1.0"
