"""The one way MDS writes a matplotlib figure a person will look at: its folder made, the file written (or
the PNG bytes returned, for a reply), the figure closed."""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["figure_png", "save_figure"]


def save_figure(fig: Figure, path: str | Path, **savefig: Any) -> Path:
    """Write ``fig`` to ``path`` (its folders created; ``savefig`` options such as ``dpi`` passed on), close
    it (pyplot keeps every open figure alive) and return the path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    _write_and_close(fig, out, **savefig)
    return out


def figure_png(fig: Figure, **savefig: Any) -> bytes:
    """``fig`` as PNG bytes (for a reply rather than a file), closed as :func:`save_figure` closes it."""
    buffer = io.BytesIO()
    _write_and_close(fig, buffer, format="png", **savefig)
    return buffer.getvalue()


def _write_and_close(fig: Figure, target: Path | io.BytesIO, **savefig: Any) -> None:
    import matplotlib.pyplot as plt

    try:
        fig.savefig(target, **savefig)
    finally:
        plt.close(fig)  # pyplot keeps every open figure alive
