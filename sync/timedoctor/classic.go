package timedoctor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/timebridge/timebridge/sync/connector"
	"github.com/timebridge/timebridge/sync/connector/rest"
)

// DefaultClassicBaseURL is the Classic (v1.1) API host.
const DefaultClassicBaseURL = "https://webapi.timedoctor.com"

// ClassicToken is a Classic OAuth 2 pair. Both tokens are secrets.
type ClassicToken struct {
	Access, Refresh string
	Expiry          time.Time
}

// LogValue keeps the tokens out of logs.
func (t ClassicToken) LogValue() slog.Value {
	return slog.GroupValue(slog.String("access", "[redacted]"), slog.Time("expiry", t.Expiry))
}

// ClassicConfig configures a Classic client. Zero fields take the defaults shown.
type ClassicConfig struct {
	// BaseURL, with or without /v1.1; default DefaultClassicBaseURL (http only on loopback).
	BaseURL                string
	ClientID, ClientSecret string
	RedirectURI            string // the registered redirect URI (loopback)
	Token                  ClassicToken
	// SaveToken stores a new pair (refresh tokens rotate). It is called before the
	// new access token is used; an error stops the call.
	SaveToken func(ClassicToken) error
	Company   string // company id; "" takes the user's company
	HTTP      *http.Client
	Now       func() time.Time
	Logger    *slog.Logger
	UserAgent string
	Pacer     rest.PacerConfig // as Config
	Timeout   time.Duration
	// MaxRetryAfter as in Config.
	MaxRetryAfter time.Duration
	MaxTaskName   int // default 100
	// TaskLink gives task_link (the Bitrix24 URL) of a new task; nil: empty.
	TaskLink func(sourceID string) string
}

// Classic is a connector.Tracker for Time Doctor Classic (v1.1). Tasks belong to
// one user; time comes from /worklogs with naive times read in the company zone.
type Classic struct {
	cfg   ClassicConfig
	base  string
	pacer *rest.Pacer
	log   *slog.Logger

	tokens *rest.Refresher[ClassicToken] // single-flight refresh, stored before use
	mu     sync.Mutex
	dead   bool
	me     *classicMe
}

type classicMe struct {
	user    connector.User
	company string
	zone    *time.Location
}

// NewClassic builds a Classic client.
func NewClassic(cfg ClassicConfig) (*Classic, error) {
	if strings.TrimSpace(cfg.BaseURL) == "" {
		cfg.BaseURL = DefaultClassicBaseURL
	}
	base, err := normalizeBase(strings.TrimSuffix(strings.TrimRight(strings.TrimSpace(cfg.BaseURL), "/"), "/v1.1"))
	if err != nil {
		return nil, err
	}
	tmp, _ := New(Config{BaseURL: base, HTTP: cfg.HTTP, Now: cfg.Now, Logger: cfg.Logger, UserAgent: cfg.UserAgent,
		Pacer: cfg.Pacer, Timeout: cfg.Timeout, MaxRetryAfter: cfg.MaxRetryAfter, MaxTaskName: cfg.MaxTaskName})
	d := tmp.cfg
	cfg.HTTP, cfg.Now, cfg.UserAgent, cfg.Pacer, cfg.Timeout, cfg.MaxRetryAfter, cfg.MaxTaskName =
		d.HTTP, d.Now, d.UserAgent, d.Pacer, d.Timeout, d.MaxRetryAfter, d.MaxTaskName
	return &Classic{cfg: cfg, base: base, pacer: tmp.pacer, log: tmp.log.With("edition", "classic"),
		tokens: rest.NewRefresher(cfg.Token, func(t ClassicToken) string { return t.Access })}, nil
}

// AuthCodeURL is the browser URL of the authorization-code flow.
func (c *Classic) AuthCodeURL(state string) string {
	q := url.Values{"client_id": {c.cfg.ClientID}, "response_type": {"code"}, "state": {state}, "redirect_uri": {c.cfg.RedirectURI}}
	return c.base + "/oauth/v2/auth?" + q.Encode()
}

// CodeFromCallback checks the redirect's state and error and returns the code.
func CodeFromCallback(callback *url.URL, state string) (string, error) {
	q := callback.Query()
	if e := q.Get("error"); e != "" {
		return "", &connector.APIError{Service: service, Op: "authorize", Code: e, Message: q.Get("error_description"), Kind: connector.ErrUnauthorized}
	}
	if q.Get("state") != state || state == "" {
		return "", &connector.APIError{Service: service, Op: "authorize", Message: "the sign-in reply does not match the request (state)", Kind: connector.ErrUnauthorized}
	}
	if q.Get("code") == "" {
		return "", &connector.APIError{Service: service, Op: "authorize", Message: "the sign-in reply has no code", Kind: connector.ErrUnauthorized}
	}
	return q.Get("code"), nil
}

// Exchange trades an authorization code for a pair, saves it and starts using it.
func (c *Classic) Exchange(ctx context.Context, code string) (ClassicToken, error) {
	t, err := c.grant(ctx, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {c.cfg.RedirectURI}})
	if err == nil {
		c.tokens.Set(t)
	}
	return t, err
}

// grant calls the token route (GET with query, as Classic clients do) and saves
// the new pair before it returns.
func (c *Classic) grant(ctx context.Context, q url.Values) (ClassicToken, error) {
	q.Set("client_id", c.cfg.ClientID)
	q.Set("client_secret", c.cfg.ClientSecret)
	rq := classicReq{method: http.MethodGet, path: "/oauth/v2/token", query: q, noAuth: true}
	var out struct {
		AccessToken  string  `json:"access_token"`
		RefreshToken string  `json:"refresh_token"`
		ExpiresIn    flexInt `json:"expires_in"`
	}
	body, err := c.paced(ctx, rq)
	if err != nil {
		var ae *connector.APIError
		if errors.As(err, &ae) && ae.Status == http.StatusBadRequest {
			ae.Kind = connector.ErrUnauthorized
		}
		return ClassicToken{}, err
	}
	if err := json.Unmarshal(body, &out); err != nil || out.AccessToken == "" {
		return ClassicToken{}, rest.Malformed(service, "GET /oauth/v2/token", http.StatusOK, nil, errors.New("no access token"))
	}
	t := ClassicToken{Access: out.AccessToken, Refresh: out.RefreshToken, Expiry: c.cfg.Now().Add(time.Duration(out.ExpiresIn) * time.Second)}
	if c.cfg.SaveToken != nil {
		if err := c.cfg.SaveToken(t); err != nil {
			return ClassicToken{}, fmt.Errorf("store the Time Doctor sign-in: %w", err)
		}
	}
	c.mu.Lock()
	c.dead = false
	c.mu.Unlock()
	return t, nil
}

// refresh renews the pair once for all callers that saw stale fail.
func (c *Classic) refresh(ctx context.Context, stale string) error {
	_, err := c.tokens.Refresh(ctx, stale, func(ctx context.Context, old ClassicToken) (ClassicToken, error) {
		if old.Refresh == "" {
			return ClassicToken{}, &connector.APIError{Service: service, Op: "refresh", Message: "no refresh token", Kind: connector.ErrUnauthorized}
		}
		return c.grant(ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {old.Refresh}})
	})
	return err
}

type classicReq struct {
	method, path string
	query        url.Values
	body         any
	retry        bool
	noAuth       bool
}

func (c *Classic) call(ctx context.Context, rq classicReq, out any) error {
	c.mu.Lock()
	dead := c.dead
	c.mu.Unlock()
	if dead {
		return &connector.APIError{Service: service, Op: rq.method + " " + rq.path, Message: "the Time Doctor sign-in is no longer valid", Kind: connector.ErrUnauthorized}
	}
	body, err := c.paced(ctx, rq)
	if errors.Is(err, connector.ErrUnauthorized) {
		stale := c.tokens.Current().Access
		if rerr := c.refresh(ctx, stale); rerr != nil {
			c.mu.Lock()
			c.dead = true
			c.mu.Unlock()
			return rerr
		}
		body, err = c.paced(ctx, rq)
		if errors.Is(err, connector.ErrUnauthorized) {
			c.mu.Lock()
			c.dead = true
			c.mu.Unlock()
		}
	}
	if err != nil || out == nil {
		return err
	}
	if err := json.Unmarshal(body, out); err != nil {
		return rest.Malformed(service, rq.method+" "+rq.path, http.StatusOK, body, err)
	}
	return nil
}

func (c *Classic) paced(ctx context.Context, rq classicReq) ([]byte, error) {
	var body []byte
	err := c.pacer.Call(ctx, func() (bool, error) {
		var retry bool
		var err error
		body, retry, err = c.once(ctx, rq)
		return retry, err
	})
	var ra *rest.RetryAfterError
	if errors.As(err, &ra) {
		err = ra.Err
	}
	return body, err
}

func (c *Classic) once(ctx context.Context, rq classicReq) ([]byte, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	op := rq.method + " " + rq.path
	u := c.base + rq.path
	if len(rq.query) > 0 {
		u += "?" + rq.query.Encode()
	}
	var body io.Reader
	if rq.body != nil {
		b, err := json.Marshal(rq.body)
		if err != nil {
			return nil, false, &connector.APIError{Service: service, Op: op, Kind: connector.ErrInvalid, Err: err}
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, rq.method, u, body)
	if err != nil {
		return nil, false, &connector.APIError{Service: service, Op: op, Kind: connector.ErrInvalid, Err: redactClassic(err)}
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	if !rq.noAuth {
		req.Header.Set("Authorization", "Bearer "+c.tokens.Current().Access)
	}
	resp, data, err := rest.Do(c.cfg.HTTP, req, service, op, 0)
	if err != nil {
		err = redactClassic(err)
		var ae *connector.APIError
		if errors.As(err, &ae) {
			ae.Err = redactClassic(ae.Err)
		}
		return nil, rq.retry && ctx.Err() == nil, err
	}
	var e struct {
		Error       json.RawMessage `json:"error"`
		Description flexString      `json:"error_description"`
		Message     flexString      `json:"message"`
	}
	_ = json.Unmarshal(data, &e)
	code, msg := rawText(e.Error), cmpOr(string(e.Description), string(e.Message))
	st := resp.StatusCode
	switch {
	case st == http.StatusTooManyRequests:
		after := rest.ParseRetryAfter(resp.Header, c.cfg.Now())
		if after <= 0 {
			after = 5 * time.Second
		}
		aerr := &connector.APIError{Service: service, Op: op, Status: st, Code: code, Message: msg, Kind: connector.ErrRateLimited}
		if after > c.cfg.MaxRetryAfter {
			return nil, false, aerr
		}
		return nil, true, &rest.RetryAfterError{After: after, Err: aerr}
	case st >= 500:
		return nil, rq.retry, &connector.APIError{Service: service, Op: op, Status: st, Code: code, Message: msg, Kind: connector.ErrTransient}
	case st >= 400:
		return nil, false, &connector.APIError{Service: service, Op: op, Status: st, Code: code, Message: msg, Kind: rest.KindForStatus(st)}
	}
	if rest.IsHTML(resp, data) || !json.Valid(data) {
		return nil, rq.retry, rest.Malformed(service, op, st, data, errors.New("not JSON"))
	}
	return data, false, nil
}

func redactClassic(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			q := u.Query()
			for _, k := range []string{"access_token", "refresh_token", "client_secret", "code"} {
				if q.Has(k) {
					q.Set(k, "REDACTED")
				}
			}
			u.RawQuery = q.Encode()
			ue.URL = u.String()
		} else {
			ue.URL = "[url redacted]"
		}
	}
	return err
}

// Name is "timedoctor".
func (c *Classic) Name() string { return connector.TrackerTimeDoctor }

// Features: Classic creates, renames, moves and (de)activates the user's own
// tasks (each change read back); no shared assignees.
func (c *Classic) Features() connector.Features {
	return connector.Features{CreateProject: true, CreateTask: true, RenameTask: true, MoveTask: true,
		DeactivateTask: true, ReactivateTask: true}
}

func (c *Classic) self(ctx context.Context) (classicMe, error) {
	c.mu.Lock()
	me := c.me
	c.mu.Unlock()
	if me != nil {
		return *me, nil
	}
	var out struct {
		User struct {
			FullName  flexString `json:"full_name"`
			Email     flexString `json:"email"`
			UserID    flexString `json:"user_id"`
			CompanyID flexString `json:"company_id"`
		} `json:"user"`
		Accounts []struct {
			UserID    flexString `json:"user_id"`
			CompanyID flexString `json:"company_id"`
			Zone      flexString `json:"company_time_zone"`
		} `json:"accounts"`
	}
	if err := c.call(ctx, classicReq{method: http.MethodGet, path: "/v1.1/companies", retry: true}, &out); err != nil {
		return classicMe{}, fmt.Errorf("check the Time Doctor sign-in: %w", err)
	}
	m := classicMe{user: connector.User{ID: string(out.User.UserID), Name: string(out.User.FullName), Email: string(out.User.Email)},
		company: cmpOr(c.cfg.Company, string(out.User.CompanyID)), zone: time.UTC}
	for _, a := range out.Accounts {
		if string(a.CompanyID) == m.company {
			if loc, err := time.LoadLocation(string(a.Zone)); err == nil && a.Zone != "" {
				m.zone = loc
			}
			if a.UserID != "" {
				m.user.ID = string(a.UserID)
			}
		}
	}
	if m.user.ID == "" || m.company == "" {
		return classicMe{}, rest.Malformed(service, "GET /v1.1/companies", http.StatusOK, nil, errors.New("no user or company id"))
	}
	c.mu.Lock()
	c.me = &m
	c.mu.Unlock()
	return m, nil
}

// Me is the signed-in user.
func (c *Classic) Me(ctx context.Context) (connector.User, error) {
	m, err := c.self(ctx)
	return m.user, err
}

// Users lists the company's active users the user may see.
func (c *Classic) Users(ctx context.Context) ([]connector.User, error) {
	m, err := c.self(ctx)
	if err != nil {
		return nil, err
	}
	var out struct {
		Users []struct {
			ID       flexString `json:"id"`
			UserID   flexString `json:"user_id"`
			FullName flexString `json:"full_name"`
			Email    flexString `json:"email"`
			Status   flexString `json:"status"`
		} `json:"users"`
	}
	err = c.call(ctx, classicReq{method: http.MethodGet, path: "/v1.1/companies/" + url.PathEscape(m.company) + "/users", retry: true}, &out)
	if errors.Is(err, connector.ErrForbidden) {
		return []connector.User{m.user}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list Time Doctor users: %w", err)
	}
	var users []connector.User
	self := false
	for _, u := range out.Users {
		if strings.EqualFold(string(u.Status), "deactivated") {
			continue
		}
		id := cmpOr(string(u.UserID), string(u.ID))
		self = self || id == m.user.ID
		users = append(users, connector.User{ID: id, Name: string(u.FullName), Email: strings.TrimSpace(string(u.Email))})
	}
	if !self {
		users = append(users, m.user)
	}
	return users, nil
}

func (c *Classic) userPath(m classicMe, rest string) string {
	return "/v1.1/companies/" + url.PathEscape(m.company) + "/users/" + url.PathEscape(m.user.ID) + rest
}

// classicLimit is the page size of Classic lists.
const classicLimit = 100

// pages walks an offset-paged Classic list from offset 0, advancing by the rows
// received (right for servers counting from 0 or 1; the caller dedupes by id)
// until a page is shorter than the limit.
func (c *Classic) pages(ctx context.Context, path string, q url.Values, limit int, each func(body []byte) (int, error)) error {
	for offset, i := 0, 0; i < maxPages; i++ {
		q2 := url.Values{}
		for k, v := range q {
			q2[k] = v
		}
		q2.Set("offset", strconv.Itoa(offset))
		q2.Set("limit", strconv.Itoa(limit))
		var raw json.RawMessage
		if err := c.call(ctx, classicReq{method: http.MethodGet, path: path, query: q2, retry: true}, &raw); err != nil {
			return err
		}
		n, err := each(raw)
		if err != nil {
			return rest.Malformed(service, "GET "+path, http.StatusOK, raw, err)
		}
		if n < limit {
			return nil
		}
		offset += n
	}
	return &connector.APIError{Service: service, Op: "GET " + path, Message: "too many pages", Kind: connector.ErrTransient}
}

type classicProject struct {
	ID       flexString `json:"project_id"`
	Name     flexString `json:"project_name"`
	Archived flexBool   `json:"archived"`
}

// FindProject matches like the TD2 client: exact, else unique case-insensitive;
// archived projects never match.
func (c *Classic) FindProject(ctx context.Context, name string) (connector.Project, error) {
	m, err := c.self(ctx)
	if err != nil {
		return connector.Project{}, err
	}
	want := strings.TrimSpace(name)
	seen := map[string]bool{}
	var exact, fold []classicProject
	archived := false
	err = c.pages(ctx, c.userPath(m, "/projects"), url.Values{"all": {"1"}}, classicLimit, func(b []byte) (int, error) {
		var page struct {
			Projects []classicProject `json:"projects"`
		}
		if err := json.Unmarshal(b, &page); err != nil {
			return 0, err
		}
		for _, p := range page.Projects {
			have := strings.TrimSpace(string(p.Name))
			if seen[string(p.ID)] || !strings.EqualFold(have, want) {
				continue
			}
			seen[string(p.ID)] = true
			switch {
			case bool(p.Archived):
				archived = true
			case have == want:
				exact = append(exact, p)
				fold = append(fold, p)
			default:
				fold = append(fold, p)
			}
		}
		return len(page.Projects), nil
	})
	if err != nil {
		return connector.Project{}, fmt.Errorf("find Time Doctor project %q: %w", want, err)
	}
	return pickProject(want, exact, fold, archived, func(p classicProject) (string, string) { return string(p.ID), string(p.Name) })
}

// CreateProject creates a project assigned to the user, then finds it by name
// (the reply's shape is not known).
func (c *Classic) CreateProject(ctx context.Context, name string) (connector.Project, error) {
	m, err := c.self(ctx)
	if err != nil {
		return connector.Project{}, err
	}
	name = strings.TrimSpace(name)
	err = c.call(ctx, classicReq{method: http.MethodPost, path: c.userPath(m, "/projects"),
		body: map[string]any{"assign_users": m.user.ID, "project": map[string]any{"name": name}}}, nil)
	if errors.Is(err, connector.ErrForbidden) {
		return connector.Project{}, &connector.APIError{Service: service, Op: "POST projects", Status: http.StatusForbidden, Kind: connector.ErrForbidden,
			Message: fmt.Sprintf("Time Doctor does not let you create projects — ask an admin to allow it or create '%s'", name)}
	}
	if err != nil && !connector.Retryable(err) {
		return connector.Project{}, fmt.Errorf("create Time Doctor project %q: %w", name, err)
	}
	p, ferr := c.FindProject(ctx, name)
	if ferr != nil && err != nil {
		return connector.Project{}, fmt.Errorf("create Time Doctor project %q: %w", name, err)
	}
	return p, ferr
}

type classicTask struct {
	ID        flexString `json:"task_id"`
	ProjectID flexString `json:"project_id"`
	Name      flexString `json:"task_name"`
	Active    optBool    `json:"active"`
	Status    flexString `json:"status"`
	Link      flexString `json:"task_link"`
}

func (t classicTask) active() bool {
	if t.Active.Set {
		return t.Active.V
	}
	return !strings.EqualFold(string(t.Status), "inactive")
}

// lessID orders decimal ids numerically without parsing them.
func lessID(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// FindTasks lists the user's tasks carrying the marker, smallest id first.
func (c *Classic) FindTasks(ctx context.Context, sourceID string) ([]connector.TrackerTask, error) {
	m, err := c.self(ctx)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []connector.TrackerTask
	err = c.pages(ctx, c.userPath(m, "/tasks"), url.Values{"status": {"all"}, "latest_first": {"0"}}, classicLimit, func(b []byte) (int, error) {
		var page struct {
			Tasks []classicTask `json:"tasks"`
		}
		if err := json.Unmarshal(b, &page); err != nil {
			return 0, err
		}
		for _, t := range page.Tasks {
			if id, ok := connector.ParseTaskMarker(string(t.Name)); ok && id == sourceID && !seen[string(t.ID)] {
				seen[string(t.ID)] = true
				out = append(out, connector.TrackerTask{ID: string(t.ID), ProjectID: string(t.ProjectID), Name: string(t.Name), Active: t.active()})
			}
		}
		return len(page.Tasks), nil
	})
	if err != nil {
		return nil, fmt.Errorf("find Time Doctor tasks of Bitrix24 task %s: %w", sourceID, err)
	}
	sort.SliceStable(out, func(i, j int) bool { return lessID(out[i].ID, out[j].ID) })
	return out, nil
}

// numeric sends a decimal id as a JSON number, anything else as a string.
func numeric(id string) any {
	if _, err := strconv.ParseInt(id, 10, 64); err == nil {
		return json.Number(id)
	}
	return id
}

// CreateTask creates the user's task; without a task id in the reply (or after
// a lost reply) it finds the newest task with this name by marker.
func (c *Classic) CreateTask(ctx context.Context, t connector.TrackerTask) (connector.TrackerTask, error) {
	m, err := c.self(ctx)
	if err != nil {
		return connector.TrackerTask{}, err
	}
	name, sourceID, err := shortName(t.Name, c.cfg.MaxTaskName)
	if err != nil {
		return connector.TrackerTask{}, err
	}
	link := ""
	if c.cfg.TaskLink != nil {
		link = c.cfg.TaskLink(sourceID)
	}
	var out struct {
		TaskID flexString `json:"task_id"`
		ID     flexString `json:"id"`
	}
	err = c.call(ctx, classicReq{method: http.MethodPost, path: c.userPath(m, "/tasks"), body: map[string]any{"task": map[string]any{
		"task_name": name, "project_id": numeric(t.ProjectID), "task_link": link, "user_id": numeric(m.user.ID)}}}, &out)
	switch {
	case errors.Is(err, connector.ErrForbidden):
		return connector.TrackerTask{}, &connector.APIError{Service: service, Op: "POST tasks", Status: http.StatusForbidden, Kind: connector.ErrForbidden,
			Message: fmt.Sprintf("Time Doctor does not let you create tasks in project %s — ask an admin to allow it or create %q", t.ProjectID, name)}
	case err == nil && cmpOr(string(out.TaskID), string(out.ID)) != "":
		return connector.TrackerTask{ID: cmpOr(string(out.TaskID), string(out.ID)), ProjectID: t.ProjectID, Name: name, Active: true}, nil
	case err != nil && !connector.Retryable(err):
		return connector.TrackerTask{}, fmt.Errorf("create Time Doctor task %q: %w", name, err)
	}
	found, ferr := c.FindTasks(ctx, sourceID)
	if ferr == nil {
		for i := len(found) - 1; i >= 0; i-- {
			if found[i].ProjectID == t.ProjectID && found[i].Name == name {
				return found[i], nil
			}
		}
	}
	if err == nil {
		err = errors.Join(ferr, &connector.APIError{Service: service, Op: "POST tasks", Message: "the new task was not found", Kind: connector.ErrTransient})
	}
	return connector.TrackerTask{}, fmt.Errorf("create Time Doctor task %q: %w", name, err)
}

func (c *Classic) getTask(ctx context.Context, m classicMe, id string) (classicTask, error) {
	var t classicTask
	err := c.call(ctx, classicReq{method: http.MethodGet, path: c.userPath(m, "/tasks/"+url.PathEscape(id)), retry: true}, &t)
	if err == nil && t.ID == "" {
		t.ID = flexString(id)
	}
	return t, err
}

// UpdateTask renames, moves and (de)activates by PUT, then reads the task back.
func (c *Classic) UpdateTask(ctx context.Context, t connector.TrackerTask) error {
	m, err := c.self(ctx)
	if err != nil {
		return err
	}
	cur, err := c.getTask(ctx, m, t.ID)
	if err != nil {
		return fmt.Errorf("read Time Doctor task %s: %w", t.ID, err)
	}
	body := map[string]any{}
	name := string(cur.Name)
	if t.Name != "" && t.Name != name {
		if name, _, err = shortName(t.Name, c.cfg.MaxTaskName); err != nil {
			return err
		}
		body["task_name"] = name
	}
	if t.ProjectID != "" && t.ProjectID != string(cur.ProjectID) {
		body["project_id"] = numeric(t.ProjectID)
	}
	if t.Active != cur.active() {
		body["active"] = t.Active
	}
	if len(body) == 0 {
		return nil
	}
	if err := c.call(ctx, classicReq{method: http.MethodPut, path: c.userPath(m, "/tasks/"+url.PathEscape(t.ID)),
		body: map[string]any{"task": body}, retry: true}, nil); err != nil {
		return fmt.Errorf("update Time Doctor task %s: %w", t.ID, err)
	}
	got, err := c.getTask(ctx, m, t.ID)
	if err != nil {
		return fmt.Errorf("read back Time Doctor task %s: %w", t.ID, err)
	}
	if _, ok := body["project_id"]; ok && string(got.ProjectID) != t.ProjectID {
		return &connector.APIError{Service: service, Op: "move task", Kind: connector.ErrUnsupported,
			Message: fmt.Sprintf("Time Doctor did not move task %s; create it anew", t.ID)}
	}
	if got.active() != t.Active {
		return &connector.APIError{Service: service, Op: "deactivate task", Kind: connector.ErrUnsupported,
			Message: fmt.Sprintf("Time Doctor kept the task unchanged: change '%s' in Time Doctor", name)}
	}
	return nil
}

// DayTotals reads /worklogs (consolidated=0, the user only) in ≤ 7-day date
// ranges covering the span ±1 day in the company zone, dedupes rows by id, reads
// naive times in the company zone and splits at local midnights of span.Zone.
func (c *Classic) DayTotals(ctx context.Context, span connector.DaySpan) (connector.DayTotals, error) {
	zone := span.Zone
	if zone == nil {
		zone = time.UTC
	}
	m, err := c.self(ctx)
	if err != nil {
		return connector.DayTotals{}, err
	}
	from, end := span.Instants()
	first := connector.DayOf(from, m.zone).AddDays(-1)
	last := connector.DayOf(end, m.zone).AddDays(1)
	seen := map[string]bool{}
	type dayKey struct {
		task string
		day  connector.Day
	}
	sums := map[dayKey]int64{}
	var out connector.DayTotals
	for d := first; !d.After(last); d = d.AddDays(7) {
		to := d.AddDays(6)
		if to.After(last) {
			to = last
		}
		q := url.Values{"start_date": {d.String()}, "end_date": {to.String()}, "user_ids": {m.user.ID}, "consolidated": {"0"}}
		err := c.pages(ctx, "/v1.1/companies/"+url.PathEscape(m.company)+"/worklogs", q, 250, func(b []byte) (int, error) {
			var page struct {
				Worklogs struct {
					Items []struct {
						ID     flexString `json:"id"`
						Length flexInt    `json:"length"`
						UserID flexString `json:"user_id"`
						TaskID flexString `json:"task_id"`
						Start  flexString `json:"start_time"`
					} `json:"items"`
				} `json:"worklogs"`
			}
			if err := json.Unmarshal(b, &page); err != nil {
				return 0, err
			}
			for _, it := range page.Worklogs.Items {
				if string(it.UserID) != m.user.ID || seen[string(it.ID)] {
					continue
				}
				seen[string(it.ID)] = true
				start, err := time.ParseInLocation("2006-01-02 15:04:05", strings.TrimSpace(string(it.Start)), m.zone)
				if err != nil {
					return 0, fmt.Errorf("row start %q: %w", string(it.Start), err)
				}
				s, e := start, start.Add(time.Duration(it.Length)*time.Second)
				s, e = maxTime(s, from), minTime(e, end)
				if !e.After(s) {
					continue
				}
				task := string(it.TaskID)
				for _, part := range connector.SplitAtMidnights(s, e.Sub(s), zone) {
					if task == "" || task == "0" {
						out.Unassigned += part.Seconds
					} else {
						sums[dayKey{task, part.Day}] += part.Seconds
					}
				}
			}
			return len(page.Worklogs.Items), nil
		})
		if err != nil {
			return connector.DayTotals{}, fmt.Errorf("read Time Doctor worklogs %s…%s: %w", d, to, err)
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
		return lessID(a.TaskID, b.TaskID)
	})
	return out, nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

var _ connector.Tracker = (*Classic)(nil)
