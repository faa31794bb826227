"""Find calendar dates inside a DATE_TIME value and shift or coarsen them, keeping the writer's format.

Only calendar information identifies anyone (HIPAA lists dates, not durations or times of day): "yesterday",
"two weeks", "3 pm" carry none and are left alone; `has_calendar_date` is the shared test, used by the verifier too.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable

_MONTHS = [m.lower() for m in calendar.month_name[1:]]
_MON_ABBR = [m.lower() for m in calendar.month_abbr[1:]]
_DAYS = [d.lower() for d in calendar.day_name]
_DAY_ABBR = [d.lower() for d in calendar.day_abbr]
_MONTH_RE = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
_DAY_RE = r"(?:mon|tue|wed|thu|fri|sat|sun)(?:day|sday|nesday|rsday|urday)?\b"
_ORD = r"(?:st|nd|rd|th)?"

_ISO = re.compile(r"\b(\d{4})([-/.])(\d{1,2})\2(\d{1,2})\b")
_NUMERIC = re.compile(r"\b(\d{1,2})([-/.])(\d{1,2})\2(\d{4}|\d{2})\b")
_MDY = re.compile(rf"\b({_MONTH_RE})(\s+)(\d{{1,2}}){_ORD}(?:(,?\s+)(\d{{4}}))?\b", re.I)
_DMY = re.compile(rf"\b(\d{{1,2}}){_ORD}(\s+(?:of\s+)?)({_MONTH_RE})(?:(,?\s+)(\d{{4}}))?\b", re.I)
_MY = re.compile(rf"\b({_MONTH_RE})(,?\s+)(\d{{4}})\b", re.I)
_YEAR = re.compile(r"\b(1[89]\d{2}|20\d{2})\b")
_WEEKDAY = re.compile(rf"\b{_DAY_RE}", re.I)
_MONTH_ONLY = re.compile(rf"\b{_MONTH_RE}(?!\w)", re.I)


def has_calendar_date(value: str) -> bool:
    return any(p.search(value) for p in (_ISO, _NUMERIC, _MDY, _DMY, _MY, _YEAR, _WEEKDAY, _MONTH_ONLY))


def _month_index(word: str) -> int:
    w = word.lower().rstrip(".")
    for i, (full, abbr) in enumerate(zip(_MONTHS, _MON_ABBR, strict=True)):
        if w in (full, abbr) or w == "sept" and i == 8:
            return i + 1
    raise ValueError("not a month name")  # never echo the value: it may be part of a record


def _same_case(template: str, word: str) -> str:
    if template.isupper() and len(template) > 1:
        return word.upper()
    if template[:1].isupper():
        return word[:1].upper() + word[1:]
    return word.lower()


def _month_word(template: str, month: int) -> str:
    t = template.rstrip(".")
    full = calendar.month_name[month]
    word = full if len(t) > 3 and t.lower() == _MONTHS[_month_index(t) - 1] else calendar.month_abbr[month]
    if t.lower() == "sept" and month != 9:
        word = calendar.month_abbr[month]
    return _same_case(t, word) + ("." if template.endswith(".") and word != full else "")


def _pad(template: str, n: int) -> str:
    return str(n).zfill(len(template)) if template.startswith("0") else str(n)


def _safe_date(y: int, m: int, d: int) -> dt.date | None:
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


Edit = Callable[[dt.date], dt.date | None]


class DateRewriter:
    """Rewrites every date in a string with `shift(date)`; month-year and year-only forms get `shift` too."""

    def __init__(self, days: int, us_order: bool = True):
        self.days = days
        self.us_order = us_order

    def _shift(self, d: dt.date) -> dt.date:
        return d + dt.timedelta(days=self.days)

    def rewrite(self, value: str) -> str:
        spans: list[tuple[int, int, str]] = []

        def free(s: int, e: int) -> bool:
            return all(e <= a or s >= b for a, b, _ in spans)

        for m in _ISO.finditer(value):
            d = _safe_date(int(m[1]), int(m[3]), int(m[4]))
            if d and free(m.start(), m.end()):
                n = self._shift(d)
                spans.append((m.start(), m.end(), f"{n.year}{m[2]}{_pad(m[3], n.month)}{m[2]}{_pad(m[4], n.day)}"))
        for m in _NUMERIC.finditer(value):
            a, b, y = int(m[1]), int(m[3]), int(m[4])
            year = y if len(m[4]) == 4 else (2000 + y if y < 50 else 1900 + y)
            mdy = self.us_order and a <= 12 or b > 12
            d = _safe_date(year, a, b) if mdy else _safe_date(year, b, a)
            if d and free(m.start(), m.end()):
                n = self._shift(d)
                yy = str(n.year) if len(m[4]) == 4 else str(n.year)[2:]
                first, second = (n.month, n.day) if mdy else (n.day, n.month)
                spans.append((m.start(), m.end(), f"{_pad(m[1], first)}{m[2]}{_pad(m[3], second)}{m[2]}{yy}"))
        for m in _MDY.finditer(value):
            if not free(m.start(), m.end()):
                continue
            year = int(m[5]) if m[5] else 2000
            d = _safe_date(year, _month_index(m[1]), int(m[3]))
            if d:
                n = self._shift(d)
                out = f"{_month_word(m[1], n.month)}{m[2]}{_pad(m[3], n.day)}"
                rest = _fix_ordinal(value[m.end(3):m.end()], n.day)
                if m[5]:
                    rest = rest[: len(rest) - len(m[5])] + str(n.year)
                spans.append((m.start(), m.end(), out + rest))
        for m in _DMY.finditer(value):
            if not free(m.start(), m.end()):
                continue
            year = int(m[5]) if m[5] else 2000
            d = _safe_date(year, _month_index(m[3]), int(m[1]))
            if d:
                n = self._shift(d)
                between = value[m.end(1):m.start(3)]  # ordinal suffix and spacing, kept
                tail = value[m.end(3):m.end()]
                if m[5]:
                    tail = tail[: len(tail) - len(m[5])] + str(n.year)
                spans.append((m.start(), m.end(), f"{_pad(m[1], n.day)}{_fix_ordinal(between, n.day)}{_month_word(m[3], n.month)}{tail}"))
        months = round(self.days / 30.44) or (1 if self.days >= 0 else -1)
        for m in _MY.finditer(value):
            if free(m.start(), m.end()):
                idx = _month_index(m[1]) - 1 + int(m[3]) * 12 + months
                spans.append((m.start(), m.end(), f"{_month_word(m[1], idx % 12 + 1)}{m[2]}{idx // 12}"))
        years = round(self.days / 365.25) or (1 if self.days >= 0 else -1)
        for m in _YEAR.finditer(value):
            if free(m.start(), m.end()):
                spans.append((m.start(), m.end(), str(int(m[1]) + years)))
        weekdays = self.days % 7 or 1
        for m in _WEEKDAY.finditer(value):
            if free(m.start(), m.end()):
                w = m[0].lower()
                i = next(i for i, (f, a) in enumerate(zip(_DAYS, _DAY_ABBR, strict=True)) if w in (f, a) or f.startswith(w))
                j = (i + weekdays) % 7
                word = calendar.day_name[j] if len(w) > 3 else calendar.day_abbr[j]
                spans.append((m.start(), m.end(), _same_case(m[0], word)))
        for m in _MONTH_ONLY.finditer(value):
            if free(m.start(), m.end()):
                spans.append((m.start(), m.end(), _month_word(m[0], (_month_index(m[0]) - 1 + months) % 12 + 1)))
        out = value
        for s, e, rep in sorted(spans, reverse=True):
            out = out[:s] + rep + out[e:]
        return out


def _fix_ordinal(between: str, day: int) -> str:
    m = re.match(r"(st|nd|rd|th)", between, re.I)
    if not m:
        return between
    suf = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return _same_case(m[0], suf) + between[2:]


def generalize_date(value: str, granularity: str, us_order: bool = True) -> str:
    """The year ("2021") or month ("March 2021") of the first full date in the value; a bare year stays."""
    found: list[tuple[int, dt.date | None, int | None]] = []
    for m in _ISO.finditer(value):
        found.append((m.start(), _safe_date(int(m[1]), int(m[3]), int(m[4])), int(m[1])))
    for m in _NUMERIC.finditer(value):
        a, b, y = int(m[1]), int(m[3]), int(m[4])
        year = y if len(m[4]) == 4 else (2000 + y if y < 50 else 1900 + y)
        mdy = us_order and a <= 12 or b > 12
        found.append((m.start(), _safe_date(year, a, b) if mdy else _safe_date(year, b, a), year))
    for m in _MDY.finditer(value):
        if m[5]:
            found.append((m.start(), _safe_date(int(m[5]), _month_index(m[1]), int(m[3])), int(m[5])))
    for m in _DMY.finditer(value):
        if m[5]:
            found.append((m.start(), _safe_date(int(m[5]), _month_index(m[3]), int(m[1])), int(m[5])))
    for m in _MY.finditer(value):
        found.append((m.start(), dt.date(int(m[3]), _month_index(m[1]), 1), int(m[3])))
    for m in _YEAR.finditer(value):
        found.append((m.start(), None, int(m[1])))
    found.sort(key=lambda t: (t[0], t[1] is None))
    for _, d, yr in found:
        if d is not None:
            return str(d.year) if granularity == "year" else f"{calendar.month_name[d.month]} {d.year}"
        if yr is not None:
            return str(yr)
    return "[date]"  # a weekday or month name alone: nothing coarser worth keeping
