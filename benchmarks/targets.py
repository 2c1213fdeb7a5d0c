"""Every speed and memory target in one run: each script in turn, one table, and the record of the run.

Run::

    python benchmarks/targets.py                 # all targets, about a minute on 2 cores
    python benchmarks/targets.py --write         # also keep the run in benchmarks/targets.json and rewrite
                                                 # the tables generated from it (benchmarks/README.md, README.md)
    python benchmarks/targets.py --only engine,startup

Each script runs in a process of its own, one after the other (never two at once: they would time each
other), and prints its figures for people and one ``TARGET`` line per target (``record.py``); this script
collects those lines.  A ratio is always against a baseline the same script measured in the same run.

``--write`` keeps the run in ``benchmarks/targets.json`` (the figures, the machine's load before and after,
the versions) and rewrites the blocks between ``<!-- targets:begin -->`` and ``<!-- targets:end -->`` in
``benchmarks/README.md`` and ``README.md`` from it, so every speed figure the READMEs state is the recorded
one (``tests/test_benchmark_record.py`` checks the blocks against the record).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RECORD = HERE / "targets.json"
BEGIN, END = "<!-- targets:begin -->", "<!-- targets:end -->"

#: (name, script arguments): the runs behind the issue-23 table, in the order the table shows them (the cluster
#: fit's figures, ``distributed.py``, are a curve and a capped-memory case with no bound: benchmarks/README.md)
RUNS: list[tuple[str, list[str]]] = [
    # best of 7, each ratio's two sides timed in turn: the machine is shared and noisy, and a ratio near its
    # bound was decided by one slow minute in a best of 5
    ("engine", ["engine.py", "--panel", "3000x400", "--big", "0", "--repeat", "7", "--loop", "300"]),
    ("summary", ["summary.py", "--repeat", "7"]),
    ("inference", ["inference.py", "--repeat", "7"]),
    ("simulate", ["simulate.py"]),
    ("million", ["million.py"]),
    ("startup", ["startup.py"]),
]


def run_script(args: list[str]) -> tuple[list[dict], str]:
    """The ``TARGET`` records one script printed, and its last line of error output when it printed none or
    failed (a script that prints its figures and then fails is no measurement)."""
    script = HERE / args[0]
    if not script.exists():
        return [], f"{args[0]} is not in benchmarks/"
    proc = subprocess.run([sys.executable, str(script), *args[1:]], capture_output=True, text=True, cwd=ROOT)
    records = [json.loads(line[len("TARGET ") :]) for line in proc.stdout.splitlines() if line.startswith("TARGET ")]
    for record in records:
        record["script"] = args[0]
    error = "" if records and proc.returncode == 0 else (proc.stderr.strip().splitlines() or ["no TARGET line"])[-1]
    return records, error


def machine() -> dict:
    import numpy
    import pandas

    import eventstudy

    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "pandas": pandas.__version__,
        "eventstudy": eventstudy.__version__,
    }


def figure(value: float, unit: str) -> str:
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "s":
        return f"{value:.2f} s"
    return f"{value:,.0f} {unit}"


def table(record: dict) -> str:
    """The Markdown table of a run's targets (what the READMEs show between the markers)."""
    lines = [
        f"Measured by `python benchmarks/targets.py --write` on {record['machine']['cpus']} CPUs (load average "
        f"{record['load_before']:.1f} before, {record['load_after']:.1f} after), Python {record['machine']['python']}, "
        f"numpy {record['machine']['numpy']}, pandas {record['machine']['pandas']}:",
        "",
        "| target | measured | bound | baseline in the same run | met | script |",
        "|---|---|---|---|---|---|",
    ]
    for t in record["targets"]:
        lines.append(
            f"| {t['what']} | {figure(t['value'], t['unit'])} | {figure(t['limit'], t['unit'])} | "
            f"{t['baseline'] or '(absolute)'} | {'yes' if t['met'] else '**no**'} | `{t['script']}` |"
        )
    for name, error in record.get("errors", {}).items():
        lines.append(f"| {name}: no figure ({error}) | | | | **no** | |")
    return "\n".join(lines)


def replace_block(text: str, block: str, where: str) -> str:
    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.S)
    if not pattern.search(text):
        raise SystemExit(f"{where} has no {BEGIN} ... {END} block to rewrite")
    return pattern.sub(lambda _: f"{BEGIN}\n{block}\n{END}", text, count=1)


def write_docs(record: dict) -> None:
    block = table(record)
    for path in (HERE / "README.md", ROOT / "README.md"):
        path.write_text(replace_block(path.read_text(encoding="utf-8"), block, path.name), encoding="utf-8")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated run names: " + ", ".join(n for n, _ in RUNS))
    parser.add_argument("--write", action="store_true", help="keep the run in targets.json and rewrite the tables")
    args = parser.parse_args(argv)
    if args.write and args.only:
        raise SystemExit("--write keeps a whole run: leave out --only")
    chosen = [r for r in RUNS if not args.only or r[0] in args.only.split(",")]
    record: dict = {"machine": machine(), "load_before": os.getloadavg()[0], "targets": [], "errors": {}}
    started = time.perf_counter()
    for name, script_args in chosen:
        print(f"{name}: python benchmarks/{' '.join(script_args)}", flush=True)
        records, error = run_script(script_args)
        record["targets"] += records
        if error:
            record["errors"][name] = error
        for t in records:
            print(f"  {t['what']}: {figure(t['value'], t['unit'])} (bound {figure(t['limit'], t['unit'])}) "
                  f"{'met' if t['met'] else 'NOT met'}", flush=True)  # fmt: skip
        if error:
            print(f"  no figure: {error}", flush=True)
    record["load_after"] = os.getloadavg()[0]
    record["seconds"] = round(time.perf_counter() - started, 1)
    print()
    print(table(record))
    if args.write:
        RECORD.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        write_docs(record)
        print(f"\nwrote {RECORD.relative_to(ROOT)}, benchmarks/README.md and README.md")
    return 0 if record["targets"] and all(t["met"] for t in record["targets"]) and not record["errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
