"""Working-time arithmetic for SLA deadlines: business calendars, time zones, pauses.

An SLA target such as "first response within 2 hours" counts only *working*
time: the hours of a weekly schedule in the desk's time zone, minus holidays,
minus the periods when the ticket waits on the customer. This module converts
between such working time and real instants. It is pure (no database, no
settings, no clock: callers pass `now`), so the SLA sweeper and its tests
control time completely.

Conventions, the choices that are not obvious:

* Working intervals are measured in real elapsed time, not on the wall clock.
  On the day New York's clocks go back, a 01:00-03:00 shift lasts three real
  hours; on the day they go forward, one.
* A wall time that happens twice (clocks going back) means its first
  occurrence. One that never happens (clocks going forward) means the instant
  the clocks jump, the first valid instant after it. Both rules map wall times
  to instants monotonically, so intervals that do not overlap on the wall clock
  never overlap in real time either.
* Intervals are half-open, [start, end). A deadline is the *first* instant at
  which the requested working time has elapsed, so it can be a closing time
  (Friday 18:00), never the next opening (Monday 09:00).
* A holiday is a local date: every interval that starts on it is skipped,
  including the after-midnight half of an overnight shift.
* Every datetime passed in must be aware; every datetime returned is in UTC.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "WEEKDAY_KEYS",
    "BusinessCalendar",
    "Interval",
    "Pause",
    "add_working_time",
    "deadline_with_pauses",
    "elapsed_with_pauses",
    "working_time_between",
]

#: Weekday names used by `BusinessCalendar.from_spec`, index = `date.weekday()`.
WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

#: A working interval in local wall time; an end of `time(0, 0)` means end of day.
Interval = tuple[time, time]
#: A period during which the clock is stopped; an end of None means "still paused".
Pause = tuple[datetime, datetime | None]

MIDNIGHT = time(0, 0)
_ZERO = timedelta(0)
_SECOND = timedelta(seconds=1)
_DAY = timedelta(days=1)
_WEEK = timedelta(days=7)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SPEC_KEYS = frozenset({"time_zone", "weekly", "holidays"})


@dataclass(frozen=True)
class BusinessCalendar:
    """When SLA clocks run: a weekly schedule in one time zone, minus holidays.

    `weekly` maps a weekday (0 = Monday ... 6 = Sunday) to that day's working
    intervals in local time, sorted and not overlapping (touching is fine). An
    interval ending at `time(0, 0)` runs to the end of the day, so a night
    shift 22:00-06:00 is written as 22:00-00:00 on one day and 00:00-06:00 on
    the next. Days missing from `weekly` have no working time. `holidays` are
    local dates on which nothing counts.

    Construction validates its arguments and raises ValueError naming the bad
    part. `weekly` is copied into a read-only mapping of tuples, so the calendar
    really is immutable and can be used as a cache key.
    """

    time_zone: str
    weekly: Mapping[int, Sequence[Interval]]
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        _zone_named(self.time_zone)
        # object.__setattr__ because the dataclass is frozen; normalising here
        # means every calendar in the system has passed the same checks.
        object.__setattr__(self, "weekly", _checked_weekly(self.weekly))
        object.__setattr__(self, "holidays", _checked_holidays(self.holidays))

    def __hash__(self) -> int:
        # The generated hash would fail on the mapping; hash its items instead.
        return hash((self.time_zone, tuple(self.weekly.items()), self.holidays))

    @classmethod
    def always(cls) -> BusinessCalendar:
        """Return the 7x24 calendar, where every instant counts (a crypto desk's default)."""
        return cls("UTC", dict.fromkeys(range(7), ((MIDNIGHT, MIDNIGHT),)))

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> BusinessCalendar:
        """Build a calendar from its JSON form, as stored with an SLA policy.

        Example::

            {"time_zone": "Asia/Shanghai",
             "weekly": {"mon": [["09:00", "18:00"]], "sat": [["22:00", "24:00"]]},
             "holidays": ["2026-10-01"]}

        `weekly` keys are `WEEKDAY_KEYS`; times are "HH:MM" or "HH:MM:SS", and an
        end of "24:00" or "00:00" means end of day. `holidays` is optional. Raise
        ValueError naming the first problem found.
        """
        if not isinstance(spec, Mapping):
            raise ValueError("calendar spec must be an object with time_zone and weekly")
        # A typo such as "holiday" must fail loudly rather than silently drop the holidays.
        unknown = sorted(map(repr, set(spec) - _SPEC_KEYS))
        if unknown:
            raise ValueError(f"calendar spec: unknown key(s) {', '.join(unknown)}")
        for required in ("time_zone", "weekly"):
            if required not in spec:
                raise ValueError(f"calendar spec: {required!r} is required")
        weekly_spec = spec["weekly"]
        if not isinstance(weekly_spec, Mapping):
            raise ValueError("weekly must be an object mapping mon ... sun to intervals")
        weekly: dict[int, list[Interval]] = {}
        for key, intervals in weekly_spec.items():
            if key not in WEEKDAY_KEYS:
                raise ValueError(
                    f"weekly: unknown weekday {key!r}; use one of {', '.join(WEEKDAY_KEYS)}"
                )
            if isinstance(intervals, str) or not isinstance(intervals, Sequence):
                raise ValueError(f"{key}: intervals must be a list of [start, end] pairs")
            weekly[WEEKDAY_KEYS.index(key)] = [_parsed_interval(key, pair) for pair in intervals]
        holidays_spec = spec.get("holidays", [])
        if isinstance(holidays_spec, str) or not isinstance(holidays_spec, Sequence):
            raise ValueError("holidays must be a list of dates like '2026-10-01'")
        holidays = frozenset(_parsed_date(text) for text in holidays_spec)
        return cls(time_zone=spec["time_zone"], weekly=weekly, holidays=holidays)

    @property
    def zone(self) -> ZoneInfo:
        """The calendar's time zone (ZoneInfo caches instances, so this is cheap)."""
        return ZoneInfo(self.time_zone)

    @property
    def week_length(self) -> timedelta:
        """Working time in one week on the wall clock: before holidays and DST changes."""
        return sum(
            (_wall_length(start, end) for day in self.weekly.values() for start, end in day),
            _ZERO,
        )

    @property
    def is_always(self) -> bool:
        """Whether every instant is working time, so working time is plain elapsed time."""
        return not self.holidays and all(
            sum((_wall_length(s, e) for s, e in self.weekly.get(weekday, ())), _ZERO) == _DAY
            for weekday in range(7)
        )


def add_working_time(calendar: BusinessCalendar, start: datetime, duration: timedelta) -> datetime:
    """Return the first instant (UTC) at which `duration` of working time has elapsed.

    Counting begins at `start`, or at the next opening when `start` is outside
    working hours. A zero duration returns `start` itself. Cost grows with the
    working intervals crossed, and only per week across plain weeks (no holiday,
    no UTC offset change), so multi-week targets stay cheap.
    """
    begin = _as_utc(start, "start")
    _check_duration(duration)
    if calendar.is_always or not duration:
        return begin + duration
    zone = calendar.zone
    week_length = calendar.week_length
    remaining = duration
    day = begin.astimezone(zone).date()
    while True:
        # Strictly more than a week: when the target ends exactly with the week,
        # the answer is that week's last closing time, found by the slow path.
        if (
            remaining > week_length
            and _local_midnight(zone, day) >= begin
            and _is_plain_week(calendar, zone, day)
        ):
            remaining -= week_length
            day += _WEEK
            continue
        for opens, closes in _day_spans(calendar, zone, day):
            opens = max(opens, begin)
            if opens >= closes:
                continue
            if closes - opens >= remaining:
                return opens + remaining
            remaining -= closes - opens
        day += _DAY


def working_time_between(calendar: BusinessCalendar, start: datetime, end: datetime) -> timedelta:
    """Return the working time in [start, end); zero when `end` is not after `start`.

    The inverse of `add_working_time`: for a positive `d`,
    `working_time_between(c, s, add_working_time(c, s, d)) == d`.
    """
    begin = _as_utc(start, "start")
    finish = _as_utc(end, "end")
    if finish <= begin:
        return _ZERO
    if calendar.is_always:
        return finish - begin
    zone = calendar.zone
    week_length = calendar.week_length
    total = _ZERO
    day = begin.astimezone(zone).date()
    while True:
        midnight = _local_midnight(zone, day)
        # Local days map to instants monotonically: nothing from here on is before `finish`.
        if midnight >= finish:
            return total
        if (
            midnight >= begin
            and _local_midnight(zone, day + _WEEK) <= finish
            and _is_plain_week(calendar, zone, day)
        ):
            total += week_length
            day += _WEEK
            continue
        for opens, closes in _day_spans(calendar, zone, day):
            overlap = min(closes, finish) - max(opens, begin)
            if overlap > _ZERO:
                total += overlap
        day += _DAY


def deadline_with_pauses(
    calendar: BusinessCalendar,
    start: datetime,
    duration: timedelta,
    pauses: Iterable[Pause],
) -> datetime | None:
    """Return when `duration` of working time has elapsed, not counting `pauses`.

    Pauses (for example, while waiting on the customer) may overlap each other,
    lie outside working hours or begin before `start`; each working instant is
    excluded once. A pause whose end is None is still running: return None, as
    there is no deadline while the clock is stopped, unless the target was
    already used up before that pause began. Then return that past deadline, so
    a breach is not hidden by putting the ticket on hold afterwards.
    """
    cursor = _as_utc(start, "start")
    _check_duration(duration)
    remaining = duration
    for paused, resumed in _merged_pauses(pauses, cursor):
        available = working_time_between(calendar, cursor, paused)
        if available >= remaining:
            return add_working_time(calendar, cursor, remaining)
        remaining -= available
        if resumed is None:
            return None
        cursor = resumed
    return add_working_time(calendar, cursor, remaining)


def elapsed_with_pauses(
    calendar: BusinessCalendar,
    start: datetime,
    now: datetime,
    pauses: Iterable[Pause],
) -> timedelta:
    """Return the working time used from `start` to `now`, not counting `pauses`.

    A pause with end None runs until `now`. Consistent with
    `deadline_with_pauses`: at its deadline, the elapsed time equals the target.
    """
    cursor = _as_utc(start, "start")
    current = _as_utc(now, "now")
    total = _ZERO
    for paused, resumed in _merged_pauses(pauses, cursor):
        if paused >= current:
            break
        total += working_time_between(calendar, cursor, paused)
        if resumed is None or resumed >= current:
            return total
        cursor = resumed
    return total + working_time_between(calendar, cursor, current)


# --- Calendar internals -------------------------------------------------------------


def _day_spans(
    calendar: BusinessCalendar, zone: ZoneInfo, day: date
) -> list[tuple[datetime, datetime]]:
    """Return local `day`'s working intervals as UTC instants, in order.

    Tests count calls to this function to check that long targets are computed
    per week rather than per day.
    """
    if day in calendar.holidays:
        return []
    spans = []
    for start, end in calendar.weekly.get(day.weekday(), ()):
        opens = _wall_to_utc(zone, datetime.combine(day, start))
        closes = _wall_to_utc(zone, datetime.combine(day + _DAY if end == MIDNIGHT else day, end))
        # An interval lying wholly in a skipped hour has no real time at all.
        if opens < closes:
            spans.append((opens, closes))
    return spans


def _is_plain_week(calendar: BusinessCalendar, zone: ZoneInfo, day: date) -> bool:
    """Whether the 7 local days from `day` hold exactly `week_length` of real working time.

    True when no day is a holiday and the UTC offset is the same at all eight
    local midnights. Checking midnights (not only the two ends) matters: Gaza
    and Hebron change offset twice within about seven days around Ramadan. No
    zone in tzdata since 1970 changes offset twice within one day, which is
    what a change between two midnights would take to go unnoticed.
    """
    days = [day + timedelta(days=offset) for offset in range(8)]
    if any(d in calendar.holidays for d in days[:7]):
        return False
    offsets = {zone.utcoffset(datetime.combine(d, MIDNIGHT)) for d in days}
    return len(offsets) == 1


def _local_midnight(zone: ZoneInfo, day: date) -> datetime:
    return _wall_to_utc(zone, datetime.combine(day, MIDNIGHT))


def _wall_to_utc(zone: ZoneInfo, wall: datetime) -> datetime:
    """Return the instant (UTC) that the naive local `wall` time denotes in `zone`.

    A repeated wall time gives its first occurrence; a skipped one gives the
    instant the clocks jump past it.
    """
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == wall:
        return first
    # `wall` is in a gap. There fold=0 applies the offset from before the jump
    # and fold=1 the one after, so the jump lies between the two readings.
    return _offset_change(zone, wall.replace(tzinfo=zone, fold=1).astimezone(UTC), first)


def _offset_change(zone: ZoneInfo, before: datetime, after: datetime) -> datetime:
    """Return the instant in [before, after] at which `zone` switches offsets.

    ZoneInfo does not expose its transitions, so bisect on whole seconds (tzdata
    transitions fall on whole seconds): a gap of an hour takes about 12 steps,
    and gaps come up a couple of times a year per calendar.
    """
    new_offset = after.astimezone(zone).utcoffset()
    low = (before - _EPOCH) // _SECOND  # floor: still the old offset
    high = -((_EPOCH - after) // _SECOND)  # ceiling: already the new offset
    while high - low > 1:
        middle = (low + high) // 2
        if (_EPOCH + middle * _SECOND).astimezone(zone).utcoffset() == new_offset:
            high = middle
        else:
            low = middle
    return _EPOCH + high * _SECOND


def _wall_length(start: time, end: time) -> timedelta:
    def seconds(t: time) -> timedelta:
        return timedelta(
            hours=t.hour, minutes=t.minute, seconds=t.second, microseconds=t.microsecond
        )

    return (_DAY if end == MIDNIGHT else seconds(end)) - seconds(start)


def _merged_pauses(pauses: Iterable[Pause], start: datetime) -> list[Pause]:
    """Return `pauses` in UTC, clipped to `start`, sorted and merged where they overlap.

    An end of None (still paused) stays None and swallows every later pause.
    """
    clipped: list[Pause] = []
    for index, pause in enumerate(pauses):
        try:
            paused, resumed = pause
        except (TypeError, ValueError):
            raise ValueError(f"pauses[{index}] must be a (start, end or None) pair") from None
        paused = _as_utc(paused, f"pauses[{index}] start")
        if resumed is not None:
            resumed = _as_utc(resumed, f"pauses[{index}] end")
            if resumed < paused:
                raise ValueError(f"pauses[{index}] ends before it starts")
            if resumed <= start:
                continue  # Over before the clock started.
        clipped.append((max(paused, start), resumed))
    clipped.sort(key=lambda pause: pause[0])
    merged: list[Pause] = []
    for paused, resumed in clipped:
        if merged:
            last_paused, last_resumed = merged[-1]
            if last_resumed is None:
                break
            if paused <= last_resumed:
                merged[-1] = (last_paused, None if resumed is None else max(resumed, last_resumed))
                continue
        merged.append((paused, resumed))
    return merged


# --- Validation ------------------------------------------------------------------------


def _as_utc(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(value).__name__}")
    # Naive datetimes would silently be read in the server's zone: refuse them.
    if value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    return value.astimezone(UTC)


def _check_duration(duration: timedelta) -> None:
    if not isinstance(duration, timedelta):
        raise TypeError(f"duration must be a timedelta, not {type(duration).__name__}")
    if duration < _ZERO:
        raise ValueError(f"duration must not be negative, got {duration}")


def _zone_named(key: object) -> ZoneInfo:
    if not isinstance(key, str) or not key:
        raise ValueError("time_zone must be an IANA name such as 'Asia/Shanghai'")
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"time_zone: unknown IANA time zone {key!r}") from None


def _checked_weekly(weekly: object) -> Mapping[int, tuple[Interval, ...]]:
    if not isinstance(weekly, Mapping):
        raise ValueError("weekly must map weekdays (0 = Monday ... 6 = Sunday) to intervals")
    days: dict[int, tuple[Interval, ...]] = {}
    for weekday, intervals in weekly.items():
        # bool is an int subclass; True as a weekday is a bug, not Tuesday.
        if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
            raise ValueError(f"weekly: unknown weekday {weekday!r}; use 0 (Monday) to 6 (Sunday)")
        checked = _checked_intervals(WEEKDAY_KEYS[weekday], intervals)
        if checked:
            days[weekday] = checked
    # Without a single working interval, add_working_time could never finish.
    if not days:
        raise ValueError("weekly: a calendar needs at least one working interval")
    return MappingProxyType(dict(sorted(days.items())))


def _checked_intervals(name: str, intervals: object) -> tuple[Interval, ...]:
    if isinstance(intervals, str) or not isinstance(intervals, Iterable):
        raise ValueError(f"{name}: intervals must be a sequence of (start, end) pairs")
    checked: list[Interval] = []
    for interval in intervals:
        try:
            start, end = interval
        except (TypeError, ValueError):
            raise ValueError(f"{name}: {interval!r} is not a (start, end) pair") from None
        if not isinstance(start, time) or not isinstance(end, time):
            raise ValueError(f"{name}: interval bounds must be datetime.time values")
        if start.tzinfo is not None or end.tzinfo is not None:
            raise ValueError(f"{name}: interval times are local to time_zone and must be naive")
        label = f"{start:%H:%M}-{end:%H:%M}"
        if end != MIDNIGHT and start >= end:
            raise ValueError(
                f"{name}: interval {label} must start before it ends; "
                "write a night shift as two intervals on two days"
            )
        if checked:
            previous_start, previous_end = checked[-1]
            if previous_end == MIDNIGHT or start < previous_end:
                raise ValueError(
                    f"{name}: intervals must be sorted and not overlap "
                    f"({previous_start:%H:%M}-{previous_end:%H:%M} and {label})"
                )
        checked.append((start, end))
    return tuple(checked)


def _checked_holidays(holidays: object) -> frozenset[date]:
    if isinstance(holidays, str) or not isinstance(holidays, Iterable):
        raise ValueError("holidays must be a set of dates")
    checked = frozenset(holidays)
    for day in checked:
        # A datetime is a date subclass, but a holiday is a whole local day.
        if isinstance(day, datetime) or not isinstance(day, date):
            raise ValueError(f"holidays: {day!r} is not a date")
    return checked


def _parsed_interval(weekday: str, pair: object) -> Interval:
    if isinstance(pair, str) or not isinstance(pair, Sequence) or len(pair) != 2:
        raise ValueError(f"{weekday}: {pair!r} is not a [start, end] pair")
    return _parsed_time(weekday, pair[0], end=False), _parsed_time(weekday, pair[1], end=True)


def _parsed_time(weekday: str, text: object, *, end: bool) -> time:
    if not isinstance(text, str):
        raise ValueError(f"{weekday}: {text!r} is not a time like '09:00'")
    # "24:00" is how people write the end of the day; time() stops at 23:59.
    if end and text in ("24:00", "24:00:00"):
        return MIDNIGHT
    try:
        value = time.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{weekday}: {text!r} is not a time like '09:00'") from None
    if value.tzinfo is not None:
        raise ValueError(f"{weekday}: {text!r} must not carry a UTC offset; time_zone applies")
    return value


def _parsed_date(text: object) -> date:
    if not isinstance(text, str):
        raise ValueError(f"holidays: {text!r} is not a date like '2026-10-01'")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"holidays: {text!r} is not a date like '2026-10-01'") from None
