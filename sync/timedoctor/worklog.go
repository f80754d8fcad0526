package timedoctor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"time"

	"github.com/timebridge/timebridge/sync/connector"
)

// row is a worklog segment after decoding.
type row struct {
	userID, taskID string
	start          time.Time
	seconds        int64
}

// DayTotals reads the signed-in user's worklog over span (see the package doc).
func (c *Client) DayTotals(ctx context.Context, span connector.DaySpan) (connector.DayTotals, error) {
	zone := span.Zone
	if zone == nil {
		zone = time.UTC
	}
	me, err := c.Me(ctx)
	if err != nil {
		return connector.DayTotals{}, err
	}
	from, end := span.From.Start(zone), span.To.AddDays(1).Start(zone)
	padded := span.From.AddDays(-1).Start(zone)
	type key struct {
		user, task string
		start      int64
		secs       int64
	}
	seen := map[key]bool{}
	var rows []row
	for w := padded; w.Before(end); {
		next := w.Add(c.cfg.WorklogWindow)
		if next.After(end) {
			next = end
		}
		got, err := c.window(ctx, me.ID, w, next)
		if err != nil {
			return connector.DayTotals{}, fmt.Errorf("read Time Doctor worklog %s…%s: %w", span.From, span.To, err)
		}
		for _, r := range got {
			k := key{r.userID, r.taskID, r.start.UnixNano(), r.seconds}
			if !seen[k] {
				seen[k] = true
				rows = append(rows, r)
			}
		}
		w = next
	}

	type dayKey struct {
		task string
		day  connector.Day
	}
	sums := map[dayKey]int64{}
	var out connector.DayTotals
	for _, r := range rows {
		s, e := r.start, r.start.Add(time.Duration(r.seconds)*time.Second)
		if s.Before(from) {
			s = from
		}
		if e.After(end) {
			e = end
		}
		if !e.After(s) {
			continue
		}
		for _, part := range connector.SplitAtMidnights(s, e.Sub(s), zone) {
			if !span.Contains(part.Day) {
				continue
			}
			if r.taskID == "" {
				out.Unassigned += part.Seconds
				continue
			}
			sums[dayKey{r.taskID, part.Day}] += part.Seconds
		}
	}
	for k, v := range sums {
		out.Totals = append(out.Totals, connector.DayTotal{TaskID: k.task, Day: k.day, Seconds: v})
	}
	sort.Slice(out.Totals, func(i, j int) bool {
		a, b := out.Totals[i], out.Totals[j]
		if a.Day != b.Day {
			return a.Day.Before(b.Day)
		}
		return a.TaskID < b.TaskID
	})
	return out, nil
}

// window reads [from, to), halving it while TD says the range is too wide (down
// to one day; then the read fails).
func (c *Client) window(ctx context.Context, userID string, from, to time.Time) ([]row, error) {
	rows, err := c.worklogPages(ctx, userID, from, to)
	if err == nil || !errors.Is(err, errRangeTooWide) {
		return rows, err
	}
	if to.Sub(from) <= 24*time.Hour {
		return nil, err
	}
	mid := from.Add(to.Sub(from) / 2).Truncate(time.Second)
	c.log.Info("worklog range too wide; halving the window", "from", formatInstant(from), "to", formatInstant(to))
	a, err := c.window(ctx, userID, from, mid)
	if err != nil {
		return nil, err
	}
	b, err := c.window(ctx, userID, mid, to)
	if err != nil {
		return nil, err
	}
	return append(a, b...), nil
}

func (c *Client) worklogPages(ctx context.Context, userID string, from, to time.Time) ([]row, error) {
	q := url.Values{"user": {userID}, "from": {formatInstant(from)}, "to": {formatInstant(to)},
		"task-project-names": {"true"}}
	var out []row
	err := c.list(ctx, "/api/1.0/activity/worklog", q, func(data json.RawMessage) (int, error) {
		var groups [][]wireRow
		if err := json.Unmarshal(data, &groups); err != nil {
			return 0, err
		}
		n := 0
		for gi, g := range groups {
			n = max(n, len(g))
			for _, w := range g {
				uid := string(w.UserID)
				if uid != userID && (uid != "" || gi != 0) {
					continue // another user's rows: grouping is positional, check the id
				}
				start, ok := parseInstant(string(w.Start))
				if !ok {
					return 0, fmt.Errorf("row start %q is not an instant", string(w.Start))
				}
				if w.Time < 0 {
					return 0, fmt.Errorf("row time %d is negative", w.Time)
				}
				out = append(out, row{userID: userID, taskID: string(w.TaskID), start: start, seconds: int64(w.Time)})
			}
		}
		return n, nil
	})
	return out, err
}
