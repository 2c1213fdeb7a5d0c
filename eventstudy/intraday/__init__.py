"""Intraday event windows: bars on each exchange's sessions, their abnormal returns and tests, and the
intraday study. Above the daily results (it reuses their models) and below presentation."""
