"""Which exchange lists a security, read from its Yahoo symbol.

Event time counts each security's own sessions, so every ticker needs an exchange calendar.  A Yahoo
symbol carries it in its suffix (``0981.HK`` trades in Hong Kong, ``8035.T`` in Tokyo); a symbol without a
suffix is a US listing; index symbols (``^N225``) are looked up in :data:`INDEX_EXCHANGES`.  A symbol that
cannot be placed is refused rather than guessed, because a wrong calendar silently moves day 0: the user
names its exchange with ``exchanges={"XYZ.QQ": "XNYS"}``.

Codes are `exchange_calendars <https://github.com/gerrymanoim/exchange_calendars>`_ names.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["SUFFIX_EXCHANGES", "INDEX_EXCHANGES", "DEFAULT_EXCHANGE", "SESSIONS_OF", "sessions_code", "exchange_of"]

#: The exchange of a symbol without a suffix (NYSE; Nasdaq keeps the same sessions).
DEFAULT_EXCHANGE = "XNYS"

#: Yahoo symbol suffix -> exchange code (ISO 10383 MIC).  Shenzhen (``.SZ``) is ``XSHE``; it keeps Shanghai's
#: sessions (:data:`SESSIONS_OF`); currency pairs (``=X``) trade around the clock on weekdays (``24/5``).
SUFFIX_EXCHANGES: dict[str, str] = {
    "HK": "XHKG",
    "SS": "XSHG",
    "SZ": "XSHE",
    "T": "XTKS",
    "KS": "XKRX",
    "KQ": "XKRX",
    "TW": "XTAI",
    "TWO": "XTAI",
    "AS": "XAMS",
    "DE": "XETR",
    "F": "XFRA",
    "L": "XLON",
    "PA": "XPAR",
    "MI": "XMIL",
    "SW": "XSWX",
    "TO": "XTSE",
    "AX": "XASX",
    "NS": "XBOM",
    "BO": "XBOM",
    "SI": "XSES",
}

#: Index symbols (Yahoo spelling, with or without the caret) -> exchange of their constituents.
INDEX_EXCHANGES: dict[str, str] = {
    **dict.fromkeys(
        ["^GSPC", "^IXIC", "^DJI", "^NDX", "^SOX", "^RUT", "^VIX", "^IRX", "^TNX", "^FVX", "^TYX", "^NYA", "^XSP"],
        "XNYS",
    ),
    "^N225": "XTKS",
    "^TOPX": "XTKS",
    "^HSI": "XHKG",
    "^HSCE": "XHKG",
    "^TWII": "XTAI",
    "^KS11": "XKRX",
    "^KQ11": "XKRX",
    "^AEX": "XAMS",
    "^GDAXI": "XETR",
    "^FTSE": "XLON",
    "^FCHI": "XPAR",
    "^SSMI": "XSWX",
    "^GSPTSE": "XTSE",
    "^AXJO": "XASX",
    "^BSESN": "XBOM",
    "^NSEI": "XBOM",
    "^STI": "XSES",
}


#: Exchanges without an exchange_calendars calendar of their own -> the exchange whose sessions they keep.
#: The Shenzhen Stock Exchange (MIC ``XSHE``) opens on the Shanghai Stock Exchange's (``XSHG``) days and hours;
#: the US exchanges (Nasdaq, NYSE American, NYSE Arca, Cboe BZX, IEX) on NYSE's, as exchange_calendars' own
#: aliases say for those it knows (a test checks).  The one table of "same sessions" (:func:`sessions_code`).
SESSIONS_OF: dict[str, str] = {
    "XSHE": "XSHG", "XNAS": "XNYS", "XASE": "XNYS", "ARCX": "XNYS", "BATS": "XNYS", "IEXG": "XNYS",
}  # fmt: skip


def sessions_code(exchange: str) -> str:
    """The exchange_calendars code whose sessions ``exchange`` keeps (``"XSHE"`` -> ``"XSHG"``; others as given).

    Examples
    --------
    >>> sessions_code("XSHE"), sessions_code("XNAS"), sessions_code("XNYS")
    ('XSHG', 'XNYS', 'XNYS')
    """
    return SESSIONS_OF.get(exchange, exchange)


def _unplaced(ticker: str, why: str) -> ValueError:
    return ValueError(
        f"Cannot tell which exchange lists {ticker!r}: {why}. Name it, e.g. exchanges={{{ticker!r}: 'XNYS'}} "
        "(an exchange_calendars code), or give one calendar for every security with calendar='XNYS'."
    )


def exchange_of(ticker: str, exchanges: Mapping[str, str] | None = None) -> str:
    """The exchange_calendars code of ``ticker``'s exchange.

    Parameters
    ----------
    ticker
        A Yahoo symbol: ``NVDA`` (no suffix: :data:`DEFAULT_EXCHANGE`), ``0981.HK``, ``^N225``, ``JPY=X``.
    exchanges
        Overrides, ``{ticker: code}``; consulted first.

    Raises
    ------
    ValueError
        For an unknown suffix or an index symbol that is not in :data:`INDEX_EXCHANGES` (the message says how
        to name the exchange).  Nothing is guessed.

    Examples
    --------
    >>> exchange_of("0981.HK"), exchange_of("NVDA"), exchange_of("^N225"), exchange_of("000300.SS")
    ('XHKG', 'XNYS', 'XTKS', 'XSHG')
    >>> exchange_of("002371.SZ")  # Shenzhen: its own code, Shanghai's sessions (sessions_code)
    'XSHE'
    """
    if not isinstance(ticker, str):
        raise TypeError(f"A ticker must be a string. Got {type(ticker).__name__}: {ticker!r}.")
    if exchanges and ticker in exchanges:
        return exchanges[ticker]
    symbol = ticker.strip().upper()
    if symbol.endswith("=X"):
        return "24/5"
    if symbol.endswith("=F"):
        raise _unplaced(ticker, "futures trade on their own exchange's hours, which a symbol does not say")
    index = symbol if symbol.startswith("^") else "^" + symbol
    if index in INDEX_EXCHANGES:
        return INDEX_EXCHANGES[index]
    if symbol.startswith("^"):
        raise _unplaced(ticker, f"{ticker!r} is not one of the index symbols known to eventstudy")
    if "." in symbol:
        suffix = symbol.rsplit(".", 1)[1]
        if suffix in SUFFIX_EXCHANGES:
            return SUFFIX_EXCHANGES[suffix]
        if not suffix.isalpha() or len(suffix) > 1:  # BRK.B and BF.B are US share classes, not suffixes
            raise _unplaced(ticker, f"the suffix '.{suffix}' is not a known Yahoo exchange suffix")
    return DEFAULT_EXCHANGE
