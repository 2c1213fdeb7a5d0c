"""The ``eventstudy`` command line.

Each command family is registered by one small function that takes the ``subparsers`` object (see
:data:`COMMANDS`); a command sets ``func`` (``args -> exit code``) with ``set_defaults``. Errors raised by a
command become one ``eventstudy: error: ...`` line on stderr (the traceback only with ``--debug``):

=====  ==========================================================================================
code   meaning
=====  ==========================================================================================
0      success
1      data or I/O failure (:class:`~eventstudy.exceptions.DataSourceError`, unreadable files)
2      usage or input error (bad arguments, schema errors, unknown ids)
=====  ==========================================================================================
"""

from __future__ import annotations

import argparse
import difflib
import gc
import json
import os
import re
import sys
import traceback
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from eventstudy._version import __version__
from eventstudy.estimation.models import get_model, model_names
from eventstudy.exceptions import DataSourceError, EventStudyError, EventStudyWarning, SessionAssumptionWarning

__all__ = ["build_parser", "main", "add_command", "COMMANDS", "CommandError"]

_PROG = "eventstudy"


class CommandError(Exception):
    """A command failed on the user's input; ``main`` prints the message as one line and exits with ``code``."""

    def __init__(self, message: str, *, code: int = 2):
        self.code = code
        super().__init__(message)


# -- parser construction -------------------------------------------------------------------------------
def _common() -> argparse.ArgumentParser:
    # --debug is accepted after any subcommand too; SUPPRESS keeps the global value when it is not repeated
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return common


def add_command(subparsers: Any, name: str, **kwargs: Any) -> argparse.ArgumentParser:
    """Add one (sub)command that also accepts the global ``--debug`` flag; ``kwargs`` go to ``add_parser``."""
    kwargs.setdefault("description", kwargs.get("help"))
    return subparsers.add_parser(name, parents=[_common()], **kwargs)


def _add_events_commands(subparsers: Any) -> None:
    """Register ``eventstudy events list`` and ``eventstudy events show``."""
    events = add_command(subparsers, "events", help="list and inspect event catalogs")
    events.set_defaults(func=lambda args: _usage(events))
    commands = events.add_subparsers(dest="events_command", metavar="{list,show}", title="events commands")

    catalog_help = "built-in catalog name or path of a .csv/.yaml/.json event file (default: export-controls)"
    session_help = "day 0 for events whose session is unknown: pre (default, earliest possible) or post"

    listing = add_command(
        commands, "list", help="one line per event: id, date, session, day0, category, direction, title"
    )
    listing.add_argument("--catalog", default="export-controls", metavar="PATH_OR_NAME", help=catalog_help)
    listing.add_argument("--category", nargs="+", metavar="CATEGORY", help="keep these categories only")
    listing.add_argument("--direction", nargs="+", metavar="DIRECTION", help="keep these directions only")
    listing.add_argument("--since", metavar="DATE", help="keep events on or after this date (YYYY-MM-DD)")
    listing.add_argument("--until", metavar="DATE", help="keep events on or before this date (YYYY-MM-DD)")
    listing.add_argument("--format", choices=("table", "csv", "json"), default="table", help="output format")
    listing.add_argument("--unknown-session", choices=("pre", "post"), default="pre", help=session_help)
    listing.set_defaults(func=_events_list)

    show = add_command(commands, "show", help="all fields of one event")
    show.add_argument("event_id", metavar="ID", help="event id, as printed by 'eventstudy events list'")
    show.add_argument("--catalog", default="export-controls", metavar="PATH_OR_NAME", help=catalog_help)
    show.add_argument("--unknown-session", choices=("pre", "post"), default="pre", help=session_help)
    show.set_defaults(func=_events_show)


def _window(text: str) -> tuple[int, int]:
    """``-1,1`` or ``-1:1`` -> (-1, 1)."""
    parts = re.split(r"[,:]", text.strip().strip("()"))
    try:
        lo, hi = (int(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a window like -1,1; got {text!r}") from None
    return lo, hi


_WINDOW_OR_NUMBER = re.compile(r"^-\d+(?:\s*[,:]\s*-?\d+)?$|^-\d*\.\d+$")


def _model(text: str) -> str:
    """A model name of the registry (or an alias), kept as written: the regenerate command repeats it."""
    try:
        get_model(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc).replace("The 'model' parameter", "--model")) from None
    return text


def _listing(text: str) -> tuple[str, ...]:
    return tuple(t.strip() for t in text.split(",") if t.strip())


def _study_options(command: argparse.ArgumentParser, *, report: bool) -> None:
    """Options shared by ``report`` and ``run``; ``None`` defaults mean "the study file's, else the default".

    Each option has the name of the study file's key and, where :class:`eventstudy.EventStudy` takes the same
    setting, of its argument (``--market`` is ``market``); ``--window``, repeated, gives the key ``windows``
    (tests/report/test_option_names.py checks the three sets agree).
    """
    # argparse takes "-1,1" for an option and answers "expected one argument"; a window is a value
    command._negative_number_matcher = _WINDOW_OR_NUMBER
    command.add_argument(
        "--study",
        metavar="FILE",
        help="study file (.toml) with the events, tickers, benchmarks, windows and prose; options override it "
        "(default: the built-in ai-diffusion-rescission study, unless --catalog names other events)",
    )
    command.add_argument(
        "--events",
        "--event",
        action="extend",
        nargs="+",
        metavar="ID",
        help="catalog event ids (repeatable; --event is the former name)",
    )
    command.add_argument(
        "--catalog",
        metavar="PATH_OR_NAME",
        help="built-in catalog name or your own events file; a 'ticker' column makes each row a firm-event "
        "(then --tickers keeps some of its firms)",
    )
    command.add_argument(
        "--tickers",
        type=_listing,
        metavar="A,B,...",
        help="tickers to study on every event (with a firm-event file: the tickers to keep)",
    )
    command.add_argument(
        "--market",
        action="append",
        metavar="TICKER[+TICKER]",
        help="benchmark; repeat for several specifications; A+B gives the multi-index model",
    )
    command.add_argument(
        "--model",
        type=_model,
        metavar="NAME",
        help=f"normal-return model, one of: {', '.join(model_names())} (default market)",
    )
    command.add_argument(
        "--estimation-window",
        type=_window,
        metavar="START,END",
        help="default -250,-11 (write --estimation-window=-250,-11)",
    )
    command.add_argument("--event-window", type=_window, metavar="START,END", help="default -5,5")
    command.add_argument(
        "--window",
        dest="windows",
        type=_window,
        action="append",
        metavar="START,END",
        help="CAR window of the tables, repeatable, shown in the order given; write --window=-1,1 (with =) for a "
        "negative start",
    )
    command.add_argument("--prices-dir", metavar="DIR", help="folder of <TICKER>.csv price files (offline)")
    command.add_argument("--unknown-session", choices=("pre", "post"), help="day 0 for events of unknown session")
    command.add_argument(
        "--exclude-events", action="store_true", default=None, help="leave other catalog events out of estimation"
    )
    command.add_argument(
        "--return-kind", choices=("simple", "log", "overnight", "intraday"), help="returns (default simple)"
    )
    command.add_argument(
        "--price-field",
        choices=("Adj Close", "Close", "Open", "High", "Low"),
        help="price column (default 'Adj Close')",
    )
    command.add_argument(
        "--min-estimation-obs", type=int, metavar="N", help="fewest estimation returns (default: the model's)"
    )
    command.add_argument(
        "--align-benchmarks",
        choices=("refuse", "same-date"),
        help="a benchmark on another exchange's sessions: refuse (default) or take its same-date return",
    )
    command.add_argument("--naive-tz", metavar="ZONE", help="the zone of event times written without one")
    command.add_argument("--name", help="study name (folder under results/)")
    if report:
        command.add_argument("--title", help="report title")
        command.add_argument("--question", help="the question the report answers, under its title")
        command.add_argument("--focus", type=_listing, metavar="A,B", help="tickers the story is about")
        command.add_argument("--reported-moves", metavar="CSV", help="press-reported moves to check against the data")
        command.add_argument(
            "--global-dir",
            metavar="DIR",
            help="non-US prices for the default study (default: prices_global beside --prices-dir)",
        )
        command.add_argument(
            "--intraday-dir",
            metavar="DIR",
            help="minute bars for the default study (default: intraday beside --prices-dir)",
        )
        command.add_argument("--out", metavar="DIR", help="output folder (default results/<name>/)")
        command.add_argument("--no-progress", action="store_true", help="no progress bar")


def _add_study_commands(subparsers: Any) -> None:
    """Register ``eventstudy report`` (the main job) and ``eventstudy run`` (one ad hoc study)."""
    report = add_command(subparsers, "report", help="run a complete study and write the report under results/")
    _study_options(report, report=True)
    report.set_defaults(func=_report)

    run = add_command(subparsers, "run", help="run one study and print its abnormal returns and tests")
    _study_options(run, report=False)
    run.add_argument("--format", choices=("table", "json", "csv"), default="table", help="output format")
    run.set_defaults(func=_run)


def _config(args: argparse.Namespace):
    from eventstudy.report import DEFAULT_REPORT, ReportConfig, load_study, with_overrides

    catalog_given = args.catalog is not None
    if args.study:
        base = load_study(args.study)
    elif catalog_given:
        base = ReportConfig()  # the user's own events: nothing of the built-in study (title, focus, prose)
    else:
        base = DEFAULT_REPORT
    for entry in args.market or ():
        if not all(part.strip() for part in entry.split("+")):
            raise CommandError(
                f"--market {entry!r} has an empty ticker beside '+'; write one benchmark (--market SPY) or "
                "benchmarks joined by '+' for the multi-index model (--market SPY+SOXX)"
            )
    if args.min_estimation_obs is not None and args.min_estimation_obs < 1:
        raise CommandError(f"--min-estimation-obs must be a positive integer; got {args.min_estimation_obs}")
    events = tuple(args.events) if args.events else (() if catalog_given else None)
    # options named as the study file's keys: each given one overrides the file's (a file without tickers
    # and events without a 'ticker' column are refused by the run, naming the file)
    config = with_overrides(
        base,
        catalog=args.catalog,
        events=events,
        tickers=args.tickers,
        market=tuple(args.market) if args.market else None,
        model=args.model,
        estimation_window=args.estimation_window,
        event_window=args.event_window,
        windows=tuple(args.windows) if args.windows else None,
        prices_dir=args.prices_dir,
        unknown_session=args.unknown_session,
        exclude_events=args.exclude_events,
        return_kind=args.return_kind,
        price_field=args.price_field,
        min_estimation_obs=args.min_estimation_obs,
        align_benchmarks=args.align_benchmarks,
        naive_tz=args.naive_tz,
        name=args.name,
        title=getattr(args, "title", None),
        question=getattr(args, "question", None),
        focus=getattr(args, "focus", None),
        reported_moves=getattr(args, "reported_moves", None),
        out=getattr(args, "out", None),
        global_dir=getattr(args, "global_dir", None),
        intraday_dir=getattr(args, "intraday_dir", None),
        sections=() if catalog_given else None,  # the extra sections belong to the study's own events
    )
    if args.tickers is not None and getattr(args, "focus", None) is None:
        # the study's focus stocks that are still studied; none left: the first two tickers
        config = with_overrides(config, focus=tuple(t for t in config.focus if t in config.tickers))
    return with_overrides(config, command=_given_options(args))


#: options that change the study, in the order the regenerate command writes them; True: a path
_RECORDED = (
    ("study", True), ("catalog", True), ("events", False), ("tickers", False), ("market", False),
    ("model", False), ("estimation_window", False), ("event_window", False), ("windows", False),
    ("prices_dir", True), ("unknown_session", False), ("exclude_events", False), ("return_kind", False),
    ("price_field", False), ("min_estimation_obs", False), ("align_benchmarks", False), ("naive_tz", False),
    ("name", False), ("title", False), ("question", False), ("focus", False), ("reported_moves", True),
    ("global_dir", True), ("intraday_dir", True),
)  # fmt: skip


def _given_options(args: argparse.Namespace) -> tuple[tuple[str, str | None, bool], ...]:
    """The options of ``args`` that were given, as (option, value, is a path): what rebuilds this study."""
    out: list[tuple[str, str | None, bool]] = []
    for name, is_path in _RECORDED:
        value = getattr(args, name, None)
        if value is None or value is False:
            continue
        flag = "--window" if name == "windows" else "--" + name.replace("_", "-")
        if value is True:
            out.append((flag, None, False))
        elif name in ("events", "market"):  # repeatable
            out += [(flag, str(v), False) for v in value]
        elif name in ("tickers", "focus"):
            out.append((flag, ",".join(value), False))
        elif name == "windows":  # repeatable, in the order given
            out += [(flag, f"{lo},{hi}", False) for lo, hi in value]
        elif name.endswith("_window"):
            out.append((flag, f"{value[0]},{value[1]}", False))
        else:
            # a catalog is a path only when it names a file (else a built-in catalog's name)
            out.append((flag, str(value), is_path and (name != "catalog" or Path(str(value)).suffix != "")))
    return tuple(out)


def _report(args: argparse.Namespace) -> int:
    # A report is one pass that ends with the process: the cyclic collector stays off while the report package
    # is imported and the report runs.  Its 300-odd collections walked every young object (0.15-0.3 s of
    # CPU); the cycles left behind (figures, frames) hold about 15 MB until the process exits.
    collecting = gc.isenabled()
    gc.disable()
    try:
        from eventstudy.report import build_report

        # the modules just imported live as long as the process: out of the collector's sight, the full pass
        # at exit does not walk them
        gc.freeze()
        config = _config(args)
        out = build_report(config, progress=False if args.no_progress else None)
    finally:
        if collecting:  # as the caller had it (a program that calls main() may run with it off)
            gc.enable()
    print(f"wrote {out}/report.md, report.html, results.json, figures/ and tables/")
    return 0


def _run(args: argparse.Namespace) -> int:
    from eventstudy.report import build_study

    config = _config(args)
    results = build_study(config)
    # the windows asked for (--window, else the study file's), in their order; else day 0 and the event window
    windows = args.windows or (config.table_windows if args.study else [(0, 0), config.event_window])
    tables: list[tuple[str, pd.DataFrame, pd.DataFrame]] = []
    for run in results:
        res = run.results
        car = pd.concat([res.car(w) for w in windows], ignore_index=True)
        tables.append((run.label, car, res.tests(windows)))
    if args.format == "json":
        from eventstudy.report import records

        payload = {label: {"car": records(car), "tests": records(tests)} for label, car, tests in tables}
        print(json.dumps(payload, indent=2))
    elif args.format == "csv":
        frames = [car.assign(benchmark=label) for label, car, _ in tables]
        sys.stdout.write(pd.concat(frames, ignore_index=True).to_csv(index=False, lineterminator="\n"))
    else:
        for label, car, tests in tables:
            print(f"== {label}")
            print(car.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
            pooled = tests[tests["scope"] != "single"]
            print(
                pooled[["test", "event_id", "window_start", "window_end", "stat", "pvalue", "n", "note"]].to_string(
                    index=False
                )
            )
            print()
    return 0


#: Functions that each register one command family on the ``subparsers`` object, in help order.
COMMANDS: list[Callable[[Any], None]] = [_add_study_commands, _add_events_commands]


def build_parser() -> argparse.ArgumentParser:
    """The ``eventstudy`` argument parser with every command of :data:`COMMANDS` registered.

    The ``subparsers`` object is kept as ``parser.subparsers`` so that more commands can be added with
    :func:`add_command`.
    """
    parser = argparse.ArgumentParser(
        prog=_PROG,
        description="Market-impact event studies: trading calendar, event catalogs, abnormal returns.",
    )
    parser.add_argument("--version", action="version", version=f"{_PROG} {__version__}")
    parser.add_argument("--debug", action="store_true", default=False, help="show the full traceback on errors")
    parser.set_defaults(func=lambda args: _usage(parser))
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for register in COMMANDS:
        register(subparsers)
    parser.subparsers = subparsers  # type: ignore[attr-defined]
    return parser


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


# -- running --------------------------------------------------------------------------------------------
def _exit_code(exc: BaseException) -> int:
    if isinstance(exc, CommandError):
        return exc.code
    if isinstance(exc, DataSourceError):
        return 1
    if isinstance(exc, (EventStudyError, ValueError, KeyError, TypeError)):
        return 2
    return 1  # OSError and friends: files that could not be read


def _message(exc: BaseException) -> str:
    if isinstance(exc, KeyError) and len(exc.args) == 1:
        text = str(exc.args[0])
    elif isinstance(exc, FileNotFoundError) and exc.filename:
        text = f"file not found: {exc.filename}"
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split())  # one line, whatever the exception carried


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (0 success, 1 data/I/O error, 2 usage/input error)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has already printed usage (or --version / --help)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", EventStudyWarning)
        try:
            code = int(args.func(args) or 0)
        except BrokenPipeError:  # the reader went away (e.g. `| head`): not an error of ours
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps the interpreter from complaining at exit
            code = 0
        except (EventStudyError, CommandError, OSError, ValueError, KeyError, TypeError) as exc:
            if args.debug:
                traceback.print_exc()
            print(f"{_PROG}: error: {_message(exc)}", file=sys.stderr)
            code = _exit_code(exc)
        except Exception as exc:  # a bug of ours: still one line, the traceback on request
            if args.debug:
                traceback.print_exc()
            print(
                f"{_PROG}: error: unexpected {type(exc).__name__}: {_message(exc)} (rerun with --debug for the traceback)",
                file=sys.stderr,
            )
            code = 1
    for item in caught:
        if issubclass(item.category, EventStudyWarning):
            print(f"{_PROG}: warning: {' '.join(str(item.message).split())}", file=sys.stderr)
        else:
            warnings.showwarning(item.message, item.category, item.filename, item.lineno)
    return code


# -- events commands --------------------------------------------------------------------------------------
_LIST_COLUMNS = ["id", "date", "session", "day0", "category", "direction", "title"]


def _load(args: argparse.Namespace) -> pd.DataFrame:
    from eventstudy.time.events import load_events

    # the session column already says "unknown"; `events show` explains the assumption for that event
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SessionAssumptionWarning)
        return load_events(args.catalog, unknown_session=args.unknown_session)


def _filter(events: pd.DataFrame, column: str, wanted: list[str] | None) -> pd.DataFrame:
    if not wanted:
        return events
    available = sorted(v for v in events[column].unique() if v)
    unknown = [w for w in wanted if w not in available]
    if unknown:
        raise CommandError(
            f"unknown {column} {', '.join(map(repr, unknown))}; this catalog has: {', '.join(available) or 'none'}"
        )
    return events[events[column].isin(wanted)]


def _day(value: str, option: str) -> pd.Timestamp:
    try:
        return pd.Timestamp(pd.to_datetime(value, format="ISO8601")).normalize()
    except (TypeError, ValueError):
        raise CommandError(f"{option} must be a date such as 2025-01-31; got {value!r}") from None


def _iso(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for column in ("date", "day0"):
        if column in out:
            out[column] = out[column].dt.strftime("%Y-%m-%d")
    return out


def _events_list(args: argparse.Namespace) -> int:
    events = _load(args)
    events = _filter(events, "category", args.category)
    events = _filter(events, "direction", args.direction)
    if args.since:
        events = events[events["date"] >= _day(args.since, "--since")]
    if args.until:
        events = events[events["date"] <= _day(args.until, "--until")]
    columns = [*_LIST_COLUMNS[:1], "ticker", *_LIST_COLUMNS[1:]] if "ticker" in events else _LIST_COLUMNS  # firm-events
    table = _iso(events[columns]).reset_index(drop=True)
    if args.format == "json":
        print(json.dumps(table.to_dict(orient="records"), indent=2, ensure_ascii=False))
    elif args.format == "csv":
        sys.stdout.write(table.to_csv(index=False, lineterminator="\n"))
    elif table.empty:
        print("no events match")
    else:
        shown = table.assign(title=table["title"].map(lambda t: t if len(t) <= 72 else t[:71] + "\u2026"))
        print(_text_table(shown))
    return 0


def _text_table(table: pd.DataFrame) -> str:
    """Left-aligned plain-text table, one line per row (ids and titles read better left-aligned)."""
    cells = table.astype(str)
    widths = [max(len(str(c)), int(cells[c].str.len().max())) for c in cells.columns]
    header = "  ".join(str(c).ljust(w) for c, w in zip(cells.columns, widths))
    rule = "  ".join("-" * w for w in widths)
    rows = ("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() for row in cells.itertuples(index=False))
    return "\n".join([header.rstrip(), rule, *rows])


def _suggest(wanted: str, ids: list[str]) -> list[str]:
    """Ids that contain ``wanted``, else the closest spellings (difflib)."""
    containing = [i for i in ids if wanted.lower() in i.lower()]
    return containing[:3] if containing else difflib.get_close_matches(wanted, ids, n=3, cutoff=0.5)


def _events_show(args: argparse.Namespace) -> int:
    events = _load(args)
    match = events[events["id"] == args.event_id]
    if match.empty:
        ids = events["id"].tolist()
        close = _suggest(args.event_id, ids)
        hint = (
            f"did you mean {' or '.join(map(repr, close))}?" if close else "run 'eventstudy events list' to see the ids"
        )
        raise CommandError(f"unknown event id {args.event_id!r}; {hint}")
    event = match.iloc[0]
    print(_describe(event))
    return 0


def _describe(event: pd.Series) -> str:
    day0 = f"{event['day0']:%Y-%m-%d}"
    rule = str(event.get("day0_rule", "") or "")
    if event["session"] == "unknown":
        day0 += f"  ({rule or 'session unknown'}; see --unknown-session, or use a (0, +1) window)"
    elif rule:
        day0 += f"  ({rule})"
    fields: list[tuple[str, str]] = [
        ("id", event["id"]),
        ("date", f"{event['date']:%Y-%m-%d}"),
        ("time_et", event["time_et"]),
        ("session", event["session"]),
        ("day0", day0),
        ("category", event["category"]),
        ("direction", event["direction"]),
        ("issuer", event["issuer"]),
        ("title", event["title"]),
        ("description", event["description"]),
        ("affected", ", ".join(event["affected"])),
        ("confounders", event["confounders"]),
    ]
    stamp = event.get("timestamp", pd.NaT)
    if not pd.isna(stamp):
        fields.insert(3, ("timestamp", f"{stamp.tz_convert('America/New_York'):%Y-%m-%d %H:%M %Z}"))
    shown = {name for name, _ in fields} | {"sources", "timestamp", "day0_rule", "unknown_session"}
    extras = [c for c in event.index if c not in shown]
    fields += [(c, "" if pd.isna(event[c]) else str(event[c])) for c in extras]
    width = max(len(name) for name, _ in fields + [("sources", "")])
    lines = [f"{name + ':':<{width + 1}} {value}" for name, value in fields]
    sources = list(event["sources"]) or [""]
    lines.append(f"{'sources:':<{width + 1}} {sources[0]}")
    lines += [f"{'':<{width + 1}} {url}" for url in sources[1:]]
    return "\n".join(lines)
