package timelog

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/timebridge/timebridge/sync/connector"
	"github.com/timebridge/timebridge/sync/connector/rest"
)

// MaxComment is the longest comment written (spec §5.4, unconfirmed).
const MaxComment = 255

// LockedApproval is the TimeRegistrationApprovalStatus from which a row is locked.
const LockedApproval = 6

// regModel is TimeRegistrationApiReadModel (GET /v1/time-registration/{id}), which
// carries the GUID.
type regModel struct {
	TimeRegistrationID   flexInt `json:"TimeRegistrationID"`
	TimeRegistrationGUID string  `json:"TimeRegistrationGUID"`
	IsInvoiced           bool    `json:"IsInvoiced"`
	IsInClosedPeriod     bool    `json:"IsInClosedAccountingPeriod"`
}

// guid learns the GUID of a row (cached: GUIDs never change).
func (c *Client) guid(ctx context.Context, id int) (string, error) {
	c.mu.Lock()
	g, ok := c.guidOf[id]
	c.mu.Unlock()
	if ok {
		return g, nil
	}
	r := request{method: http.MethodGet, path: "/v1/time-registration/" + strconv.Itoa(id), retry: true}
	var m regModel
	err := c.pacer.Call(ctx, func() (bool, error) {
		body, err := c.once(ctx, r, nil)
		if err == nil {
			err = single(r.op(), body, &m)
		}
		return err != nil && connector.Retryable(err), err
	})
	if err != nil {
		return "", err
	}
	g = strings.ToLower(m.TimeRegistrationGUID)
	c.remember(id, g)
	return g, nil
}

// guidOrUnknown is guid for rows listed by get-by-date: when TimeLog will not say
// (the GUID read model is unconfirmed, spec §9 #16: the route answers not-found or
// is missing) the GUID is "" and cached as unknown.
func (c *Client) guidOrUnknown(ctx context.Context, id int) (string, error) {
	g, err := c.guid(ctx, id)
	if errors.Is(err, connector.ErrNotFound) || errors.Is(err, connector.ErrUnsupported) {
		c.log.Warn("timelog does not reveal the registration GUID", "id", id, "err", err)
		c.remember(id, "")
		return "", nil
	}
	return g, err
}

func (c *Client) remember(id int, guid string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.guidOf[id] = guid
	if guid != "" {
		c.idOf[guid] = id
	}
}

func (c *Client) forget(guid string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if id, ok := c.idOf[guid]; ok {
		delete(c.guidOf, id)
	}
	delete(c.idOf, guid)
}

// ClosedWeeks returns the Mondays of the user's weeks that TimeLog reports
// "Closed" (GET /v1/timesheet-status/weekly) overlapping span: writes there are
// refused with ErrClosedPeriod.
func (c *Client) ClosedWeeks(ctx context.Context, span connector.DaySpan) ([]connector.Day, error) {
	uid, err := c.userID(ctx)
	if err != nil {
		return nil, err
	}
	type week struct {
		TimesheetStatus string `json:"TimesheetStatus"`
		StartDate       string `json:"StartDate"`
	}
	type employee struct {
		EmployeeUserID flexInt `json:"EmployeeUserID"`
		Details        []week  `json:"Details"`
	}
	es, err := listAll[employee](ctx, c, "/v1/timesheet-status/weekly", [][2]string{
		{"startDate", span.From.String() + "T00:00:00"}, {"endDate", span.To.String() + "T23:59:59"}, {"userId", strconv.Itoa(uid)}})
	if err != nil {
		return nil, err
	}
	var out []connector.Day
	for _, e := range es {
		if int(e.EmployeeUserID) != uid && e.EmployeeUserID != 0 {
			continue
		}
		for _, w := range e.Details {
			if !strings.EqualFold(w.TimesheetStatus, "Closed") || len(w.StartDate) < 10 {
				continue
			}
			if d, err := connector.ParseDay(w.StartDate[:10]); err == nil {
				out = append(out, d)
			}
		}
	}
	return out, nil
}

func inWeeks(d connector.Day, mondays []connector.Day) bool {
	for _, m := range mondays {
		if !d.Before(m) && d.Before(m.AddDays(7)) {
			return true
		}
	}
	return false
}

// Registrations lists the user's registrations over span (absence rows left out),
// with GUIDs, LastModified (naive tenant time labelled UTC: compare for equality
// only) and Locked for approved (≥ 6), invoiced and closed-week rows. It
// fails as a whole rather than return a partial read, so a missing row in a
// successful read is a real absence (a delete or a move out of the span).
func (c *Client) Registrations(ctx context.Context, span connector.DaySpan) ([]connector.Registration, error) {
	rows, err := c.items(ctx, span.From, span.To)
	if err != nil {
		return nil, err
	}
	closed, err := c.ClosedWeeks(ctx, span)
	if err != nil {
		return nil, err
	}
	var out []connector.Registration
	for _, r := range rows {
		if r.AbsenceCodeID != 0 {
			continue
		}
		reg, err := c.toRegistration(ctx, r)
		if err != nil {
			return nil, err
		}
		if !span.Contains(reg.Day) {
			continue
		}
		reg.Locked = reg.Locked || inWeeks(reg.Day, closed)
		out = append(out, reg)
	}
	return out, nil
}

func (c *Client) toRegistration(ctx context.Context, r itemModel) (connector.Registration, error) {
	d, err := r.day()
	if err != nil {
		return connector.Registration{}, &connector.APIError{Service: service, Op: "get-by-date", Kind: connector.ErrTransient,
			Message: "row with a bad Date", Err: err}
	}
	guid, err := c.guidOrUnknown(ctx, int(r.TimeRegistrationID))
	if err != nil {
		return connector.Registration{}, err
	}
	// LastModified is naive tenant time; it is labelled UTC for equality checks only.
	lm, _ := time.ParseInLocation(naiveLayout, trimFraction(r.LastModified), time.UTC)
	if r.Minutes != nil && int64(*r.Minutes) != (seconds(r.Hours)+30)/60 {
		c.log.Warn("timelog row: Minutes disagree with Hours", "id", int(r.TimeRegistrationID))
	}
	return connector.Registration{GUID: guid, ID: strconv.Itoa(int(r.TimeRegistrationID)), TaskID: taskIDString(r.TaskID),
		Day: d, Seconds: seconds(r.Hours), Comment: r.Comment, LastModified: lm,
		Locked: int(r.ApprovalStatus) >= LockedApproval || truthy(r.InvoiceStatus)}, nil
}

func taskIDString(id flexInt) string {
	if id == 0 {
		return ""
	}
	return strconv.Itoa(int(id))
}

func trimFraction(s string) string {
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return s[:i]
	}
	return s
}

// truthy reads InvoiceStatus, a bool on some models and 0–2 on others.
func truthy(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case float64:
		return x > 0
	case string:
		return x == "true" || (x != "" && x != "0" && x != "false")
	}
	return false
}

// taskInfo is what a registration needs from its task (cached per task).
type taskInfo struct {
	billable   bool
	additional bool
	marker     string // "B24-<id>" from the name, for AdditionalComment
	title      string // the name without the marker: the comment when none is given
}

func (c *Client) taskInfo(ctx context.Context, id int) (taskInfo, error) {
	c.mu.Lock()
	ti, ok := c.tasks[id]
	c.mu.Unlock()
	if ok {
		return ti, nil
	}
	r := request{method: http.MethodGet, path: "/v1/task/" + strconv.Itoa(id), retry: true}
	var m struct {
		Name                     string `json:"Name"`
		IsDefaultBillable        bool   `json:"IsDefaultBillable"`
		AdditionalTextIsRequired bool   `json:"AdditionalTextIsRequired"`
	}
	err := c.pacer.Call(ctx, func() (bool, error) {
		body, err := c.once(ctx, r, nil)
		if err == nil {
			err = single(r.op(), body, &m)
		}
		return err != nil && connector.Retryable(err), err
	})
	if err != nil {
		return taskInfo{}, err
	}
	ti = taskInfo{billable: m.IsDefaultBillable, additional: m.AdditionalTextIsRequired, title: strings.TrimSpace(m.Name)}
	if src, ok := connector.ParseTaskMarker(m.Name); ok {
		ti.marker = "B24-" + src
		ti.title = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(m.Name), strings.TrimSpace(connector.TaskMarker(src))))
	}
	c.mu.Lock()
	c.tasks[id] = ti
	c.mu.Unlock()
	return ti, nil
}

// UpsertRegistration creates r with its GUID (r.GUID, the UUIDv5 of the Bitrix24
// record) or updates the existing row by its integer id (update-time), and returns
// the row as read back (the baseline: server rounding is no edit).
//
// A create is never re-sent blindly: after a failure without a clear answer the
// day is re-read and the GUID resolved first; only when no row has it is the same
// GUID posted again (at most Config.MaxReplays times). A 422 on the first create
// resolves too (the GUID may exist from an earlier lost reply), then allocates the
// user to the task and posts once more. A closed week gives ErrClosedPeriod with
// nothing written. An empty comment becomes the task title (without the marker);
// longer comments are cut to MaxComment runes.
func (c *Client) UpsertRegistration(ctx context.Context, r connector.Registration) (connector.Registration, error) {
	r.GUID = strings.ToLower(strings.TrimSpace(r.GUID))
	taskID, err := strconv.Atoi(r.TaskID)
	if err != nil || taskID <= 0 || r.GUID == "" || r.Day.IsZero() || r.Seconds < 0 {
		return connector.Registration{}, &connector.APIError{Service: service, Op: "UpsertRegistration", Kind: connector.ErrInvalid,
			Message: fmt.Sprintf("registration needs a GUID, a TimeLog task id, a day and seconds ≥ 0 (got %q, %q, %s, %d)", r.GUID, r.TaskID, r.Day, r.Seconds)}
	}
	if strings.TrimSpace(r.Comment) == "" { // comments may be mandatory: use the task title
		ti, err := c.taskInfo(ctx, taskID)
		if err != nil {
			return connector.Registration{}, err
		}
		r.Comment = ti.title
	}
	if rs := []rune(r.Comment); len(rs) > MaxComment {
		r.Comment = string(rs[:MaxComment-1]) + "…"
	}
	id, _ := strconv.Atoi(r.ID)
	if id == 0 {
		c.mu.Lock()
		id = c.idOf[r.GUID]
		c.mu.Unlock()
	}
	if id == 0 {
		if id, err = c.resolve(ctx, r, taskID); err != nil {
			return connector.Registration{}, err
		}
	}
	if id != 0 {
		err := c.updateTime(ctx, id, taskID, r)
		switch {
		case err == nil:
			return c.readBack(ctx, id, r.GUID, r.Day)
		case errors.Is(err, connector.ErrNotFound):
			c.forget(r.GUID) // deleted in TimeLog meanwhile: create it again
		default:
			return connector.Registration{}, err
		}
	}
	return c.create(ctx, taskID, r)
}

func (c *Client) updateTime(ctx context.Context, id, taskID int, r connector.Registration) error {
	body := map[string]any{"TimeRegistrationID": id, "TaskID": taskID, "Date": r.Day.String() + "T00:00:00",
		"Hours": hours(r.Seconds), "Comment": r.Comment}
	// update-time sets values: a replay after a lost reply changes nothing more.
	_, err := c.call(ctx, request{method: http.MethodPost, path: "/v1/time-registration/update-time", body: body, retry: true})
	return err
}

func (c *Client) create(ctx context.Context, taskID int, r connector.Registration) (connector.Registration, error) {
	uid, err := c.userID(ctx)
	if err != nil {
		return connector.Registration{}, err
	}
	ti, err := c.taskInfo(ctx, taskID)
	if err != nil {
		return connector.Registration{}, err
	}
	h := hours(r.Seconds)
	body := map[string]any{"ID": r.GUID, "TaskID": taskID, "UserID": uid, "Date": r.Day.String() + "T00:00:00",
		"Hours": h, "GroupType": 1, "Billable": ti.billable, "BillableHours": map[bool]float64{true: h}[ti.billable],
		"Comment": r.Comment}
	if ti.additional && ti.marker != "" {
		body["AdditionalComment"] = ti.marker
	}
	c.mu.Lock()
	c.wrote[r.GUID] = true // posted: rows with it never count as TimeLog time
	c.mu.Unlock()
	allocated := false
	for sends := 0; ; sends++ {
		reply, err := c.call(ctx, request{method: http.MethodPost, path: "/v1/time-registration", body: body})
		if err == nil {
			var m struct {
				TimeRegistrationID flexInt `json:"TimeRegistrationID"`
			}
			if len(strings.TrimSpace(string(reply))) > 0 && single("POST /v1/time-registration", reply, &m) == nil && m.TimeRegistrationID != 0 {
				c.remember(int(m.TimeRegistrationID), r.GUID)
				return c.readBack(ctx, int(m.TimeRegistrationID), r.GUID, r.Day)
			}
		}
		if errors.Is(err, connector.ErrClosedPeriod) || errors.Is(err, connector.ErrUnauthorized) ||
			errors.Is(err, connector.ErrForbidden) || ctx.Err() != nil {
			return connector.Registration{}, err
		}
		// Success without an id, a lost reply, or a rejection that may mean "exists":
		// look before posting again.
		id, rerr := c.resolve(ctx, r, taskID)
		if rerr != nil {
			return connector.Registration{}, errors.Join(err, rerr)
		}
		if id != 0 {
			return c.readBack(ctx, id, r.GUID, r.Day)
		}
		switch {
		case err == nil:
			return connector.Registration{}, &connector.APIError{Service: service, Op: "POST /v1/time-registration",
				Kind: connector.ErrTransient, Message: "TimeLog accepted the registration but does not list it yet"}
		case statusOf(err) == http.StatusUnprocessableEntity && !allocated && !c.cfg.RegistrationAllTasks && sends == 0:
			allocated = true // refused: maybe not allocated; allocate once, then post once more
			if aerr := c.allocate(ctx, taskID); aerr != nil {
				return connector.Registration{}, errors.Join(err, aerr)
			}
		case connector.Retryable(err) && sends < c.replays:
			c.log.Info("timelog registration create unresolved; posting the same GUID again", "guid", r.GUID, "err", err)
			if serr := c.sleep(ctx, rest.Backoff(sends, c.minBackoff(), c.maxBackoff())); serr != nil {
				return connector.Registration{}, errors.Join(err, serr)
			}
		default:
			return connector.Registration{}, err
		}
	}
}

// resolve finds the row with r.GUID among the user's rows on r.Day, or 0. It reads
// the day completely and compares GUIDs (same task first). Rows whose GUID TimeLog
// will not reveal are matched by values instead (spec §5.2): same task, comment
// and hours within a quarter-hour rounding, not linked to another GUID; several
// such rows are ambiguous (ErrInvalid: park and hold the task-day back).
func (c *Client) resolve(ctx context.Context, r connector.Registration, taskID int) (int, error) {
	rows, err := c.items(ctx, r.Day, r.Day)
	if err != nil {
		return 0, err
	}
	var unknown []itemModel
	for pass := 0; pass < 2; pass++ {
		for _, row := range rows {
			if row.AbsenceCodeID != 0 || (pass == 0) != (int(row.TaskID) == taskID) {
				continue
			}
			g, err := c.guidOrUnknown(ctx, int(row.TimeRegistrationID))
			if err != nil {
				return 0, err
			}
			switch {
			case g == r.GUID:
				return int(row.TimeRegistrationID), nil
			case g == "" && pass == 0:
				unknown = append(unknown, row)
			}
		}
	}
	var match []int
	for _, row := range unknown {
		d := seconds(row.Hours) - r.Seconds
		if row.Comment == r.Comment && d <= 450 && d >= -450 {
			match = append(match, int(row.TimeRegistrationID))
		}
	}
	switch len(match) {
	case 0:
		return 0, nil
	case 1:
		c.remember(match[0], r.GUID)
		return match[0], nil
	}
	return 0, &connector.APIError{Service: service, Op: "resolve registration", Kind: connector.ErrInvalid,
		Message: fmt.Sprintf("%d identical registrations on %s for task %d and TimeLog does not show their GUIDs; remove the extra ones in TimeLog", len(match), r.Day, taskID)}
}

// readBack returns the stored row id on day as the baseline.
func (c *Client) readBack(ctx context.Context, id int, guid string, day connector.Day) (connector.Registration, error) {
	c.remember(id, guid)
	c.mu.Lock()
	c.wrote[guid] = true
	c.mu.Unlock()
	rows, err := c.items(ctx, day, day)
	if err != nil {
		return connector.Registration{}, err
	}
	for _, row := range rows {
		if int(row.TimeRegistrationID) == id {
			return c.toRegistration(ctx, row)
		}
	}
	return connector.Registration{}, &connector.APIError{Service: service, Op: "read back", Kind: connector.ErrTransient,
		Message: fmt.Sprintf("registration %d is not listed on %s after the write", id, day)}
}

// DeleteRegistration deletes the row with guid (DELETE by GUID; a 404 while the
// integer id is known is retried by id; 404 = done).
func (c *Client) DeleteRegistration(ctx context.Context, guid string) error {
	guid = strings.ToLower(strings.TrimSpace(guid))
	if guid == "" {
		return &connector.APIError{Service: service, Op: "DeleteRegistration", Kind: connector.ErrInvalid, Message: "no GUID"}
	}
	del := func(key string) error {
		_, err := c.call(ctx, request{method: http.MethodDelete, path: "/v1/time-registration/" + url.PathEscape(key), retry: true})
		return err
	}
	err := del(guid)
	if errors.Is(err, connector.ErrNotFound) {
		c.mu.Lock()
		id, ok := c.idOf[guid]
		c.mu.Unlock()
		err = nil
		if ok {
			if err = del(strconv.Itoa(id)); errors.Is(err, connector.ErrNotFound) {
				err = nil
			}
		}
	}
	if err != nil {
		return err
	}
	c.forget(guid)
	return nil
}

func statusOf(err error) int {
	var ae *connector.APIError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

// RegistrationByID reads one of the user's rows by its integer id (GET
// /v1/time-tracking-item/{id}). Use it to confirm a delete (spec §5.1): a known id
// missing from a complete window read is deleted when this says ErrNotFound, and
// moved out of the window when it returns the row.
func (c *Client) RegistrationByID(ctx context.Context, id string) (connector.Registration, error) {
	n, err := strconv.Atoi(id)
	if err != nil || n <= 0 {
		return connector.Registration{}, &connector.APIError{Service: service, Op: "RegistrationByID", Kind: connector.ErrInvalid,
			Message: fmt.Sprintf("%q is not a TimeRegistrationID", id)}
	}
	r := request{method: http.MethodGet, path: "/v1/time-tracking-item/" + id, retry: true}
	var m itemModel
	err = c.pacer.Call(ctx, func() (bool, error) {
		body, err := c.once(ctx, r, nil)
		if err == nil {
			err = single(r.op(), body, &m)
		}
		return err != nil && connector.Retryable(err), err
	})
	if err != nil {
		return connector.Registration{}, err
	}
	return c.toRegistration(ctx, m)
}

// sleep, minBackoff and maxBackoff pace replays like the pacer's retries.
func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if c.cfg.Pacer.Sleep != nil {
		return c.cfg.Pacer.Sleep(ctx, d)
	}
	return rest.Sleep(ctx, d)
}

func (c *Client) minBackoff() time.Duration {
	if c.cfg.Pacer.MinBackoff > 0 {
		return c.cfg.Pacer.MinBackoff
	}
	return 2 * time.Second
}

func (c *Client) maxBackoff() time.Duration {
	if c.cfg.Pacer.MaxBackoff > 0 {
		return c.cfg.Pacer.MaxBackoff
	}
	return 8 * time.Second
}
