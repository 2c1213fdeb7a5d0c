"""CPU time of ``eventstudy report`` (the default study), in a fresh process, against its imports alone.

Run::

    python benchmarks/report.py              # best of 3 fresh processes
    python benchmarks/report.py --repeat 5

The default study (two events, 14 chip stocks, four benchmark specifications) on the shared daily prices
(``$EVENTSTUDY_SHARED_DIR/data/prices``, default ``../shared`` beside the repository), written to a temporary
folder.  CPU time (user + system, from ``getrusage`` of the child) is measured, not wall time: the machine is
shared, and CPU time is what the report costs.  Each run is a new process, with the modules' bytecode
compiled by an untimed first run, as an installed package has it:

* **baseline**: ``import numpy, pandas, matplotlib.figure, matplotlib.backends.backend_agg, scipy.stats``,
  the libraries the report cannot do without;
* **report**: ``python -m eventstudy report --prices-dir ... --out <tmp>``, and, in one more process, its
  phases (the studies and tests, the figures, the tables and text).

Target (issue 13): at most 3 s of CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fresh import compiled_env  # noqa: E402

TARGET_CPU = 3.0
BASELINE = "import numpy, pandas, matplotlib.figure, matplotlib.backends.backend_agg, scipy.stats"

PHASES = r"""
import json, sys, time
import eventstudy.report.build as B
import eventstudy.report.sections as S
from eventstudy.cli import main
phases = {}
def wrap(module, name):
    f = getattr(module, name)
    def g(*a, **k):
        t = time.process_time()
        try:
            return f(*a, **k)
        finally:
            phases[name] = phases.get(name, 0.0) + time.process_time() - t
    setattr(module, name, g)
for name in ("run_study", "write_figures", "extra_sections", "write_all"):
    wrap(B, name)
for name in ("outcomes_section", "global_section", "intraday_section"):
    wrap(S, name)
t0 = time.process_time()
code = main(sys.argv[1:])
phases["main"] = time.process_time() - t0
print("RESULT " + json.dumps(phases))
"""


def shared_dir() -> Path:
    return Path(os.environ.get("EVENTSTUDY_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared"))


def cpu_of(command: list[str], env: dict) -> tuple[float, str]:
    """User + system CPU seconds of one child process, and its stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(command, capture_output=True, text=True, env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode:
        raise SystemExit(f"{' '.join(command[:4])} ... failed:\n{proc.stderr[-2000:]}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), proc.stdout


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="fresh processes of each kind; the best is kept")
    args = parser.parse_args(argv)
    shared = shared_dir()
    prices = shared / "data" / "prices"
    if not prices.is_dir():
        raise SystemExit(f"No shared prices at {prices}; set EVENTSTUDY_SHARED_DIR.")
    with tempfile.TemporaryDirectory() as tmp:
        env = compiled_env(tmp, MPLBACKEND="Agg")  # bytecode written by the untimed runs below
        report = [sys.executable, "-m", "eventstudy", "report", "--prices-dir", str(prices), "--no-progress"]
        moves = shared / "events" / "reported_moves.csv"
        if moves.is_file():
            report += ["--reported-moves", str(moves)]
        cpu_of([sys.executable, "-c", BASELINE], env)
        cpu_of([*report, "--out", str(Path(tmp) / "warm-up")], env)
        baseline = min(cpu_of([sys.executable, "-c", BASELINE], env)[0] for _ in range(args.repeat))
        runs = [cpu_of([*report, "--out", str(Path(tmp) / f"run{k}")], env)[0] for k in range(args.repeat)]
        _, out = cpu_of([sys.executable, "-c", PHASES, *report[3:], "--out", str(Path(tmp) / "phases")], env)
    phases = json.loads(next(x for x in out.splitlines() if x.startswith("RESULT "))[len("RESULT ") :])
    best = min(runs)
    print(f"best of {args.repeat} fresh processes, CPU seconds (user + system)")
    print(f"  baseline ({BASELINE}): {baseline:.2f} s")
    print(f"  eventstudy report (default study): {best:.2f} s = {best / baseline:.1f}x the baseline "
          f"(runs {', '.join(f'{r:.2f}' for r in runs)}); target <= {TARGET_CPU:g} s: "
          f"{'met' if best <= TARGET_CPU else 'NOT met'}")  # fmt: skip
    print(
        f"  phases of one run: studies and tests {phases.get('run_study', 0):.2f} s, figures "
        f"{phases.get('write_figures', 0):.2f} s, extra sections {phases.get('extra_sections', 0):.2f} s "
        f"(outcomes {phases.get('outcomes_section', 0):.2f} s, global {phases.get('global_section', 0):.2f} s, "
        f"intraday {phases.get('intraday_section', 0):.2f} s), tables and text {phases.get('write_all', 0):.2f} s; "
        f"imports before main() {best - phases.get('main', 0):.2f} s (about: the run's total minus main())"
    )


if __name__ == "__main__":
    main()
