package bitrix24test

import (
	"encoding/json"
	"math"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

const isoLayout = "2006-01-02T15:04:05-07:00"

// call is one REST method invocation (top level or inside a batch).
type call struct {
	method   string
	user     *User
	scopes   []string
	webhook  bool
	p        *obj  // named parameters (query + body)
	args     []any // the same values by position (legacy task.* methods)
	start    int
	hasStart bool
	extraQ   bool // a non-reserved query parameter came with a JSON body
}

// reply is a method's result.
type reply struct {
	result   any
	total    int
	hasTotal bool
	next     int
	hasNext  bool
}

type handler func(s *Server, c *call) (reply, *restErr)

var reserved = map[string]bool{"auth": true, "start": true, "state": true}

func (s *Server) servePortal(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/oauth/token") && s.opts.OnPremise {
		htmlPage(w, http.StatusNotFound, "Not Found") // on-premise portals do not forward (spec §1.6)
		return
	}
	if strings.HasPrefix(r.URL.Path, "/oauth/") {
		s.serveAuth(w, r)
		return
	}
	if !strings.HasPrefix(r.URL.Path, "/rest/") {
		htmlPage(w, http.StatusNotFound, "Not Found")
		return
	}
	parts := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, "/rest/"), "/"), "/")
	var hookUser, hookCode, method string
	isHook := false
	switch len(parts) {
	case 1:
		method = parts[0]
	case 3:
		hookUser, hookCode, method = parts[0], parts[1], parts[2]
		isHook = true
	default:
		writeJSON(w, 404, errf(404, "ERROR_METHOD_NOT_FOUND", "Method not found!").body())
		return
	}
	method = strings.ToLower(strings.TrimSuffix(method, ".json"))
	body := readBody(r)
	idx := s.record(Call{Method: method, HTTP: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Body: string(body), Webhook: isHook})
	s.busy.Add(1)
	defer s.busy.Done()
	s.enter()
	defer s.leave()
	status, executed := s.handleREST(w, r, idx, method, body, isHook, hookUser, hookCode)
	s.setStatus(idx, status, executed)
}

func (s *Server) handleREST(w http.ResponseWriter, r *http.Request, idx int, method string, body []byte, isHook bool, hookUser, hookCode string) (int, bool) {
	f := s.Faults()
	if f.MovedTo != "" {
		w.Header().Set("Location", strings.TrimRight(f.MovedTo, "/")+r.URL.RequestURI())
		w.WriteHeader(http.StatusFound)
		return http.StatusFound, false
	}
	if f.Latency > 0 {
		// The portal keeps working after the client gives up: a slow write
		// still commits (spec §6.1 C14).
		t := time.NewTimer(f.Latency)
		select {
		case <-s.closing:
			t.Stop()
			return 0, false
		case <-t.C:
		}
	}
	fail := func(e *restErr) (int, bool) {
		writeJSON(w, e.status, e.body())
		return e.status, false
	}
	// Parameters: query (PHP keys, in order) then body (JSON or form).
	q, err := parsePHPQuery(r.URL.RawQuery)
	if err != nil {
		return fail(errf(400, "WRONG_ENCODING", "Wrong request encoding"))
	}
	p := newObj()
	var args []any
	extraQ := false
	for _, k := range q.keys {
		if !reserved[strings.ToLower(k)] {
			args = append(args, q.m[k])
			extraQ = true
		}
	}
	merge(p, q)
	if b := strings.TrimSpace(string(body)); b != "" {
		ct := r.Header.Get("Content-Type")
		if strings.HasPrefix(b, "{") || strings.HasPrefix(b, "[") || strings.Contains(ct, "json") {
			v, err := decodeOrdered([]byte(b))
			if err != nil {
				return fail(errf(400, "WRONG_ENCODING", "Wrong request encoding"))
			}
			switch t := v.(type) {
			case *obj:
				for _, k := range t.keys {
					if !reserved[strings.ToLower(k)] {
						args = append(args, t.m[k])
					}
				}
				merge(p, t)
			case []any:
				args = append(args, t...)
				for i, x := range t {
					p.set(strconv.Itoa(i), x)
				}
			}
		} else {
			fo, err := parsePHPQuery(b)
			if err != nil {
				return fail(errf(400, "WRONG_ENCODING", "Wrong request encoding"))
			}
			for _, k := range fo.keys {
				if !reserved[strings.ToLower(k)] {
					args = append(args, fo.m[k])
				}
			}
			merge(p, fo)
		}
	} else {
		extraQ = false
	}
	c := &call{method: method, p: p, args: args, webhook: isHook, extraQ: extraQ}
	if v, ok := p.get("start"); ok {
		c.start, c.hasStart = 0, true
		if n, ok := toInt(v); ok {
			c.start = n
		}
	}
	// Authentication.
	if e := s.authenticate(r, c, isHook, hookUser, hookCode, f); e != nil {
		return fail(e)
	}
	// Account-wide refusals.
	switch {
	case f.NoRESTPlan:
		return fail(errf(403, "ACCESS_DENIED", "REST API is available only on commercial plans"))
	case f.UserAccessError:
		return fail(errf(403, "user_access_error", "The user does not have access to the application"))
	case f.PaymentRequired:
		return fail(errf(402, "PAYMENT_REQUIRED", "Payment required"))
	}
	// Rate limits: not executed.
	s.fmu.Lock()
	forced := s.take(method, &s.faults.ForceQueryLimit)
	s.fmu.Unlock()
	if forced || !s.spendToken() {
		return fail(errf(503, "QUERY_LIMIT_EXCEEDED", "Too many requests"))
	}
	if f.Overload {
		return fail(errf(503, "OVERLOAD_LIMIT", "REST API is blocked due to overload"))
	}
	if _, _, blocked := s.operating(method, false); blocked || (f.OperationLimit != "" && strings.EqualFold(f.OperationLimit, method)) {
		return fail(errf(429, "OPERATION_TIME_LIMIT", "Method is blocked due to operation time limit."))
	}
	if f.ConfirmWaiting != "" && strings.EqualFold(f.ConfirmWaiting, method) {
		return fail(errf(401, "METHOD_CONFIRM_WAITING", "Waiting for confirmation"))
	}
	// Counted failures that do not execute.
	s.fmu.Lock()
	f500 := s.take(method, &s.faults.Fail500)
	h502 := !f500 && s.take(method, &s.faults.HTML502)
	h504 := !f500 && !h502 && s.take(method, &s.faults.HTMLTimeout)
	wenc := !f500 && !h502 && !h504 && s.take(method, &s.faults.WrongEncoding)
	s.fmu.Unlock()
	switch {
	case f500:
		return fail(errf(500, "INTERNAL_SERVER_ERROR", "Internal server error"))
	case h502:
		htmlPage(w, 502, "Bad Gateway")
		return 502, false
	case h504:
		htmlPage(w, 504, "Gateway Time-out")
		return 504, false
	case wenc:
		writeJSON(w, 200, errf(200, "WRONG_ENCODING", "Wrong request encoding").body())
		return 200, false
	}
	// Execute.
	startT := s.now()
	var rep reply
	var rerr *restErr
	if method == "batch" {
		rep, rerr = s.batch(c)
	} else {
		rep, rerr = s.exec(c)
	}
	if rerr != nil {
		return fail(rerr)
	}
	if s.opts.Shapes == "mixed" {
		rep.result = s.mix(rep.result)
	}
	env := map[string]any{"result": rep.result, "time": s.timeBlock(startT, method)}
	if rep.hasTotal {
		env["total"] = rep.total
	}
	if rep.hasNext {
		env["next"] = rep.next
	}
	out, _ := json.Marshal(env)
	// Faults after execution.
	s.fmu.Lock()
	malformed := s.take(method, &s.faults.MalformedJSON)
	ctf := s.faults.CommitThenFail
	commitFail := ctf.N > 0 && strings.EqualFold(ctf.Method, method)
	if commitFail {
		s.faults.CommitThenFail.N--
	}
	s.fmu.Unlock()
	if commitFail {
		switch ctf.Mode {
		case "html":
			htmlPage(w, 504, "Gateway Time-out")
			return 504, true
		case "drop":
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					_ = conn.Close()
					return 0, true
				}
			}
			return 0, true
		default:
			writeJSON(w, 500, errf(500, "INTERNAL_SERVER_ERROR", "Internal server error").body())
			return 500, true
		}
	}
	if malformed {
		out = out[:len(out)/2]
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(200)
	_, _ = w.Write(out)
	return 200, true
}

func (s *Server) authenticate(r *http.Request, c *call, isHook bool, hookUser, hookCode string, f Faults) *restErr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if isHook {
		h := s.hooks[hookUser+"/"+hookCode]
		if h == nil || f.WebhookExpired || s.st.users[h.user] == nil {
			return errf(401, "NO_AUTH_FOUND", "Wrong authorization data")
		}
		if c.method == "event.bind" {
			return errf(400, "WRONG_AUTH_TYPE", "Current authorization type is denied for this method")
		}
		c.user, c.scopes = s.st.users[h.user], h.scopes
		return nil
	}
	tok := toStr(first(c.p.get("auth")))
	if tok == "" && f.AcceptBearer {
		tok = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	if tok == "" {
		return errf(401, "NO_AUTH_FOUND", "Wrong authorization data")
	}
	t := s.tokens[tok]
	switch {
	case t == nil || t.dead:
		if s.opts.BadTokenCode == "NO_AUTH_FOUND" {
			return errf(401, "NO_AUTH_FOUND", "Wrong authorization data")
		}
		return errf(401, "invalid_token", "The access token provided is invalid.")
	case !s.Clock.Now().Before(t.expires):
		return errf(401, "expired_token", "The access token provided has expired.")
	}
	u := s.st.users[t.user]
	if u == nil {
		return errf(401, "NO_AUTH_FOUND", "Wrong authorization data")
	}
	c.user, c.scopes = u, s.opts.Scopes
	return nil
}

func first(v any, _ bool) any { return v }

// spendToken takes one request from the leaky bucket.
func (s *Server) spendToken() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.Clock.Now()
	if el := now.Sub(s.bucketAt).Seconds(); el > 0 {
		s.bucket = math.Min(float64(s.opts.BucketBurst), s.bucket+el*s.opts.BucketRate)
	}
	s.bucketAt = now
	if s.bucket < 1 {
		return false
	}
	s.bucket--
	return true
}

// timeBlock is the envelope's "time"; it charges the method's operating time.
func (s *Server) timeBlock(start time.Time, method string) map[string]any {
	used, reset, _ := s.operating(method, true)
	fin := start.Add(50 * time.Millisecond)
	st := float64(start.UnixMicro()) / 1e6
	return map[string]any{
		"start": st, "finish": float64(fin.UnixMicro()) / 1e6, "duration": 0.0501, "processing": 0.0102,
		"date_start": start.Format(isoLayout), "date_finish": fin.Format(isoLayout),
		"operating_reset_at": reset.Unix(), "operating": used.Seconds(),
	}
}

// operating returns a method's execution time in the 10-minute window, when the
// window frees up, and whether the method is blocked; charge adds one call.
func (s *Server) operating(method string, charge bool) (used time.Duration, reset time.Time, blocked bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.Clock.Now()
	window := 10 * time.Minute
	es := s.opUse[method]
	for len(es) > 0 && !es[0].at.After(now.Add(-window)) {
		es = es[1:]
	}
	if charge {
		es = append(es, opEntry{at: now, cost: s.opts.Operating.CostPerCall})
	}
	s.opUse[method] = es
	for _, e := range es {
		used += e.cost
	}
	reset = now.Add(window)
	if len(es) > 0 {
		reset = es[0].at.Add(window)
	}
	return used, reset, used >= s.opts.Operating.Limit
}

// scopeFor names the scope a method needs ("" none).
func scopeFor(method string) []string {
	switch {
	case strings.HasPrefix(method, "user."):
		return []string{"user", "user_basic", "user_brief"}
	case strings.HasPrefix(method, "tasks.") || strings.HasPrefix(method, "task."):
		return []string{"task"}
	case strings.HasPrefix(method, "sonet_group."):
		return []string{"sonet_group"}
	case strings.HasPrefix(method, "socialnetwork."):
		return []string{"socialnetwork", "sonet_group"}
	}
	return nil
}

func hasScope(have []string, s string) bool {
	return slices.ContainsFunc(have, func(h string) bool { return strings.EqualFold(h, s) })
}

var methods = map[string]handler{
	"server.time":                      (*Server).mServerTime,
	"user.current":                     (*Server).mUserCurrent,
	"user.get":                         (*Server).mUserGet,
	"tasks.task.list":                  (*Server).mTaskList,
	"tasks.task.get":                   (*Server).mTaskGet,
	"sonet_group.get":                  (*Server).mSonetGroupGet,
	"socialnetwork.api.workgroup.list": (*Server).mWorkgroupList,
	"task.elapseditem.getlist":         (*Server).mElapsedList,
	"task.elapseditem.get":             (*Server).mElapsedGet,
	"task.elapseditem.add":             (*Server).mElapsedAdd,
	"task.elapseditem.update":          (*Server).mElapsedUpdate,
	"task.elapseditem.delete":          (*Server).mElapsedDelete,
	"task.elapseditem.isactionallowed": (*Server).mElapsedAllowed,
	"event.offline.list":               (*Server).mEventOffline,
	"event.offline.get":                (*Server).mEventOffline,
	"event.offline.clear":              (*Server).mEventOffline,
}

// exec runs one method with the state locked.
func (s *Server) exec(c *call) (reply, *restErr) {
	f := s.Faults()
	if f.MethodOff != "" && strings.EqualFold(f.MethodOff, c.method) {
		return reply{}, errf(404, "ERROR_METHOD_NOT_FOUND", "Method not found!")
	}
	h := methods[c.method]
	if h == nil {
		return reply{}, errf(404, "ERROR_METHOD_NOT_FOUND", "Method not found!")
	}
	if need := scopeFor(c.method); need != nil {
		ok := false
		for _, n := range need {
			ok = ok || hasScope(c.scopes, n)
		}
		if !ok {
			return reply{}, errf(403, "insufficient_scope", "The request requires higher privileges than provided by the access token")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return h(s, c)
}

var resultRef = regexp.MustCompile(`\$result\[([^\]]+)\]((?:\[[^\]]*\])*)`)

// batch runs up to BatchMax commands (spec §2.5); always 200.
func (s *Server) batch(c *call) (reply, *restErr) {
	cmdV, _ := c.p.get("cmd")
	cmds := toObj(cmdV)
	if cmds == nil && cmdV != nil {
		cmds = newObj()
	}
	if cmds == nil {
		return reply{}, errf(400, "ERROR_ARGUMENT", "Argument 'cmd' is null or empty")
	}
	if len(cmds.keys) > s.opts.BatchMax {
		return reply{}, errf(400, "ERROR_BATCH_LENGTH_EXCEEDED", "Max batch length exceeded")
	}
	halt := false
	if v, ok := c.p.get("halt"); ok {
		n, _ := toInt(v)
		halt = n != 0
	}
	results, errs, totals, nexts, times := map[string]any{}, map[string]any{}, map[string]any{}, map[string]any{}, map[string]any{}
	for _, key := range cmds.keys {
		raw := toStr(cmds.m[key])
		raw = resultRef.ReplaceAllStringFunc(raw, func(m string) string {
			sub := resultRef.FindStringSubmatch(m)
			v, ok := results[sub[1]]
			if !ok {
				return m
			}
			for _, seg := range splitPHPKey("x" + sub[2])[1:] {
				switch t := v.(type) {
				case map[string]any:
					v = t[seg]
				case []any:
					i, _ := strconv.Atoi(seg)
					if i < len(t) {
						v = t[i]
					} else {
						v = nil
					}
				default:
					v = nil
				}
			}
			return toStr(v)
		})
		name, query, _ := strings.Cut(raw, "?")
		name = strings.ToLower(strings.TrimSuffix(name, ".json"))
		if name == "batch" {
			return reply{}, errf(405, "ERROR_BATCH_METHOD_NOT_ALLOWED", "Method not allowed in batch")
		}
		q, err := parsePHPQuery(query)
		if err != nil {
			errs[key] = errf(400, "WRONG_ENCODING", "Wrong request encoding").body()
			continue
		}
		sub := &call{method: name, user: c.user, scopes: c.scopes, webhook: c.webhook, p: q}
		for _, k := range q.keys {
			if !reserved[strings.ToLower(k)] {
				sub.args = append(sub.args, q.m[k])
			}
		}
		if v, ok := q.get("start"); ok {
			sub.hasStart = true
			sub.start, _ = toInt(v)
		}
		t0 := s.now()
		rep, rerr := s.exec(sub)
		if rerr != nil {
			errs[key] = rerr.body()
			if halt {
				break
			}
			continue
		}
		results[key] = rep.result
		if rep.hasTotal {
			totals[key] = rep.total
		}
		if rep.hasNext {
			nexts[key] = rep.next
		}
		tb := s.timeBlock(t0, name)
		delete(tb, "operating_reset_at")
		times[key] = tb
	}
	empty := func(m map[string]any) any {
		if len(m) == 0 {
			return []any{}
		}
		return m
	}
	return reply{result: map[string]any{"result": empty(results), "result_error": empty(errs),
		"result_total": empty(totals), "result_next": empty(nexts), "result_time": empty(times)}}, nil
}

// page cuts rows for offset paging (spec §2.4) and fills total/next.
func (s *Server) page(c *call, n int, shift bool) (lo, hi int, rep reply) {
	size := s.opts.PageSize
	if c.hasStart && c.start == -1 {
		if s.opts.StartMinusOneTotal == "zero" {
			rep.hasTotal = true
		}
		return 0, min(n, size), rep
	}
	start := max(c.start, 0)
	start = start / size * size
	if shift && start > 0 && s.Faults().ShiftBetweenPages {
		start += start / size // rows left earlier pages: each later page skips one
	}
	lo, hi = min(start, n), min(start+size, n)
	rep.hasTotal, rep.total = true, n
	if next := start + (hi - lo); hi < n {
		rep.hasNext, rep.next = true, next
	}
	return lo, hi, rep
}
