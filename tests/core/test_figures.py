import matplotlib
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from core.figures import figure_png, save_figure  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _figure() -> plt.Figure:
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    return fig


def test_save_figure_makes_folders_writes_the_file_and_closes_the_figure(tmp_path):
    fig = _figure()
    out = save_figure(fig, tmp_path / "a" / "b" / "plot.png", dpi=50)
    assert out == tmp_path / "a" / "b" / "plot.png"
    assert out.read_bytes()[:8] == PNG_MAGIC
    assert fig.number not in plt.get_fignums()


def test_figure_png_returns_png_bytes_and_closes_the_figure():
    fig = _figure()
    assert figure_png(fig, dpi=50)[:8] == PNG_MAGIC
    assert fig.number not in plt.get_fignums()


def test_a_failed_write_still_closes_the_figure(tmp_path):
    fig = _figure()
    with pytest.raises(ValueError, match="not_a_format"):
        save_figure(fig, tmp_path / "plot.png", format="not_a_format")
    assert fig.number not in plt.get_fignums()
