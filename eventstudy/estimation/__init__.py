"""Layer 3, estimation core: the normal-return models and the stacked fit of every firm-event at once, the
design (which securities, benchmarks and factors), firm-events and their drops, contamination by other events,
data quality, provenance, and the other outcomes (volume, volatility)."""
