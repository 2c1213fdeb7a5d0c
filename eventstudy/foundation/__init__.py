"""Layer 0, foundation: argument checks, checks of misread values, exchange symbols, thread counts, distribution
tails, exchange calendars built fast, and the tables every display renders. Imports nothing of the package but
:mod:`eventstudy.exceptions`."""
