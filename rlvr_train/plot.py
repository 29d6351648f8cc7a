"""``rlvr-train plot DIR``: training curves from ``metrics.jsonl`` as one PNG.

Panel 1 puts train accuracy (on the training example) and eval accuracy (held-out benchmarks) on one
axis: the paper's central observation is that test accuracy keeps rising after training accuracy
saturates ("post-saturation generalization"), which is only visible with both on the same plot.
"""

from __future__ import annotations

from pathlib import Path

from rlvr_train.metrics_io import read_metrics, series

PANELS: tuple[tuple[str, tuple[tuple[str, str, str], ...]], ...] = (
    ("accuracy", (("train", "accuracy", "train accuracy"), ("eval", "eval_accuracy", "eval accuracy"))),
    ("reward", (("train", "reward_mean", "mean reward"),)),
    ("format", (("train", "format_rate", "boxed rate"), ("train", "truncation_rate", "truncation rate"))),
    ("entropy", (("train", "entropy", "token entropy"),)),
    ("KL to reference (k3)", (("train", "kl", "KL"),)),  # own axis: ~1e-3, entropy ~1
    ("response length", (("train", "response_length", "mean tokens"),)),
)


def plot_run(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Write the curves of a run to ``out`` (default ``<run_dir>/curves.png``) and return the path."""
    import matplotlib

    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    rows = read_metrics(run_dir)
    if not any(row.get("kind", "train") == "train" for row in rows):
        raise ValueError(f"{run_dir}: metrics hold no training steps to plot")
    target = Path(out) if out is not None else Path(run_dir) / "curves.png"
    fig, axes = plt.subplots(2, 3, figsize=(15, 7), constrained_layout=True)
    for ax, (title, lines) in zip(axes.flat, PANELS, strict=True):
        for kind, key, label in lines:
            steps, values = series(rows, key, kind)
            if steps:
                ax.plot(steps, values, marker="o" if kind == "eval" else None, markersize=3, label=label)
        ax.set_title(title)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend(fontsize=8)
    fig.suptitle(Path(run_dir).name)
    fig.savefig(target, dpi=110)
    plt.close(fig)
    return target
