"""transfer: each width's learning-rate optimum over seeds, and its move with width."""
import math

import numpy as np
import pandas as pd
import pytest

from initlab import transfer
from initlab._validation import InitlabError
from initlab.data import get_dataset
from initlab.network import Network
from initlab.options import TrainOptions
from initlab.training import train

GRID = np.arange(-8.0, -1.0)  # log2 learning rates


def bowl(center, x=GRID):
    """A loss whose log is a parabola in log2(lr) with its minimum at `center`."""
    return np.exp(0.7 * (x - center) ** 2 - 3.0)


@pytest.mark.parametrize("center", [-5.0, -4.7, -4.3, -3.5])
def test_the_optimum_of_a_parabola_in_log_loss_is_its_vertex(center):
    best, edge = transfer.best_log2_lr(GRID, bowl(center))
    assert best == pytest.approx(center, abs=1e-12) and not edge


def test_the_refinement_moves_at_most_half_a_step_and_edges_are_flagged():
    losses = np.array([1.0, 1.0, 1.0, 0.9999, 0.5, 0.9999, 1.0])
    assert transfer.best_log2_lr(GRID, losses) == (GRID[4], False)  # symmetric: the grid point
    tied = np.array([1.0, 1.0, 1.0, 0.5, 0.5, 9.0, 9.0])  # the farthest a lowest middle point lets the vertex go
    assert transfer.best_log2_lr(GRID, tied)[0] == pytest.approx(GRID[3] + 0.5, abs=1e-12)
    assert transfer.best_log2_lr(GRID, bowl(-9.0)) == (GRID[0], True)  # the optimum is below the grid
    assert transfer.best_log2_lr(GRID, bowl(0.0)) == (GRID[-1], True)
    diverged = np.array([0.4, 0.3, 0.2, 0.1, math.inf, math.inf, math.inf])
    assert transfer.best_log2_lr(GRID, diverged) == (GRID[3], False)  # a diverged neighbour: no parabola
    best, edge = transfer.best_log2_lr(GRID, np.full(GRID.size, np.nan))
    assert math.isnan(best) and edge


def synthetic(centers):
    """A frame with runs at GRID for each (name, width) -> per-seed optimum centers."""
    rows = []
    for (name, width), per_seed in centers.items():
        for seed, c in enumerate(per_seed):
            rows += [(name, "adam", width, 2.0**x, seed, v) for x, v in zip(GRID, bowl(c))]
    return pd.DataFrame(rows, columns=["parametrization", "optimizer", "width", "learning_rate", "seed", "final_train_cost"])


def test_optima_and_shifts_recover_the_optima_they_were_given():
    slope = -0.6
    centers = {("sp", w): [-3.0 + slope * k + d for d in (-0.1, 0.0, 0.25)] for k, w in enumerate((16, 32, 64, 128))}
    centers.update({("mup", w): [-4.0 + d for d in (-0.2, 0.1, 0.1)] for w in (16, 32, 64, 128)})
    table = transfer.optima(synthetic(centers))
    for (name, width), per_seed in centers.items():
        row = table[(table.parametrization == name) & (table.width == width)].iloc[0]
        assert row.log2_lr == pytest.approx(np.mean(per_seed), abs=1e-9)
        assert row.log2_lr_std == pytest.approx(np.std(per_seed, ddof=1), abs=1e-9)
        assert row.seeds == 3 and not row.at_edge
    shifts = transfer.shifts(table).set_index("parametrization")
    assert shifts.loc["sp", "slope"] == pytest.approx(slope, abs=1e-9)
    assert shifts.loc["sp", "shift"] == pytest.approx(3 * slope, abs=1e-9) and shifts.loc["sp", "doublings"] == 3
    assert shifts.loc["mup", "slope"] == pytest.approx(0.0, abs=1e-9)
    assert not shifts["at_edge"].any()


def test_an_optimum_outside_the_grid_marks_its_row_and_its_shift():
    table = transfer.optima(synthetic({("sp", 16): [-4.0, -4.0], ("sp", 64): [-4.0, -12.0]}))
    assert list(table.at_edge) == [False, True] and transfer.shifts(table).at_edge.all()


def test_a_sweeps_frame_reads_with_its_replicate_column_and_diverged_runs_count_as_worst():
    frame = synthetic({("mup", 16): [-4.0, -4.0]}).rename(columns={"seed": "replicate"})
    frame.loc[frame.learning_rate == 2.0**-4, "final_train_cost"] = np.nan  # the best rate diverged (stored as None)
    row = transfer.optima(frame, seed="replicate").iloc[0]
    assert row.seeds == 2 and row.log2_lr in (-5.0, -3.0)  # a neighbour of the diverged optimum, unrefined


def test_train_grid_rows_are_each_network_trained_alone():
    rates = (0.01, 0.05)
    frame = transfer.train_grid(("sp", "mup"), "adam", (8, 16), rates, seeds=(0, 3), iterations=15, dataset="circles",
                                batch_size=None, engine="numpy")
    assert len(frame) == 2 * 2 * 2 * 2 and not frame.diverged.any()
    data = get_dataset("circles")
    for row in frame.itertuples():
        parametrization = None if row.parametrization == "sp" else "mup(base_width=8, optimizer=adam)"
        network = Network((2, row.width, row.width, 1), parametrization=parametrization)
        run = train(network, network.init("he_normal", rng=row.seed), data.X_train, data.Y_train,
                    TrainOptions(row.learning_rate, 15, 15, "adam"), engine="numpy")
        assert row.final_train_cost == pytest.approx(run.cost(data.X_train, data.Y_train), rel=1e-12)
    # at the base width muP is the standard network: the same numbers
    base = frame[frame.width == 8].pivot_table(index=["learning_rate", "seed"], columns="parametrization", values="final_train_cost")
    np.testing.assert_allclose(base["mup"], base["sp"], rtol=1e-12)
    wide = frame[frame.width == 16].pivot_table(index=["learning_rate", "seed"], columns="parametrization", values="final_train_cost")
    assert not np.allclose(wide["mup"], wide["sp"])


def test_a_diverged_run_is_an_infinite_loss():
    frame = transfer.train_grid(("sp",), "gd", (4, 8), (0.1, 1e300), seeds=(0,), iterations=5, dataset="circles",
                                batch_size=None, engine="numpy")
    assert list(frame[frame.learning_rate == 1e300].final_train_cost) == [math.inf, math.inf]
    assert frame[frame.learning_rate == 1e300].diverged.all()


@pytest.mark.parametrize("kwargs, match", [
    ({"widths": (8,)}, "The 'widths' parameter must be 2 or more different values > 0. Got"),
    ({"widths": (8, 8)}, "The 'widths' parameter must be 2 or more"),
    ({"learning_rates": (0.1, -1)}, "The 'learning_rates' parameter must be 2 or more"),
    ({"seeds": ()}, "The 'seeds' parameter must be 1 or more ints >= 0"),
    ({"optimizer": "adamw"}, "The 'optimizer' parameter must be one of"),
    ({"iterations": 0}, "The 'iterations' parameter must be an int >= 1"),
    ({"parametrizations": ("mpu",)}, "Unknown parametrization 'mpu'"),
])
def test_bad_grids(kwargs, match):
    args = {"parametrizations": ("sp",), "optimizer": "gd", "widths": (4, 8), "learning_rates": (0.1, 0.2), "seeds": (0,),
            "iterations": 2, "dataset": "circles", "batch_size": None, **kwargs}
    with pytest.raises(InitlabError, match=match):
        transfer.train_grid(**args)
