package bitrix24test

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"
)

func itoa(i int) string { return strconv.Itoa(i) }

func (s *Server) userLoc(u *User) *time.Location {
	if u != nil && u.TimeZone != "" {
		if l, err := time.LoadLocation(u.TimeZone); err == nil {
			return l
		}
	}
	return s.loc
}

// fmtUserDate formats a task date in the caller's zone (spec §4); zero → null.
func (s *Server) fmtUserDate(t time.Time, u *User) any {
	if t.IsZero() {
		return nil
	}
	loc := s.userLoc(u)
	if s.opts.DSTQuirk {
		// Today's offset applied to the date's wall clock.
		_, off := s.now().In(loc).Zone()
		w := t.In(loc)
		return time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), 0, time.FixedZone("", off)).Format(isoLayout)
	}
	return t.In(loc).Format(isoLayout)
}

func (s *Server) fmtServerDate(t time.Time) string { return t.In(s.loc).Format(isoLayout) }

// parseDate reads a date like strtotime() would for the formats clients send.
func (s *Server) parseDate(v any) (time.Time, bool) {
	str := strings.TrimSpace(toStr(v))
	for _, l := range []string{time.RFC3339Nano, isoLayout} {
		if t, err := time.Parse(l, str); err == nil {
			return t, true
		}
	}
	for _, l := range []string{"2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02", "02.01.2006 15:04:05", "02.01.2006"} {
		if t, err := time.ParseInLocation(l, str, s.loc); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func (s *Server) mServerTime(c *call) (reply, *restErr) {
	return reply{result: s.fmtServerDate(s.now())}, nil
}

func (s *Server) userJSON(u *User, scopes []string) map[string]any {
	m := map[string]any{
		"ID": itoa(u.ID), "ACTIVE": !u.Inactive, "NAME": u.Name, "LAST_NAME": u.LastName,
		"LAST_LOGIN": s.fmtServerDate(s.opts.Start), "DATE_REGISTER": s.fmtServerDate(s.opts.Start.Truncate(24 * time.Hour)),
		"IS_ONLINE": "Y", "LAST_ACTIVITY_DATE": s.opts.Start.In(s.loc).Format("2006-01-02 15:04:05"),
		"TIME_ZONE": u.TimeZone, "UF_DEPARTMENT": []any{1},
	}
	if hasScope(scopes, "user_basic") || hasScope(scopes, "user") {
		m["EMAIL"] = u.Email
	}
	return m
}

func (s *Server) mUserCurrent(c *call) (reply, *restErr) {
	return reply{result: s.userJSON(c.user, c.scopes)}, nil
}

func (s *Server) mUserGet(c *call) (reply, *restErr) {
	filter := newObj()
	if f, ok := c.p.get("filter"); ok {
		filter = toObj(f)
		if filter == nil {
			filter = newObj()
		}
	}
	for _, k := range c.p.keys {
		switch strings.ToLower(k) {
		case "filter", "sort", "order", "select", "start", "auth", "admin_mode":
		default:
			if strings.Contains(strings.ToUpper(k), "ID") || strings.Contains(strings.ToUpper(k), "ACTIVE") || strings.Contains(strings.ToUpper(k), "EMAIL") {
				filter.set(k, c.p.m[k])
			}
		}
	}
	var rows []*User
	for _, u := range s.st.users {
		ok := true
		for _, k := range filter.keys {
			op, field := splitOp(k)
			v := filter.m[k]
			switch strings.ToUpper(field) {
			case "ID":
				ok = ok && cmpInt(op, u.ID, v)
			case "ACTIVE":
				want := toStr(v) == "Y" || toStr(v) == "true" || toStr(v) == "1"
				ok = ok && want == !u.Inactive
			case "EMAIL":
				ok = ok && strings.EqualFold(u.Email, toStr(v))
			}
		}
		if ok {
			rows = append(rows, u)
		}
	}
	desc := strings.EqualFold(toStr(first(c.p.get("order"))), "desc")
	slices.SortFunc(rows, func(a, b *User) int {
		if desc {
			return b.ID - a.ID
		}
		return a.ID - b.ID
	})
	lo, hi, rep := s.page(c, len(rows), false)
	out := []any{}
	for _, u := range rows[lo:hi] {
		out = append(out, s.userJSON(u, c.scopes))
	}
	rep.result = out
	return rep, nil
}

// splitOp separates a filter key's prefix operator from the field.
func splitOp(k string) (op, field string) {
	for _, p := range []string{"!=", "!", "<=", ">=", "<", ">", "=", "@", "%"} {
		if strings.HasPrefix(k, p) {
			return p, k[len(p):]
		}
	}
	return "", k
}

func cmpInt(op string, have int, want any) bool {
	switch want.(type) {
	case []any, *obj:
		in := slices.ContainsFunc(toList(want), func(x any) bool { n, _ := toInt(x); return n == have })
		if op == "!" || op == "!=" {
			return !in
		}
		return in
	}
	n, ok := toInt(want)
	if !ok {
		return false
	}
	return cmpOrd(op, cmp.Compare(have, n))
}

func cmpOrd(op string, c int) bool {
	switch op {
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	case ">=":
		return c >= 0
	case "!", "!=":
		return c != 0
	}
	return c == 0
}

func (s *Server) cmpDate(op string, have time.Time, want any) bool {
	w, ok := s.parseDate(want)
	if !ok {
		return false
	}
	if have.IsZero() {
		return false
	}
	return cmpOrd(op, have.Compare(w))
}

func (s *Server) taskVisible(t *Task, u *User) bool {
	return t != nil && !t.Deleted && (u.Admin || t.canSee(u.ID))
}

// matchTask applies a tasks.task.list filter (with ::SUBFILTER / ::LOGIC).
func (s *Server) matchTask(t *Task, f *obj) (bool, *restErr) {
	or := strings.EqualFold(toStr(first(f.get("::LOGIC"))), "OR")
	any_ := false
	seen := false
	for _, k := range f.keys {
		if k == "::LOGIC" {
			continue
		}
		v := f.m[k]
		var ok bool
		if strings.HasPrefix(k, "::SUBFILTER") {
			switch s.opts.RoleSubfilter {
			case "reject":
				return false, errf(400, "0", "Wrong filter value (internal error)")
			case "ignore":
				continue
			}
			sub := toObj(v)
			if sub == nil {
				continue
			}
			var e *restErr
			ok, e = s.matchTask(t, sub)
			if e != nil {
				return false, e
			}
		} else {
			op, field := splitOp(k)
			switch strings.ToUpper(field) {
			case "ID":
				ok = cmpInt(op, t.ID, v)
			case "GROUP_ID":
				ok = cmpInt(op, t.GroupID, v)
			case "RESPONSIBLE_ID":
				ok = cmpInt(op, t.ResponsibleID, v)
			case "CREATED_BY":
				ok = cmpInt(op, t.CreatedBy, v)
			case "REAL_STATUS", "STATUS":
				ok = cmpInt(op, t.Status, v)
			case "ACCOMPLICE":
				ok = slices.ContainsFunc(t.Accomplices, func(a int) bool { return cmpInt("", a, v) })
				if op == "!" {
					ok = !ok
				}
			case "AUDITOR":
				ok = slices.ContainsFunc(t.Auditors, func(a int) bool { return cmpInt("", a, v) })
			case "MEMBER":
				n, _ := toInt(v)
				ok = t.isMember(n) || t.CreatedBy == n || slices.Contains(t.Auditors, n)
			case "CHANGED_DATE":
				ok = s.cmpDate(op, t.Changed, v)
			case "CREATED_DATE":
				ok = s.cmpDate(op, t.Created, v)
			case "CLOSED_DATE":
				ok = s.cmpDate(op, t.Closed, v)
			case "TITLE":
				ok = strings.Contains(strings.ToLower(t.Title), strings.ToLower(strings.Trim(toStr(v), "%")))
			default:
				continue // unknown filter keys are ignored
			}
		}
		seen = true
		if or {
			any_ = any_ || ok
		} else if !ok {
			return false, nil
		}
	}
	if or && seen {
		return any_, nil
	}
	return true, nil
}

var taskSelect = map[string][]string{
	"ID": {"id"}, "TITLE": {"title"}, "DESCRIPTION": {"description"}, "STATUS": {"status", "subStatus"},
	"REAL_STATUS": {"status"}, "GROUP_ID": {"groupId"}, "RESPONSIBLE_ID": {"responsibleId", "responsible"},
	"ACCOMPLICES": {"accomplices", "accomplicesData"}, "AUDITORS": {"auditors", "auditorsData"},
	"CREATED_BY": {"createdBy", "creator"}, "CREATED_DATE": {"createdDate"}, "CHANGED_DATE": {"changedDate"},
	"CHANGED_BY": {"changedBy"}, "CLOSED_DATE": {"closedDate"}, "CLOSED_BY": {"closedBy"}, "DEADLINE": {"deadline"},
	"TIME_SPENT_IN_LOGS": {"timeSpentInLogs"}, "TASK_CONTROL": {"taskControl"}, "ALLOW_TIME_TRACKING": {"allowTimeTracking"},
	"PRIORITY": {"priority"}, "ACTIVITY_DATE": {"activityDate"}, "FAVORITE": {"favorite"}, "PARENT_ID": {"parentId"},
	"MARK": {"mark"},
}

var taskOrder = map[string]func(a, b *Task) int{
	"ID":             func(a, b *Task) int { return a.ID - b.ID },
	"CHANGED_DATE":   func(a, b *Task) int { return a.Changed.Compare(b.Changed) },
	"CREATED_DATE":   func(a, b *Task) int { return a.Created.Compare(b.Created) },
	"CLOSED_DATE":    func(a, b *Task) int { return a.Closed.Compare(b.Closed) },
	"ACTIVITY_DATE":  func(a, b *Task) int { return a.Changed.Compare(b.Changed) },
	"DEADLINE":       func(a, b *Task) int { return a.Deadline.Compare(b.Deadline) },
	"REAL_STATUS":    func(a, b *Task) int { return a.Status - b.Status },
	"STATUS":         func(a, b *Task) int { return a.Status - b.Status },
	"GROUP_ID":       func(a, b *Task) int { return a.GroupID - b.GroupID },
	"TITLE":          func(a, b *Task) int { return strings.Compare(a.Title, b.Title) },
	"RESPONSIBLE_ID": func(a, b *Task) int { return a.ResponsibleID - b.ResponsibleID },
	"PRIORITY":       func(a, b *Task) int { return 0 },
}

func (s *Server) miniUser(id int) map[string]any {
	name := ""
	if u := s.st.users[id]; u != nil {
		name = strings.TrimSpace(u.Name + " " + u.LastName)
	}
	return map[string]any{"id": itoa(id), "name": name, "link": "/company/personal/user/" + itoa(id) + "/", "icon": "/bitrix/images/tasks/default_avatar.png", "workPosition": ""}
}

func (s *Server) spent(taskID int) any {
	n, any_ := 0, false
	for _, e := range s.st.elapsed {
		if e.TaskID == taskID {
			n += e.Seconds
			any_ = true
		}
	}
	if !any_ {
		return nil
	}
	return itoa(n)
}

func strIDs(ids []int) []any {
	out := []any{}
	for _, id := range ids {
		out = append(out, itoa(id))
	}
	return out
}

func (s *Server) taskJSON(t *Task, u *User) map[string]any {
	yn := func(b bool) string {
		if b {
			return "Y"
		}
		return "N"
	}
	accData := map[string]any{}
	for _, a := range t.Accomplices {
		accData[itoa(a)] = s.miniUser(a)
	}
	audData := map[string]any{}
	for _, a := range t.Auditors {
		audData[itoa(a)] = s.miniUser(a)
	}
	emptyMap := func(m map[string]any) any {
		if len(m) == 0 {
			return []any{}
		}
		return m
	}
	var group any = []any{}
	if g := s.st.groups[t.GroupID]; g != nil {
		group = map[string]any{"id": itoa(g.ID), "name": g.Name, "opened": g.Opened, "membersCount": len(g.Members),
			"image": "", "additionalData": []any{}}
	}
	sub := itoa(t.Status)
	if t.Status < 4 && !t.Deadline.IsZero() && t.Deadline.Before(s.now()) {
		sub = "-1"
	}
	closedBy := "0"
	if t.ClosedBy != 0 {
		closedBy = itoa(t.ClosedBy)
	}
	return map[string]any{
		"id": itoa(t.ID), "parentId": nil, "title": t.Title, "description": t.Description, "mark": nil,
		"priority": "1", "multitask": "N", "notViewed": "N", "replicate": "N", "stageId": "0",
		"createdBy": itoa(t.CreatedBy), "createdDate": s.fmtUserDate(t.Created, u), "responsibleId": itoa(t.ResponsibleID),
		"changedBy": itoa(t.ChangedBy), "changedDate": s.fmtUserDate(t.Changed, u), "statusChangedBy": itoa(t.ChangedBy),
		"closedBy": closedBy, "closedDate": s.fmtUserDate(t.Closed, u), "activityDate": s.fmtUserDate(t.Changed, u),
		"dateStart": nil, "deadline": s.fmtUserDate(t.Deadline, u), "startDatePlan": nil, "endDatePlan": nil,
		"commentsCount": "0", "allowChangeDeadline": "Y", "allowTimeTracking": "Y", "taskControl": yn(t.TaskControl),
		"addInReport": "N", "timeEstimate": "0", "timeSpentInLogs": s.spent(t.ID), "matchWorkTime": "N",
		"siteId": "s1", "subordinate": "N", "isMuted": "N", "isPinned": "N", "isPinnedInGroup": "N",
		"favorite": "N", "status": itoa(t.Status), "subStatus": sub, "groupId": itoa(t.GroupID),
		"auditors": strIDs(t.Auditors), "accomplices": strIDs(t.Accomplices),
		"accomplicesData": emptyMap(accData), "auditorsData": emptyMap(audData), "group": group,
		"creator": s.miniUser(t.CreatedBy), "responsible": s.miniUser(t.ResponsibleID),
		"ufCrmTask": false, "ufTaskWebdavFiles": false, "ufMailMessage": nil,
	}
}

// selectKeys reads a select list; nil means all fields.
func selectKeys(v any, present bool) (map[string]bool, *restErr) {
	if !present {
		return nil, nil
	}
	if o, ok := v.(*obj); ok && len(o.keys) == 0 {
		return nil, errf(400, "100", "Invalid value {} to match with parameter {select}. Should be value of type array. (internal error)")
	}
	if _, ok := v.(string); ok {
		return nil, errf(400, "100", "Invalid value %s to match with parameter {select}. Should be value of type array. (internal error)", toStr(v))
	}
	keys := map[string]bool{"id": true, "group": true}
	for _, x := range toList(v) {
		name, ok := x.(string)
		if !ok {
			return nil, errf(400, "100", "Invalid select data")
		}
		if name == "*" {
			return nil, nil
		}
		for _, k := range taskSelect[strings.ToUpper(name)] {
			keys[k] = true
		}
	}
	return keys, nil
}

func project(m map[string]any, keys map[string]bool) map[string]any {
	if keys == nil {
		return m
	}
	out := map[string]any{}
	for k := range keys {
		if v, ok := m[k]; ok {
			out[k] = v
		}
	}
	return out
}

func (s *Server) mTaskList(c *call) (reply, *restErr) {
	filter := newObj()
	if v, ok := c.p.get("filter"); ok {
		if o := toObj(v); o != nil {
			filter = o
		}
	}
	sv, sok := c.p.get("select")
	keys, e := selectKeys(sv, sok)
	if e != nil {
		return reply{}, e
	}
	// Order: default ID desc.
	type ord struct {
		f    func(a, b *Task) int
		desc bool
	}
	orders := []ord{{taskOrder["ID"], true}}
	if v, ok := c.p.get("order"); ok {
		if o := toObj(v); o != nil && len(o.keys) > 0 {
			orders = nil
			for _, k := range o.keys {
				f := taskOrder[strings.ToUpper(k)]
				if f == nil {
					return reply{}, errf(400, "0", "Invalid sorting key (internal error)")
				}
				orders = append(orders, ord{f, strings.EqualFold(toStr(o.m[k]), "desc")})
			}
		}
	}
	var rows []*Task
	for _, t := range s.st.tasks {
		if !s.taskVisible(t, c.user) {
			continue
		}
		ok, e := s.matchTask(t, filter)
		if e != nil {
			return reply{}, e
		}
		if ok {
			rows = append(rows, t)
		}
	}
	slices.SortFunc(rows, func(a, b *Task) int {
		for _, o := range orders {
			if r := o.f(a, b); r != 0 {
				if o.desc {
					return -r
				}
				return r
			}
		}
		return a.ID - b.ID
	})
	lo, hi, rep := s.page(c, len(rows), true)
	out := []any{}
	for _, t := range rows[lo:hi] {
		out = append(out, project(s.taskJSON(t, c.user), keys))
	}
	rep.result = map[string]any{"tasks": out}
	return rep, nil
}

func (s *Server) canAddElapsed(t *Task, u *User) bool {
	return u.Admin || t.isMember(u.ID)
}

func (s *Server) mTaskGet(c *call) (reply, *restErr) {
	v, ok := c.p.get("taskId")
	if !ok {
		v, ok = c.p.get("id")
	}
	if !ok {
		return reply{}, errf(400, "100", "CTaskItem All parameters in the constructor must have real class type (internal error)")
	}
	id, _ := toInt(v)
	if id <= 0 {
		return reply{}, errf(400, "0", "wrong task id")
	}
	sv, sok := c.p.get("select")
	keys, e := selectKeys(sv, sok)
	if e != nil {
		return reply{}, e
	}
	t := s.st.tasks[id]
	if !s.taskVisible(t, c.user) {
		return reply{result: []any{}}, nil
	}
	m := project(s.taskJSON(t, c.user), keys)
	if keys != nil {
		m["favorite"] = "N"
	}
	canEdit := c.user.Admin || t.CreatedBy == c.user.ID
	m["action"] = map[string]any{"accept": false, "decline": false, "complete": t.isMember(c.user.ID) || canEdit,
		"edit": canEdit, "remove": canEdit, "elapsedtime.add": s.canAddElapsed(t, c.user), "renew": canEdit}
	return reply{result: map[string]any{"task": m}}, nil
}

func (s *Server) groupVisible(g *Group, u *User) bool {
	return u.Admin || g.Opened || slices.Contains(g.Members, u.ID)
}

func (s *Server) filteredGroups(c *call, filterKey string) []*Group {
	filter := newObj()
	if v, ok := c.p.get(filterKey); ok {
		if o := toObj(v); o != nil {
			filter = o
		}
	}
	var rows []*Group
	for _, g := range s.st.groups {
		if !s.groupVisible(g, c.user) {
			continue
		}
		ok := true
		for _, k := range filter.keys {
			op, field := splitOp(k)
			switch strings.ToUpper(field) {
			case "ID":
				ok = ok && cmpInt(op, g.ID, filter.m[k])
			case "NAME":
				ok = ok && strings.Contains(strings.ToLower(g.Name), strings.ToLower(strings.Trim(toStr(filter.m[k]), "%")))
			}
		}
		if ok {
			rows = append(rows, g)
		}
	}
	slices.SortFunc(rows, func(a, b *Group) int { return a.ID - b.ID })
	return rows
}

func (s *Server) mSonetGroupGet(c *call) (reply, *restErr) {
	rows := s.filteredGroups(c, "FILTER")
	lo, hi, rep := s.page(c, len(rows), false)
	out := []any{}
	yn := func(b bool) string {
		if b {
			return "Y"
		}
		return "N"
	}
	for _, g := range rows[lo:hi] {
		owner := 0
		if len(g.Members) > 0 {
			owner = g.Members[0]
		}
		out = append(out, map[string]any{"ID": itoa(g.ID), "SITE_ID": "s1", "NAME": g.Name, "DESCRIPTION": "",
			"DATE_CREATE": s.fmtServerDate(g.Created), "DATE_UPDATE": s.fmtServerDate(g.Created), "DATE_ACTIVITY": s.fmtServerDate(g.Created),
			"ACTIVE": "Y", "VISIBLE": "Y", "OPENED": yn(g.Opened), "CLOSED": "N", "SUBJECT_ID": "1", "OWNER_ID": itoa(owner),
			"KEYWORDS": "", "NUMBER_OF_MEMBERS": itoa(len(g.Members)), "SUBJECT_NAME": "Workgroups", "PROJECT": yn(g.Project), "IS_EXTRANET": "N"})
	}
	rep.result = out
	return rep, nil
}

func (s *Server) mWorkgroupList(c *call) (reply, *restErr) {
	rows := s.filteredGroups(c, "filter")
	lo, hi, rep := s.page(c, len(rows), false)
	sv, _ := c.p.get("select")
	sel := map[string]bool{}
	for _, x := range toList(sv) {
		sel[strings.ToUpper(toStr(x))] = true
	}
	out := []any{}
	for _, g := range rows[lo:hi] {
		m := map[string]any{"id": itoa(g.ID)}
		if sel["NAME"] {
			m["name"] = g.Name
		}
		if sel["TYPE"] || sel["PROJECT"] {
			m["type"] = map[bool]string{true: "project", false: "group"}[g.Project]
		}
		out = append(out, m)
	}
	rep.result = map[string]any{"workgroups": out}
	return rep, nil
}

func (s *Server) mEventOffline(c *call) (reply, *restErr) {
	if !c.user.Admin {
		return reply{}, errf(403, "ACCESS_DENIED", "Access denied!")
	}
	return reply{result: map[string]any{"events": []any{}, "process_id": nil}}, nil
}
