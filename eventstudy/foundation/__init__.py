"""Layer 0, foundation: argument checks, checks of misread values, exchange symbols, thread counts, distribution
tails, exchange calendars built fast, the tables every display renders, and files written aside and moved into
place. Imports nothing of the package but :mod:`eventstudy.exceptions`."""
