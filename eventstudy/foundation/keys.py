"""Keys of the ``DataFrame.attrs`` entries that every layer reads and writes."""

#: ``attrs`` key of the notes a step recorded about the data (gaps, fallbacks, dropped rows)
NOTES_KEY = "eventstudy_notes"
#: ``attrs`` key of the tickers a source left out, with the reason
FAILURES_KEY = "eventstudy_failures"
