"""Figures: what they draw, checked on the matplotlib objects (not on pixels)."""
import numpy as np
import pandas as pd
import pytest

from initlab import plots


def _stats(n, seed=0):
    """A seed_statistics-shaped table of n configurations."""
    rng = np.random.default_rng(seed)
    mean = rng.uniform(0.4, 1.0, n)
    return pd.DataFrame({"init_label": ["he_normal" if k % 2 else "xavier_normal" for k in range(n)],
                         "weight_scale": np.arange(n) * 0.01, "mean": mean, "std": 0.01, "count": 3,
                         "low": mean - 0.02, "high": mean + 0.02})


def _labels(fig):
    return [t.get_text() for t in fig.axes[0].get_yticklabels()]


def test_a_few_configurations_are_all_drawn():
    fig = plots.seed_figure(_stats(36))
    assert len(_labels(fig)) == 36 and not fig.axes[0].get_title()
    assert "he_normal · 0.35" in _labels(fig)  # (np.arange(36) * 0.01)[35] is 0.35000000000000003


@pytest.mark.parametrize("n", [41, 1000])
def test_many_configurations_draw_the_best_and_the_worst_and_say_so(n):
    stats = _stats(n)
    fig = plots.seed_figure(stats)
    labels = _labels(fig)
    assert len(labels) == plots.SEED_ROWS
    assert fig.get_size_inches()[1] < 15  # a readable page, not 30 000 pixels
    ranked = stats.sort_values("mean", ascending=False)
    expected = [f"{r.init_label} · {r.weight_scale:.6g}" for r in ranked.itertuples()]
    assert labels[:20] == expected[:20] and labels[20:] == expected[-20:]
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert f"… {n - 40} configurations not shown …" in texts
    assert fig.axes[0].get_title() == f"40 of {n} configurations: the 20 best and 20 worst by mean"
