package timelog

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/timebridge/timebridge/sync/connector"
	"github.com/timebridge/timebridge/sync/connectortest"
	"github.com/timebridge/timebridge/sync/timelog/timelogtest"
)

// The emulator itself is a connectortest.Fixture.
var _ connectortest.Fixture = (*timelogtest.Server)(nil)

// zonedFixture adapts the suite's instant-based TrackTime to TimeLog, whose rows
// carry only a calendar date in the tenant's calendar, which timebridge takes to be
// the sync zone (spec §5.3). The suite switches zones between reads; the fixture
// keeps the tracked intervals and re-registers them, split at the midnights of
// the zone being read, before each DayTotals — as a person in that zone would
// have registered them.
type zonedFixture struct {
	*timelogtest.Server
	mu    sync.Mutex
	zone  *time.Location
	spans []tracked
	rows  []int
}

type tracked struct {
	task  int
	start time.Time
	d     time.Duration
}

func (f *zonedFixture) TrackTime(taskID string, start time.Time, d time.Duration) {
	id := 0
	if taskID != "" {
		_, _ = fmt.Sscan(taskID, &id)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.spans = append(f.spans, tracked{id, start, d})
	f.materialize()
}

// rezone re-registers every tracked interval in loc.
func (f *zonedFixture) rezone(loc *time.Location) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if loc == nil || loc == f.zone {
		return
	}
	f.zone = loc
	f.materialize()
}

func (f *zonedFixture) materialize() {
	for _, id := range f.rows {
		f.DeleteRegistrationUI(id)
	}
	f.rows = f.rows[:0]
	for _, s := range f.spans {
		for _, part := range connector.SplitAtMidnights(s.start, s.d, f.zone) {
			gt := 1
			if s.task == 0 {
				gt = 2 // a row without a task (support ticket)
			}
			r := f.AddRegistration(timelogtest.Registration{TaskID: s.task, Date: part.Day.String(),
				Hours: float64(part.Seconds) / 3600, GroupType: gt, Comment: "Tracked in TimeLog"})
			f.rows = append(f.rows, r.TimeRegistrationID)
		}
	}
}

// zonedTracker tells the fixture which zone is being read.
type zonedTracker struct {
	*Client
	fx *zonedFixture
}

func (z zonedTracker) DayTotals(ctx context.Context, span connector.DaySpan) (connector.DayTotals, error) {
	z.fx.rezone(span.Zone)
	return z.Client.DayTotals(ctx, span)
}

func TestContract(t *testing.T) {
	connectortest.Run(t, connectortest.Opt{
		New: func(t *testing.T) (connector.Tracker, connectortest.Fixture) {
			e := newEnv(t, timelogtest.Options{MaxPageSize: 50})
			fx := &zonedFixture{Server: e.srv, zone: time.UTC}
			return zonedTracker{e.c, fx}, fx
		},
	})
}
