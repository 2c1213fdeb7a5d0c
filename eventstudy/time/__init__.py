"""Layer 2, time: every exchange's trading calendar, the one resolver of day 0 (event time), the event catalogs,
the session layout of a study, returns on it, and conversion to another currency."""
