"""The read-out as a PNG: did the ranking hold (lift by predicted-uplift decile), and realized vs predicted."""

from __future__ import annotations

from core.figures import figure_png
from models.campaign._readout import Readout

__all__ = ["readout_png"]


def readout_png(readout: Readout, title: str = "") -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [2, 1]})
    bins = [b for b in readout.bins if b.lift is not None]
    if bins:
        x = [b.bin + 1 for b in bins]
        lift = [b.lift for b in bins]
        err = [[b.lift - b.ci_low for b in bins], [b.ci_high - b.lift for b in bins]]  # type: ignore[operator]
        left.errorbar(x, lift, yerr=err, fmt="o", capsize=3, label="realized lift (treated - holdout)")
        left.plot(x, [b.predicted_uplift for b in bins], "s--", color="tab:orange", label="predicted uplift")
        left.axhline(0.0, color="grey", lw=0.8)
        left.legend(fontsize=8)
    else:
        left.text(0.5, 0.5, readout.message or "no decile has outcomes in both arms", ha="center", va="center",
                  wrap=True, transform=left.transAxes)
    left.set_xlabel("predicted-uplift decile of the targeted users (1 = lowest)")
    left.set_ylabel("outcome per user")
    left.set_title("did the ranking hold?")
    names, values, lows, highs = ["predicted"], [readout.predicted_incremental], [readout.predicted_ci[0]], \
        [readout.predicted_ci[1]]
    if readout.realized_incremental is not None and readout.realized_ci is not None:
        names.append("realized")
        values.append(readout.realized_incremental)
        lows.append(readout.realized_ci[0])
        highs.append(readout.realized_ci[1])
    right.bar(names, values, yerr=[[v - lo for v, lo in zip(values, lows, strict=True)],
                                   [hi - v for v, hi in zip(values, highs, strict=True)]],
              capsize=6, color=["tab:orange", "tab:blue"][:len(names)])
    right.set_title("incremental outcome (95% interval)")
    if not readout.srm_ok:
        fig.text(0.5, 0.01, "SAMPLE RATIO MISMATCH: read with care", color="red", ha="center")
    fig.suptitle(title or f"campaign {readout.campaign_id}")
    fig.tight_layout()
    return figure_png(fig, dpi=110)
