"""The `initlab` command, run as a user would: in a temporary folder, as a real process."""
import json
import os
import re
import subprocess
import sys

import matplotlib.image
import numpy as np
import pytest
from notebook_values import COSTS

from initlab.cli import main


def initlab(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "initlab", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_compare_defaults(tmp_path):
    done = initlab("compare", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    he_costs = [float(c) for c in re.findall(r"^\[he\] Cost after iteration \d+: (\S+)$", out, re.M)]
    np.testing.assert_allclose(he_costs, COSTS["he"], rtol=1e-12)  # the notebook's, whichever engine ran
    lines = out.splitlines()
    header = next(i for i, l in enumerate(lines) if l.startswith("model"))
    assert "train accuracy" in lines[header] and "test accuracy" in lines[header] and "comment" in lines[header]
    rows = lines[header + 2 : header + 5]
    assert rows[0].startswith("3-layer NN with zeros initialization") and "50.00%" in rows[0]
    assert rows[1].startswith("3-layer NN with random initialization") and "83.00%" in rows[1] and "86.00%" in rows[1]
    assert rows[2].startswith("3-layer NN with he initialization") and "99.33%" in rows[2] and "96.00%" in rows[2]
    folder = tmp_path / "initlab-out"
    for name in ("costs.png", "decision_boundaries.png"):
        assert (folder / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        height, width, _ = matplotlib.image.imread(folder / name).shape
        assert height > 300 and width > 500
    boundaries_width = matplotlib.image.imread(folder / "decision_boundaries.png").shape[1]
    assert boundaries_width > 2.5 * matplotlib.image.imread(folder / "decision_boundaries.png").shape[0]  # 3 panels
    results = json.loads((folder / "results.json").read_text())
    assert [r["init"] for r in results["runs"]] == ["zeros", "random", "he"]
    assert results["runs"][2]["test_accuracy"] == 0.96


def test_compare_options_in_process(tmp_path, capsys):
    code = main(["compare", "--init", "he_uniform,xavier_normal", "--init", "lecun_normal", "--iterations", "1000",
                 "--learning-rate", "0.05", "--layers", "2,8,8,4,1", "--seed", "7", "--out", str(tmp_path / "o"), "--quiet"])
    assert code == 0
    out = capsys.readouterr().out
    assert "4-layer NN with he_uniform initialization" in out and "lecun_normal" in out
    settings = json.loads((tmp_path / "o" / "results.json").read_text())["settings"]
    assert settings == {**settings, "layers": [2, 8, 8, 4, 1], "learning_rate": 0.05, "iterations": 1000, "seed": 7}


def test_compare_prints_the_notebooks_cost_lines_per_init_and_leaves_the_collector_on(tmp_path, capsys):
    import gc

    assert main(["compare", "--init", "he,zeros", "--iterations", "2001", "--out", str(tmp_path)]) == 0
    assert gc.isenabled()
    lines = [l for l in capsys.readouterr().out.splitlines() if "Cost after iteration" in l]
    assert [l.split(" Cost")[0] for l in lines] == ["[he]"] * 3 + ["[zeros]"] * 3  # one initializer after the other
    assert lines[0] == f"[he] Cost after iteration 0: {COSTS['he'][0]}" and lines[2].startswith("[he] Cost after iteration 2000: ")


def test_progress_bar_in_a_terminal(tmp_path):
    """stderr a terminal (a pseudo-terminal 120 columns wide): one bar over all the networks."""
    fcntl, pty, termios = (pytest.importorskip(m) for m in ("fcntl", "pty", "termios"))
    import struct

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    done = subprocess.run([sys.executable, "-m", "initlab", "compare", "--iterations", "3000", "--out", "o"],
                          cwd=tmp_path, stdout=subprocess.PIPE, stderr=follower, text=True, timeout=120)
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # nothing more to read
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert done.returncode == 0
    assert "training 3 networks: 100%" in shown.decode(errors="replace") and "9000/9000" in shown.decode(errors="replace")
    assert "[random] Cost after iteration 2000: " in done.stdout


def test_divergence_is_reported(tmp_path, capsys):
    code = main(["compare", "--init", "random", "--learning-rate", "1e300", "--iterations", "50", "--out", str(tmp_path), "--quiet"])
    assert code == 0
    out = capsys.readouterr().out
    assert "warning: random diverged at iteration" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--init", "he_unifrom"], "Unknown initializer 'he_unifrom'. Expected one of:"),
        (["--learning-rate", "-1"], "The 'learning_rate' parameter must be a finite float > 0. Got -1.0 instead."),
        (["--learning-rate", "nan"], "The 'learning_rate' parameter must be a finite float > 0. Got nan instead."),
        (["--iterations", "-3"], "The 'iterations' parameter must be an int >= 0. Got -3 instead."),
        (["--layers", "2,0,1"], "The 'layers' parameter must be a sequence of at least two positive ints"),
        (["--layers", "2"], "The 'layers' parameter must be a sequence of at least two positive ints"),
        (["--layers", "2,a,1"], "expected comma-separated integers"),
        (["--engine", "fortran"], "The 'engine' parameter must be one of auto, numpy, numba"),
        (["--init", ""], "The 'init' option must name at least one initializer, such as --init zeros,he. Got no name instead."),
        (["--init", " , "], "The 'init' option must name at least one initializer"),
    ],
)
def test_bad_input_exits_2_without_traceback(tmp_path, args, message):
    extra = [] if "--iterations" in args else ["--iterations", "10"]
    done = initlab("compare", *args, *extra, "--quiet", cwd=tmp_path)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    if not message.startswith("expected"):  # argparse's own errors come with its usage lines
        assert done.stderr.count("\n") == 1 and done.stdout == ""  # one line, and nothing trained


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere; the file-as-folder case below still runs")
def test_unwritable_out_permission(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    done = initlab("compare", "--out", str(locked / "sub"), cwd=tmp_path)
    assert done.returncode == 2 and "The 'out' parameter must be a folder that can be written" in done.stderr


def test_out_that_is_a_file(tmp_path):
    (tmp_path / "taken").write_text("not a folder")
    done = initlab("compare", "--iterations", "10", "--out", str(tmp_path / "taken"), cwd=tmp_path)
    assert done.returncode == 2
    assert "The 'out' parameter must be a folder that can be written" in done.stderr and "Traceback" not in done.stderr


def test_probe_command(tmp_path):
    done = initlab("probe", "--depth", "8", "--width", "64", "--init", "he_normal,lecun_normal", "--seeds", "2",
                   "--batch", "64", "--out", "o", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "he_normal:\n  - forward signal preserved" in done.stdout
    assert "lecun_normal:\n  - activations vanish" in done.stdout and "try he_normal" in done.stdout
    jacobians = re.findall(r"^  - input-output Jacobian to layer 8 over 16 examples: mean squared singular value \S+ \(predicted \S+\), "
                           r"relative variance \S+ \(predicted \S+\)", done.stdout, re.M)
    assert len(jacobians) == 2  # one per initializer, after its verdicts
    assert (tmp_path / "o" / "signal.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    csv = (tmp_path / "o" / "signal.csv").read_text().splitlines()
    assert len(csv) == 1 + 2 * 2 * 9 and "pred_act_ms" in csv[0]


def test_coordcheck_command(tmp_path):
    done = initlab("coordcheck", "--widths", "64,128,256", "--steps", "1", "--seeds", "2", "--examples", "128",
                   "--engine", "numpy", "--out", "o", "--report", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "o" / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "Coord check" in page and page.count("<img") == 1
    assert "not stable at step 1: grows with width" in page and "output" in page
    assert "\nsp: not stable at step 1: grows with width: " in "\n" + done.stdout
    assert "mup: stable at step 1" in done.stdout
    assert (tmp_path / "o" / "coord_check.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    csv = (tmp_path / "o" / "coord_check.csv").read_text().splitlines()
    assert len(csv) == 1 + 2 * 3 * 2 * 3 * 2 and csv[0].startswith("parametrization,optimizer,width,step,layer,seed")


@pytest.mark.parametrize("args, message", [
    (["--widths", "64"], "The 'widths' parameter must be two or more different ints >= 1. Got [64] instead."),
    (["--parametrization", "mupp"], "Unknown parametrization 'mupp'"),
    (["--optimizer", "rmsprop"], "The 'optimizer' parameter must be one of gd, sgd, momentum, adam"),
    (["--seeds", "0"], "The 'seeds' parameter must be an int >= 1"),
])
def test_coordcheck_bad_input(tmp_path, args, message):
    done = initlab("coordcheck", *args, cwd=tmp_path)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("args, message", [
    (["--depth", "0"], "The 'depth' parameter must be an int >= 1. Got 0 instead."),
    (["--activation", "rleu"], "Unknown activation 'rleu'"),
    (["--init", "hee"], "Unknown initializer 'hee'"),
    (["--seeds", "0"], "The 'seeds' parameter must be an int >= 1"),
    (["--init", ""], "The 'init' option must name at least one initializer"),
])
def test_probe_bad_input(tmp_path, args, message):
    done = initlab("probe", "--width", "8", "--depth", "2", *args, cwd=tmp_path)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr


def test_compare_residual_networks(tmp_path, capsys):
    code = main(["compare", "--blocks", "4", "--width", "8", "--branch", "rezero", "--init", "he,zeros", "--iterations", "200",
                 "--quiet", "--out", str(tmp_path)])
    assert code == 0
    out = capsys.readouterr().out
    assert "10-layer NN with he initialization" in out and "layer 2: all units identical" in out  # zeros: each branch's first
    settings = json.loads((tmp_path / "results.json").read_text())["settings"]
    assert settings["residual"] == "rezero" and settings["layers"] == [2] + [8] * 9 + [1]


@pytest.mark.parametrize("args, message", [
    (["--width", "8"], "The 'width' option shapes residual networks: give --blocks K too"),
    (["--blocks", "2", "--layers", "2,4,1"], "The 'layers' option and --blocks both give the network"),
    (["--blocks", "2", "--branch", "fixup(depth=1)"], "The 'depth' parameter must be an int >= 2 for fixup"),
])
def test_compare_residual_bad_input(tmp_path, args, message):
    done = initlab("compare", "--iterations", "10", *args, cwd=tmp_path)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr


def test_probe_residual_blocks(tmp_path, capsys):
    code = main(["probe", "--blocks", "6", "--width", "64", "--seeds", "2", "--batch", "16", "--branch", "standard,rezero",
                 "--branch", "standard(order=post)", "--out", str(tmp_path)])
    assert code == 0
    out = capsys.readouterr().out
    verdicts = dict(re.findall(r"^(\S+):\n  - (.*)$", out, re.M))
    assert list(verdicts) == ["standard", "rezero", "standard(order=post)"]
    predicted = re.match(r"the stream's mean square ×\S+ over 6 blocks, (as|unlike) the wide-network prediction ×(\S+) ", verdicts["standard"])
    assert predicted and float(predicted.group(2)) == pytest.approx(2**6, rel=0.1)  # the drawn weights' σ_w²
    assert verdicts["rezero"].startswith("the stream's mean square ×1 over 6 blocks, as the wide-network prediction ×1 ")
    assert re.search(r"(as|unlike) the wide-network prediction", verdicts["standard(order=post)"])  # the sampled chain
    assert re.search(r"^    block  mean_square  pred_mean_square  channel_var  pred_channel_var  branch_var$", out, re.M)
    import pandas as pd

    table = pd.read_csv(tmp_path / "blocks.csv")
    assert len(table) == 3 * 7 and list(dict.fromkeys(table.scheme)) == list(verdicts)
    assert (tmp_path / "blocks.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and not (tmp_path / "signal.csv").exists()
    code = main(["probe", "--blocks", "3", "--width", "16", "--seeds", "1", "--batch", "8", "--branch", "rezero",
                 "--out", str(tmp_path / "r"), "--report"])
    assert code == 0
    page = (tmp_path / "r" / "report.html").read_text()
    assert "Residual blocks: signal propagation through 3 blocks" in page and "input-output Jacobian" in page
    assert "<script" not in page


@pytest.mark.parametrize("args, message", [
    (["--blocks", "0"], "The 'blocks' parameter must be an int >= 1. Got 0 instead."),
    (["--branch", "rezro"], "Did you mean 'rezero'?"),
    (["--blocks", "2", "--init", "he,lecun_normal"], "The 'init' option must name one initializer with --blocks"),
    (["--blocks", "2", "--sigma-w2", "2"], "The 'sigma_w2' option does not apply to --blocks"),
    (["--blocks", "2", "--branch", ""], "The 'branch' option must name at least one entry"),
])
def test_probe_blocks_bad_input(tmp_path, args, message):
    done = initlab("probe", "--width", "8", *args, cwd=tmp_path)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr


def test_sweep_command_resumes(tmp_path):
    args = ["sweep", "--set", "init=he_normal,xavier_normal", "--set", "depth=1,2", "--set", "iterations=100",
            "--engine", "numpy", "--out", "o", "--export", "r.csv"]
    first = initlab(*args, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "4 runs in the grid: 0 already stored, 4 trained now (0 diverged)" in first.stdout
    assert (tmp_path / "o" / "sweep.db").exists() and (tmp_path / "o" / "heatmap.png").exists()
    assert len((tmp_path / "r.csv").read_text().splitlines()) == 5
    again = initlab(*args, cwd=tmp_path)
    assert "4 runs in the grid: 4 already stored, 0 trained now" in again.stdout


@pytest.mark.parametrize("args, message", [
    (["--set", "depht=2"], "Unknown key in [grid] 'depht'"),
    (["--set", "depth=1,2,3", "--max-runs", "2"], "The sweep has 3 runs, more than --max-runs 2"),
    (["--engine", "fortran"], "The 'engine' parameter must be one of auto, numpy, numba"),
    (["--dask", "tcp://127.0.0.1:9"], "Could not reach the Dask scheduler"),
    (["missing.toml"], "must be a readable TOML file"),
])
def test_sweep_bad_input(tmp_path, args, message):
    done = initlab("sweep", "--set", "iterations=10", *args, cwd=tmp_path)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr


def test_report_option_never_takes_the_spec(tmp_path):
    """`sweep --report spec.toml`: argparse gives the spec to --report; initlab refuses before any
    training, and the spec is left as it was."""
    spec = tmp_path / "spec.toml"
    spec.write_text('[grid]\ninit = ["he_normal"]\niterations = [10]\n')
    done = initlab("sweep", "--report", "spec.toml", "--set", "iterations=10", cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "The 'report' option must name an .html file. Got 'spec.toml': put a spec or results file before --report" in done.stderr
    assert spec.read_text().startswith("[grid]") and not (tmp_path / "initlab-sweep").exists()
    done = initlab("sweep", "spec.toml", "--report", "--out", "o", cwd=tmp_path)  # the spec first: fine
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "o" / "report.html").read_text().startswith("<!DOCTYPE html>")


def test_reproduce_list_and_quick_run(tmp_path):
    from initlab.papers import EXPERIMENTS

    listed = initlab("reproduce", "--list", cwd=tmp_path)
    assert listed.returncode == 0 and all(name in listed.stdout for name in EXPERIMENTS)
    done = initlab("reproduce", "hanin2018", "--quick", "--out", "o", "--report", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "claim:" in done.stdout and "verdict:  the claim holds on this run" in done.stdout
    assert (tmp_path / "o" / "report.html").read_text().count("<img") >= 1


@pytest.mark.parametrize("args, message", [
    (["he2016"], "Unknown experiment 'he2016'"),
    (["hanin2018", "--seeds", "1"], "The 'seeds' parameter must be an int >= 2"),
])
def test_reproduce_bad_input(tmp_path, args, message):
    done = initlab("reproduce", *args, cwd=tmp_path)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr


def test_fans_command(capsys, tmp_path):
    assert main(["fans", "3,3,32,64", "--layout", "keras"]) == 0
    out = capsys.readouterr().out
    assert "fan_in 288, fan_out 576, receptive field 9" in out
    he = next(line for line in out.splitlines() if line.startswith("he_normal "))
    assert float(he.split()[-1]) == pytest.approx(2.0, rel=0.03)  # variance × fan_in, measured
    assert "note: read in torch's layout this shape has fan_in 6144" in out
    assert list(tmp_path.iterdir()) == []  # writes nothing


@pytest.mark.parametrize("args, message", [
    (["5"], "The 'shape' parameter must be at least 2-D (a fan is undefined for a 1-D or 0-D shape). Got (5,) instead."),
    (["3,x"], "The 'shape' parameter must be comma-separated ints, e.g. 64,32,3,3. Got '3,x' instead."),
    (["4,4", "--layout", "mxnet"], "The 'layout' parameter must be one of torch, keras, jax. Got 'mxnet' instead."),
    (["4,-1"], "The 'shape' parameter must be a sequence of ints >= 0. Got (4, -1) instead."),
    (["4,0,3"], "The 'shape' parameter must be a shape (fan_out, fan_in, *receptive field) of positive ints, at least 2-D. Got (4, 0, 3) instead."),
])
def test_fans_bad_input(capsys, args, message):
    assert main(["fans", *args]) == 2
    out, err = capsys.readouterr()
    assert message in err and "Traceback" not in err and out == ""


def test_compare_loads_the_engine_it_trains_with(monkeypatch):
    """compare reproduces the notebook: under auto it loads the exact engine, with --engine the one
    named, and engine numpy loads none."""
    from initlab import _startup, engines

    loaded = []
    monkeypatch.setattr(engines, "ready", loaded.append)
    assert _startup.compiled_engine_ready("auto", notebook=True) and loaded == ["exact"]
    assert _startup.compiled_engine_ready("auto") and loaded[-1] == "numba"
    assert _startup.compiled_engine_ready("numba", notebook=True) and loaded[-1] == "numba"
    assert _startup.compiled_engine_ready("numpy", notebook=True) is False and len(loaded) == 3


def test_sweep_says_how_many_runs_other_processes_stored(tmp_path, monkeypatch, capsys):
    """With several processes on one database, the summary line counts the others' runs too."""
    from initlab import sweep

    def shared(spec, db, *args, **kwargs):
        return sweep.Outcome(total=4, stored_before=0, ran=1, diverged=0, by_others=3)

    monkeypatch.setattr(sweep, "run_sweep", shared)
    monkeypatch.setattr(sweep, "save_figures", lambda db, out: {})
    monkeypatch.chdir(tmp_path)
    assert main(["sweep", "--set", "depth=1", "--engine", "numpy", "--out", "o"]) in (0, None)
    assert "4 runs in the grid: 0 already stored, 1 trained now (0 diverged), 3 by other processes on the same database" in capsys.readouterr().out


@pytest.mark.parametrize("engine", ["auto", "numba", "numpy"])
def test_cost_lines_stream_while_training(tmp_path, monkeypatch, capsys, engine):
    """Each cost line is printed as soon as the order allows: the first initializer's as its
    iteration is reported (before the last initializer has even started reporting); the next
    one's as soon as the previous one's last line is out; the whole printout is cost_lines'."""
    from initlab import compare as compare_mod
    from initlab.text import cost_lines

    real, printed = compare_mod.compare_initializers, []

    def watched(*args, callback=None, **kwargs):
        def report(name, i, cost):
            callback(name, i, cost)
            printed.append((name, i, capsys.readouterr().out))  # what this report made the CLI print

        comparison = real(*args, callback=report, **kwargs)
        printed.append(("end", None, ""))
        return comparison

    monkeypatch.setattr(compare_mod, "compare_initializers", watched)
    assert main(["compare", "--init", "he,zeros", "--iterations", "3001", "--out", str(tmp_path), "--engine", engine]) == 0
    at = {(name, i): out for name, i, out in printed}
    assert at[("he", 0)] == f"[he] Cost after iteration 0: {COSTS['he'][0]}\n"  # live, before zeros' first report
    if engine == "numpy":  # trains one network after the other: every line at its own report
        for (name, i), out in at.items():
            assert name == "end" or re.fullmatch(rf"\[{name}\] Cost after iteration {i}: \S+\n" if i % 1000 == 0 else "", out)
    else:
        assert at[("zeros", 0)] == "" and at[("zeros", 2000)] == ""  # the batch interleaves: waiting for he's last line
        assert re.fullmatch(r"\[he\] Cost after iteration 3000: \S+\n"
                            r"\[zeros\] Cost after iteration 0: \S+\n\[zeros\] Cost after iteration 1000: \S+\n"
                            r"\[zeros\] Cost after iteration 2000: \S+\n", at[("he", 3000)])
        assert re.fullmatch(r"\[zeros\] Cost after iteration 3000: \S+\n", at[("zeros", 3000)])
    everything = "".join(out for _, _, out in printed) + capsys.readouterr().out
    comparison = real(["he", "zeros"], iterations=3001, engine=engine)
    assert everything.startswith(cost_lines(comparison) + "\nmodel ")


def test_cost_printer_finishes_from_the_runs():
    """A network that diverges stops reporting; its lines, and the ones waiting after it, come at
    the end from the runs, in order; so do a repeated name's (a report does not say which one)."""
    from types import SimpleNamespace

    from initlab.text import CostPrinter

    out = []
    p = CostPrinter(["a", "b", "c", "a"], iterations=2500, record_every=500, every=1000, write=out.append)
    for i in (0, 500):
        for name in ("a", "b", "c", "a"):
            p.add(name, i, float(i))
    assert out == []  # "a" is repeated: not streamed
    p = CostPrinter(["b", "c", "a", "a"], iterations=2500, record_every=500, every=1000, write=out.append)
    for i in (0, 500):
        for name in ("b", "c", "a", "a"):
            p.add(name, i, float(i))
    assert out == ["[b] Cost after iteration 0: 0.0"]  # then "b" diverges at 1000
    for i in (1000, 1500, 2000):
        for name in ("c", "a", "a"):
            p.add(name, i, float(i))
    assert out == ["[b] Cost after iteration 0: 0.0"]  # c's lines wait for b's
    run = lambda iterations: SimpleNamespace(run=SimpleNamespace(iterations=np.array(iterations),
                                                                  costs=np.array(iterations, dtype=float)))
    full = [0, 500, 1000, 1500, 2000]
    p.finish(SimpleNamespace(results=[run([0, 500, 1000]), run(full), run(full), run(full)]))
    assert out == [f"[{n}] Cost after iteration {i}: {float(i)}" for n, i in
                   [("b", 0), ("b", 1000), ("c", 0), ("c", 1000), ("c", 2000),
                    ("a", 0), ("a", 1000), ("a", 2000), ("a", 0), ("a", 1000), ("a", 2000)]]


def test_first_cost_line_reaches_a_pipe_while_training_goes(tmp_path):
    """Read the child's stdout as it comes: the first line arrives while the (long: seconds)
    training still runs, not with the others once it is over; the process is ended there."""
    child = subprocess.Popen([sys.executable, "-m", "initlab", "compare", "--init", "he,zeros", "--iterations",
                              "400000", "--out", "o"], cwd=tmp_path, stdout=subprocess.PIPE, text=True)
    try:
        first = child.stdout.readline()
        with pytest.raises(subprocess.TimeoutExpired):  # 2 s later, still training
            child.wait(timeout=2)
    finally:
        child.kill()
        child.wait()
    assert first == f"[he] Cost after iteration 0: {COSTS['he'][0]}\n"


def test_compare_init_with_options_in_one_command(tmp_path):
    """--init 'zeros,random(scale=0.01),random,he': commas inside the parentheses stay with their entry."""
    done = initlab("compare", "--init", "zeros,random(scale=0.01),random,he", "--iterations", "20", "--quiet",
                   "--engine", "numpy", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "3-layer NN with random(scale=0.01) initialization" in done.stdout
    bad = initlab("compare", "--init", "random(scal=0.01)", cwd=tmp_path)
    assert bad.returncode == 2 and "Did you mean 'scale'?" in bad.stderr and "Traceback" not in bad.stderr


# --- compare --dataset / --activation / --data, probe --sigma-w2 -------------------------------------
def _table(out):
    """The conclusions table's rows by initializer: (train, test) accuracy in percent, and the line above it."""
    lines = out.splitlines()
    header = next(i for i, l in enumerate(lines) if l.startswith("model"))
    rows = {}
    for line in lines[header + 2:]:
        found = re.match(r"\d+-layer NN with (\S+) initialization\s+([\d.]+)%\s+([\d.]+)%", line)
        if found:
            rows[found[1]] = (float(found[2]), float(found[3]))
    return rows, lines[header - 1] if header else ""


def test_compare_on_another_dataset(tmp_path, capsys):
    assert main(["compare", "--dataset", "moons", "--iterations", "300", "--out", str(tmp_path), "--quiet"]) == 0
    rows, above = _table(capsys.readouterr().out)
    assert list(rows) == ["zeros", "random", "he"]
    assert rows["he"][0] > rows["zeros"][0] + 20 and rows["he"][1] > rows["zeros"][1] + 20  # zeros stays at chance
    assert above.startswith("moons data (300 training and 100 test examples, 2 features); layers [2, 10, 5, 1], "
                            "hidden activation relu")
    settings = json.loads((tmp_path / "results.json").read_text())["settings"]
    assert settings["dataset"] == "moons" and settings["activation"] == ["relu", "relu"]
    assert (tmp_path / "decision_boundaries.png").exists()


def test_compare_with_another_activation_trains_it(tmp_path, capsys):
    code = main(["compare", "--activation", "tanh", "--init", "he", "--iterations", "200", "--out", str(tmp_path), "--quiet"])
    assert code == 0
    _, above = _table(capsys.readouterr().out)
    assert above.startswith("circles data") and above.endswith("hidden activation tanh, sigmoid output")
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["settings"]["activation"] == ["tanh", "tanh"] and results["settings"]["engine"] != "exact"
    from initlab import Network, TrainOptions, train
    from initlab.data import circles

    net, d = Network((2, 10, 5, 1), activation="tanh"), circles()
    alone = train(net, net.init("he", rng=3), d.X_train, d.Y_train, TrainOptions(0.01, 200), engine="numpy")
    np.testing.assert_allclose(results["runs"][0]["final_params"], alone.params, rtol=1e-9, atol=1e-12)


def test_compare_on_a_csv_file(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((200, 3))
    lines = ["a,b,c,kind"] + [f"{x[0]},{x[1]},{x[2]},{'cat' if x[0] - x[2] > 0 else 'dog'}" for x in X]
    (tmp_path / "pets.csv").write_text("\n".join(lines) + "\n")
    done = initlab("compare", "--data", "pets.csv", "--target", "kind", "--init", "zeros,he", "--iterations", "1500",
                   "--quiet", "--out", "o", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    rows, above = _table(done.stdout)
    assert above.startswith("pets.csv data (150 training and 50 test examples, 3 features); layers [3, 10, 5, 1]")
    assert rows["he"][1] > 85 > rows["zeros"][1]
    assert "decision_boundaries" not in done.stdout and not (tmp_path / "o" / "decision_boundaries.png").exists()
    results = json.loads((tmp_path / "o" / "results.json").read_text())
    assert results["settings"]["dataset"] == "pets.csv" and results["data"] is None


def test_compare_without_options_prints_no_description_line(tmp_path, capsys):
    assert main(["compare", "--iterations", "10", "--out", str(tmp_path), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("model ") and " data (" not in out


def test_probe_mean_field_variances(tmp_path):
    done = initlab("probe", "--depth", "10", "--width", "128", "--seeds", "2", "--batch", "64",
                   "--sigma-w2", "1.5,2", "--sigma-w2", "2.5", "--out", "o", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    blocks = dict(re.findall(r"^(\S+):\n((?:  - .*\n)+)", done.stdout, re.M))
    assert list(blocks) == ["mean_field(sigma_w2=1.5)", "mean_field(sigma_w2=2)", "mean_field(sigma_w2=2.5)"]  # only these
    assert "activations vanish" in blocks["mean_field(sigma_w2=1.5)"] and "try he_normal" in blocks["mean_field(sigma_w2=1.5)"]
    assert "forward signal preserved" in blocks["mean_field(sigma_w2=2)"] and "try" not in blocks["mean_field(sigma_w2=2)"]
    assert "activations grow" in blocks["mean_field(sigma_w2=2.5)"]
    import pandas as pd

    table = pd.read_csv(tmp_path / "o" / "signal.csv")
    assert list(dict.fromkeys(table["init"])) == list(blocks)
    assert table.groupby("init")["sigma_w2"].mean().round(1).to_dict() == {
        "mean_field(sigma_w2=1.5)": 1.5, "mean_field(sigma_w2=2)": 2.0, "mean_field(sigma_w2=2.5)": 2.5}


def test_probe_mean_field_with_bias_variance_after_init(tmp_path, capsys):
    code = main(["probe", "--depth", "4", "--width", "64", "--seeds", "2", "--batch", "32", "--activation", "tanh",
                 "--init", "lecun_normal", "--sigma-w2", "1.76", "--sigma-b2", "0.05", "--out", str(tmp_path)])
    assert code == 0
    labels = re.findall(r"^(\S.*):$", capsys.readouterr().out, re.M)
    assert labels == ["lecun_normal", "mean_field(sigma_b2=0.05, sigma_w2=1.76)"]
    import pandas as pd

    table = pd.read_csv(tmp_path / "signal.csv")
    b2 = table.groupby("init")["sigma_b2"].mean()
    assert b2["lecun_normal"] == 0 and b2["mean_field(sigma_b2=0.05, sigma_w2=1.76)"] == pytest.approx(0.05, rel=0.25)


# The command's defaults and known names are the library's, never repeated in cli.py


def _options(command):
    """{flag: argparse action} of one subcommand of the real parser."""
    from initlab.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.choices and command in a.choices).choices[command]
    return {flag: action for action in sub._actions for flag in action.option_strings}


def _signature_defaults(function):
    import inspect

    return {n: p.default for n, p in inspect.signature(function).parameters.items() if p.default is not p.empty}


@pytest.mark.parametrize("command, option, function, parameter", [
    ("compare", "--iterations", "compare.compare_initializers", "iterations"),
    ("compare", "--learning-rate", "compare.compare_initializers", "learning_rate"),
    ("compare", "--seed", "compare.compare_initializers", "seed"),
    ("compare", "--layers", "compare.compare_initializers", "layers"),  # None: the notebook's hidden sizes around the data's
    ("compare", "--engine", "compare.compare_initializers", "engine"),
    ("compare", "--out", "compare.save", "out"),
    ("probe", "--activation", "diagnostics.deep_network", "activation"),
    ("probe", "--seeds", "diagnostics.signal_propagation", "seeds"),
    ("probe", "--batch", "diagnostics.signal_propagation", "batch"),
    ("probe", "--out", "diagnostics.SignalStudy.save", "out"),
    ("probe", "--sigma-b2", "initializers.mean_field_specs", "sigma_b2"),
    ("sweep", "--engine", "sweep.run_sweep", "engine"),
    ("sweep", "--max-runs", "sweep.run_sweep", "max_runs"),
    ("sweep", "--workers", "executors.Dask", "workers"),
    ("sweep", "--out", "compare.save", "out"),
    ("report", "--out", "report.write_report", "path"),
    ("report", "--title", "report.write_report", "title"),
    ("reproduce", "--seeds", "papers.reproduce", "seeds"),
    ("reproduce", "--out", "compare.save", "out"),
])
def test_an_option_default_is_the_library_default(command, option, function, parameter):
    """Each option with a library counterpart defaults to that function's own default (read
    from its signature here too), and its help shows it."""
    import importlib

    module, _, attribute = function.partition(".")
    target = importlib.import_module(f"initlab.{module}")
    for part in attribute.split("."):
        target = getattr(target, part)
    expected = _signature_defaults(target)[parameter]
    action = _options(command)[option]
    assert action.default == expected and type(action.default) is type(expected)
    if expected is not None:
        assert f"(default {expected}" in action.help or f"(default {expected!r}" in action.help


def test_defaults_without_a_parser_default_are_the_librarys_in_the_help():
    """--init, --dataset, --activation and --target stay None when not given (compare's notebook run
    prints its table alone), and their help names the library's defaults."""
    from initlab import cli, compare, data, initializers

    cmp, prb = _options("compare"), _options("probe")
    defaults = _signature_defaults(compare.compare_initializers)
    assert all(cmp[o].default is None for o in ("--init", "--dataset", "--activation", "--target"))
    assert f"(default: {','.join(defaults['inits'])})" in cmp["--init"].help
    assert tuple(defaults["inits"]) == compare.NOTEBOOK_INITS
    assert f"(default {defaults['dataset']}," in cmp["--dataset"].help
    assert f"(default {defaults['activation']}," in cmp["--activation"].help
    assert f"(default {_signature_defaults(data.read)['target']!r})" in cmp["--target"].help
    hidden = ",".join(map(str, compare.NOTEBOOK_HIDDEN))
    assert f"features,{hidden},1;" in cmp["--layers"].help
    sigma_b2 = _signature_defaults(initializers.mean_field)["sigma_b2"]
    assert f"(default {sigma_b2:g}, zero biases)" in prb["--sigma-b2"].help
    # the probe's own defaults (no library default yet): named constants, shown in the help
    assert prb["--depth"].default == cli.PROBE_DEPTH and f"(default {cli.PROBE_DEPTH})" in prb["--depth"].help
    assert prb["--width"].default == cli.PROBE_WIDTH and f"(default {cli.PROBE_WIDTH})" in prb["--width"].help
    assert f"(default: {','.join(cli.PROBE_INITS)})" in prb["--init"].help
    assert all(name in initializers.INITIALIZERS for name in cli.PROBE_INITS)


def test_probe_without_init_probes_the_named_defaults(tmp_path, capsys):
    from initlab import cli

    assert main(["probe", "--depth", "2", "--width", "8", "--seeds", "2", "--out", str(tmp_path)]) == 0
    assert [l[:-1] for l in capsys.readouterr().out.splitlines() if l.endswith(":")] == list(cli.PROBE_INITS)


@pytest.mark.parametrize("command, option, registry", [
    ("compare", "--engine", "engines.CHOICES"),
    ("sweep", "--engine", "engines.CHOICES"),
    ("compare", "--activation", "activations.ACTIVATIONS"),
    ("probe", "--activation", "activations.ACTIVATIONS"),
    ("compare", "--dataset", "data.DATASETS"),
    ("compare", "--init", "initializers.INITIALIZERS"),
])
def test_an_options_known_names_are_exactly_the_registry(command, option, registry):
    """The names an option's help lists are the registry's, in its order. The library checks the
    value (one line naming the known ones and the closest: tests/test_cli_errors.py), so argparse's
    choices= is not set: its usage error would replace that line."""
    import importlib

    module, _, name = registry.partition(".")
    known = list(getattr(importlib.import_module(f"initlab.{module}"), name))
    action = _options(command)[option]
    assert action.help.rsplit("Known: ", 1)[1].split(", ") == known
    assert action.choices is None


def test_cli_keeps_the_text_functions_importable():
    """initlab.text is where they live; `from initlab.cli import format_table` (and the others)
    still works."""
    from initlab import cli, text

    for name in ("format_table", "text_table", "cost_lines", "CostPrinter"):
        assert getattr(cli, name) is getattr(text, name)
