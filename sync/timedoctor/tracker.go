package timedoctor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/timebridge/timebridge/sync/connector"
)

// capabilityPause is how long a 403 on create keeps the capability off.
const capabilityPause = 24 * time.Hour

// Name is "timedoctor".
func (c *Client) Name() string { return connector.TrackerTimeDoctor }

// Features reports what TD2 lets this user do: create (unless switched off or
// refused with 403 in the last 24 h), rename, move (read back), deactivate and
// reactivate (probed); TD2 tasks have no assignee.
func (c *Client) Features() connector.Features {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.cfg.Now()
	deact := c.cfg.Deactivation != "off" && !c.noDeactivate
	return connector.Features{
		CreateProject:  !c.cfg.NoCreateProject && !now.Before(c.noProjectTil),
		CreateTask:     !c.cfg.NoCreateTask && !now.Before(c.noTaskTil),
		RenameTask:     true,
		MoveTask:       !c.cfg.NoMove,
		DeactivateTask: deact,
		ReactivateTask: deact,
	}
}

// Me is the signed-in user (GET /authorization, cached).
func (c *Client) Me(ctx context.Context) (connector.User, error) {
	c.mu.Lock()
	me := c.me
	c.mu.Unlock()
	if me != nil {
		return *me, nil
	}
	a, err := c.authorization(ctx)
	if err != nil {
		return connector.User{}, err
	}
	u := connector.User{ID: string(a.ID), Name: string(a.Name), Email: string(a.Email), TimeZone: zoneOf(string(a.Timezone))}
	c.mu.Lock()
	if c.company == "" && len(a.Companies) == 1 {
		c.company = string(a.Companies[0].ID)
	}
	c.mu.Unlock()
	if u.TimeZone == "" {
		// The profile zone TD's dashboard splits days in (spec §6.5); best effort.
		var w wireUser
		err := c.get(ctx, "/api/1.0/users/"+url.PathEscape(u.ID), nil, &w)
		if errors.Is(err, connector.ErrUnauthorized) {
			return connector.User{}, err
		}
		if err == nil {
			u.TimeZone = zoneOf(cmpOr(string(w.Timezone), string(w.ProfileTimezone)))
		}
	}
	c.mu.Lock()
	c.me = &u
	c.mu.Unlock()
	return u, nil
}

// Users lists the company's active users. When TD refuses the list (regular
// users, some plans) it returns the signed-in user alone.
func (c *Client) Users(ctx context.Context) ([]connector.User, error) {
	me, err := c.Me(ctx)
	if err != nil {
		return nil, err
	}
	var out []connector.User
	err = c.list(ctx, "/api/1.0/users", url.Values{"detail": {"basic"}}, func(data json.RawMessage) (int, error) {
		var page []wireUser
		if err := json.Unmarshal(data, &page); err != nil {
			return 0, err
		}
		for _, u := range page {
			if u.archived() || u.ID == "" {
				continue
			}
			out = append(out, connector.User{ID: string(u.ID), Name: string(u.Name), Email: strings.TrimSpace(string(u.Email)),
				TimeZone: zoneOf(cmpOr(string(u.Timezone), string(u.ProfileTimezone)))})
		}
		return len(page), nil
	})
	if errors.Is(err, connector.ErrForbidden) {
		c.log.Info("no permission to look up users; matching the signed-in user only")
		return []connector.User{me}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list Time Doctor users: %w", err)
	}
	for _, u := range out {
		if u.ID == me.ID {
			return out, nil
		}
	}
	return append(out, me), nil
}

// UserByEmail finds an active user by email (filter[email], then an exact
// case-insensitive comparison, since TD's filter may match prefixes or nothing).
// None, several, or no permission → ErrNotFound / ErrForbidden with the reason.
func (c *Client) UserByEmail(ctx context.Context, email string) (connector.User, error) {
	want := strings.ToLower(strings.TrimSpace(email))
	var found []connector.User
	err := c.list(ctx, "/api/1.0/users", url.Values{"filter[email]": {want}, "detail": {"basic"}}, func(data json.RawMessage) (int, error) {
		var page []wireUser
		if err := json.Unmarshal(data, &page); err != nil {
			return 0, err
		}
		for _, u := range page {
			if strings.ToLower(strings.TrimSpace(string(u.Email))) == want && !u.archived() {
				found = append(found, connector.User{ID: string(u.ID), Name: string(u.Name), Email: string(u.Email),
					TimeZone: zoneOf(cmpOr(string(u.Timezone), string(u.ProfileTimezone)))})
			}
		}
		return len(page), nil
	})
	switch {
	case errors.Is(err, connector.ErrForbidden):
		return connector.User{}, fmt.Errorf("no permission to look up users: %w", err)
	case err != nil:
		return connector.User{}, err
	case len(found) == 1:
		return found[0], nil
	case len(found) > 1:
		return connector.User{}, fmt.Errorf("several Time Doctor users have the email %s: %w", email, connector.ErrNotFound)
	}
	return connector.User{}, fmt.Errorf("no active Time Doctor user has the email %s: %w", email, connector.ErrNotFound)
}

func (c *Client) projects(ctx context.Context, name string) ([]wireProject, error) {
	q := url.Values{"all": {"true"}, "show-integration": {"true"}, "allow-unassigned": {"true"}, "detail": {"basic"}}
	if c.cfg.ProjectNameFilter && name != "" {
		q.Set("filter[name]", name)
	}
	var out []wireProject
	err := c.list(ctx, "/api/1.0/projects", q, func(data json.RawMessage) (int, error) {
		var page []wireProject
		if err := json.Unmarshal(data, &page); err != nil {
			return 0, err
		}
		out = append(out, page...)
		return len(page), nil
	})
	return out, err
}

// FindProject returns the project with exactly this (trimmed) name, else the one
// whose name matches case-insensitively. Several → ErrAmbiguous (and ErrInvalid);
// archived projects never match.
func (c *Client) FindProject(ctx context.Context, name string) (connector.Project, error) {
	want := strings.TrimSpace(name)
	all, err := c.projects(ctx, want)
	if err != nil {
		return connector.Project{}, fmt.Errorf("find Time Doctor project %q: %w", want, err)
	}
	var exact, fold []wireProject
	archived := false
	for _, p := range all {
		have := strings.TrimSpace(string(p.Name))
		if !strings.EqualFold(have, want) {
			continue
		}
		if p.Deleted {
			archived = true
			continue
		}
		if have == want {
			exact = append(exact, p)
		}
		fold = append(fold, p)
	}
	return pickProject(want, exact, fold, archived, func(p wireProject) (string, string) { return string(p.ID), string(p.Name) })
}

// pickProject is the name match both editions share: the exact (trimmed) name,
// else the one case-insensitive match; several are ambiguous; an archived one
// never matches.
func pickProject[T any](want string, exact, fold []T, archived bool, idName func(T) (string, string)) (connector.Project, error) {
	pick := exact
	if len(pick) == 0 {
		pick = fold
	}
	switch {
	case len(pick) == 1:
		id, name := idName(pick[0])
		return connector.Project{ID: id, Name: name, Active: true}, nil
	case len(pick) > 1:
		return connector.Project{}, fmt.Errorf("project %q in Time Doctor: %w (%d of them); link one: %w", want, ErrAmbiguous, len(pick), connector.ErrInvalid)
	case archived:
		return connector.Project{}, fmt.Errorf("project %q is archived in Time Doctor: %w", want, connector.ErrNotFound)
	}
	return connector.Project{}, fmt.Errorf("no Time Doctor project named %q: %w", want, connector.ErrNotFound)
}

// CreateProject creates a project. A 403 is ErrForbidden with a message for the
// user and keeps the capability off for 24 h; a 409 or a lost reply is resolved
// by finding the project by name.
func (c *Client) CreateProject(ctx context.Context, name string) (connector.Project, error) {
	name = strings.TrimSpace(name)
	forbidden := &connector.APIError{Service: service, Op: "POST /api/1.0/projects", Status: http.StatusForbidden,
		Message: fmt.Sprintf("Time Doctor does not let you create projects — ask an admin to allow it or create '%s'", name),
		Kind:    connector.ErrForbidden}
	c.mu.Lock()
	off := c.cfg.NoCreateProject || c.cfg.Now().Before(c.noProjectTil)
	c.mu.Unlock()
	if off {
		return connector.Project{}, forbidden
	}
	env, err := c.call(ctx, request{method: http.MethodPost, path: "/api/1.0/projects",
		body: map[string]string{"name": name, "description": ""}})
	var ae *connector.APIError
	switch {
	case err == nil:
		var p wireProject
		if err := c.decode(env, "POST /api/1.0/projects", &p); err != nil || p.ID == "" {
			return c.FindProject(ctx, name)
		}
		return connector.Project{ID: string(p.ID), Name: name, Active: true}, nil
	case errors.Is(err, connector.ErrForbidden):
		c.mu.Lock()
		c.noProjectTil = c.cfg.Now().Add(capabilityPause)
		c.mu.Unlock()
		if errors.As(err, &ae) && ae.Code != "" {
			forbidden.Code = ae.Code
		}
		return connector.Project{}, forbidden
	case errors.As(err, &ae) && ae.Status == http.StatusConflict, connector.Retryable(err):
		if p, ferr := c.FindProject(ctx, name); ferr == nil {
			return p, nil
		}
	}
	return connector.Project{}, fmt.Errorf("create Time Doctor project %q: %w", name, err)
}

// tasks lists the company's tasks (those deleted tasks TD lists included).
func (c *Client) tasks(ctx context.Context, sourceID string) ([]wireTask, error) {
	q := url.Values{}
	if c.cfg.TaskNameFilter && sourceID != "" {
		q.Set("filter[name]", strings.TrimSpace(connector.TaskMarker(sourceID)))
	}
	var out []wireTask
	err := c.list(ctx, "/api/1.0/tasks", q, func(data json.RawMessage) (int, error) {
		var page []wireTask
		if err := json.Unmarshal(data, &page); err != nil {
			return 0, err
		}
		out = append(out, page...)
		return len(page), nil
	})
	return out, err
}

func trackerTask(t wireTask) connector.TrackerTask {
	return connector.TrackerTask{ID: string(t.ID), ProjectID: t.projectID(), Name: string(t.Name), Active: t.active()}
}

// FindTasks lists the tasks whose name ends with the marker of sourceID, smallest
// id first (TD ids grow with creation time; every client orders them the same).
func (c *Client) FindTasks(ctx context.Context, sourceID string) ([]connector.TrackerTask, error) {
	all, err := c.tasks(ctx, sourceID)
	if err != nil {
		return nil, fmt.Errorf("find Time Doctor tasks of Bitrix24 task %s: %w", sourceID, err)
	}
	seen := map[string]bool{}
	var out []connector.TrackerTask
	for _, t := range all {
		if id, ok := connector.ParseTaskMarker(string(t.Name)); ok && id == sourceID && !seen[string(t.ID)] {
			seen[string(t.ID)] = true
			out = append(out, trackerTask(t))
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// ListTasks implements connector.TaskLister: every task carrying a marker, in
// one listing, smallest id (oldest) first.
func (c *Client) ListTasks(ctx context.Context) ([]connector.TrackerTask, error) {
	all, err := c.tasks(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("list Time Doctor tasks: %w", err)
	}
	seen := map[string]bool{}
	var out []connector.TrackerTask
	for _, t := range all {
		if _, ok := connector.ParseTaskMarker(string(t.Name)); ok && !seen[string(t.ID)] {
			seen[string(t.ID)] = true
			out = append(out, trackerTask(t))
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

var _ connector.TaskLister = (*Client)(nil)

// taskName shortens the title (never the marker) to MaxTaskName runes.
func (c *Client) taskName(name string) (string, string, error) {
	return shortName(name, c.cfg.MaxTaskName)
}

// shortName checks the marker and shortens the title so the name fits in max runes.
func shortName(name string, max int) (string, string, error) {
	id, ok := connector.ParseTaskMarker(name)
	if !ok {
		return "", "", &connector.APIError{Service: service, Op: "task name", Message: fmt.Sprintf("%q has no Bitrix24 marker", name),
			Kind: connector.ErrInvalid}
	}
	if len([]rune(name)) <= max {
		return name, id, nil
	}
	title := strings.TrimSuffix(strings.TrimRight(name, " "), strings.TrimSpace(connector.TaskMarker(id)))
	return connector.TaskName(title, id, max), id, nil
}

// CreateTask creates a task in t.ProjectID. The name must carry the marker. A
// 403 is ErrForbidden and keeps the capability off for 24 h. A create whose
// reply was lost is looked up by marker: the newest task with this name in the
// project is returned instead of creating a second one.
func (c *Client) CreateTask(ctx context.Context, t connector.TrackerTask) (connector.TrackerTask, error) {
	name, sourceID, err := c.taskName(t.Name)
	if err != nil {
		return connector.TrackerTask{}, err
	}
	c.mu.Lock()
	off := c.cfg.NoCreateTask || c.cfg.Now().Before(c.noTaskTil)
	c.mu.Unlock()
	forbidden := &connector.APIError{Service: service, Op: "POST /api/1.0/tasks", Status: http.StatusForbidden,
		Message: fmt.Sprintf("Time Doctor does not let you create tasks in project %s — ask an admin to allow it or create %q", t.ProjectID, name),
		Kind:    connector.ErrForbidden}
	if off {
		return connector.TrackerTask{}, forbidden
	}
	desc := ""
	if c.cfg.TaskDescription != nil {
		desc = c.cfg.TaskDescription(sourceID)
	}
	env, err := c.call(ctx, request{method: http.MethodPost, path: "/api/1.0/tasks",
		body: taskWrite{Project: &taskProject{ID: t.ProjectID}, Name: name, Description: &desc}})
	switch {
	case err == nil:
		var w wireTask
		if derr := c.decode(env, "POST /api/1.0/tasks", &w); derr == nil && w.ID != "" {
			out := trackerTask(w)
			if out.ProjectID == "" {
				out.ProjectID = t.ProjectID
			}
			if out.Name == "" {
				out.Name = name
			}
			out.Active = true
			return out, nil
		}
		err = &connector.APIError{Service: service, Op: "POST /api/1.0/tasks", Status: http.StatusOK,
			Message: "the reply has no task id", Kind: connector.ErrTransient}
	case errors.Is(err, connector.ErrForbidden):
		c.mu.Lock()
		c.noTaskTil = c.cfg.Now().Add(capabilityPause)
		c.mu.Unlock()
		return connector.TrackerTask{}, forbidden
	}
	if connector.Retryable(err) {
		found, ferr := c.FindTasks(ctx, sourceID)
		if ferr == nil {
			for i := len(found) - 1; i >= 0; i-- {
				if found[i].ProjectID == t.ProjectID && found[i].Name == name {
					c.log.Info("create reply lost; found the task by its marker", "task", found[i].ID)
					return found[i], nil
				}
			}
		}
	}
	return connector.TrackerTask{}, fmt.Errorf("create Time Doctor task %q: %w", name, err)
}

func (c *Client) getTask(ctx context.Context, id string) (wireTask, error) {
	var w wireTask
	err := c.get(ctx, "/api/1.0/tasks/"+url.PathEscape(id), nil, &w)
	return w, err
}

func (c *Client) putTask(ctx context.Context, id string, body taskWrite) error {
	_, err := c.call(ctx, request{method: http.MethodPut, path: "/api/1.0/tasks/" + url.PathEscape(id), body: body, retry: true})
	return err
}

// UpdateTask renames, moves, deactivates or reactivates t as needed; members are
// ignored (TD2 tasks have no assignee). It reads the task first and reads every
// change back: a move TD ignored, or a deactivation no mechanism achieved, is
// ErrUnsupported.
func (c *Client) UpdateTask(ctx context.Context, t connector.TrackerTask) error {
	cur, err := c.getTask(ctx, t.ID)
	if err != nil {
		return fmt.Errorf("read Time Doctor task %s: %w", t.ID, err)
	}
	name := string(cur.Name)
	if t.Name != "" {
		if name, _, err = c.taskName(t.Name); err != nil {
			return err
		}
	}
	move := t.ProjectID != "" && t.ProjectID != cur.projectID()
	if move && c.cfg.NoMove {
		return &connector.APIError{Service: service, Op: "move task", Message: "moving tasks is switched off", Kind: connector.ErrUnsupported}
	}
	if move || name != string(cur.Name) {
		desc := string(cur.Description)
		pid := cur.projectID()
		if move {
			pid = t.ProjectID
		}
		if err := c.putTask(ctx, t.ID, taskWrite{Project: &taskProject{ID: pid}, Name: name, Description: &desc}); err != nil {
			return fmt.Errorf("update Time Doctor task %s: %w", t.ID, err)
		}
		if move {
			if cur, err = c.getTask(ctx, t.ID); err != nil {
				return fmt.Errorf("read back Time Doctor task %s: %w", t.ID, err)
			}
			if cur.projectID() != t.ProjectID {
				return &connector.APIError{Service: service, Op: "move task", Kind: connector.ErrUnsupported,
					Message: fmt.Sprintf("Time Doctor did not move task %s to project %s; create it anew", t.ID, t.ProjectID)}
			}
		} else {
			cur.Name = flexString(name)
		}
	}
	if t.Active == cur.active() {
		return nil
	}
	if !c.Features().DeactivateTask {
		return &connector.APIError{Service: service, Op: "deactivate task", Kind: connector.ErrUnsupported,
			Message: fmt.Sprintf("close '%s' in Time Doctor", name)}
	}
	if t.Active {
		return c.reactivate(ctx, t.ID, cur, name)
	}
	return c.deactivate(ctx, t.ID, cur, name)
}

// toggle sends the DELETE toggle (never retried) and reads the task back.
func (c *Client) toggle(ctx context.Context, id string) (wireTask, error) {
	_, err := c.call(ctx, request{method: http.MethodDelete, path: "/api/1.0/tasks/" + url.PathEscape(id)})
	if err != nil && !connector.Retryable(err) {
		return wireTask{}, err
	}
	return c.getTask(ctx, id) // a lost reply: the read tells what happened
}

func (c *Client) setStatus(ctx context.Context, id string, cur wireTask, status string) (wireTask, error) {
	desc := string(cur.Description)
	if err := c.putTask(ctx, id, taskWrite{Project: &taskProject{ID: cur.projectID()}, Name: string(cur.Name),
		Description: &desc, Status: status}); err != nil {
		return wireTask{}, err
	}
	return c.getTask(ctx, id)
}

func (c *Client) deactivate(ctx context.Context, id string, cur wireTask, name string) error {
	var err error
	mode := c.cfg.Deactivation
	if (mode == "auto" || mode == "delete") && !cur.Deleted {
		if cur, err = c.toggle(ctx, id); err != nil {
			return fmt.Errorf("archive Time Doctor task %s: %w", id, err)
		}
	}
	if !cur.active() {
		return nil
	}
	if mode == "auto" || mode == "status" {
		if cur, err = c.setStatus(ctx, id, cur, "closed"); err != nil {
			return fmt.Errorf("close Time Doctor task %s: %w", id, err)
		}
	}
	if !cur.active() {
		return nil
	}
	c.mu.Lock()
	c.noDeactivate = true
	c.mu.Unlock()
	return &connector.APIError{Service: service, Op: "deactivate task", Kind: connector.ErrUnsupported,
		Message: fmt.Sprintf("Time Doctor kept the task active: close '%s' in Time Doctor", name)}
}

func (c *Client) reactivate(ctx context.Context, id string, cur wireTask, name string) error {
	var err error
	if cur.Deleted {
		f := false
		desc := string(cur.Description)
		if err = c.putTask(ctx, id, taskWrite{Project: &taskProject{ID: cur.projectID()}, Name: string(cur.Name),
			Description: &desc, Deleted: &f}); err != nil {
			return fmt.Errorf("restore Time Doctor task %s: %w", id, err)
		}
		if cur, err = c.getTask(ctx, id); err != nil {
			return fmt.Errorf("read back Time Doctor task %s: %w", id, err)
		}
		if cur.Deleted {
			if cur, err = c.toggle(ctx, id); err != nil {
				return fmt.Errorf("restore Time Doctor task %s: %w", id, err)
			}
		}
	}
	if !bool(cur.Deleted) && cur.closed() {
		if cur, err = c.setStatus(ctx, id, cur, "open"); err != nil {
			return fmt.Errorf("reopen Time Doctor task %s: %w", id, err)
		}
	}
	if cur.active() {
		return nil
	}
	return &connector.APIError{Service: service, Op: "reactivate task", Kind: connector.ErrUnsupported,
		Message: fmt.Sprintf("Time Doctor kept the task closed: reopen '%s' in Time Doctor", name)}
}
