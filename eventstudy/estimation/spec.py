"""An event study's settings, validated: what every step of a fit reads.

:meth:`EventStudy.fit <eventstudy.results.study.EventStudy.fit>` checks the study's arguments once and keeps
them in a :class:`FitSpec`; loading the returns (:mod:`eventstudy.estimation.loading`), building the design
(:mod:`eventstudy.estimation.design`) and finding what cannot be estimated (:mod:`eventstudy.estimation.drops`) read that record,
not the study.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from eventstudy.data.base import Field
from eventstudy.estimation.base import NormalReturnModel
from eventstudy.time.layout import CalendarSpec, Layout, MarketSpec

__all__ = ["FitSpec"]


@dataclass(frozen=True)
class FitSpec:
    """An :class:`~eventstudy.results.study.EventStudy`'s settings, validated once for one fit and frozen.

    Every field is final when the spec is built (``return_kind`` is already that of the caller's returns,
    ``outcome`` the study's); a variant is a new spec (``dataclasses.replace(spec, outcome="returns")``).
    Nothing below the results layer sees the study object: the loaders take this spec and plain values.
    """

    model: NormalReturnModel
    markets: MarketSpec
    estimation_window: tuple[int, int]
    event_window: tuple[int, int]
    calendars: CalendarSpec
    align: str
    min_obs: int
    return_kind: Literal["simple", "log"]
    price_field: Field
    exclude_events: bool
    outcome: str = "returns"

    def check_models(self, lists: Sequence[tuple[str, ...]]) -> None:
        """Every benchmark list fits the model, and lists are of one length (they share regressor columns).

        ``lists`` are the study's distinct benchmark lists (:func:`~eventstudy.estimation.firmevents.benchmark_lists`
        of its firm-events)."""
        for names in lists:
            self.model.validate_market(names)
        if len({len(names) for names in lists}) > 1:
            raise ValueError(
                f"The 'market' mapping gives benchmark lists of different lengths ({[list(n) for n in lists]}); "
                "one model needs as many benchmarks for every security."
            )

    def settings(self, layout: Layout) -> dict:
        market = self.markets.describe()
        if self.markets.single is not None or len({b.benchmarks for b in layout.blocks}) == 1:
            label = self.model.describe(
                self.markets.single if self.markets.single is not None else layout.blocks[0].benchmarks
            )
        else:  # one benchmark per exchange: say which
            pairs = dict.fromkeys(f"{b.exchange} {'+'.join(b.benchmarks)}" for b in layout.blocks)
            label = f"{self.model.label} (benchmark per exchange: {', '.join(pairs)})"
        return {
            "model": self.model.name,
            "model_label": label,
            "market": market,
            "estimation_window": list(self.estimation_window),
            "event_window": list(self.event_window),
            "min_estimation_obs": self.min_obs,
            "calendar": self.calendars.name,
            "exchanges": {t: layout.blocks[b].exchange for t, b in zip(layout.tickers, layout.column_block)},
            "align_benchmarks": self.align,
            "unknown_session": self.calendars.unknown_session,
            "return_kind": self.return_kind,
            "price_field": self.price_field,
            "exclude_events": self.exclude_events,
            "outcome": self.outcome,
        }
