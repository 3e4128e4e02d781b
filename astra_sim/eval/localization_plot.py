"""The localization report's picture: accuracy per kind side by side, and error CDFs."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from astra_sim.eval.localization import ACC_POS_M, Scores


def save_localization_plot(result: dict[str, dict[str, Scores]], path: str | Path) -> Path:
    """Bars of 1 m / 5 deg accuracy per kind and localizer, then one position-error CDF per
    kind: the bars give the headline, the curves show whether a gap is near the threshold."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kinds = list(result)
    names = list(next(iter(result.values())))
    fig, axes = plt.subplots(1, 1 + len(kinds), figsize=(4.2 * (1 + len(kinds)), 3.6))
    ax = axes[0]
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        acc = [result[k][name].summary()["acc_1m_5deg"] for k in kinds]
        ax.bar(np.arange(len(kinds)) + (i - (len(names) - 1) / 2) * width, acc, width, label=name)
    ax.set_xticks(np.arange(len(kinds)), kinds)
    ax.set_ylim(0, 1)
    ax.set_ylabel("accuracy (1 m and 5 deg)")
    ax.legend(fontsize=7)
    for ax, kind in zip(axes[1:], kinds, strict=True):
        for name in names:
            err = np.sort(np.asarray(result[kind][name].pos_err))
            frac = np.arange(1, len(err) + 1) / len(err)
            ax.step(np.minimum(err, 1e3), frac, where="post", label=name)
        ax.axvline(ACC_POS_M, color="grey", lw=0.8, ls="--")
        ax.set_xscale("log")
        ax.set_xlim(0.01, 50)
        ax.set_ylim(0, 1)
        ax.set_title(f"{kind}: position error CDF", fontsize=9)
        ax.set_xlabel("position error (m)")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp" + path.suffix)
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)
    return path
