package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/timebridge/timebridge/sync/connector"
	"github.com/timebridge/timebridge/sync/store"
)

// mirror keeps one tracker's tasks in step with Bitrix24 (design §2 rows 1–5).
type mirror struct {
	e  *Engine
	cs *cycleState
	tr connector.Tracker
}

func (m *mirror) key(sourceID string) string { return m.tr.Name() + "/" + sourceID }

func (m *mirror) link(sourceID string) (taskLink, bool, error) {
	var l taskLink
	ok, err := m.e.store.Get(store.BucketTasks, m.key(sourceID), &l)
	return l, ok, err
}

func (m *mirror) saveLink(l taskLink) error {
	if err := m.e.store.Put(store.BucketTasks, m.key(l.SourceID), l); err != nil {
		return fmt.Errorf("save link of task %s: %w", l.SourceID, err)
	}
	return nil
}

// task brings the tracker task of t in step: project, name, people, active.
// Item failures are parked and return nil; only failures that stop the whole
// tracker (sign-in, rate limit, network) are returned.
func (m *mirror) task(ctx context.Context, t connector.Task) error {
	pkey := parkKey("task", m.tr.Name(), t.ID)
	if m.e.parkedNotDue(pkey, m.cs.now) && !m.e.changedSinceParked(pkey, t.Changed) {
		return nil
	}
	if !m.cs.recheck && !m.e.isParked(pkey) {
		// The poll overlaps the previous one: skip what we already mirrored, so a
		// quiet cycle spends no request on it.
		if l, ok, err := m.link(t.ID); err == nil && ok && !l.Gone && l.TrackerTaskID != "" && l.Changed.Equal(t.Changed) {
			return nil
		}
	}
	err := m.mirrorTask(ctx, t)
	return m.e.settle(pkey, "task", m.tr.Name(), t.ID, fmt.Sprintf("task %s %q", t.ID, t.Title), err, m.cs.now)
}

func (m *mirror) mirrorTask(ctx context.Context, t connector.Task) error {
	project, err := m.project(ctx, t)
	if err != nil {
		return err
	}
	name := connector.TaskName(t.Title, t.ID, m.e.cfg.TaskNameMax)
	members, err := m.members(ctx, t)
	if err != nil {
		return err
	}
	l, ok, err := m.link(t.ID)
	if err != nil {
		return err
	}
	if ok && l.TrackerTaskID != "" && m.cs.recheck {
		if l, err = m.converge(ctx, l); err != nil {
			return err
		}
	}
	if !ok || l.TrackerTaskID == "" {
		superseded := l.Superseded
		l, err = m.findOrCreate(ctx, t, project, name, members)
		if err != nil {
			return err
		}
		l.Superseded = uniq(append(l.Superseded, superseded...))
	}
	l.Title = t.Title
	l.Gone = false
	l.Changed = t.Changed

	// Move: the task changed group.
	if l.ProjectID != project.ID {
		if l, err = m.move(ctx, l, t, project, name, members); err != nil {
			return err
		}
	}
	want := connector.TrackerTask{ID: l.TrackerTaskID, ProjectID: l.ProjectID, Name: l.Name, Active: l.Active, Members: l.Members}
	f := m.tr.Features()
	var changes []string
	if l.Name != name {
		if f.RenameTask {
			want.Name = name
			changes = append(changes, "renamed")
		} else {
			m.e.journal(m.tr.Name(), m.taskObj(l), "title changed in Bitrix24 (the tracker cannot rename)", l.Name, name)
			l.Name = name
		}
	}
	if f.AssignPeople && !sameSet(l.Members, members) {
		want.Members = members
		changes = append(changes, "people")
	}
	wantActive := !t.Completed
	if l.Active != wantActive {
		if (wantActive && !f.ReactivateTask) || (!wantActive && !f.DeactivateTask) {
			if err := m.saveLink(l); err != nil {
				return err
			}
			return unsupportedActive(m.tr.Name(), t, wantActive)
		}
		want.Active = wantActive
		if wantActive {
			changes = append(changes, "reactivated")
		} else {
			changes = append(changes, "deactivated")
		}
	}
	if len(changes) == 0 {
		return m.saveLink(l)
	}
	if err := m.tr.UpdateTask(ctx, want); err != nil {
		return fmt.Errorf("update %s task %s: %w", m.tr.Name(), l.TrackerTaskID, err)
	}
	for _, c := range changes {
		switch c {
		case "renamed":
			m.cs.rep.Updated++
			m.e.journal(m.tr.Name(), m.taskObj(l), "renamed", l.Name, want.Name)
		case "people":
			m.cs.rep.Updated++
			m.e.journal(m.tr.Name(), m.taskObj(l), "people changed", strings.Join(l.Members, ","), strings.Join(want.Members, ","))
		case "reactivated":
			m.cs.rep.Reactivated++
			m.e.journal(m.tr.Name(), m.taskObj(l), "reactivated", "inactive", "active")
		case "deactivated":
			m.cs.rep.Deactivated++
			m.e.journal(m.tr.Name(), m.taskObj(l), "deactivated (completed in Bitrix24)", "active", "inactive")
		}
	}
	l.Name, l.Members, l.Active = want.Name, want.Members, want.Active
	return m.saveLink(l)
}

func unsupportedActive(tracker string, t connector.Task, active bool) error {
	verb := "close"
	if active {
		verb = "reopen"
	}
	return fmt.Errorf("%s cannot %s tasks through its API — %s %q in %s by hand: %w",
		trackerTitle(tracker), verb, verb, t.Title, trackerTitle(tracker), connector.ErrUnsupported)
}

func (m *mirror) taskObj(l taskLink) string {
	return fmt.Sprintf("task %s (Bitrix24 %s)", l.TrackerTaskID, l.SourceID)
}

// findOrCreate links t to a tracker task: by marker first (another employee's app,
// or our own lost reply, may have made it), else a new one.
func (m *mirror) findOrCreate(ctx context.Context, t connector.Task, p connector.Project, name string, members []string) (taskLink, error) {
	found, err := m.findTasks(ctx, t.ID)
	if err != nil {
		return taskLink{}, fmt.Errorf("find %s task of Bitrix24 task %s: %w", m.tr.Name(), t.ID, err)
	}
	if len(found) > 0 {
		keep := found[0] // oldest wins; the rest were a race
		l := taskLink{SourceID: t.ID, TrackerTaskID: keep.ID, ProjectID: keep.ProjectID, Name: keep.Name,
			Active: keep.Active, Members: keep.Members}
		for _, dup := range found[1:] {
			l.Superseded = append(l.Superseded, dup.ID)
			if err := m.retire(ctx, dup, "duplicate of "+keep.ID); err != nil {
				return taskLink{}, err
			}
		}
		return l, m.saveLink(l)
	}
	if !m.tr.Features().CreateTask {
		return taskLink{}, fmt.Errorf("%s does not let timebridge create tasks — create %q there: %w",
			trackerTitle(m.tr.Name()), name, connector.ErrUnsupported)
	}
	created, err := m.tr.CreateTask(ctx, connector.TrackerTask{ProjectID: p.ID, Name: name, Active: true, Members: members})
	m.changed(t.ID, created, err)
	if err != nil {
		return taskLink{}, fmt.Errorf("create %s task %q: %w", m.tr.Name(), name, err)
	}
	m.cs.rep.Created++
	m.e.journal(m.tr.Name(), fmt.Sprintf("task %s (Bitrix24 %s)", created.ID, t.ID), "created", "", name+" in "+p.Name)
	l := taskLink{SourceID: t.ID, TrackerTaskID: created.ID, ProjectID: p.ID, Name: created.Name, Active: true, Members: members}
	if created.Name == "" {
		l.Name = name
	}
	return l, m.saveLink(l)
}

// converge makes the link follow the oldest tracker task with the marker: when two
// employees' apps created one each at the same moment, both end up on the oldest
// and the other is deactivated (its time still maps to the Bitrix24 task).
func (m *mirror) converge(ctx context.Context, l taskLink) (taskLink, error) {
	found, err := m.findTasks(ctx, l.SourceID)
	if err != nil {
		return l, fmt.Errorf("find %s tasks of Bitrix24 task %s: %w", m.tr.Name(), l.SourceID, err)
	}
	// Only tasks in the linked project count: after a move on a tracker that cannot
	// move tasks, the old task in the old project keeps the marker on purpose.
	found = slices.DeleteFunc(found, func(t connector.TrackerTask) bool { return t.ProjectID != l.ProjectID })
	if len(found) == 0 && !l.Active {
		// Trackers may hide deactivated (archived) tasks from lists: keep the link.
		return l, nil
	}
	if len(found) == 0 {
		// Our task vanished from the tracker (deleted by hand): make it again.
		l.TrackerTaskID = ""
		return l, m.saveLink(l)
	}
	keep := found[0]
	if keep.ID != l.TrackerTaskID {
		m.e.journal(m.tr.Name(), m.taskObj(l), "converged on the oldest task "+keep.ID, l.TrackerTaskID, keep.ID)
		l.Superseded = uniq(append(l.Superseded, l.TrackerTaskID))
		l.TrackerTaskID, l.ProjectID, l.Name, l.Active, l.Members = keep.ID, keep.ProjectID, keep.Name, keep.Active, keep.Members
	}
	for _, dup := range found[1:] {
		if !slices.Contains(l.Superseded, dup.ID) {
			l.Superseded = append(l.Superseded, dup.ID)
		}
		if err := m.retire(ctx, dup, "duplicate of "+keep.ID); err != nil {
			return l, err
		}
	}
	return l, m.saveLink(l)
}

// retire deactivates a superseded tracker task when the tracker allows it.
func (m *mirror) retire(ctx context.Context, t connector.TrackerTask, why string) error {
	if !t.Active {
		return nil
	}
	if !m.tr.Features().DeactivateTask {
		m.e.journal(m.tr.Name(), "task "+t.ID, "left active ("+why+"; the tracker cannot deactivate)", "", "")
		return nil
	}
	t.Active = false
	if err := m.tr.UpdateTask(ctx, t); err != nil {
		return fmt.Errorf("deactivate %s task %s (%s): %w", m.tr.Name(), t.ID, why, err)
	}
	m.cs.rep.Deactivated++
	m.e.journal(m.tr.Name(), "task "+t.ID, "deactivated ("+why+")", "active", "inactive")
	return nil
}

// move puts the task into project p: in place when the tracker can move tasks, else
// as a new task there, the old one superseded (its time still maps to the task).
func (m *mirror) move(ctx context.Context, l taskLink, t connector.Task, p connector.Project, name string, members []string) (taskLink, error) {
	if m.tr.Features().MoveTask {
		upd := connector.TrackerTask{ID: l.TrackerTaskID, ProjectID: p.ID, Name: l.Name, Active: l.Active, Members: l.Members}
		if err := m.tr.UpdateTask(ctx, upd); err != nil {
			return l, fmt.Errorf("move %s task %s: %w", m.tr.Name(), l.TrackerTaskID, err)
		}
		m.cs.rep.Moved++
		m.e.journal(m.tr.Name(), m.taskObj(l), "moved", l.ProjectID, p.Name)
		l.ProjectID = p.ID
		return l, m.saveLink(l)
	}
	// Find one already made in the target project (by us before a crash, or by a colleague).
	found, err := m.findTasks(ctx, t.ID)
	if err != nil {
		return l, fmt.Errorf("find %s task of Bitrix24 task %s: %w", m.tr.Name(), t.ID, err)
	}
	var target *connector.TrackerTask
	for i := range found {
		if found[i].ProjectID == p.ID {
			target = &found[i]
			break
		}
	}
	if target == nil {
		if !m.tr.Features().CreateTask {
			return l, fmt.Errorf("%s cannot move tasks or create them — move %q to %q by hand: %w",
				trackerTitle(m.tr.Name()), name, p.Name, connector.ErrUnsupported)
		}
		created, err := m.tr.CreateTask(ctx, connector.TrackerTask{ProjectID: p.ID, Name: name, Active: true, Members: members})
		m.changed(t.ID, created, err)
		if err != nil {
			return l, fmt.Errorf("recreate %s task %q in %s: %w", m.tr.Name(), name, p.Name, err)
		}
		target = &created
		m.cs.rep.Created++
	}
	old := l.TrackerTaskID
	l.Superseded = uniq(append(l.Superseded, old))
	l.Superseded = slices.DeleteFunc(l.Superseded, func(id string) bool { return id == target.ID })
	l.TrackerTaskID, l.ProjectID, l.Name, l.Active, l.Members = target.ID, p.ID, name, true, members
	if target.Name != "" {
		l.Name = target.Name
	}
	if err := m.saveLink(l); err != nil {
		return l, err
	}
	m.cs.rep.Moved++
	m.e.journal(m.tr.Name(), m.taskObj(l), "moved (recreated in the new project)", old, target.ID+" in "+p.Name)
	oldTask := connector.TrackerTask{ID: old, Active: true}
	for _, f := range found {
		if f.ID == old {
			oldTask = f
		}
	}
	return l, m.retire(ctx, oldTask, "moved to "+p.Name)
}

// gone deactivates the tracker task of a Bitrix24 task that was deleted or that
// the user lost (design §2 row 5).
func (m *mirror) gone(ctx context.Context, sourceID string) error {
	l, ok, err := m.link(sourceID)
	if err != nil || !ok || l.Gone {
		return err
	}
	l.Gone = true
	if l.Active && l.TrackerTaskID != "" {
		if !m.tr.Features().DeactivateTask {
			m.e.journal(m.tr.Name(), m.taskObj(l), "deleted in Bitrix24 (the tracker cannot deactivate: close it by hand)", "", "")
		} else {
			t := connector.TrackerTask{ID: l.TrackerTaskID, ProjectID: l.ProjectID, Name: l.Name, Active: false, Members: l.Members}
			err := m.tr.UpdateTask(ctx, t)
			if err != nil && !errors.Is(err, connector.ErrNotFound) {
				if connector.Retryable(err) || errors.Is(err, connector.ErrUnauthorized) {
					return fmt.Errorf("deactivate %s task %s: %w", m.tr.Name(), l.TrackerTaskID, err)
				}
				return m.e.settle(parkKey("task", m.tr.Name(), sourceID), "task", m.tr.Name(), sourceID,
					fmt.Sprintf("task %s %q", sourceID, l.Title), err, m.cs.now)
			}
			l.Active = false
			m.cs.rep.Deactivated++
			m.e.journal(m.tr.Name(), m.taskObj(l), "deactivated (deleted or no longer yours in Bitrix24)", "active", "inactive")
		}
	}
	return m.saveLink(l)
}

// project finds (or creates, where allowed) the tracker project for t's group.
func (m *mirror) project(ctx context.Context, t connector.Task) (connector.Project, error) {
	name := m.e.cfg.DefaultProject
	if t.GroupID != "" && t.GroupID != "0" {
		gname, err := m.groupName(ctx, t.GroupID)
		if err != nil {
			return connector.Project{}, err
		}
		name = gname
	}
	key := m.tr.Name() + "/" + name
	var pl projectLink
	if ok, err := m.e.store.Get(store.BucketProjects, key, &pl); err != nil {
		return connector.Project{}, err
	} else if ok {
		return connector.Project{ID: pl.ProjectID, Name: name, Active: true}, nil
	}
	p, err := m.tr.FindProject(ctx, name)
	if errors.Is(err, connector.ErrNotFound) {
		if !m.tr.Features().CreateProject {
			return connector.Project{}, fmt.Errorf("%s has no project %q and timebridge cannot create one there — create it, or link one: %w",
				trackerTitle(m.tr.Name()), name, connector.ErrUnsupported)
		}
		p, err = m.tr.CreateProject(ctx, name)
		if errors.Is(err, connector.ErrForbidden) {
			return connector.Project{}, fmt.Errorf("%s does not let you create projects — ask an admin to allow it or create %q: %w",
				trackerTitle(m.tr.Name()), name, err)
		}
		if err == nil {
			m.cs.rep.Projects++
			m.e.journal(m.tr.Name(), "project "+p.ID, "created", "", name)
		}
	}
	if err != nil {
		return connector.Project{}, fmt.Errorf("project %q: %w", name, err)
	}
	if err := m.e.store.Put(store.BucketProjects, key, projectLink{Name: name, ProjectID: p.ID}); err != nil {
		return connector.Project{}, err
	}
	return p, nil
}

func (m *mirror) groupName(ctx context.Context, id string) (string, error) {
	if m.cs.groups == nil {
		m.cs.groups = map[string]string{}
	}
	if n, ok := m.cs.groups[id]; ok {
		return n, nil
	}
	gs, err := m.e.source.Groups(ctx, []string{id})
	if err != nil {
		return "", fmt.Errorf("read Bitrix24 group %s: %w", id, err)
	}
	for _, g := range gs {
		m.cs.groups[g.ID] = g.Name
	}
	n, ok := m.cs.groups[id]
	if !ok {
		m.cs.groups[id] = m.e.cfg.DefaultProject // a group the user cannot see
		return m.e.cfg.DefaultProject, nil
	}
	return n, nil
}

// members matches the task's people to tracker users by e-mail; a person without a
// match is skipped with a visible reason, never guessed.
func (m *mirror) members(ctx context.Context, t connector.Task) ([]string, error) {
	if !m.tr.Features().AssignPeople {
		return nil, nil
	}
	if m.cs.emails == nil {
		m.cs.emails = map[string]string{}
	}
	var missing []string
	for _, id := range t.Members() {
		if _, ok := m.cs.emails[id]; !ok {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		users, err := m.e.source.Users(ctx, missing)
		if err != nil {
			return nil, fmt.Errorf("read Bitrix24 users: %w", err)
		}
		for _, id := range missing {
			m.cs.emails[id] = ""
		}
		for _, u := range users {
			m.cs.emails[u.ID] = strings.ToLower(strings.TrimSpace(u.Email))
		}
	}
	people, err := m.trackerPeople(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, id := range t.Members() {
		email := m.cs.emails[id]
		tid, ok := people[email]
		if email == "" || !ok {
			m.cs.rep.Skipped = append(m.cs.rep.Skipped, fmt.Sprintf("task %s: Bitrix24 user %s (%s) has no %s account with that e-mail",
				t.ID, id, orNone(email), trackerTitle(m.tr.Name())))
			continue
		}
		out = append(out, tid)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func orNone(s string) string {
	if s == "" {
		return "no e-mail"
	}
	return s
}

func (m *mirror) trackerPeople(ctx context.Context) (map[string]string, error) {
	if m.cs.people == nil {
		m.cs.people = map[string]map[string]string{}
	}
	if p, ok := m.cs.people[m.tr.Name()]; ok {
		return p, nil
	}
	users, err := m.tr.Users(ctx)
	if err != nil {
		return nil, fmt.Errorf("read %s users: %w", m.tr.Name(), err)
	}
	p := map[string]string{}
	for _, u := range users {
		p[strings.ToLower(strings.TrimSpace(u.Email))] = u.ID
	}
	m.cs.people[m.tr.Name()] = p
	return p, nil
}

func sameSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(slices.Compact(x), slices.Compact(y))
}

// trackerTitle is the tracker's name as users read it.
func trackerTitle(name string) string {
	switch name {
	case connector.TrackerTimeDoctor:
		return "Time Doctor"
	case connector.TrackerTimeLog:
		return "TimeLog"
	}
	return name
}

// findTasks is FindTasks through a per-cycle index when the tracker can list all
// its marked tasks at once (connector.TaskLister): one read instead of one per
// task. A task this cycle changed is looked up afresh.
func (m *mirror) findTasks(ctx context.Context, sourceID string) ([]connector.TrackerTask, error) {
	lister, ok := m.tr.(connector.TaskLister)
	key := m.tr.Name() + "/" + sourceID
	if !ok || m.cs.fresh[key] {
		return m.tr.FindTasks(ctx, sourceID)
	}
	if m.cs.index == nil {
		m.cs.index = map[string]map[string][]connector.TrackerTask{}
	}
	idx, built := m.cs.index[m.tr.Name()]
	if !built {
		all, err := lister.ListTasks(ctx)
		if err != nil {
			return nil, err
		}
		idx = map[string][]connector.TrackerTask{}
		for _, t := range all {
			if id, ok := t.SourceID(); ok {
				idx[id] = append(idx[id], t)
			}
		}
		m.cs.index[m.tr.Name()] = idx
	}
	return slices.Clone(idx[sourceID]), nil
}

// changed keeps the index right after a create: a created task is added; after a
// failed (maybe lost) create the task is looked up afresh from then on.
func (m *mirror) changed(sourceID string, created connector.TrackerTask, err error) {
	idx := m.cs.index[m.tr.Name()]
	switch {
	case idx == nil:
	case err == nil:
		idx[sourceID] = append(idx[sourceID], created)
	default:
		if m.cs.fresh == nil {
			m.cs.fresh = map[string]bool{}
		}
		m.cs.fresh[m.tr.Name()+"/"+sourceID] = true
	}
}
