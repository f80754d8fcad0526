package timelog

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/timebridge/timebridge/sync/connector"
)

// MaxTaskName is the longest task name written (spec §5.5, unconfirmed); the
// marker is always kept.
const MaxTaskName = 100

type meModel struct {
	UserID    flexInt `json:"UserID"`
	ID        string  `json:"ID"`
	FirstName string  `json:"FirstName"`
	LastName  string  `json:"LastName"`
	Initials  string  `json:"Initials"`
	Email     string  `json:"Email"`
	IsActive  bool    `json:"IsActive"`
}

func (m meModel) user() connector.User {
	return connector.User{ID: strconv.Itoa(int(m.UserID)), Name: strings.TrimSpace(m.FirstName + " " + m.LastName),
		Email: strings.TrimSpace(m.Email)}
}

// Me is the token's owner (GET /v1/user/me). It also validates URL and token.
func (c *Client) Me(ctx context.Context) (connector.User, error) {
	m, err := c.fetchMe(ctx)
	if err != nil {
		return connector.User{}, err
	}
	return m.user(), nil
}

func (c *Client) fetchMe(ctx context.Context) (meModel, error) {
	r := request{method: http.MethodGet, path: "/v1/user/me", retry: true}
	var m meModel
	err := c.pacer.Call(ctx, func() (bool, error) {
		body, err := c.once(ctx, r, nil)
		if err == nil {
			err = single(r.op(), body, &m)
		}
		return err != nil && connector.Retryable(err), err
	})
	if err != nil {
		return meModel{}, err
	}
	if m.UserID == 0 {
		return meModel{}, &connector.APIError{Service: service, Op: r.op(), Status: 200, Kind: connector.ErrTransient,
			Message: "reply without UserID"}
	}
	c.mu.Lock()
	c.me = &m
	c.mu.Unlock()
	return m, nil
}

// userID is the signed-in user's integer id, read once.
func (c *Client) userID(ctx context.Context) (int, error) {
	c.mu.Lock()
	me := c.me
	c.mu.Unlock()
	if me != nil {
		return int(me.UserID), nil
	}
	m, err := c.fetchMe(ctx)
	return int(m.UserID), err
}

// Users lists the people the user can see (GET /v1/user, all pages).
func (c *Client) Users(ctx context.Context) ([]connector.User, error) {
	ms, err := listAll[meModel](ctx, c, "/v1/user", nil)
	if err != nil {
		return nil, err
	}
	out := make([]connector.User, 0, len(ms))
	for _, m := range ms {
		out = append(out, m.user())
	}
	return out, nil
}

type projectModel struct {
	ProjectID         flexInt `json:"ProjectID"`
	Name              string  `json:"Name"`
	IsActive          *bool   `json:"IsActive"`
	AllowTimeTracking *bool   `json:"AllowTimeTracking"`
}

// FindProject finds an active project by name: exactly (trimmed), else the unique
// case-insensitive match. Several matches, or one that does not allow time
// tracking, → ErrInvalid asking for an explicit link.
func (c *Client) FindProject(ctx context.Context, name string) (connector.Project, error) {
	ps, err := listAll[projectModel](ctx, c, "/v1/project/get-all", [][2]string{{"isActive", "true"}})
	if err != nil {
		return connector.Project{}, err
	}
	want := strings.TrimSpace(name)
	var exact, fold []projectModel
	for _, p := range ps {
		if p.IsActive != nil && !*p.IsActive {
			continue
		}
		n := strings.TrimSpace(p.Name)
		switch {
		case n == want:
			exact = append(exact, p)
		case strings.EqualFold(n, want):
			fold = append(fold, p)
		}
	}
	pick := exact
	if len(pick) == 0 {
		pick = fold
	}
	switch len(pick) {
	case 0:
		return connector.Project{}, &connector.APIError{Service: service, Op: "FindProject", Kind: connector.ErrNotFound,
			Message: fmt.Sprintf("no active TimeLog project named %q", want)}
	case 1:
		p := pick[0]
		if p.AllowTimeTracking != nil && !*p.AllowTimeTracking {
			return connector.Project{}, &connector.APIError{Service: service, Op: "FindProject", Kind: connector.ErrInvalid,
				Message: fmt.Sprintf("TimeLog project %q does not allow time tracking; allow it or link another project", want)}
		}
		return connector.Project{ID: strconv.Itoa(int(p.ProjectID)), Name: strings.TrimSpace(p.Name), Active: true}, nil
	}
	return connector.Project{}, &connector.APIError{Service: service, Op: "FindProject", Kind: connector.ErrInvalid,
		Message: fmt.Sprintf("%d TimeLog projects are named %q; link one explicitly by its ProjectID", len(pick), want)}
}

// CreateProject is not possible through TimeLog REST: ErrUnsupported, no request.
func (c *Client) CreateProject(ctx context.Context, name string) (connector.Project, error) {
	return connector.Project{}, &connector.APIError{Service: service, Op: "CreateProject", Kind: connector.ErrUnsupported,
		Message: fmt.Sprintf("TimeLog cannot create projects through its API: create project '%s' in TimeLog or link an existing one", strings.TrimSpace(name))}
}

type taskModel struct {
	TaskID    flexInt `json:"TaskID"`
	Name      string  `json:"Name"`
	TaskName  string  `json:"TaskName"` // task/filter words it so
	ProjectID flexInt `json:"ProjectID"`
	IsActive  *bool   `json:"IsActive"`
}

func (t taskModel) name() string {
	if t.Name != "" {
		return t.Name
	}
	return t.TaskName
}

// FindTasks lists the tasks whose name carries the marker of Bitrix24 task
// sourceID, lowest TaskID first, with their active state from task/filter.
func (c *Client) FindTasks(ctx context.Context, sourceID string) ([]connector.TrackerTask, error) {
	ts, err := c.tasksWithMarker(ctx, "", sourceID)
	if err != nil {
		return nil, err
	}
	out := make([]connector.TrackerTask, 0, len(ts))
	for _, t := range ts {
		active, err := c.taskActive(ctx, int(t.TaskID))
		if err != nil {
			return nil, err
		}
		out = append(out, connector.TrackerTask{ID: strconv.Itoa(int(t.TaskID)), ProjectID: strconv.Itoa(int(t.ProjectID)),
			Name: t.name(), Active: active})
	}
	return out, nil
}

// tasksWithMarker lists tasks (of projectID, or all) carrying sourceID's marker,
// lowest TaskID first.
func (c *Client) tasksWithMarker(ctx context.Context, projectID, sourceID string) ([]taskModel, error) {
	var q [][2]string
	if projectID != "" {
		q = [][2]string{{"projectID", projectID}}
	}
	ts, err := listAll[taskModel](ctx, c, "/v1/task", q)
	if err != nil {
		return nil, err
	}
	var out []taskModel
	for _, t := range ts {
		if id, ok := connector.ParseTaskMarker(t.name()); ok && id == sourceID {
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].TaskID < out[j].TaskID })
	return out, nil
}

// taskActive reads IsActive from task/filter (the task model has no status).
func (c *Client) taskActive(ctx context.Context, taskID int) (bool, error) {
	ts, err := listAll[taskModel](ctx, c, "/v1/task/filter", [][2]string{{"taskId", strconv.Itoa(taskID)}})
	if err != nil {
		return false, err
	}
	for _, t := range ts {
		if int(t.TaskID) == taskID && t.IsActive != nil {
			return *t.IsActive, nil
		}
	}
	return true, nil // not reported: TimeLog lists only usable tasks by default
}

// CreateTask creates t in t.ProjectID: dry run (validate-new-task), create, re-list
// to learn the id (the reply has none), allocate the user, and write the external
// key when possible (Config.Portal). The create is sent
// once; after a failure without a clear answer the project is re-listed and a new
// task with the name counts as created. Allocation failures are logged, not
// returned: registrations allocate again when TimeLog refuses them.
func (c *Client) CreateTask(ctx context.Context, t connector.TrackerTask) (connector.TrackerTask, error) {
	if c.cfg.NoCreateTask {
		return connector.TrackerTask{}, &connector.APIError{Service: service, Op: "CreateTask", Kind: connector.ErrUnsupported,
			Message: "task creation is switched off for TimeLog"}
	}
	sourceID, ok := connector.ParseTaskMarker(t.Name)
	if !ok {
		return connector.TrackerTask{}, &connector.APIError{Service: service, Op: "CreateTask", Kind: connector.ErrInvalid,
			Message: fmt.Sprintf("task name %q lacks the Bitrix24 marker", t.Name)}
	}
	pid, err := strconv.Atoi(t.ProjectID)
	if err != nil || pid <= 0 {
		return connector.TrackerTask{}, &connector.APIError{Service: service, Op: "CreateTask", Kind: connector.ErrInvalid,
			Message: fmt.Sprintf("project id %q is not a TimeLog ProjectID", t.ProjectID)}
	}
	name := t.Name
	if len([]rune(name)) > MaxTaskName {
		title := strings.TrimSuffix(strings.TrimRight(name, " "), strings.TrimSpace(connector.TaskMarker(sourceID)))
		name = connector.TaskName(title, sourceID, MaxTaskName)
	}
	before, err := c.tasksWithMarker(ctx, t.ProjectID, sourceID)
	if err != nil {
		return connector.TrackerTask{}, err
	}
	seen := map[flexInt]bool{}
	for _, x := range before {
		seen[x.TaskID] = true
	}
	start := t.Created
	if start.IsZero() {
		start = c.now()
	}
	day := time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, time.UTC)
	end := day.AddDate(1, 0, 0)
	if now := c.now(); end.Before(now) { // an old Bitrix24 task: open for a year from today
		end = time.Date(now.Year()+1, now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	}
	model := map[string]any{"TaskName": name, "ProjectID": pid, "StartDate": day.Format(naiveLayout),
		"EndDate": end.Format(naiveLayout), "BudgetHours": 0, "BudgetAmount": 0, "IsBillable": true}
	if _, err := c.call(ctx, request{method: http.MethodPost, path: "/v1/task/validate-new-task", body: model, retry: true}); err != nil {
		return connector.TrackerTask{}, err
	}
	_, createErr := c.call(ctx, request{method: http.MethodPost, path: "/v1/task", body: model})
	if createErr != nil && !connector.Retryable(createErr) {
		return connector.TrackerTask{}, createErr
	}
	after, err := c.tasksWithMarker(ctx, t.ProjectID, sourceID)
	if err != nil {
		if createErr != nil {
			return connector.TrackerTask{}, createErr
		}
		return connector.TrackerTask{}, err
	}
	var made *taskModel
	for i := range after {
		if !seen[after[i].TaskID] && after[i].name() == name {
			made = &after[i]
			break
		}
	}
	if made == nil {
		if createErr != nil {
			return connector.TrackerTask{}, createErr
		}
		return connector.TrackerTask{}, &connector.APIError{Service: service, Op: "POST /v1/task", Kind: connector.ErrTransient,
			Message: "TimeLog confirmed the task but does not list it yet"}
	}
	if createErr != nil {
		c.log.Info("timelog task create reply lost; found the task by re-listing", "task", int(made.TaskID))
	}
	if !c.cfg.RegistrationAllTasks {
		if err := c.allocate(ctx, int(made.TaskID)); err != nil {
			c.log.Warn("timelog allocation failed; retried on the first registration", "task", int(made.TaskID), "err", err)
		}
	}
	c.writeTaskKey(ctx, int(made.TaskID), sourceID)
	return connector.TrackerTask{ID: strconv.Itoa(int(made.TaskID)), ProjectID: t.ProjectID, Name: name, Active: true,
		Created: t.Created}, nil
}

// allocate adds the signed-in user to a task (POST /v1/allocation; repeats are no-ops).
func (c *Client) allocate(ctx context.Context, taskID int) error {
	uid, err := c.userID(ctx)
	if err != nil {
		return err
	}
	_, err = c.call(ctx, request{method: http.MethodPost, path: "/v1/allocation",
		body: map[string]int{"UserId": uid, "TaskId": taskID}, retry: true})
	return err
}

// UpdateTask is not possible through TimeLog REST (no task PUT, rename, move or
// status change): ErrUnsupported without a request. Rename, close or move the task
// in TimeLog by hand.
func (c *Client) UpdateTask(ctx context.Context, t connector.TrackerTask) error {
	return &connector.APIError{Service: service, Op: "UpdateTask", Kind: connector.ErrUnsupported,
		Message: fmt.Sprintf("TimeLog's API cannot rename, move, close or reopen tasks: change '%s' in TimeLog", t.Name)}
}

const naiveLayout = "2006-01-02T15:04:05"

// itemModel is TimeTrackingItemApiReadModel (get-by-date); it has no GUID.
type itemModel struct {
	TimeRegistrationID flexInt  `json:"TimeRegistrationID"`
	UserID             flexInt  `json:"UserID"`
	Date               string   `json:"Date"`
	Hours              float64  `json:"Hours"`
	Minutes            *flexInt `json:"Minutes"`
	Comment            string   `json:"Comment"`
	TaskID             flexInt  `json:"TaskID"`
	AbsenceCodeID      flexInt  `json:"AbsenceCodeID"`
	LastModified       string   `json:"LastModified"`
	InvoiceStatus      any      `json:"InvoiceStatus"`
	ApprovalStatus     flexInt  `json:"TimeRegistrationApprovalStatus"`
}

// day is the calendar date in Date (first 10 characters; never an instant).
func (m itemModel) day() (connector.Day, error) {
	if len(m.Date) < 10 {
		return connector.Day{}, fmt.Errorf("date %q", m.Date)
	}
	return connector.ParseDay(m.Date[:10])
}

// seconds converts decimal hours: round(Hours × 3600).
func seconds(hours float64) int64 { return int64(math.Round(hours * 3600)) }

// hours converts seconds to decimal hours at 4 decimal places.
func hours(sec int64) float64 { return math.Round(float64(sec)/3600*10000) / 10000 }

// items reads the user's rows over [from, to] (get-by-date, inclusive, all pages).
func (c *Client) items(ctx context.Context, from, to connector.Day) ([]itemModel, error) {
	return listAll[itemModel](ctx, c, "/v1/time-tracking-item/get-by-date", [][2]string{
		{"startDate", from.String() + "T00:00:00"}, {"endDate", to.String() + "T23:59:59"}})
}

// DayTotals sums the user's rows per task and day over span. Absence rows are left
// out, rows without a task count as Unassigned, and rows we wrote from Bitrix24
// (see IsOurGUID) are left out. Any failed page fails the whole read.
func (c *Client) DayTotals(ctx context.Context, span connector.DaySpan) (connector.DayTotals, error) {
	rows, err := c.items(ctx, span.From, span.To)
	if err != nil {
		return connector.DayTotals{}, err
	}
	type key struct {
		task string
		day  connector.Day
	}
	sums := map[key]int64{}
	var order []key
	var out connector.DayTotals
	for _, r := range rows {
		if r.AbsenceCodeID != 0 {
			continue
		}
		d, err := r.day()
		if err != nil {
			return connector.DayTotals{}, &connector.APIError{Service: service, Op: "get-by-date", Kind: connector.ErrTransient,
				Message: "row with a bad Date", Err: err}
		}
		if !span.Contains(d) {
			continue
		}
		ours, err := c.isOurs(ctx, int(r.TimeRegistrationID))
		if err != nil {
			return connector.DayTotals{}, err
		}
		if ours {
			continue
		}
		sec := seconds(r.Hours)
		if r.TaskID == 0 {
			out.Unassigned += sec
			continue
		}
		k := key{strconv.Itoa(int(r.TaskID)), d}
		if _, ok := sums[k]; !ok {
			order = append(order, k)
		}
		sums[k] += sec
	}
	for _, k := range order {
		out.Totals = append(out.Totals, connector.DayTotal{TaskID: k.task, Day: k.day, Seconds: sums[k]})
	}
	return out, nil
}

// isOurs reports whether the row with this id was written by us from Bitrix24.
func (c *Client) isOurs(ctx context.Context, id int) (bool, error) {
	c.mu.Lock()
	isOurID, ours := c.cfg.IsOurID, c.ours
	guid, known := c.guidOf[id]
	c.mu.Unlock()
	if isOurID != nil && isOurID(strconv.Itoa(id)) {
		return true, nil
	}
	if known {
		return c.guidIsOurs(guid), nil
	}
	if ours == nil {
		return false, nil
	}
	guid, err := c.guidOrUnknown(ctx, id)
	if err != nil {
		return false, err
	}
	return c.guidIsOurs(guid), nil
}

func (c *Client) guidIsOurs(guid string) bool {
	c.mu.Lock()
	wrote, ours := c.wrote[guid], c.ours
	c.mu.Unlock()
	return wrote || (ours != nil && guid != "" && ours(guid))
}
