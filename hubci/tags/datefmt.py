"""moment.js date formatting, as metadata-action's ``{{date '<fmt>' tz='<zone>'}}`` renders it.

Only formatting is needed (no parsing), in the English locale moment uses by default. Tokens are
matched exactly like moment's ``formattingTokens`` regex (longest alternative first, ``[text]``
literal, ``\\x`` escapes one character); localized formats (``L``, ``LL``, ``LT``…) are expanded
first. A format of ``None`` gives moment's default ISO form: ``2020-01-10T00:30:00Z`` at UTC offset
zero, ``2020-01-10T09:30:00+09:00`` elsewhere.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["format_moment", "in_zone"]

_MONTHS = (
    *("January", "February", "March", "April", "May", "June"),
    *("July", "August", "September", "October", "November", "December"),
)
_WEEKDAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")

_LOCAL_TOKENS = re.compile(r"(\[[^\[]*\])|(\\)?(LTS|LT|LL?L?L?|l{1,4})")
_LOCAL_FORMATS = {
    "LTS": "h:mm:ss A",
    "LT": "h:mm A",
    "L": "MM/DD/YYYY",
    "LL": "MMMM D, YYYY",
    "LLL": "MMMM D, YYYY h:mm A",
    "LLLL": "dddd, MMMM D, YYYY h:mm A",
    "l": "M/D/YYYY",
    "ll": "MMM D, YYYY",
    "lll": "MMM D, YYYY h:mm A",
    "llll": "ddd, MMM D, YYYY h:mm A",
}
_TOKENS = re.compile(
    r"(\[[^\[]*\])|(\\)?([Hh]mm(ss)?|Mo|MM?M?M?|Do|DDDo|DD?D?D?|ddd?d?|do?|w[o|w]?|W[o|W]?|Qo?"
    r"|N{1,5}|YYYYYY|YYYYY|YYYY|YY|y{2,4}|yo?|gg(ggg?)?|GG(GGG?)?|e|E|a|A|hh?|HH?|kk?|mm?|ss?"
    r"|S{1,9}|x|X|zz?|ZZ?|.)",
    re.DOTALL,
)


class UnknownTimeZone(ValueError):
    """The ``tz=`` argument names no IANA time zone."""


def in_zone(moment: datetime, tz: str) -> datetime:
    """``moment`` (timezone-aware) converted to the IANA zone ``tz``."""
    if tz.upper() == "UTC":
        return moment.astimezone(timezone.utc)
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UnknownTimeZone(tz) from exc
    return moment.astimezone(zone)


def _ordinal(n: int) -> str:
    if n % 100 in (11, 12, 13):
        return f"{n}th"
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th') }"


def _pad(n: int, width: int) -> str:
    sign = "-" if n < 0 else ""
    return sign + str(abs(n)).zfill(width)


def _offset(moment: datetime, sep: str) -> str:
    delta = moment.utcoffset() or timedelta(0)
    minutes = int(delta.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    minutes = abs(minutes)
    return f"{sign}{minutes // 60:02d}{sep}{minutes % 60:02d}"


def _js_day(d: date) -> int:
    """Day of week as JavaScript numbers it: Sunday 0 … Saturday 6."""
    return (d.weekday() + 1) % 7


def _first_week_offset(year: int, dow: int, doy: int) -> int:
    fwd = 7 + dow - doy
    fwdlw = (7 + _js_day(date(year, 1, fwd)) - dow) % 7
    return -fwdlw + fwd - 1


def _weeks_in_year(year: int, dow: int, doy: int) -> int:
    days = 366 if date(year, 12, 31).timetuple().tm_yday == 366 else 365
    offset = _first_week_offset(year, dow, doy)
    offset_next = _first_week_offset(year + 1, dow, doy)
    return (days - offset + offset_next) // 7


def _week_of_year(d: date, dow: int, doy: int) -> tuple[int, int]:
    """(week, week-year) with moment's algorithm: en locale dow=0/doy=6, ISO dow=1/doy=4."""
    offset = _first_week_offset(d.year, dow, doy)
    week = math.floor((d.timetuple().tm_yday - offset - 1) / 7) + 1
    if week < 1:
        return week + _weeks_in_year(d.year - 1, dow, doy), d.year - 1
    if week > _weeks_in_year(d.year, dow, doy):
        return week - _weeks_in_year(d.year, dow, doy), d.year + 1
    return week, d.year


def _hour12(m: datetime) -> int:
    return m.hour % 12 or 12


def _fraction(m: datetime, digits: int) -> str:
    millis = m.microsecond // 1000
    return str(millis * 10**digits // 1000).zfill(digits)


def _year_token(m: datetime) -> str:
    return _pad(m.year, 4) if m.year <= 9999 else f"+{m.year}"


_Fn = Callable[[datetime], str]

_FUNCTIONS: dict[str, _Fn] = {
    "M": lambda m: str(m.month),
    "Mo": lambda m: _ordinal(m.month),
    "MM": lambda m: _pad(m.month, 2),
    "MMM": lambda m: _MONTHS[m.month - 1][:3],
    "MMMM": lambda m: _MONTHS[m.month - 1],
    "Q": lambda m: str((m.month - 1) // 3 + 1),
    "Qo": lambda m: _ordinal((m.month - 1) // 3 + 1),
    "D": lambda m: str(m.day),
    "Do": lambda m: _ordinal(m.day),
    "DD": lambda m: _pad(m.day, 2),
    "DDD": lambda m: str(m.timetuple().tm_yday),
    "DDDo": lambda m: _ordinal(m.timetuple().tm_yday),
    "DDDD": lambda m: _pad(m.timetuple().tm_yday, 3),
    "d": lambda m: str(_js_day(m)),
    "do": lambda m: _ordinal(_js_day(m)),
    "dd": lambda m: _WEEKDAYS[_js_day(m)][:2],
    "ddd": lambda m: _WEEKDAYS[_js_day(m)][:3],
    "dddd": lambda m: _WEEKDAYS[_js_day(m)],
    "e": lambda m: str(_js_day(m)),
    "E": lambda m: str(m.isoweekday()),
    "w": lambda m: str(_week_of_year(m.date(), 0, 6)[0]),
    "wo": lambda m: _ordinal(_week_of_year(m.date(), 0, 6)[0]),
    "ww": lambda m: _pad(_week_of_year(m.date(), 0, 6)[0], 2),
    "W": lambda m: str(_week_of_year(m.date(), 1, 4)[0]),
    "Wo": lambda m: _ordinal(_week_of_year(m.date(), 1, 4)[0]),
    "WW": lambda m: _pad(_week_of_year(m.date(), 1, 4)[0], 2),
    "Y": _year_token,
    "YY": lambda m: _pad(m.year % 100, 2),
    "YYYY": lambda m: _pad(m.year, 4),
    "YYYYY": lambda m: _pad(m.year, 5),
    "YYYYYY": lambda m: ("-" if m.year < 0 else "+") + str(abs(m.year)).zfill(6),
    "gg": lambda m: _pad(_week_of_year(m.date(), 0, 6)[1] % 100, 2),
    "gggg": lambda m: _pad(_week_of_year(m.date(), 0, 6)[1], 4),
    "ggggg": lambda m: _pad(_week_of_year(m.date(), 0, 6)[1], 5),
    "GG": lambda m: _pad(_week_of_year(m.date(), 1, 4)[1] % 100, 2),
    "GGGG": lambda m: _pad(_week_of_year(m.date(), 1, 4)[1], 4),
    "GGGGG": lambda m: _pad(_week_of_year(m.date(), 1, 4)[1], 5),
    "N": lambda _: "AD",
    "NN": lambda _: "AD",
    "NNN": lambda _: "AD",
    "NNNN": lambda _: "Anno Domini",
    "NNNNN": lambda _: "AD",
    "y": lambda m: str(m.year),
    "yy": lambda m: _pad(m.year % 100, 2),
    "yyy": lambda m: _pad(m.year, 3),
    "yyyy": lambda m: _pad(m.year, 4),
    "yo": lambda m: _ordinal(m.year),
    "a": lambda m: "am" if m.hour < 12 else "pm",
    "A": lambda m: "AM" if m.hour < 12 else "PM",
    "H": lambda m: str(m.hour),
    "HH": lambda m: _pad(m.hour, 2),
    "h": lambda m: str(_hour12(m)),
    "hh": lambda m: _pad(_hour12(m), 2),
    "k": lambda m: str(m.hour or 24),
    "kk": lambda m: _pad(m.hour or 24, 2),
    "hmm": lambda m: f"{_hour12(m)}{m.minute:02d}",
    "hmmss": lambda m: f"{_hour12(m)}{m.minute:02d}{m.second:02d}",
    "Hmm": lambda m: f"{m.hour}{m.minute:02d}",
    "Hmmss": lambda m: f"{m.hour}{m.minute:02d}{m.second:02d}",
    "m": lambda m: str(m.minute),
    "mm": lambda m: _pad(m.minute, 2),
    "s": lambda m: str(m.second),
    "ss": lambda m: _pad(m.second, 2),
    "X": lambda m: str(math.floor(m.timestamp())),
    "x": lambda m: str(math.floor(m.timestamp() * 1000)),
    "z": lambda m: m.tzname() or "",
    "zz": lambda m: m.tzname() or "",
    "Z": lambda m: _offset(m, ":"),
    "ZZ": lambda m: _offset(m, ""),
}


def _fraction_token(digits: int) -> _Fn:
    return lambda m: _fraction(m, digits)


_FUNCTIONS.update({"S" * digits: _fraction_token(digits) for digits in range(1, 10)})


def _expand_local(fmt: str) -> str:
    for _ in range(5):  # moment expands nested localized formats up to 5 times
        expanded = _LOCAL_TOKENS.sub(
            lambda mt: mt.group(0) if mt.group(1) or mt.group(2) else _LOCAL_FORMATS[mt.group(3)],
            fmt,
        )
        if expanded == fmt:
            break
        fmt = expanded
    return fmt


def format_moment(moment: datetime, fmt: str | None) -> str:
    """Format ``moment`` (already in the wanted zone) like moment.js ``format(fmt)``."""
    if fmt is None:
        if (moment.utcoffset() or timedelta(0)) == timedelta(0):
            return format_moment(moment, "YYYY-MM-DDTHH:mm:ss[Z]")
        return format_moment(moment, "YYYY-MM-DDTHH:mm:ssZ")
    out: list[str] = []
    for match in _TOKENS.finditer(_expand_local(fmt)):
        bracket, escape, token = match.group(1), match.group(2), match.group(3)
        if bracket is not None:
            out.append(bracket[1:-1])
        elif escape is not None:
            out.append(token)
        elif token in _FUNCTIONS:
            out.append(_FUNCTIONS[token](moment))
        else:
            out.append(token.replace("\\", ""))
    return "".join(out)
