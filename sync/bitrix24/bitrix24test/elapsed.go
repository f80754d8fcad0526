package bitrix24test

import (
	"fmt"
	"slices"
	"strings"
)

// Legacy task.elapseditem.* methods take their arguments by position (spec §3.8).

func (s *Server) argTaskID(c *call, name string) (int, *restErr) {
	if c.extraQ {
		return 0, taskErr(256, `Param #0 (taskId) for method ctaskelapseditem::`+name+`() expected to be of type "integer", but given something else.`, "WRONG_ARGUMENTS")
	}
	if len(c.args) == 0 {
		return 0, taskErr(256, `Param #0 (taskId) for method ctaskelapseditem::`+name+`() expected to be of type "integer", but given something else.`, "WRONG_ARGUMENTS")
	}
	id, ok := scalarInt(c.args[0])
	if !ok {
		return 0, taskErr(256, `Param #0 (taskId) for method ctaskelapseditem::`+name+`() expected to be of type "integer", but given something else.`, "WRONG_ARGUMENTS")
	}
	return id, nil
}

func scalarInt(v any) (int, bool) {
	switch v.(type) {
	case *obj, []any, nil:
		return 0, false
	}
	return toInt(v)
}

func (s *Server) argItemID(c *call, name string) (int, *restErr) {
	if len(c.args) < 2 {
		return 0, taskErr(256, `Param #1 (itemId) for method ctaskelapseditem::`+name+`() expected to be of type "integer", but given something else.`, "WRONG_ARGUMENTS")
	}
	id, ok := scalarInt(c.args[1])
	if !ok {
		return 0, taskErr(256, `Param #1 (itemId) for method ctaskelapseditem::`+name+`() expected to be of type "integer", but given something else.`, "WRONG_ARGUMENTS")
	}
	return id, nil
}

func (s *Server) elapsedJSON(e *Elapsed, sel map[string]bool) map[string]any {
	m := map[string]any{"ID": itoa(e.ID), "TASK_ID": itoa(e.TaskID), "USER_ID": itoa(e.UserID), "COMMENT_TEXT": e.Comment,
		"SECONDS": itoa(e.Seconds), "MINUTES": itoa((e.Seconds + 30) / 60), "SOURCE": itoa(e.Source),
		"CREATED_DATE": s.fmtServerDate(e.Created), "DATE_START": s.fmtServerDate(e.DateStart), "DATE_STOP": s.fmtServerDate(e.DateStop)}
	return project(m, sel)
}

func (s *Server) taskForElapsed(id int, u *User) (*Task, *restErr) {
	t := s.st.tasks[id]
	if !s.taskVisible(t, u) {
		return nil, taskErr(1, "Task not found or not accessible", "TASK_NOT_FOUND_OR_NOT_ACCESSIBLE")
	}
	return t, nil
}

var elapsedOrder = map[string]func(a, b *Elapsed) int{
	"ID": func(a, b *Elapsed) int { return a.ID - b.ID }, "TASK_ID": func(a, b *Elapsed) int { return a.TaskID - b.TaskID },
	"USER_ID": func(a, b *Elapsed) int { return a.UserID - b.UserID }, "SECONDS": func(a, b *Elapsed) int { return a.Seconds - b.Seconds },
	"MINUTES":      func(a, b *Elapsed) int { return a.Seconds - b.Seconds },
	"CREATED_DATE": func(a, b *Elapsed) int { return a.Created.Compare(b.Created) },
	"DATE_START":   func(a, b *Elapsed) int { return a.DateStart.Compare(b.DateStart) },
	"DATE_STOP":    func(a, b *Elapsed) int { return a.DateStop.Compare(b.DateStop) },
}

func (s *Server) mElapsedList(c *call) (reply, *restErr) {
	if c.extraQ {
		_, e := s.argTaskID(c, "getlist")
		return reply{}, e
	}
	args := c.args
	taskID := 0
	if len(args) > 0 {
		if id, ok := scalarInt(args[0]); ok {
			taskID = id
			args = args[1:]
			if _, e := s.taskForElapsed(taskID, c.user); e != nil {
				return reply{}, e
			}
		} else if toObj(args[0]) == nil {
			_, e := s.argTaskID(c, "getlist")
			return reply{}, e
		}
	}
	at := func(i int) *obj {
		if i < len(args) {
			if o := toObj(args[i]); o != nil {
				return o
			}
		}
		return newObj()
	}
	order, filter, params := at(0), at(1), at(3)
	var sel map[string]bool
	if len(args) > 2 {
		for _, x := range toList(args[2]) {
			n := strings.ToUpper(toStr(x))
			if n == "*" || n == "" {
				sel = nil
				break
			}
			if sel == nil {
				sel = map[string]bool{}
			}
			sel[n] = true
		}
	}
	for _, k := range filter.keys {
		_, field := splitOp(k)
		switch strings.ToUpper(field) {
		case "ID", "TASK_ID", "USER_ID", "CREATED_DATE":
		default:
			return reply{}, taskErr(256, `Param #2 (filter) for method ctaskelapseditem::getlist() must not contain key "`+k+`".`, "WRONG_ARGUMENTS")
		}
	}
	for _, k := range order.keys {
		if elapsedOrder[strings.ToUpper(k)] == nil {
			return reply{}, taskErr(256, `Param #1 (order) for method ctaskelapseditem::getlist() must not contain key "`+k+`".`, "WRONG_ARGUMENTS")
		}
	}
	var rows []*Elapsed
	for _, e := range s.st.elapsed {
		if taskID != 0 && e.TaskID != taskID {
			continue
		}
		if taskID == 0 && !s.taskVisible(s.st.tasks[e.TaskID], c.user) {
			continue
		}
		ok := true
		for _, k := range filter.keys {
			op, field := splitOp(k)
			v := filter.m[k]
			switch strings.ToUpper(field) {
			case "ID":
				ok = ok && cmpInt(op, e.ID, v)
			case "TASK_ID":
				ok = ok && cmpInt(op, e.TaskID, v)
			case "USER_ID":
				ok = ok && cmpInt(op, e.UserID, v)
			case "CREATED_DATE":
				ok = ok && s.cmpDate(op, e.Created, v)
			}
		}
		if ok {
			rows = append(rows, e)
		}
	}
	slices.SortFunc(rows, func(a, b *Elapsed) int {
		for _, k := range order.keys {
			if r := elapsedOrder[strings.ToUpper(k)](a, b); r != 0 {
				if strings.EqualFold(toStr(order.m[k]), "desc") {
					return -r
				}
				return r
			}
		}
		return a.ID - b.ID
	})
	// NAV_PARAMS paging; `start` is ignored.
	size, pageN := 0, 1
	if nav := toObj(first(params.get("NAV_PARAMS"))); nav != nil {
		if n, ok := toInt(first(nav.get("nPageSize"))); ok && n > 0 {
			size = min(n, 50)
		}
		if n, ok := toInt(first(nav.get("iNumPage"))); ok && n > 0 {
			pageN = n
		}
	}
	if size == 0 && taskID == 0 {
		size = 50
	}
	lo, hi := 0, len(rows)
	if size > 0 {
		lo, hi = min((pageN-1)*size, len(rows)), min(pageN*size, len(rows))
	}
	out := []any{}
	for _, e := range rows[lo:hi] {
		out = append(out, s.elapsedJSON(e, sel))
	}
	return reply{result: out, total: len(rows), hasTotal: true}, nil
}

func (s *Server) mElapsedGet(c *call) (reply, *restErr) {
	taskID, e := s.argTaskID(c, "get")
	if e != nil {
		return reply{}, e
	}
	itemID, e := s.argItemID(c, "get")
	if e != nil {
		return reply{}, e
	}
	if _, e := s.taskForElapsed(taskID, c.user); e != nil {
		return reply{}, e
	}
	it := s.st.elapsed[itemID]
	if it == nil || it.TaskID != taskID {
		return reply{}, taskErr(512, "Elapsed time item not found or not accessible", "ITEM_NOT_FOUND_OR_NOT_ACCESSIBLE")
	}
	return reply{result: s.elapsedJSON(it, nil)}, nil
}

func (s *Server) mElapsedAdd(c *call) (reply, *restErr) {
	taskID, e := s.argTaskID(c, "add")
	if e != nil {
		return reply{}, e
	}
	fields, e := fieldsArg(c, 1, "add")
	if e != nil {
		return reply{}, e
	}
	t := s.st.tasks[taskID]
	if !s.taskVisible(t, c.user) {
		if s.opts.MissingTaskOnAdd == "TASK_NOT_FOUND_OR_NOT_ACCESSIBLE" {
			return reply{}, taskErr(1, "Task not found or not accessible", "TASK_NOT_FOUND_OR_NOT_ACCESSIBLE")
		}
		return reply{}, taskErr(4, "", "ACTION_NOT_ALLOWED")
	}
	if !s.canAddElapsed(t, c.user) {
		return reply{}, taskErr(4, "", "ACTION_NOT_ALLOWED")
	}
	secV, hasSec := fields.get("SECONDS")
	minV, hasMin := fields.get("MINUTES")
	if hasSec == hasMin {
		return reply{}, errf(400, "ERROR_CORE", "TASKS_ERROR_ASSERT_EXCEPTION<br>")
	}
	secs, ok := toInt(secV)
	if hasMin {
		m, ok2 := toInt(minV)
		secs, ok = m*60, ok2
	}
	if !ok || secs < 0 {
		return reply{}, errf(400, "ERROR_CORE", "TASKS_ERROR_ASSERT_EXCEPTION<br>")
	}
	user := c.user.ID
	if v, ok := fields.get("USER_ID"); ok {
		if n, _ := toInt(v); n != 0 && n != user {
			if s.opts.ForeignUserID == "reject" && !c.user.Admin {
				return reply{}, taskErr(4, "", "ACTION_NOT_ALLOWED")
			}
			user = n
		}
	}
	now := s.now()
	created := now
	if v, ok := fields.get("CREATED_DATE"); ok {
		if d, ok := s.parseDate(v); ok {
			created = d
		}
	}
	start, stop := now, now
	if s.opts.HonourDateStartStop {
		if d, ok := s.parseDate(first(fields.get("DATE_START"))); ok {
			start = d
		}
		if d, ok := s.parseDate(first(fields.get("DATE_STOP"))); ok {
			stop = d
		}
	}
	id := s.st.nextEl
	s.st.nextEl++
	s.st.elapsed[id] = &Elapsed{ID: id, TaskID: taskID, UserID: user, Seconds: secs, Comment: toStr(first(fields.get("COMMENT_TEXT"))),
		Source: 2, Created: created, DateStart: start, DateStop: stop}
	if s.opts.ElapsedBumpsChanged {
		t.Changed = now
	}
	return reply{result: id}, nil
}

func (s *Server) elapsedForWrite(c *call, name string) (*Elapsed, *restErr) {
	taskID, e := s.argTaskID(c, name)
	if e != nil {
		return nil, e
	}
	itemID, e := s.argItemID(c, name)
	if e != nil {
		return nil, e
	}
	if _, e := s.taskForElapsed(taskID, c.user); e != nil {
		return nil, e
	}
	it := s.st.elapsed[itemID]
	if it == nil || it.TaskID != taskID {
		return nil, taskErr(512, "Elapsed time item not found or not accessible", "ITEM_NOT_FOUND_OR_NOT_ACCESSIBLE")
	}
	if !c.user.Admin && it.UserID != c.user.ID {
		return nil, taskErr(4, "", "ACTION_NOT_ALLOWED")
	}
	return it, nil
}

func (s *Server) mElapsedUpdate(c *call) (reply, *restErr) {
	it, e := s.elapsedForWrite(c, "update")
	if e != nil {
		return reply{}, e
	}
	fields, e := fieldsArg(c, 2, "update")
	if e != nil {
		return reply{}, e
	}
	for _, k := range fields.keys {
		switch strings.ToUpper(k) {
		case "MINUTES", "SECONDS", "COMMENT_TEXT", "CREATED_DATE":
		default:
			return reply{}, taskErr(256, `Param #2 (arFields) for method ctaskelapseditem::update() must not contain key "`+k+`".`, "WRONG_ARGUMENTS")
		}
	}
	if v, ok := fields.get("SECONDS"); ok {
		n, _ := toInt(v)
		it.Seconds = n
	} else if v, ok := fields.get("MINUTES"); ok {
		n, _ := toInt(v)
		it.Seconds = n * 60
	}
	if v, ok := fields.get("COMMENT_TEXT"); ok {
		it.Comment = toStr(v)
	}
	if d, ok := s.parseDate(first(fields.get("CREATED_DATE"))); ok {
		it.Created = d
	}
	return reply{result: nil}, nil
}

func (s *Server) mElapsedDelete(c *call) (reply, *restErr) {
	it, e := s.elapsedForWrite(c, "delete")
	if e != nil {
		return reply{}, e
	}
	delete(s.st.elapsed, it.ID)
	return reply{result: nil}, nil
}

func (s *Server) mElapsedAllowed(c *call) (reply, *restErr) {
	taskID, e := s.argTaskID(c, "isactionallowed")
	if e != nil {
		return reply{}, e
	}
	itemID, _ := s.argItemID(c, "isactionallowed")
	t, e := s.taskForElapsed(taskID, c.user)
	if e != nil {
		return reply{}, e
	}
	action := 0
	if len(c.args) > 2 {
		action, _ = toInt(c.args[2])
	}
	switch action {
	case 1:
		return reply{result: s.canAddElapsed(t, c.user)}, nil
	default:
		it := s.st.elapsed[itemID]
		return reply{result: it != nil && (c.user.Admin || it.UserID == c.user.ID)}, nil
	}
}

// fieldsArg is the positional arFields argument #i of ctaskelapseditem::method,
// or the portal's error when it is missing or not an object.
func fieldsArg(c *call, i int, method string) (*obj, *restErr) {
	var fields *obj
	if len(c.args) > i {
		fields = toObj(c.args[i])
	}
	if fields == nil {
		return nil, taskErr(256, fmt.Sprintf(`Param #%d (arFields) for method ctaskelapseditem::%s() expected to be of type "array", but given something else.`, i, method), "WRONG_ARGUMENTS")
	}
	return fields, nil
}
