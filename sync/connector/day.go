package connector

import (
	"fmt"
	"time"
)

// Day is a calendar date in the sync time zone, independent of any instant.
type Day struct {
	Year  int
	Month time.Month
	Day   int
}

// DayOf returns the calendar date of t in loc.
func DayOf(t time.Time, loc *time.Location) Day {
	y, m, d := t.In(loc).Date()
	return Day{y, m, d}
}

// ParseDay parses "YYYY-MM-DD".
func ParseDay(s string) (Day, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Day{}, fmt.Errorf("date %q is not YYYY-MM-DD", s)
	}
	return DayOf(t, time.UTC), nil
}

// String formats the day as "YYYY-MM-DD".
func (d Day) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// IsZero reports whether d is the zero Day.
func (d Day) IsZero() bool { return d == Day{} }

// Start is local midnight of the day in loc. On a DST day the day that follows
// starts 23 or 25 hours later: use d.AddDays(1).Start(loc), never Start+24h.
func (d Day) Start(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// AddDays returns the day n calendar days later (n may be negative).
func (d Day) AddDays(n int) Day {
	return DayOf(time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, time.UTC), time.UTC)
}

// Before reports whether d is an earlier date than o.
func (d Day) Before(o Day) bool { return d.Compare(o) < 0 }

// After reports whether d is a later date than o.
func (d Day) After(o Day) bool { return d.Compare(o) > 0 }

// Compare returns -1, 0 or +1.
func (d Day) Compare(o Day) int {
	switch {
	case d.Year != o.Year:
		return cmpInt(d.Year, o.Year)
	case d.Month != o.Month:
		return cmpInt(int(d.Month), int(o.Month))
	default:
		return cmpInt(d.Day, o.Day)
	}
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Weekday returns the day of the week.
func (d Day) Weekday() time.Weekday { return d.Start(time.UTC).Weekday() }

// DaySpan is an inclusive range of calendar days in one time zone.
type DaySpan struct {
	From, To Day
	Zone     *time.Location
}

// Days lists every day of the span, oldest first.
func (s DaySpan) Days() []Day {
	var out []Day
	for d := s.From; !d.After(s.To); d = d.AddDays(1) {
		out = append(out, d)
	}
	return out
}

// Contains reports whether d lies within the span.
func (s DaySpan) Contains(d Day) bool { return !d.Before(s.From) && !d.After(s.To) }

// Instants returns the half-open instant range [midnight of From, midnight after To)
// in the span's zone.
func (s DaySpan) Instants() (start, end time.Time) {
	return s.From.Start(s.Zone), s.To.AddDays(1).Start(s.Zone)
}

// SplitAtMidnights cuts the interval [start, start+dur) at every local midnight of
// loc and returns the seconds that fall on each day, in order. DST days have 23 or
// 25 hours because each boundary is computed with time.Date, never by adding 24h.
func SplitAtMidnights(start time.Time, dur time.Duration, loc *time.Location) []DaySeconds {
	var out []DaySeconds
	end := start.Add(dur)
	for cur := start; cur.Before(end); {
		day := DayOf(cur, loc)
		next := day.AddDays(1).Start(loc)
		if next.After(end) {
			next = end
		}
		out = append(out, DaySeconds{Day: day, Seconds: int64(next.Sub(cur) / time.Second)})
		cur = next
	}
	return out
}

// DaySeconds is a number of seconds on one day.
type DaySeconds struct {
	Day     Day
	Seconds int64
}
