package bitrix24test

import (
	"slices"
	"strings"
	"time"
)

// REST task writes (spec §3.4), for seeding through the API and for tests.

func init() {
	methods["tasks.task.add"] = (*Server).mTaskAdd
	methods["tasks.task.update"] = (*Server).mTaskUpdate
	methods["tasks.task.delete"] = (*Server).mTaskDelete
	for _, a := range []string{"start", "pause", "complete", "defer", "renew", "approve", "disapprove"} {
		methods["tasks.task."+a] = func(s *Server, c *call) (reply, *restErr) { return s.mTaskAction(c, a) }
	}
}

func (s *Server) writableTask(c *call) (*Task, *restErr) {
	id, _ := toInt(first(c.p.get("taskId")))
	t := s.st.tasks[id]
	if id <= 0 || !s.taskVisible(t, c.user) {
		return nil, errf(400, "0", "Action on the task is not allowed (internal error)")
	}
	return t, nil
}

func applyFields(t *Task, f *obj, s *Server) {
	if v, ok := f.get("TITLE"); ok {
		t.Title = toStr(v)
	}
	if v, ok := f.get("DESCRIPTION"); ok {
		t.Description = toStr(v)
	}
	if v, ok := f.get("RESPONSIBLE_ID"); ok {
		t.ResponsibleID, _ = toInt(v)
	}
	if v, ok := f.get("GROUP_ID"); ok {
		t.GroupID, _ = toInt(v)
	}
	if v, ok := f.get("ACCOMPLICES"); ok {
		t.Accomplices = nil
		for _, x := range toList(v) {
			if n, ok := toInt(x); ok {
				t.Accomplices = append(t.Accomplices, n)
			}
		}
	}
	if v, ok := f.get("AUDITORS"); ok {
		t.Auditors = nil
		for _, x := range toList(v) {
			if n, ok := toInt(x); ok {
				t.Auditors = append(t.Auditors, n)
			}
		}
	}
	if v, ok := f.get("TASK_CONTROL"); ok {
		t.TaskControl = strings.EqualFold(toStr(v), "Y")
	}
	if d, ok := s.parseDate(first(f.get("DEADLINE"))); ok {
		t.Deadline = d
	}
}

func (s *Server) mTaskAdd(c *call) (reply, *restErr) {
	fields := toObj(first(c.p.get("fields")))
	if fields == nil {
		return reply{}, errf(400, "100", "Could not find value for parameter {fields} (internal error)")
	}
	if strings.TrimSpace(toStr(first(fields.get("TITLE")))) == "" {
		return reply{}, errf(400, "ERROR_CORE", "Task title is not specified<br>")
	}
	now := s.now()
	t := &Task{ID: s.st.nextTask, CreatedBy: c.user.ID, ChangedBy: c.user.ID, Status: 2, Created: now, Changed: now}
	applyFields(t, fields, s)
	if t.ResponsibleID == 0 {
		return reply{}, errf(400, "ERROR_CORE", "Assignee is not specified<br>")
	}
	s.st.nextTask++
	s.st.tasks[t.ID] = t
	return reply{result: map[string]any{"task": s.taskJSON(t, c.user)}}, nil
}

func (s *Server) mTaskUpdate(c *call) (reply, *restErr) {
	t, e := s.writableTask(c)
	if e != nil {
		return reply{}, e
	}
	if !c.user.Admin && t.CreatedBy != c.user.ID && t.ResponsibleID != c.user.ID {
		return reply{}, errf(400, "0", "Action on the task is not allowed (internal error)")
	}
	fields := toObj(first(c.p.get("fields")))
	if fields == nil {
		return reply{}, errf(400, "100", "Could not find value for parameter {fields} (internal error)")
	}
	applyFields(t, fields, s)
	t.Changed, t.ChangedBy = s.now(), c.user.ID
	return reply{result: map[string]any{"task": s.taskJSON(t, c.user)}}, nil
}

func (s *Server) mTaskDelete(c *call) (reply, *restErr) {
	t, e := s.writableTask(c)
	if e != nil || (!c.user.Admin && t.CreatedBy != c.user.ID) {
		return reply{}, errf(400, "1048582", "No access to delete the task")
	}
	t.Deleted = true
	return reply{result: map[string]any{"task": true}}, nil
}

func (s *Server) mTaskAction(c *call, action string) (reply, *restErr) {
	t, e := s.writableTask(c)
	if e != nil {
		return reply{}, e
	}
	from := map[string][]int{"start": {1, 2}, "pause": {3}, "complete": {1, 2, 3, 6}, "approve": {4}, "disapprove": {4},
		"defer": {1, 2, 3}, "renew": {4, 5, 6, 7}}
	if !slices.Contains(from[action], t.Status) {
		return reply{}, errf(400, "1048582", "Action on the task is not allowed")
	}
	now := s.now()
	switch action {
	case "start":
		t.Status = 3
	case "pause", "disapprove", "renew":
		t.Status, t.Closed, t.ClosedBy = 2, time.Time{}, 0
	case "complete":
		if t.TaskControl && c.user.ID != t.CreatedBy {
			t.Status = 4
		} else {
			t.Status, t.Closed, t.ClosedBy = 5, now, c.user.ID
		}
	case "approve":
		t.Status, t.Closed, t.ClosedBy = 5, now, c.user.ID
	case "defer":
		t.Status = 6
	}
	t.Changed, t.ChangedBy = now, c.user.ID
	return reply{result: map[string]any{"task": s.taskJSON(t, c.user)}}, nil
}
