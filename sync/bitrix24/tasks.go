package bitrix24

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/timebridge/timebridge/sync/connector"
)

var _ connector.TaskSource = (*Client)(nil)

// pageSize is Bitrix24's fixed page (spec §2.4); also the batch and ID-list limit.
const pageSize = 50

// taskSelect is what the engine needs from tasks.task.* (UPPER_SNAKE in, camelCase out).
var taskSelect = []string{"ID", "TITLE", "STATUS", "GROUP_ID", "RESPONSIBLE_ID", "ACCOMPLICES",
	"CREATED_DATE", "CHANGED_DATE", "CLOSED_DATE", "DEADLINE"}

// FlexList is a JSON list that may arrive as an object keyed by index or id.
type FlexList []FlexString

// UnmarshalJSON implements json.Unmarshaler.
func (f *FlexList) UnmarshalJSON(b []byte) error {
	var list []FlexString
	if err := json.Unmarshal(b, &list); err == nil {
		*f = list
		return nil
	}
	var m FlexMap[FlexString]
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	*f = nil
	for _, k := range keys {
		*f = append(*f, m[k])
	}
	return nil
}

type wireGroup struct {
	ID   FlexString `json:"id"`
	Name string     `json:"name"`
}

type wireTask struct {
	ID            FlexString         `json:"id"`
	Title         string             `json:"title"`
	Status        FlexInt            `json:"status"`
	GroupID       FlexString         `json:"groupId"`
	Group         FlexObj[wireGroup] `json:"group"`
	ResponsibleID FlexString         `json:"responsibleId"`
	Accomplices   FlexList           `json:"accomplices"`
	CreatedDate   FlexTime           `json:"createdDate"`
	ChangedDate   FlexTime           `json:"changedDate"`
	Deadline      FlexTime           `json:"deadline"`
}

func (w wireTask) task() connector.Task {
	t := connector.Task{ID: string(w.ID), Title: w.Title, GroupID: string(w.GroupID), ResponsibleID: string(w.ResponsibleID),
		Status: int(w.Status), Created: w.CreatedDate.Time, Changed: w.ChangedDate.Time, Deadline: w.Deadline.Time}
	if t.GroupID == "" && w.Group.Set {
		t.GroupID = string(w.Group.V.ID)
	}
	for _, a := range w.Accomplices {
		if a != "" {
			t.Accomplices = append(t.Accomplices, string(a))
		}
	}
	switch t.Status {
	case 4, 5, 7: // supposedly completed, completed, declined (spec §3.5)
		t.Completed = true
	}
	return t
}

type taskList struct {
	Tasks []wireTask `json:"tasks"`
}

func (c *Client) rememberGroups(ts []wireTask) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range ts {
		if t.Group.Set && t.Group.V.ID != "" && t.Group.V.Name != "" {
			c.groups[string(t.Group.V.ID)] = t.Group.V.Name
		}
	}
}

func idNum(id string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(id), 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("bitrix24: bad id %q", id)
	}
	return n, nil
}

type wireUser struct {
	ID       FlexString `json:"ID"`
	Name     string     `json:"NAME"`
	LastName string     `json:"LAST_NAME"`
	Email    *string    `json:"EMAIL"`
	TimeZone string     `json:"TIME_ZONE"`
}

func (w wireUser) user() connector.User {
	u := connector.User{ID: string(w.ID), Name: strings.TrimSpace(w.Name + " " + w.LastName), TimeZone: w.TimeZone}
	if w.Email != nil {
		u.Email = *w.Email
	}
	return u
}

// Me is the signed-in user (user.current). Without EMAIL the app lacks the
// user_basic scope, which matching by e-mail needs.
func (c *Client) Me(ctx context.Context) (connector.User, error) {
	env, err := c.call(ctx, "user.current", struct{}{}, callOpts{})
	if err != nil {
		return connector.User{}, err
	}
	var w wireUser
	if err := decode("user.current", env.Result, &w); err != nil {
		return connector.User{}, err
	}
	if w.ID == "" {
		return connector.User{}, &connector.APIError{Service: service, Op: "user.current", Message: "reply without ID", Kind: connector.ErrTransient}
	}
	if w.Email == nil {
		return connector.User{}, &connector.APIError{Service: service, Op: "user.current", Code: "insufficient_scope",
			Message: "no EMAIL in the reply: the app or webhook needs the user_basic scope", Kind: connector.ErrForbidden}
	}
	c.mu.Lock()
	hookUID := c.hookUID
	c.mu.Unlock()
	if hookUID != "" && hookUID != string(w.ID) {
		return connector.User{}, &connector.APIError{Service: service, Op: "user.current",
			Message: fmt.Sprintf("the webhook URL names user %s but belongs to user %s", hookUID, w.ID), Kind: connector.ErrUnauthorized}
	}
	return w.user(), nil
}

// ServerTime is the portal's clock with its offset (server.time).
func (c *Client) ServerTime(ctx context.Context) (time.Time, error) {
	env, err := c.call(ctx, "server.time", struct{}{}, callOpts{})
	if err != nil {
		return time.Time{}, err
	}
	var s string
	if err := decode("server.time", env.Result, &s); err != nil {
		return time.Time{}, err
	}
	return parseTime(s)
}

// Users returns the users with these ids (a batch of user.get?ID=…).
func (c *Client) Users(ctx context.Context, ids []string) ([]connector.User, error) {
	var cmds []batchCmd
	for _, id := range uniq(ids) {
		if _, err := idNum(id); err != nil {
			continue
		}
		cmds = append(cmds, batchCmd{Key: "u" + id, Cmd: "user.get?" + (&phpQuery{}).add("ID", id).String()})
	}
	res, err := c.batch(ctx, cmds, false)
	if err != nil {
		return nil, err
	}
	var out []connector.User
	for _, cmd := range cmds {
		r := res[cmd.Key]
		if r.Err != nil {
			return nil, r.Err
		}
		var ws []wireUser
		if err := decode("user.get", r.Result, &ws); err != nil {
			return nil, err
		}
		for _, w := range ws {
			out = append(out, w.user())
		}
	}
	return out, nil
}

// Groups returns the groups with these ids (sonet_group.get). Without the
// sonet_group scope it answers from the group names seen in task replies.
func (c *Client) Groups(ctx context.Context, ids []string) ([]connector.Group, error) {
	ids = uniq(ids)
	var out []connector.Group
	for chunk := range slices.Chunk(ids, pageSize) {
		var nums []int64
		for _, id := range chunk {
			if n, err := idNum(id); err == nil {
				nums = append(nums, n)
			}
		}
		if len(nums) == 0 {
			continue
		}
		env, err := c.call(ctx, "sonet_group.get", map[string]any{"FILTER": map[string]any{"ID": nums}, "ORDER": map[string]string{"ID": "ASC"}}, callOpts{})
		if errors.Is(err, connector.ErrForbidden) || errors.Is(err, connector.ErrUnsupported) {
			return c.cachedGroups(ids), nil
		}
		if err != nil {
			return nil, err
		}
		var gs []struct {
			ID   FlexString `json:"ID"`
			Name string     `json:"NAME"`
		}
		if err := decode("sonet_group.get", env.Result, &gs); err != nil {
			return nil, err
		}
		for _, g := range gs {
			out = append(out, connector.Group{ID: string(g.ID), Name: g.Name})
		}
	}
	return out, nil
}

func (c *Client) cachedGroups(ids []string) []connector.Group {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []connector.Group
	for _, id := range ids {
		if n, ok := c.groups[id]; ok {
			out = append(out, connector.Group{ID: id, Name: n})
		}
	}
	return out
}

// listTasks walks tasks.task.list with the >ID cursor (start=-1, ID asc) until
// a short page. first receives the server clock of the first reply.
func (c *Client) listTasks(ctx context.Context, filter map[string]any, first *time.Time) ([]wireTask, error) {
	var out []wireTask
	last := int64(0)
	for {
		f := make(map[string]any, len(filter)+1)
		for k, v := range filter {
			f[k] = v
		}
		if last > 0 {
			f[">ID"] = last
		}
		env, err := c.call(ctx, "tasks.task.list", map[string]any{"filter": f, "select": taskSelect,
			"order": map[string]string{"ID": "asc"}, "start": -1}, callOpts{})
		if err != nil {
			return nil, err
		}
		if first != nil && first.IsZero() {
			*first = env.ServerTime()
		}
		var page taskList
		if err := decode("tasks.task.list", env.Result, &page); err != nil {
			return nil, err
		}
		c.rememberGroups(page.Tasks)
		out = append(out, page.Tasks...)
		for _, t := range page.Tasks {
			if n, err := idNum(string(t.ID)); err == nil && n > last {
				last = n
			}
		}
		if len(page.Tasks) < pageSize {
			return out, nil
		}
	}
}

// ChangeOverlap is subtracted from the cursor: clocks and commits are not exact.
const ChangeOverlap = 5 * time.Minute

// ChangedTasks lists the user's tasks (responsible or accomplice) changed at or
// after since − 5 min. The cursor is the portal's clock at the first reply.
func (c *Client) ChangedTasks(ctx context.Context, userID string, since time.Time) (connector.Changes, error) {
	uid, err := idNum(userID)
	if err != nil {
		return connector.Changes{}, err
	}
	base := map[string]any{}
	if !since.IsZero() {
		base[">=CHANGED_DATE"] = since.Add(-ChangeOverlap).Format(isoLayout)
	}
	var cursor time.Time
	var rows []wireTask
	c.mu.Lock()
	noSub := c.noSub
	c.mu.Unlock()
	if !noSub {
		f := clone(base)
		f["::SUBFILTER-ROLE"] = map[string]any{"::LOGIC": "OR", "RESPONSIBLE_ID": uid, "ACCOMPLICE": uid}
		rows, err = c.listTasks(ctx, f, &cursor)
		if errors.Is(err, connector.ErrInvalid) {
			c.log.Info("bitrix24 portal rejects ::SUBFILTER role filters; using two calls")
			c.mu.Lock()
			c.noSub = true
			c.mu.Unlock()
			noSub = true
		} else if err != nil {
			return connector.Changes{}, err
		}
	}
	if noSub {
		rows = nil
		for _, role := range []string{"RESPONSIBLE_ID", "ACCOMPLICE"} {
			f := clone(base)
			f[role] = uid
			r, err := c.listTasks(ctx, f, &cursor)
			if err != nil {
				return connector.Changes{}, err
			}
			rows = append(rows, r...)
		}
	}
	if cursor.IsZero() {
		cursor = c.now()
	}
	seen := map[string]bool{}
	var out []connector.Task
	for _, w := range rows {
		t := w.task()
		if seen[t.ID] || !t.HasMember(userID) { // post-filter: the role filter may be over-broad
			continue
		}
		seen[t.ID] = true
		out = append(out, t)
	}
	sortTasks(out)
	return connector.Changes{Tasks: out, Cursor: cursor}, nil
}

func sortTasks(ts []connector.Task) {
	slices.SortFunc(ts, func(a, b connector.Task) int {
		x, _ := strconv.ParseInt(a.ID, 10, 64)
		y, _ := strconv.ParseInt(b.ID, 10, 64)
		return int(x - y)
	})
}

func clone(m map[string]any) map[string]any {
	out := make(map[string]any, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// TasksByID returns the tasks among ids the user can still see: a batch of
// tasks.task.list with ID lists of ≤ 50 (2,500 ids per request), no role filter.
func (c *Client) TasksByID(ctx context.Context, ids []string) ([]connector.Task, error) {
	var cmds []batchCmd
	for chunk := range slices.Chunk(uniq(ids), pageSize) {
		q := &phpQuery{}
		for _, id := range chunk {
			if _, err := idNum(id); err == nil {
				q.add("filter[ID][]", id)
			}
		}
		if len(q.pairs) == 0 {
			continue
		}
		for _, s := range taskSelect {
			q.add("select[]", s)
		}
		q.add("order[ID]", "asc").add("start", "-1")
		cmds = append(cmds, batchCmd{Key: fmt.Sprintf("t%d", len(cmds)), Cmd: "tasks.task.list?" + q.String()})
	}
	res, err := c.batch(ctx, cmds, false)
	if err != nil {
		return nil, err
	}
	var out []connector.Task
	for _, cmd := range cmds {
		r := res[cmd.Key]
		if r.Err != nil {
			return nil, r.Err
		}
		var page taskList
		if err := decode("tasks.task.list", r.Result, &page); err != nil {
			return nil, err
		}
		c.rememberGroups(page.Tasks)
		for _, w := range page.Tasks {
			out = append(out, w.task())
		}
	}
	sortTasks(out)
	return out, nil
}

// Task reads one task (tasks.task.get); a deleted or inaccessible task
// (`{"result":[]}`) is ErrNotFound. canLog is action["elapsedtime.add"].
func (c *Client) Task(ctx context.Context, id string) (t connector.Task, canLog bool, err error) {
	n, err := idNum(id)
	if err != nil {
		return connector.Task{}, false, err
	}
	env, err := c.call(ctx, "tasks.task.get", map[string]any{"taskId": n, "select": taskSelect}, callOpts{})
	if err != nil {
		return connector.Task{}, false, err
	}
	var r FlexObj[struct {
		Task struct {
			wireTask
			Action FlexMap[FlexBool] `json:"action"`
		} `json:"task"`
	}]
	if err := decode("tasks.task.get", env.Result, &r); err != nil {
		return connector.Task{}, false, err
	}
	if !r.Set || r.V.Task.ID == "" {
		return connector.Task{}, false, &connector.APIError{Service: service, Op: "tasks.task.get", Message: "task " + id + " is deleted or out of reach", Kind: connector.ErrNotFound}
	}
	return r.V.Task.task(), bool(r.V.Task.Action["elapsedtime.add"]), nil
}

func uniq(ids []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, id := range ids {
		id = strings.TrimSpace(id)
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// phpQuery builds a query string with PHP keys (filter[ID][]=1), in order.
type phpQuery struct{ pairs [][2]string }

func (q *phpQuery) add(k, v string) *phpQuery {
	q.pairs = append(q.pairs, [2]string{k, v})
	return q
}

func (q *phpQuery) String() string {
	var b strings.Builder
	for i, p := range q.pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(p[0]))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(p[1]))
	}
	return b.String()
}
