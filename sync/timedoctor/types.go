package timedoctor

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// Wire structs, exactly as TD2 sends them. Blank values come as null or "" and
// are treated as missing; unknown fields are ignored; ids are never parsed.

// envelope is every TD2 reply: {"data": …, "paging": …} or {"error", "message"}.
type envelope struct {
	Data    json.RawMessage `json:"data"`
	Paging  *paging         `json:"paging"`
	Error   json.RawMessage `json:"error"`
	Message flexString      `json:"message"`
	API     string          `json:"api"`
}

// errorCode returns the "error" member as text ("" when absent or null).
func (e *envelope) errorCode() string { return rawText(e.Error) }

type paging struct {
	Cur        flexString `json:"cur"`
	Next       flexString `json:"next"`
	Limit      flexInt    `json:"limit"`
	TotalCount flexInt    `json:"totalCount"`
}

// flexString accepts a JSON string, number, bool or null.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	*f = flexString(rawText(b))
	return nil
}

// rawText is a JSON scalar as text; objects and arrays stay raw; null is "".
func rawText(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		return ""
	}
	if b[0] == '"' {
		var s string
		if json.Unmarshal(b, &s) == nil {
			return s
		}
	}
	return string(b)
}

// flexInt accepts a number, a numeric string, "" or null.
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(rawText(b))
	if s == "" {
		*f = 0
		return nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		*f = flexInt(n)
		return nil
	}
	x, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return err
	}
	*f = flexInt(x)
	return nil
}

// flexBool accepts true/false, 1/0, "true"/"1", "" and null (false).
type flexBool bool

func (f *flexBool) UnmarshalJSON(b []byte) error {
	switch strings.ToLower(strings.TrimSpace(rawText(b))) {
	case "true", "1", "yes":
		*f = true
	default:
		*f = false
	}
	return nil
}

// optBool is a flexBool that remembers whether it was sent.
type optBool struct {
	Set, V bool
}

func (o *optBool) UnmarshalJSON(b []byte) error {
	var f flexBool
	if err := f.UnmarshalJSON(b); err != nil {
		return err
	}
	o.Set = rawText(b) != ""
	o.V = bool(f)
	return nil
}

// parseInstant reads a TD2 instant ("…T07:47:35.405Z"; offsets tolerated).
func parseInstant(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// formatInstant writes a UTC instant with Z and milliseconds.
func formatInstant(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

type wireCompany struct {
	ID              flexString `json:"id"`
	Name            flexString `json:"name"`
	Role            flexString `json:"role"`
	CompanyTimezone flexString `json:"companyTimezone"`
	Timezone        flexString `json:"timezone"`
	UserCount       flexInt    `json:"userCount"`
}

type wireLogin struct {
	Status    flexString    `json:"status"`
	Token     flexString    `json:"token"`
	ExpiresAt flexString    `json:"expiresAt"`
	Expires   flexString    `json:"expires"`
	CreatedAt flexString    `json:"createdAt"`
	ID        flexString    `json:"id"`
	Name      flexString    `json:"name"`
	Email     flexString    `json:"email"`
	Companies []wireCompany `json:"companies"`
}

type wireAuthorization struct {
	ID        flexString    `json:"id"`
	Name      flexString    `json:"name"`
	Email     flexString    `json:"email"`
	Timezone  flexString    `json:"timezone"`
	Companies []wireCompany `json:"companies"`
}

type wireUser struct {
	ID              flexString `json:"id"`
	Name            flexString `json:"name"`
	Email           flexString `json:"email"`
	Role            flexString `json:"role"`
	Active          optBool    `json:"active"`
	Status          flexString `json:"status"`
	Timezone        flexString `json:"timezone"`
	ProfileTimezone flexString `json:"profileTimezone"`
}

func (u wireUser) archived() bool {
	if u.Active.Set && !u.Active.V {
		return true
	}
	switch strings.ToLower(string(u.Status)) {
	case "archived", "deleted", "inactive", "deactivated":
		return true
	}
	return false
}

type wireProject struct {
	ID          flexString `json:"id"`
	Name        flexString `json:"name"`
	Description flexString `json:"description"`
	Deleted     flexBool   `json:"deleted"`
}

type wireRef struct {
	ID     flexString `json:"id"`
	Weight flexInt    `json:"weight"`
}

type wireTask struct {
	ID          flexString `json:"id"`
	Name        flexString `json:"name"`
	Description flexString `json:"description"`
	Project     *wireRef   `json:"project"`
	ProjectID   flexString `json:"projectId"`
	Status      flexString `json:"status"`
	Deleted     flexBool   `json:"deleted"`
}

func (t wireTask) projectID() string {
	if t.Project != nil && t.Project.ID != "" {
		return string(t.Project.ID)
	}
	return string(t.ProjectID)
}

func (t wireTask) closed() bool {
	switch strings.ToLower(string(t.Status)) {
	case "closed", "done", "completed", "inactive":
		return true
	}
	return false
}

func (t wireTask) active() bool { return !bool(t.Deleted) && !t.closed() }

// taskWrite is the body of POST and PUT /tasks.
type taskWrite struct {
	Project     *taskProject `json:"project,omitempty"`
	Name        string       `json:"name,omitempty"`
	Description *string      `json:"description,omitempty"`
	Status      string       `json:"status,omitempty"`
	Deleted     *bool        `json:"deleted,omitempty"`
}

type taskProject struct {
	ID     string `json:"id"`
	Weight int    `json:"weight"`
}

type wireRow struct {
	Start     flexString `json:"start"`
	Time      flexInt    `json:"time"`
	Mode      flexString `json:"mode"`
	UserID    flexString `json:"userId"`
	TaskID    flexString `json:"taskId"`
	ProjectID flexString `json:"projectId"`
}
