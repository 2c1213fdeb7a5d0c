"""A study fitted past one process: securities in partitions, fitted on dask.distributed workers, merged.

:meth:`EventStudy.fit(client=...) <eventstudy.results.study.EventStudy.fit>` splits the study's securities into
partitions (:func:`partition_tickers`), ships each partition its firm-events and either its columns of the
returns plus the benchmarks' or the price source (read on the worker over the whole study's span,
:class:`SpanSource`), loads each partition's data on its worker and keeps them there (:func:`load_partition`),
gathers only their first and last dates and columns to take the whole study's date range and benchmark names
(:func:`study_frame`), runs the local fit on each partition's data with them (:func:`fit_partition`) and merges
the partitions' records (:class:`PartFit`) into the panels and stacked fit the local fit would have built
(:func:`merge_parts`).

Nothing here imports dask: the client is used through ``submit``, ``scatter`` and ``gather`` only, and
:func:`check_client` imports dask.distributed where a client is given.

Partitions are by security because nothing in a fit crosses securities except the benchmark columns (shipped
to every partition), the catalog of events (shipped whole) and the groups of firm-events that the tests across
events treat as one (``event_clusters``: one announcement on several exchanges), recomputed here over the
merged set.
"""

from __future__ import annotations

import copy
import dataclasses
import re
import threading
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, cast

import numpy as np
import pandas as pd

from eventstudy.data import default_source
from eventstudy.estimation.design import build_layout, frame_names
from eventstudy.estimation.firmevents import benchmark_lists, benchmark_names
from eventstudy.estimation.fit import StackedFit
from eventstudy.estimation.loading import load_returns, required_span
from eventstudy.estimation.outcomes import load_volumes
from eventstudy.estimation.panel import AlignedData
from eventstudy.estimation.provenance import describe_source
from eventstudy.exceptions import (
    DataQualityWarning,
    DroppedFirmEventsWarning,
    EstimationError,
    MarketShockWarning,
    NotAFirmWarning,
)
from eventstudy.time.layout import Layout

__all__ = [
    "INSTALL_HINT",
    "check_client",
    "partition_tickers",
    "SpanSource",
    "PartFit",
    "Loaded",
    "fit_partitions",
    "load_partition",
    "extent",
    "study_frame",
    "fit_partition",
    "warning_orders",
    "partition_returns",
    "benchmark_returns",
    "merge_parts",
    "merged_provenance",
    "merge_warnings",
    "Merged",
    "Unestimated",
]

INSTALL_HINT = 'pip install "eventstudy-toolkit[dask]"'

#: warnings a partition's fit issues that the merge issues again for the whole study (counts over every
#: partition): the partition's own text is left out
_REISSUED = (DroppedFirmEventsWarning, MarketShockWarning, NotAFirmWarning)
_GAPS = "lack an abnormal return inside the event window"

#: held while a partition records its warnings: ``warnings.catch_warnings`` swaps process-wide state (the
#: filters and ``showwarning``), so two partitions recording at once on threads of one worker process would
#: take (or lose) each other's warnings. Partitions in one process therefore run their phases in turn; to run
#: them in parallel, start several worker processes with one thread each
#: (``LocalCluster(n_workers=k, threads_per_worker=1)``, the default ``processes=True``).
_RECORDING = threading.Lock()


def check_client(client) -> None:
    """``client`` is a ``dask.distributed.Client``; without dask installed, an ImportError saying how to get it."""
    try:
        from distributed import Client  # optional: only a fit on a cluster needs it
    except ImportError as error:
        raise ImportError(
            f"EventStudy.fit(client=...) runs on dask.distributed, which is not installed: {INSTALL_HINT}"
        ) from error
    if not isinstance(client, Client):
        raise TypeError(
            f"The 'client' parameter must be a dask.distributed.Client (e.g. Client(LocalCluster(n_workers=2))). "
            f"Got {type(client).__name__} instead."
        )


def partition_tickers(firm_events: pd.DataFrame, partitions: int) -> list[list[str]]:
    """The securities in ``partitions`` runs of about equal numbers of firm-events, in first-appearance order.

    Deterministic (the firm-event table's order decides it); runs keep a security whole and may be empty
    when there are fewer securities than partitions.
    """
    counts = firm_events["ticker"].value_counts(sort=False)
    tickers = pd.unique(firm_events["ticker"])
    sizes = counts.reindex(tickers).to_numpy()
    # a security goes to the run holding the middle of its firm-events: runs of about len/partitions each
    middle = np.cumsum(sizes) - sizes / 2.0
    run = np.minimum((middle * partitions / max(len(firm_events), 1)).astype(np.int64), partitions - 1)
    return [[str(t) for t in tickers[run == k]] for k in range(partitions)]


@dataclass(frozen=True)
class SpanSource:
    """A price source read over the whole study's span, whichever partition asks.

    Each partition's loader asks for the span of its own firm-events; reading the study's span instead gives
    every partition the benchmark history the local fit reads (the data-quality checks of a ticker use its
    own history over that span).  Pickled to the workers: the source object travels, not its data.
    """

    source: Any
    start: pd.Timestamp
    end: pd.Timestamp

    def get_prices(self, tickers, start, end, **kwargs):
        return self.source.get_prices(tickers, self.start, self.end, **kwargs)

    def describe(self) -> dict:
        return describe_source(self.source)  # the provenance names the source, not this wrapper

    def __getattr__(self, name: str):
        if name == "source":  # not yet set while unpickling
            raise AttributeError(name)
        return getattr(self.source, name)


@dataclass(frozen=True, eq=False)
class PartFit:
    """What a partition's fit sends back: its stacked fit and panels, its keys, drops, provenance and warnings.

    ``fit`` is None when no firm-event of the partition could be estimated (its ``dropped`` says why).
    ``tickers`` are the partition's security columns, in its layout's order.
    """

    tickers: list[str]
    dropped: pd.DataFrame
    fit: StackedFit | None = None
    kept: pd.DataFrame | None = None  # event_id, ticker of the estimated firm-events, in fit order
    raw: np.ndarray | None = None
    offset: np.ndarray | None = None
    sessions: pd.DatetimeIndex | None = None
    provenance: dict = field(default_factory=dict)
    warnings: list[tuple[type[Warning], str]] = field(default_factory=list)


@dataclass(frozen=True, eq=False)
class Loaded:
    """A partition's data, loaded on its worker and kept there: the loaders' returns (or log volumes), source
    description and tickers without data (each with why), and the warnings the loaders issued."""

    returns: pd.DataFrame
    source_info: dict
    failures: dict[str, str]
    warnings: list[tuple[type[Warning], str]]


def load_partition(
    study,
    spec,
    firm_events: pd.DataFrame,
    returns: pd.DataFrame | None = None,
    lists: Sequence[tuple[str, ...]] | None = None,
) -> Loaded:
    """Run on a worker: the first phase of a partition's fit, its data loaded as the local fit loads them,
    with the partition's columns of the ``returns`` (or, without them, the study's source, a
    :class:`SpanSource`) and the whole study's benchmark ``lists``
    (:func:`~eventstudy.estimation.firmevents.benchmark_lists` of its firm-events: the loaders read every
    benchmark and check returns against the study's first, as the local fit's do); warnings recorded rather
    than shown (under a lock: partitions on threads of one process load in turn, see :data:`_RECORDING`)."""
    if returns is not None:
        study = copy.copy(study)
        study.returns = returns
    with _RECORDING, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded, source_info, failures = study._load(spec, firm_events, lists)
    return Loaded(loaded, source_info, failures, [(w.category, str(w.message)) for w in caught])


def extent(loaded: Loaded) -> tuple[pd.Timestamp | None, pd.Timestamp | None, list[str]]:
    """Run on a worker: the first and last date of a partition's loaded data and its columns (all the client
    gathers of them)."""
    index = loaded.returns.index
    if not len(index):
        return None, None, list(loaded.returns.columns)
    return index.min(), index.max(), list(loaded.returns.columns)


def study_frame(
    extents: Sequence[tuple[pd.Timestamp | None, pd.Timestamp | None, list[str]]], firm_events: pd.DataFrame, spec
) -> tuple[tuple[pd.Timestamp, pd.Timestamp] | None, tuple[str, ...], Layout | None]:
    """The whole study's first and last date (None when no partition loaded any), benchmark names
    (:func:`~eventstudy.estimation.design.frame_names`) and layout (None without dates): the local fit's, from
    the partitions' :func:`extent` (the local fit's returns are the union of the partitions')."""
    firsts = [first for first, _, _ in extents if first is not None and not pd.isna(first)]
    lasts = [last for _, last, _ in extents if last is not None and not pd.isna(last)]
    span = (min(firsts), max(lasts)) if firsts and lasts else None
    columns = list(dict.fromkeys(c for _, _, names in extents for c in names))
    # build_layout reads the securities present in the returns' columns and the first and last date only
    stub = pd.DataFrame(index=pd.DatetimeIndex(list(span) if span is not None else []), columns=columns)
    layout = build_layout(firm_events, stub, spec)
    market, _ = frame_names(layout, spec)
    return span, market, (layout if span is not None else None)


def fit_partition(
    study,
    spec,
    firm_events: pd.DataFrame,
    loaded: Loaded,
    span: tuple[pd.Timestamp, pd.Timestamp] | None = None,
    market: tuple[str, ...] | None = None,
) -> PartFit:
    """Run on a worker: the second phase, the local fit of ``study`` on the partition's placed ``firm_events``
    and its ``loaded`` data (:func:`load_partition`), on the whole study's ``span`` with its benchmark names
    ``market`` (:func:`study_frame`); warnings recorded rather than shown (under a lock: partitions on threads
    of one process are fitted in turn, see :data:`_RECORDING`)."""
    with _RECORDING, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            res = study._fit(
                spec,
                firm_events,
                loaded=(loaded.returns, loaded.source_info, loaded.failures),
                span=span,
                market=market,
            )
        except EstimationError as error:
            dropped = error.dropped
            said = _kept_warnings([*loaded.warnings, *_pairs(caught)])
            return PartFit(tickers=_present(firm_events, loaded), dropped=dropped, warnings=said)
        provenance = res.provenance  # the partition's returns stay on the worker: their hash is taken here
    kept = res.firm_events[["event_id", "ticker"]]
    fit = res.fit
    return PartFit(
        tickers=list(res.settings["exchanges"]),
        dropped=res.dropped,
        fit=replace(fit, _cache={}),  # the cache holds locks (not picklable) and arrays the client recomputes
        kept=kept,
        raw=res._raw,
        offset=res._offset,
        sessions=res.sessions,
        provenance=provenance,
        warnings=_kept_warnings([*loaded.warnings, *_pairs(caught)]),
    )


def partition_returns(returns: pd.DataFrame, tickers: Sequence[str], benchmarks: Sequence[str]) -> pd.DataFrame:
    """The columns of ``returns`` a partition reads: its securities' and the benchmarks' (a column differing from
    one of its tickers only in case too, so the loader's "did you mean" hint is the local fit's)."""
    wanted = {*map(str, tickers), *map(str, benchmarks)}
    folded = {t.casefold() for t in map(str, tickers)}
    mask = [str(c) in wanted or str(c).casefold() in folded for c in returns.columns]
    return returns.loc[:, mask]


def benchmark_returns(firm_events: pd.DataFrame, spec, returns: pd.DataFrame | None, source) -> pd.DataFrame:
    """The benchmarks' columns as the study's loader (of returns, or of volumes) gives them to the local fit:
    read with one firm-event per benchmark list, the loader's warnings left out (the partitions issued them)."""
    probe = firm_events.drop_duplicates("benchmarks")
    benchmarks = benchmark_names(benchmark_lists(probe))
    if returns is not None:
        returns = partition_returns(returns, [], benchmarks)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if spec.outcome == "volume":
            loaded, _, _ = load_volumes(probe, spec, volumes=returns, source=source)
        else:
            loaded, _, _ = load_returns(probe, spec, returns=returns, source=source)
    return loaded[[b for b in benchmarks if b in loaded.columns]]


def fit_partitions(
    client, study, spec, firm_events: pd.DataFrame, partitions: int
) -> tuple[list[PartFit], Any, Layout | None]:
    """Fit ``study``'s placed ``firm_events`` in ``partitions`` partitions of securities on ``client``'s workers;
    return their records, the source the workers read (a :class:`SpanSource`; None with ``returns=``) and the
    whole study's layout (:func:`study_frame`; None when no partition loaded a date).

    Two phases: each partition's data are loaded on a worker and kept there (:func:`load_partition`); the
    client gathers only their first and last dates and columns (:func:`extent`), from which it computes the
    whole study's date range and benchmark names (:func:`study_frame`); then each partition is fitted on its
    worker's data with them, so that its layout and drop reasons are those of the local fit.

    Partitions run in parallel across worker processes; those on threads of one process run in turn (each
    records its warnings under a process-wide lock), so give each worker one thread
    (``threads_per_worker=1``) and start several processes to fit in parallel."""
    returns, source = study.returns, None
    if returns is None:  # every partition reads the whole study's span (the local fit's), on its worker
        start, end = required_span(
            firm_events, spec.estimation_window, spec.event_window, spec.calendars, spec.model.needs()
        )
        source = SpanSource(study.source if study.source is not None else default_source(), start, end)
    lists = benchmark_lists(firm_events)  # the study's, not a partition's: its first benchmark checks returns
    benchmarks = benchmark_names(lists)
    shipped = copy.copy(study)  # settings only: the data go as the partitions' own
    shipped.returns, shipped.source = None, source
    mine, loads = [], []
    for tickers in partition_tickers(firm_events, partitions):
        if not tickers:
            continue
        mine.append(firm_events[firm_events["ticker"].isin(tickers)].reset_index(drop=True))
        data = None
        if returns is not None:
            data = client.scatter(partition_returns(returns, tickers, benchmarks), hash=False)
        loads.append(client.submit(load_partition, shipped, spec, mine[-1], data, lists, pure=False))
    extents = client.gather([client.submit(extent, load, pure=False) for load in loads])
    span, market, layout = study_frame(extents, firm_events, spec)
    futures = [
        client.submit(fit_partition, shipped, spec, events, load, span, market, pure=False)
        for events, load in zip(mine, loads)
    ]
    return client.gather(futures), source, layout


def warning_orders(firm_events: pd.DataFrame, returns: pd.DataFrame | None, spec) -> dict[str, list]:
    """The orders in which the local fit's loaders list securities (see :func:`merge_warnings`)."""
    tickers = list(dict.fromkeys(firm_events["ticker"]))
    read = [*tickers, *(b for b in benchmark_names(benchmark_lists(firm_events)) if b not in set(tickers))]
    orders: dict[str, list] = {"read": read}
    if returns is not None:  # given_returns names the columns it reads exchange by exchange
        wanted = set(read)
        exchanges = {c: spec.calendars.exchange(str(c)) for c in returns.columns if c in wanted}
        orders["columns"] = [c for x in dict.fromkeys(exchanges.values()) for c in exchanges if exchanges[c] == x]
    return orders


def _present(firm_events: pd.DataFrame, loaded: Loaded) -> list[str]:
    """A failed partition's securities with returns: those with a column in its loaded data (the columns
    :func:`extent` reports, and those :func:`~eventstudy.estimation.design.build_layout` lays out), not read
    from the drop reasons, whose text differs by outcome (:func:`~eventstudy.estimation.outcomes.volume_reason`)."""
    columns = set(loaded.returns.columns)
    return [str(t) for t in pd.unique(firm_events["ticker"]) if t in columns]


def _pairs(caught) -> list[tuple[type[Warning], str]]:
    return [(w.category, str(w.message)) for w in caught]


def _kept_warnings(caught: Sequence[tuple[type[Warning], str]]) -> list[tuple[type[Warning], str]]:
    out = []
    for category, message in caught:
        if issubclass(category, _REISSUED) or (issubclass(category, DataQualityWarning) and _GAPS in message):
            continue
        out.append((category, message))
    return out


@dataclass(frozen=True)
class _Listing:
    """A warning that lists securities (one item each, joined), issued once per call: each partition lists its
    own, the merged study lists them all, in the local fit's order, with the count."""

    pattern: re.Pattern  # groups: head, items, tail
    separator: str
    splitter: re.Pattern
    key: re.Pattern  # the item's security
    counted: bool  # the head starts with the count of items
    order: str = "read"  # the order of items: "read" (securities, then benchmarks) or "columns" (of the returns)
    single: re.Pattern | None = None  # the form of a message with one item (no head)
    many: str = ""  # the head of the many-item form, where there is a one-item form

    def parse(self, message: str) -> list[str] | None:
        found = self.pattern.match(message)
        if found is not None:
            return self.splitter.split(found.group(2))
        if self.single is not None and self.single.match(message):
            return [message]
        return None

    def compose(self, template: str | None, items: list[str]) -> str:
        if self.single is not None:
            return items[0] if len(items) == 1 else self.many.format(n=len(items)) + self.separator.join(items)
        found = self.pattern.match(template or "")
        assert found is not None  # a listing without a one-item form was parsed from a template
        head = found.group(1)
        if self.counted:
            head = re.sub(r"^\d+", str(len(items)), head)
        return head + self.separator.join(items) + found.group(3)


#: eventstudy.estimation.loading.given_returns: values on days the security's exchange was closed (the
#: provenance's notes merge it alone)
_CLOSED_DAYS = _Listing(
    re.compile(
        # the warning ends with the advice; the provenance note, the same list, without it
        r"^(returns on days the security's exchange was closed were left out: )(.*?)((?:\. Check the data source\.)?)$",
        re.S,
    ),
    "; ",
    re.compile(r"; "),
    re.compile(r"^(.*?): \d+ \("),
    counted=False,
    order="columns",
)


_LISTINGS = (
    # eventstudy.data.base: securities whose prices start late or end early
    _Listing(
        re.compile(r"^(\d+ tickers do not cover the whole range: )(.*)()$", re.S),
        " | ",
        re.compile(r" \| "),
        re.compile(r"^(.*?): the data cover "),
        counted=True,
        single=re.compile(r"^\S.*?: the data cover .*, not all of the requested ", re.S),
        many="{n} tickers do not cover the whole range: ",
    ),
    # eventstudy.estimation.quality.warn_implausible
    _Listing(
        re.compile(r"^(\d+ implausible daily return\(s\), kept as they are: )(.*?)(\. Use adjusted prices .*)$", re.S),
        "; ",
        re.compile(r"; (?=\S+ on \d{4}-\d{2}-\d{2}: )"),
        re.compile(r"^(.*?) on \d{4}-\d{2}-\d{2}: "),
        counted=True,
    ),
    # eventstudy.data.base: securities without the field asked for, read from their close (every partition
    # reads every benchmark, so a benchmark's item comes from several)
    _Listing(
        re.compile(r"^()(\S.*?: no '[^']+' values in the data; used 'Close' instead, .*)()$", re.S),
        " | ",
        re.compile(r" \| (?=\S.*?: no '[^']+' values in the data; )"),
        re.compile(r"^(.*?): no '[^']+' values in the data; "),
        counted=False,
    ),
    _CLOSED_DAYS,
)


def merge_warnings(
    per_part: Sequence[Sequence[tuple[Any, str]]],
    orders: Mapping[str, Sequence[str]],
    listings: Sequence[_Listing] = _LISTINGS,
) -> list[tuple[Any, str]]:
    """The partitions' warnings as the local fit issues them: each text once, and a warning that lists
    securities (:data:`_LISTINGS`) once with every partition's items, each once (a benchmark is in every
    partition), in the local fit's order: ``orders["read"]`` the securities then the benchmarks,
    ``orders["columns"]`` the returns' columns by exchange."""
    ranks = {kind: {name: k for k, name in enumerate(names)} for kind, names in orders.items()}
    out: list[tuple[Any, str | _Listing]] = []
    items: dict[_Listing, dict[str, None]] = {}
    templates: dict[_Listing, str] = {}
    for warnings_ in per_part:
        for category, message in warnings_:
            listing = next((x for x in listings if x.parse(message) is not None), None)
            if listing is None:
                if (category, message) not in out:
                    out.append((category, message))
                continue
            if listing not in items:
                out.append((category, listing))
                items[listing] = {}
            if listing.pattern.match(message) is not None:
                templates[listing] = message
            items[listing].update(dict.fromkeys(listing.parse(message) or []))

    def position(listing: _Listing, item: str) -> int:
        rank = ranks.get(listing.order, {})
        found = listing.key.match(item)
        return rank.get(found.group(1), len(rank)) if found is not None else len(rank)

    merged: list[tuple[Any, str]] = []
    for category, entry in out:
        if isinstance(entry, _Listing):
            listing = entry
            ordered = sorted(items[listing], key=lambda item: position(listing, item))  # stable: dates stay in order
            merged.append((category, entry.compose(templates.get(entry), ordered)))
        else:
            merged.append((category, entry))
    return merged


@dataclass(frozen=True, eq=False)
class Unestimated:
    """The partitions merged when none estimated a firm-event: the drops (in the study's order) and the
    warnings the caller issues before it raises :func:`~eventstudy.estimation.drops.nothing_estimated`, as the
    local fit issues its loaders' warnings before it raises."""

    dropped: pd.DataFrame
    warnings: list[tuple[type[Warning], str]]


@dataclass(frozen=True, eq=False)
class Merged:
    """The partitions merged: the local fit's panels, stacked fit (clusters not yet set), kept and dropped."""

    fit: StackedFit
    keep: np.ndarray  # the estimated rows of the study's firm-events (the fit's rows, in the study's order)
    dropped: pd.DataFrame
    layout: Layout  # the local fit's: the securities with returns in any partition, on the study's dates
    raw: np.ndarray
    offset: np.ndarray
    warnings: list[tuple[type[Warning], str]]


def merge_parts(
    parts: Sequence[PartFit],
    firm_events: pd.DataFrame,
    layout: Layout | None,
    orders: Mapping[str, Sequence[str]] | None = None,
) -> Merged | Unestimated:
    """The partitions' records as one: panels on the whole study's ``layout`` (:func:`study_frame`), firm-events
    in the order of ``firm_events`` (the study's, placed), each day 0 and security column mapped onto the
    merged panels.

    When no partition estimated a firm-event, an :class:`Unestimated`: the caller issues its warnings, then
    raises :class:`~eventstudy.exceptions.EstimationError` (in the local fit's order).
    """
    position = pd.Series(
        np.arange(len(firm_events)), index=pd.MultiIndex.from_frame(firm_events[["event_id", "ticker"]])
    )
    dropped = pd.concat([p.dropped for p in parts], ignore_index=True) if parts else None
    if dropped is not None and len(dropped):
        order = position.reindex(pd.MultiIndex.from_frame(dropped[["event_id", "ticker"]])).to_numpy()
        dropped = dropped.iloc[np.argsort(order, kind="stable")].reset_index(drop=True)
    fitted = [p for p in parts if p.fit is not None]
    issued = merge_warnings([p.warnings for p in parts], orders or {})
    if not fitted or layout is None:  # (a partition at all means a firm-event: refused before otherwise)
        return Unestimated(cast(pd.DataFrame, dropped), issued)
    fits = [p.fit for p in fitted if p.fit is not None]
    t, m = len(layout.rows), len(layout.tickers)
    columns = pd.Index(layout.tickers)
    spans = layout.spans()
    same_y = all(p.fit.data.y is p.raw for p in fitted if p.fit is not None)  # nothing subtracted: y is the raw panel
    raw = np.full((t, m), np.nan)
    offset = np.full((t, m), np.nan)
    y = raw if same_y else np.full((t, m), np.nan)
    usable = np.zeros((t, m), dtype=bool)
    z = np.full((t, fits[0].data.z.shape[1]), np.nan)
    rows_of, cols_of = [], []
    for p, fit in zip(fitted, fits):
        data = fit.data
        cols = columns.get_indexer(pd.Index(p.tickers))
        row_map = np.zeros(data.n_sessions, dtype=np.int64)  # padding rows map to 0: never read
        for lo, hi, mine in _blocks(data):
            start, stop = spans[cols[mine[0]]]
            found = layout.rows[start:stop].get_indexer(cast(pd.DatetimeIndex, p.sessions)[lo:hi])
            if (found < 0).any():  # a bug, not a user error: a partition's sessions are the study's
                raise RuntimeError("a partition's sessions are not the merged layout's; please report the study")
            target = row_map[lo:hi] = found + start
            at = np.ix_(target, cols[mine])
            raw[at] = cast(np.ndarray, p.raw)[lo:hi, mine]
            offset[at] = cast(np.ndarray, p.offset)[lo:hi, mine]
            if not same_y:
                y[at] = data.y[lo:hi, mine]
            usable[at] = data.usable[lo:hi, mine]
            z[target] = data.z[lo:hi]
        rows_of.append(row_map)
        cols_of.append(cols)
    merged_data = AlignedData(y=y, z=z, usable=usable, spans=spans)
    keys = pd.concat([p.kept for p in fitted], ignore_index=True)
    where = position.reindex(pd.MultiIndex.from_frame(keys)).to_numpy()
    order = np.argsort(where, kind="stable")
    fit = _concat_fits(fits, rows_of, cols_of, merged_data, order)
    keep = np.zeros(len(firm_events), dtype=bool)
    keep[where] = True  # the fit's rows are in the study's order, as the local fit's mask keeps them
    return Merged(
        fit=fit, keep=keep, dropped=cast(pd.DataFrame, dropped), layout=layout, raw=raw, offset=offset, warnings=issued
    )


def _blocks(data: AlignedData):
    """``(first row, one past the last, columns)`` of each block of a partition's panel."""
    spans = data.spans if data.spans is not None else np.tile([0, data.n_sessions], (data.y.shape[1], 1))
    for lo, hi in np.unique(spans, axis=0):
        yield int(lo), int(hi), np.flatnonzero((spans[:, 0] == lo) & (spans[:, 1] == hi))


def _concat_fits(fits: list[StackedFit], rows_of, cols_of, data: AlignedData, order: np.ndarray) -> StackedFit:
    """One stacked fit of the partitions' firm-events (rows in ``order``), day 0 and firm on the merged panels."""
    first = fits[0]
    values: dict[str, Any] = {}
    for f in dataclasses.fields(first):
        if not f.init or f.name.startswith("_"):
            continue
        name = f.name
        if name == "data":
            values[name] = data
        elif name == "day0":
            values[name] = np.concatenate([r[fit.day0] for fit, r in zip(fits, rows_of)])[order]
        elif name == "firm":
            values[name] = np.concatenate([c[fit.firm] for fit, c in zip(fits, cols_of)])[order]
        elif name == "cluster":
            values[name] = None  # over the merged set: the caller sets it
        elif isinstance(getattr(first, name), np.ndarray):
            values[name] = np.concatenate([getattr(fit, name) for fit in fits])[order]
        else:
            values[name] = getattr(first, name)
    return type(first)(**values)


def merged_provenance(
    parts: Sequence[PartFit], source_info: dict | None, orders: Mapping[str, Sequence[str]] | None = None
) -> dict:
    """One provenance of the partitions': their sources' descriptions merged (``source_info``'s keys over
    theirs where the client knows them: the caller's columns in the caller's order), return ranges and notes together, and each partition's hash of its returns
    (``returns_sha256`` is None: no process held the whole study's returns)."""
    provenances = [p.provenance for p in parts if p.provenance]
    if not provenances:
        return {}
    source: dict = {}
    ranges: dict = {}
    notes: list[list[tuple[None, str]]] = []
    for prov in provenances:
        for key, value in prov["source"].items():
            if isinstance(value, dict):
                source[key] = {**source.get(key, {}), **value}
            elif isinstance(value, list) and isinstance(source.get(key), list):
                source[key] = list(dict.fromkeys([*source[key], *value]))
            else:
                source.setdefault(key, value)
        ranges.update(prov["return_ranges"])
        notes.append([(None, note) for note in prov["notes"]])
    return {
        "source": source if source_info is None else {**source, **source_info},
        "returns_sha256": None,
        "returns_sha256_partitions": [prov["returns_sha256"] for prov in provenances],
        "return_ranges": ranges,
        # the loaders' notes once each; the closed-days note (a list of columns) as one
        "notes": [note for _, note in merge_warnings(notes, orders or {}, (_CLOSED_DAYS,))],
        "factors": provenances[0]["factors"],
        "versions": provenances[0]["versions"],
    }
