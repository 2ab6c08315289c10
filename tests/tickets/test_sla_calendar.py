"""Working-time arithmetic for SLA deadlines (pure: no database, no clock)."""

import bisect
import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from tickets import sla_calendar
from tickets.sla_calendar import (
    WEEKDAY_KEYS,
    BusinessCalendar,
    add_working_time,
    deadline_with_pauses,
    elapsed_with_pauses,
    working_time_between,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
MIDNIGHT = time(0, 0)
NINE_TO_SIX = [(time(9), time(18))]
# 2026: 1 October is a Thursday; the Golden Week holiday runs from 1 to 7 October.
GOLDEN_WEEK = frozenset(date(2026, 10, day) for day in range(1, 8))


def hours(value: float) -> timedelta:
    return timedelta(hours=value)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def office(time_zone: str = "Asia/Shanghai", holidays=frozenset()) -> BusinessCalendar:
    """09:00-18:00, Monday to Friday."""
    return BusinessCalendar(time_zone, dict.fromkeys(range(5), NINE_TO_SIX), holidays)


def small_hours(holidays=frozenset()) -> BusinessCalendar:
    """00:00-04:00 every day in New York: straddles both clock changes."""
    return BusinessCalendar(
        "America/New_York", dict.fromkeys(range(7), [(MIDNIGHT, time(4))]), holidays
    )


def night_shift(holidays=frozenset()) -> BusinessCalendar:
    """22:00-06:00, starting Monday to Friday evenings, in Shanghai."""
    weekly = {day: [] for day in range(7)}
    for evening in range(5):
        weekly[evening].append((time(22), MIDNIGHT))
        weekly[evening + 1].insert(0, (MIDNIGHT, time(6)))
    return BusinessCalendar("Asia/Shanghai", weekly, holidays)


# --- Calendar time (7x24) ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "duration"),
    [
        (datetime(2026, 6, 5, 17, 0, tzinfo=SHANGHAI), hours(2)),
        (datetime(2026, 11, 1, 0, 30, tzinfo=NEW_YORK), hours(3)),
        (datetime(2026, 3, 28, 23, 59, 59, 1, tzinfo=LONDON), timedelta(days=7, seconds=1)),
        (utc(2026, 1, 1), timedelta(0)),
    ],
)
def test_the_always_calendar_is_plain_addition(start, duration):
    """7x24 working time is elapsed time, whatever zone the start is given in."""
    calendar = BusinessCalendar.always()
    deadline = add_working_time(calendar, start, duration)
    # In UTC: Python adds a timedelta to an aware datetime on its wall clock, which
    # is off by the DST shift for the New York and London starts.
    assert deadline == start.astimezone(UTC) + duration
    assert deadline.tzinfo is UTC
    assert working_time_between(calendar, start, deadline) == duration


def test_results_are_aware_datetimes_in_utc():
    """Deadlines come back in UTC, whatever zone the calendar or the start uses."""
    start = datetime(2026, 6, 5, 17, 0, tzinfo=NEW_YORK)
    assert add_working_time(office(), start, hours(1)).tzinfo is UTC
    assert deadline_with_pauses(office(), start, hours(1), []).tzinfo is UTC


# --- Business hours ---------------------------------------------------------------------


def test_friday_afternoon_plus_two_hours_is_monday_morning():
    """One hour on Friday, then the weekend is skipped and the second hour is Monday's first."""
    deadline = add_working_time(office(), datetime(2026, 6, 5, 17, tzinfo=SHANGHAI), hours(2))
    assert deadline == datetime(2026, 6, 8, 10, tzinfo=SHANGHAI)


def test_counting_starts_at_the_next_opening_when_started_on_a_weekend():
    """A ticket filed on Saturday starts its clock on Monday at 09:00."""
    deadline = add_working_time(office(), datetime(2026, 6, 6, 11, tzinfo=SHANGHAI), hours(2))
    assert deadline == datetime(2026, 6, 8, 11, tzinfo=SHANGHAI)


def test_starting_exactly_at_closing_time_counts_from_the_next_opening():
    """Intervals are half-open: Friday 18:00 is already outside working hours."""
    friday_close = datetime(2026, 6, 5, 18, tzinfo=SHANGHAI)
    assert add_working_time(office(), friday_close, hours(1)) == datetime(
        2026, 6, 8, 10, tzinfo=SHANGHAI
    )
    monday_open = datetime(2026, 6, 8, 9, tzinfo=SHANGHAI)
    assert working_time_between(office(), friday_close, monday_open) == timedelta(0)


def test_a_target_used_up_at_closing_time_is_due_at_closing_time():
    """The deadline is the first instant the target is reached, not the next opening."""
    deadline = add_working_time(office(), datetime(2026, 6, 5, 9, tzinfo=SHANGHAI), hours(9))
    assert deadline == datetime(2026, 6, 5, 18, tzinfo=SHANGHAI)


def test_a_zero_target_is_due_at_once():
    """Nothing to count: the deadline is the start, even outside working hours."""
    saturday = datetime(2026, 6, 6, 11, tzinfo=SHANGHAI)
    assert add_working_time(office(), saturday, timedelta(0)) == saturday


def test_a_holiday_on_a_monday_is_skipped():
    """With Monday off, Friday 17:00 + 2 h is due on Tuesday at 10:00."""
    calendar = office(holidays=frozenset({date(2026, 6, 8)}))
    deadline = add_working_time(calendar, datetime(2026, 6, 5, 17, tzinfo=SHANGHAI), hours(2))
    assert deadline == datetime(2026, 6, 9, 10, tzinfo=SHANGHAI)


def test_the_national_day_holiday_week_is_skipped():
    """Wednesday 30 September 17:00 + 2 h is due on Thursday 8 October after Golden Week."""
    calendar = office(holidays=GOLDEN_WEEK)
    start = datetime(2026, 9, 30, 17, tzinfo=SHANGHAI)
    deadline = add_working_time(calendar, start, hours(2))
    assert deadline == datetime(2026, 10, 8, 10, tzinfo=SHANGHAI)
    assert working_time_between(calendar, start, deadline) == hours(2)


def test_a_72_hour_target_across_a_month_of_holidays():
    """1 h on 30 September, all of October off, then 71 h from Monday 2 November."""
    october = frozenset(date(2026, 10, 1) + timedelta(days=n) for n in range(31))
    calendar = office(holidays=october)
    start = datetime(2026, 9, 30, 17, tzinfo=SHANGHAI)
    deadline = add_working_time(calendar, start, hours(72))
    # 45 h in the week of 2 November, 9 h on the 9th and 10th, 8 h on the 11th.
    assert deadline == datetime(2026, 11, 11, 17, tzinfo=SHANGHAI)
    assert working_time_between(calendar, start, deadline) == hours(72)


# --- Midnight and overnight shifts ------------------------------------------------------


def test_an_interval_ending_at_midnight_runs_to_the_end_of_the_day():
    """18:00-00:00 on Mondays counts six hours, up to the start of Tuesday."""
    calendar = BusinessCalendar("Asia/Shanghai", {0: [(time(18), MIDNIGHT)]})
    monday = datetime(2026, 6, 1, 18, tzinfo=SHANGHAI)
    tuesday = datetime(2026, 6, 2, 0, tzinfo=SHANGHAI)
    assert working_time_between(calendar, monday, tuesday) == hours(6)
    assert add_working_time(calendar, monday, hours(6)) == tuesday
    late = datetime(2026, 6, 1, 23, 30, tzinfo=SHANGHAI)
    assert add_working_time(calendar, late, hours(1)) == datetime(
        2026, 6, 8, 18, 30, tzinfo=SHANGHAI
    )


def test_a_night_shift_continues_across_midnight():
    """22:00-06:00 is one shift: Monday 23:00 + 3 h is Tuesday 02:00."""
    monday_night = datetime(2026, 6, 1, 23, tzinfo=SHANGHAI)
    assert add_working_time(night_shift(), monday_night, hours(3)) == datetime(
        2026, 6, 2, 2, tzinfo=SHANGHAI
    )
    saturday_morning = datetime(2026, 6, 6, 5, tzinfo=SHANGHAI)
    assert add_working_time(night_shift(), saturday_morning, hours(2)) == datetime(
        2026, 6, 8, 23, tzinfo=SHANGHAI
    )


def test_a_holiday_removes_the_after_midnight_half_of_a_night_shift():
    """Holidays are local dates: Tuesday off removes Tuesday 00:00-06:00 and 22:00-00:00."""
    calendar = night_shift(holidays=frozenset({date(2026, 6, 2)}))
    deadline = add_working_time(calendar, datetime(2026, 6, 1, 23, tzinfo=SHANGHAI), hours(3))
    assert deadline == datetime(2026, 6, 3, 2, tzinfo=SHANGHAI)


# --- Daylight saving time ---------------------------------------------------------------


def test_new_york_spring_forward_night_has_three_real_hours():
    """On 8 March 2026 00:00-04:00 lasts 3 h: 02:00-03:00 never happens."""
    calendar = small_hours()
    night = datetime(2026, 3, 8, tzinfo=NEW_YORK)
    assert working_time_between(calendar, night, datetime(2026, 3, 9, tzinfo=NEW_YORK)) == hours(3)
    assert add_working_time(calendar, night, hours(3)) == utc(2026, 3, 8, 8)  # 04:00 EDT
    # From 01:30 EST one real hour later the clocks read 03:30 EDT.
    half_past_one = datetime(2026, 3, 8, 1, 30, tzinfo=NEW_YORK)
    assert add_working_time(calendar, half_past_one, hours(1)) == utc(2026, 3, 8, 7, 30)
    # Saturday 03:00 + 2 h: Saturday's last hour, then Sunday's first.
    saturday = datetime(2026, 3, 7, 3, tzinfo=NEW_YORK)
    assert add_working_time(calendar, saturday, hours(2)) == utc(2026, 3, 8, 6)  # 01:00 EST


def test_new_york_fall_back_night_has_five_real_hours():
    """On 1 November 2026 00:00-04:00 lasts 5 h: 01:00-02:00 happens twice."""
    calendar = small_hours()
    night = datetime(2026, 11, 1, tzinfo=NEW_YORK)
    assert working_time_between(calendar, night, datetime(2026, 11, 2, tzinfo=NEW_YORK)) == hours(5)
    assert add_working_time(calendar, night, hours(5)) == utc(2026, 11, 1, 9)  # 04:00 EST
    first_pass = datetime(2026, 11, 1, 1, 30, tzinfo=NEW_YORK)  # EDT
    second_pass = datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=NEW_YORK)  # EST
    assert add_working_time(calendar, first_pass, hours(1)) == utc(2026, 11, 1, 6, 30)
    assert add_working_time(calendar, second_pass, hours(1)) == utc(2026, 11, 1, 7, 30)


@pytest.mark.parametrize(
    ("day", "expected"),
    [(date(2026, 11, 1), hours(3)), (date(2026, 3, 8), hours(1)), (date(2026, 6, 7), hours(2))],
)
def test_a_one_to_three_shift_lasts_its_real_elapsed_time(day, expected):
    """01:00-03:00 is 3 real hours when clocks go back, 1 when they go forward."""
    calendar = BusinessCalendar("America/New_York", {6: [(time(1), time(3))]})
    midnight = datetime.combine(day, MIDNIGHT, tzinfo=NEW_YORK)
    assert working_time_between(calendar, midnight, midnight + timedelta(days=1)) == expected
    assert working_time_between(
        calendar, midnight, add_working_time(calendar, midnight, expected)
    ) == (expected)


def test_an_interval_starting_in_the_skipped_hour_starts_when_the_clocks_jump():
    """02:30 does not exist on 8 March: a 02:30-04:00 shift runs 03:00-04:00 EDT."""
    calendar = BusinessCalendar("America/New_York", {6: [(time(2, 30), time(4))]})
    midnight = datetime(2026, 3, 8, tzinfo=NEW_YORK)
    assert add_working_time(calendar, midnight, timedelta(minutes=30)) == utc(2026, 3, 8, 7, 30)
    assert working_time_between(calendar, midnight, midnight + timedelta(days=1)) == hours(1)


def test_london_office_hours_across_both_clock_changes():
    """Friday 17:00 + 2 h is Monday 10:00 local, whichever way the clocks moved at the weekend."""
    calendar = office("Europe/London")
    spring = datetime(2026, 3, 27, 17, tzinfo=LONDON)  # GMT; BST from Sunday 29 March
    assert add_working_time(calendar, spring, hours(2)) == utc(2026, 3, 30, 9)
    autumn = datetime(2026, 10, 23, 17, tzinfo=LONDON)  # BST; GMT from Sunday 25 October
    assert add_working_time(calendar, autumn, hours(2)) == utc(2026, 10, 26, 10)
    assert working_time_between(calendar, autumn, utc(2026, 10, 26, 10)) == hours(2)


@pytest.mark.parametrize(("day", "expected"), [(25, hours(25)), (24, hours(24))])
def test_a_local_day_in_london_lasts_its_real_length(day, expected):
    """Round the clock, with a holiday so not plain addition: 25 October lasts 25 h."""
    calendar = BusinessCalendar(
        "Europe/London",
        dict.fromkeys(range(7), [(MIDNIGHT, MIDNIGHT)]),
        frozenset({date(2026, 12, 25)}),
    )
    start = datetime(2026, 10, day, tzinfo=LONDON)
    end = datetime(2026, 10, day + 1, tzinfo=LONDON)
    assert working_time_between(calendar, start, end) == expected
    assert add_working_time(calendar, start, expected) == end


# --- Long targets: per week, not per day ------------------------------------------------


@pytest.fixture
def touched_days(monkeypatch):
    """Record each local day whose intervals are converted to instants."""
    days: list[date] = []
    convert = sla_calendar._day_spans

    def counting(calendar, zone, day):
        days.append(day)
        return convert(calendar, zone, day)

    monkeypatch.setattr(sla_calendar, "_day_spans", counting)
    return days


def test_seven_days_of_office_hours_skip_whole_weeks(touched_days):
    """168 working hours from Monday 09:00 are three 45 h weeks plus 33 h, due Thursday 15:00."""
    start = datetime(2026, 6, 1, 9, tzinfo=SHANGHAI)
    deadline = add_working_time(office(), start, timedelta(days=7))
    assert deadline == datetime(2026, 6, 25, 15, tzinfo=SHANGHAI)
    assert len(touched_days) < 7


def test_a_year_long_target_touches_only_the_edges(touched_days):
    """52 weeks of office hours: only the first and the last partial weeks are walked day by day."""
    start = datetime(2026, 1, 5, 9, tzinfo=SHANGHAI)  # a Monday
    deadline = add_working_time(office(), start, 52 * hours(45))
    assert deadline == datetime(2027, 1, 1, 18, tzinfo=SHANGHAI)
    assert len(touched_days) <= 14
    touched_days.clear()
    assert working_time_between(office(), start, deadline) == 52 * hours(45)
    assert len(touched_days) <= 14


def test_weeks_with_a_clock_change_or_a_holiday_are_walked_day_by_day(touched_days):
    """A year in New York: only clock-change weeks and the holiday week are walked."""
    calendar = office("America/New_York", holidays=frozenset({date(2026, 7, 3)}))
    start = datetime(2026, 1, 5, tzinfo=NEW_YORK)
    end = datetime(2027, 1, 4, tzinfo=NEW_YORK)
    assert working_time_between(calendar, start, end) == 52 * hours(45) - hours(9)
    assert len(touched_days) <= 3 * 13


def test_a_week_with_two_clock_changes_is_not_skipped_as_plain():
    """Recife, October 2000: summer time lasted one week, so both ends of it show -03:00."""
    recife = ZoneInfo("America/Recife")
    # Sundays 00:00-02:00; on 8 October the clocks jumped from 00:00 to 01:00,
    # and went back on the night of 14 to 15 October.
    calendar = BusinessCalendar("America/Recife", {6: [(MIDNIGHT, time(2))]})
    start = datetime(2000, 10, 1, tzinfo=recife)
    end = datetime(2000, 10, 22, tzinfo=recife)
    assert working_time_between(calendar, start, end) == hours(2 + 1 + 2)
    assert add_working_time(calendar, start, hours(4)) == datetime(2000, 10, 15, 1, tzinfo=recife)


CALENDARS = {
    "office": office(holidays=GOLDEN_WEEK),
    "new-york-office": office("America/New_York", holidays=frozenset({date(2026, 7, 3)})),
    "new-york-small-hours": small_hours(holidays=frozenset({date(2026, 11, 3)})),
    "night-shift": night_shift(holidays=frozenset({date(2026, 10, 6)})),
}


@pytest.mark.parametrize("name", CALENDARS)
def test_skipping_whole_weeks_gives_the_same_answers_as_walking_every_day(name, monkeypatch):
    """The weekly fast path is only an optimisation: turning it off changes no result."""
    calendar = CALENDARS[name]
    starts = [utc(2026, 1, 1) + n * timedelta(days=17, hours=5, minutes=15) for n in range(22)]
    durations = [hours(44), hours(45), hours(46), hours(200), hours(1234)]
    fast = [add_working_time(calendar, s, d) for s in starts for d in durations]
    spans = [working_time_between(calendar, s, s + timedelta(days=100)) for s in starts]
    monkeypatch.setattr(sla_calendar, "_is_plain_week", lambda *args: False)
    assert fast == [add_working_time(calendar, s, d) for s in starts for d in durations]
    assert spans == [working_time_between(calendar, s, s + timedelta(days=100)) for s in starts]


# --- Properties over a grid -------------------------------------------------------------

SLOT = timedelta(minutes=15)


class SlotOracle:
    """Working time counted slot by slot, straight from the wall clock: independent of the code.

    Valid for calendars whose interval bounds avoid repeated and skipped wall times, in
    zones with whole-hour offsets, where a slot is either all working time or none.
    """

    def __init__(self, calendar: BusinessCalendar, first: datetime, days: int):
        self.first = first
        self.totals = [0]
        for index in range(days * 96):
            local = (first + index * SLOT).astimezone(calendar.zone)
            working = local.date() not in calendar.holidays and any(
                start <= local.time() and (end == MIDNIGHT or local.time() < end)
                for start, end in calendar.weekly.get(local.weekday(), ())
            )
            self.totals.append(self.totals[-1] + working)

    def index(self, instant: datetime) -> int:
        return (instant - self.first) // SLOT

    def between(self, start: datetime, end: datetime) -> timedelta:
        return (self.totals[self.index(end)] - self.totals[self.index(start)]) * SLOT

    def add(self, start: datetime, duration: timedelta) -> datetime:
        wanted = self.totals[self.index(start)] + duration // SLOT
        return self.first + bisect.bisect_left(self.totals, wanted) * SLOT


GRID_WINDOWS = {
    "office": utc(2026, 9, 24),
    "new-york-office": utc(2026, 2, 26),
    "new-york-small-hours": utc(2026, 2, 28),
    "night-shift": utc(2026, 9, 28),
}
GRID_DURATIONS = [SLOT, hours(1), hours(3.5), hours(9), hours(26), hours(50)]


@pytest.mark.parametrize("name", CALENDARS)
def test_results_match_a_slot_by_slot_count(name):
    """Over 10 days of starts every 45 minutes, both functions agree with counting slots."""
    calendar = CALENDARS[name]
    first = GRID_WINDOWS[name]
    oracle = SlotOracle(calendar, first, days=40)
    starts = [first + n * 3 * SLOT for n in range(10 * 32)]
    for start, duration in itertools.product(starts, GRID_DURATIONS):
        deadline = add_working_time(calendar, start, duration)
        assert deadline == oracle.add(start, duration), (start, duration)
        assert working_time_between(calendar, start, deadline) == duration
    for start, length in itertools.product(starts[::4], [hours(5), hours(31), hours(250)]):
        assert working_time_between(calendar, start, start + length) == oracle.between(
            start, start + length
        )


@pytest.mark.parametrize(
    ("calendar", "first"),
    [
        (small_hours(), datetime(2026, 3, 6, 22, 7, tzinfo=NEW_YORK)),
        (small_hours(), datetime(2026, 10, 30, 22, 7, tzinfo=NEW_YORK)),
        (BusinessCalendar("America/New_York", {6: [(time(1), time(3))]}), utc(2026, 10, 31)),
        (BusinessCalendar("America/New_York", {6: [(time(2, 30), time(4))]}), utc(2026, 3, 7)),
        (office("Europe/London"), datetime(2026, 3, 26, 16, 59, 30, tzinfo=LONDON)),
    ],
)
def test_working_time_between_inverts_add_working_time_across_clock_changes(calendar, first):
    """For any start and d > 0 the deadline is the first instant with exactly d elapsed."""
    starts = [first + n * timedelta(minutes=37) for n in range(120)]
    durations = [timedelta(seconds=1), timedelta(minutes=20), hours(1), hours(2.5), hours(11)]
    for start, duration in itertools.product(starts, durations):
        deadline = add_working_time(calendar, start, duration)
        assert working_time_between(calendar, start, deadline) == duration, (start, duration)
        just_before = deadline - timedelta(microseconds=1)
        assert working_time_between(calendar, start, just_before) < duration, (start, duration)


# --- Pauses -----------------------------------------------------------------------------

MONDAY_10 = datetime(2026, 6, 1, 10, tzinfo=SHANGHAI)


def sh(day: int, hour: int, minute: int = 0) -> datetime:
    """A June 2026 wall time in Shanghai (1 June is a Monday)."""
    return datetime(2026, 6, day, hour, minute, tzinfo=SHANGHAI)


def test_without_pauses_the_deadline_is_plain_working_time():
    """An empty pause list changes nothing."""
    assert deadline_with_pauses(office(), MONDAY_10, hours(4), []) == sh(1, 14)


def test_a_pause_in_working_hours_delays_the_deadline_by_its_length():
    """Waiting on the customer 11:00-12:30 moves a 14:00 deadline to 15:30."""
    deadline = deadline_with_pauses(office(), MONDAY_10, hours(4), [(sh(1, 11), sh(1, 12, 30))])
    assert deadline == sh(1, 15, 30)


def test_a_pause_delays_only_by_its_overlap_with_working_hours():
    """Paused 17:00 to 10:00 the next day: only 17-18 and 09-10 were working time."""
    deadline = deadline_with_pauses(office(), MONDAY_10, hours(8), [(sh(1, 17), sh(2, 10))])
    assert deadline == sh(2, 11)


def test_a_pause_entirely_on_a_weekend_changes_nothing():
    """Friday 17:00 + 2 h is Monday 10:00 with or without a Saturday-Sunday pause."""
    deadline = deadline_with_pauses(office(), sh(5, 17), hours(2), [(sh(6, 10), sh(7, 20))])
    assert deadline == sh(8, 10)


def test_overlapping_pauses_are_counted_once():
    """11:00-12:00, 11:30-12:30 and 12:15-12:20 together pause 90 minutes."""
    pauses = [
        (sh(1, 11, 30), sh(1, 12, 30)),
        (sh(1, 11), sh(1, 12)),
        (sh(1, 12, 15), sh(1, 12, 20)),
    ]
    assert deadline_with_pauses(office(), MONDAY_10, hours(4), pauses) == sh(1, 15, 30)


def test_a_pause_that_began_before_the_start_holds_the_clock_until_it_ends():
    """Only the part of a pause after the start matters; pauses over before it are ignored."""
    pauses = [(sh(1, 8), sh(1, 9)), (sh(1, 9, 30), sh(1, 11))]
    assert deadline_with_pauses(office(), MONDAY_10, hours(1), pauses) == sh(1, 12)


def test_an_open_pause_means_there_is_no_deadline():
    """While the ticket waits on the customer the clock is stopped: no deadline at all."""
    pauses = [(sh(1, 11), sh(1, 12)), (sh(1, 13), None)]
    assert deadline_with_pauses(office(), MONDAY_10, hours(4), pauses) is None


def test_an_open_pause_after_the_target_was_used_up_keeps_the_past_deadline():
    """A breach before the ticket was put on hold stays a breach."""
    pauses = [(sh(2, 10), None)]
    assert deadline_with_pauses(office(), MONDAY_10, hours(4), pauses) == sh(1, 14)


def test_elapsed_with_pauses_counts_the_working_time_used():
    """Monday 10:00-16:00 with an hour's pause: 5 h used, 62.5 % of an 8 h target."""
    used = elapsed_with_pauses(office(), MONDAY_10, sh(1, 16), [(sh(1, 11), sh(1, 12))])
    assert used == hours(5)
    assert used / hours(8) == 0.625


def test_elapsed_stops_at_an_open_pause_and_at_closing_time():
    """An open pause runs until now; hours after closing time are not counted."""
    pauses = [(sh(1, 15), None)]
    assert elapsed_with_pauses(office(), MONDAY_10, sh(1, 17), pauses) == hours(5)
    assert elapsed_with_pauses(office(), MONDAY_10, sh(1, 23), []) == hours(8)
    assert elapsed_with_pauses(office(), MONDAY_10, sh(1, 9), []) == timedelta(0)


def test_elapsed_at_the_deadline_equals_the_target():
    """deadline_with_pauses and elapsed_with_pauses agree over a grid of starts and targets."""
    pauses = [
        (sh(2, 11), sh(2, 14)),
        (sh(3, 17), sh(4, 9, 30)),
        (sh(4, 9), sh(4, 10)),
        (sh(6, 12), sh(8, 9, 45)),
    ]
    starts = [sh(1, 0) + n * timedelta(minutes=95) for n in range(100)]
    for start, duration in itertools.product(starts, [hours(0.25), hours(4), hours(20)]):
        deadline = deadline_with_pauses(office(), start, duration, pauses)
        assert elapsed_with_pauses(office(), start, deadline, pauses) == duration, start
        assert elapsed_with_pauses(office(), start, deadline - timedelta(seconds=1), pauses) < (
            duration
        )


# --- Validation -------------------------------------------------------------------------

NAIVE = datetime(2026, 6, 1, 10)  # noqa: DTZ001 - the point of these tests


@pytest.mark.parametrize(
    "call",
    [
        lambda: add_working_time(office(), NAIVE, hours(1)),
        lambda: working_time_between(office(), MONDAY_10, NAIVE),
        lambda: deadline_with_pauses(office(), NAIVE, hours(1), []),
        lambda: deadline_with_pauses(office(), MONDAY_10, hours(1), [(NAIVE, None)]),
        lambda: elapsed_with_pauses(office(), MONDAY_10, NAIVE, []),
        lambda: elapsed_with_pauses(office(), MONDAY_10, sh(2, 10), [(sh(1, 11), NAIVE)]),
    ],
)
def test_naive_datetimes_are_refused(call):
    """Without a zone a datetime could mean any instant: every entry point refuses it."""
    with pytest.raises(ValueError, match="must be timezone-aware"):
        call()


def test_negative_targets_and_backwards_pauses_are_refused():
    """A negative duration or a pause ending before it starts is a caller bug."""
    with pytest.raises(ValueError, match="must not be negative"):
        add_working_time(office(), MONDAY_10, -hours(1))
    with pytest.raises(ValueError, match=r"pauses\[0\] ends before it starts"):
        deadline_with_pauses(office(), MONDAY_10, hours(1), [(sh(1, 12), sh(1, 11))])


@pytest.mark.parametrize(
    ("time_zone", "weekly", "holidays", "message"),
    [
        ("Mars/Olympus", {0: NINE_TO_SIX}, (), "unknown IANA time zone 'Mars/Olympus'"),
        ("", {0: NINE_TO_SIX}, (), "time_zone must be an IANA name"),
        ("UTC", {0: [(time(9), time(12)), (time(11), time(18))]}, (), "mon: .*not overlap"),
        ("UTC", {1: [(time(14), time(18)), (time(9), time(12))]}, (), "tue: .*sorted"),
        ("UTC", {2: [(time(18), time(9))]}, (), "wed: interval 18:00-09:00 must start before"),
        ("UTC", {3: [(time(22), MIDNIGHT), (time(23), time(23, 30))]}, (), "thu: .*not overlap"),
        ("UTC", {7: NINE_TO_SIX}, (), "unknown weekday 7"),
        ("UTC", {True: NINE_TO_SIX}, (), "unknown weekday True"),
        ("UTC", {0: []}, (), "at least one working interval"),
        ("UTC", {0: [(time(9, tzinfo=UTC), time(18))]}, (), "must be naive"),
        ("UTC", {0: [("09:00", "18:00")]}, (), "must be datetime.time"),
        ("UTC", {0: NINE_TO_SIX}, (datetime(2026, 10, 1, tzinfo=UTC),), "is not a date"),
    ],
)
def test_invalid_calendars_are_refused_with_a_clear_message(time_zone, weekly, holidays, message):
    """Construction checks the zone, the weekday keys, interval order and holiday types."""
    with pytest.raises(ValueError, match=message):
        BusinessCalendar(time_zone, weekly, frozenset(holidays))


SPEC = {
    "time_zone": "Asia/Shanghai",
    "weekly": {
        "mon": [["09:00", "12:00"], ["13:00", "18:00"]],
        "fri": [["09:00", "18:00"], ["22:00", "24:00"]],
        "sat": [["00:00", "06:00"]],
    },
    "holidays": ["2026-10-01", "2026-10-02"],
}


def test_a_spec_builds_the_same_calendar_as_the_constructor():
    """The JSON form stored with a policy parses to an equal (and equally hashed) calendar."""
    expected = BusinessCalendar(
        "Asia/Shanghai",
        {
            0: [(time(9), time(12)), (time(13), time(18))],
            4: [(time(9), time(18)), (time(22), MIDNIGHT)],
            5: [(MIDNIGHT, time(6))],
        },
        frozenset({date(2026, 10, 1), date(2026, 10, 2)}),
    )
    parsed = BusinessCalendar.from_spec(SPEC)
    assert parsed == expected
    assert hash(parsed) == hash(expected)
    assert parsed.week_length == hours(8 + 9 + 2 + 6)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"weekly": {"monday": [["09:00", "18:00"]]}}, "unknown weekday 'monday'; use one of mon"),
        ({"time_zone": "Asia/Beijing"}, "unknown IANA time zone 'Asia/Beijing'"),
        ({"holiday": ["2026-10-01"]}, "unknown key\\(s\\) 'holiday'"),
        ({"weekly": {"mon": [["9am", "18:00"]]}}, "mon: '9am' is not a time like '09:00'"),
        (
            {"weekly": {"mon": [["09:00", "18:00", "19:00"]]}},
            "mon: .* is not a \\[start, end\\] pair",
        ),
        ({"weekly": {"mon": "09:00-18:00"}}, "mon: intervals must be a list"),
        ({"weekly": {"mon": [["09:00+08:00", "18:00"]]}}, "must not carry a UTC offset"),
        ({"weekly": {"mon": [["24:00", "18:00"]]}}, "mon: '24:00' is not a time"),
        ({"holidays": ["2026-02-30"]}, "holidays: '2026-02-30' is not a date"),
        ({"holidays": "2026-10-01"}, "holidays must be a list"),
    ],
)
def test_invalid_specs_are_refused_with_a_clear_message(change, message):
    """Each mistake an admin can make in the JSON form names the part that is wrong."""
    with pytest.raises(ValueError, match=message):
        BusinessCalendar.from_spec({**SPEC, **change})


def test_a_spec_needs_a_time_zone_and_a_weekly_schedule():
    """Neither may be left to a silent default."""
    with pytest.raises(ValueError, match="'time_zone' is required"):
        BusinessCalendar.from_spec({"weekly": SPEC["weekly"]})
    with pytest.raises(ValueError, match="'weekly' is required"):
        BusinessCalendar.from_spec({"time_zone": "UTC"})


def test_a_calendar_cannot_be_changed_after_validation():
    """The schedule is copied: mutating the input or the attribute cannot bypass the checks."""
    weekly = {0: [(time(9), time(18))]}
    calendar = BusinessCalendar("UTC", weekly)
    weekly[0].append((time(8), time(10)))
    assert calendar.weekly[0] == ((time(9), time(18)),)
    with pytest.raises(TypeError):
        calendar.weekly[1] = ((time(9), time(18)),)  # type: ignore[index]


def test_weekday_keys_follow_python_weekday_numbers():
    """mon is 0, as date.weekday() counts."""
    assert WEEKDAY_KEYS.index("mon") == date(2026, 6, 1).weekday() == 0
