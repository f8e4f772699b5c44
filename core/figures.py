"""The one way MDS writes a matplotlib figure a person will look at: its folder made, the file written, the
figure closed."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["save_figure"]


def save_figure(fig: Figure, path: str | Path, **savefig: Any) -> Path:
    """Write ``fig`` to ``path`` (its folders created; ``savefig`` options such as ``dpi`` passed on), close
    it (pyplot keeps every open figure alive) and return the path."""
    import matplotlib.pyplot as plt

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, **savefig)
    plt.close(fig)
    return out
