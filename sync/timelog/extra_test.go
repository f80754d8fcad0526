package timelog

import (
	"errors"
	"strings"
	"testing"

	"github.com/timebridge/timebridge/sync/connector"
	"github.com/timebridge/timebridge/sync/timelog/timelogtest"
)

func TestEmptyCommentIsTaskTitle(t *testing.T) {
	e := newEnv(t, timelogtest.Options{CommentMandatory: true})
	tk := e.task("Fix login", "8812")
	r := reg(t, tk, "c", "2026-06-03", 3600)
	r.Comment = ""
	got, err := e.c.UpsertRegistration(e.ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if row, _ := e.srv.Registration(r.GUID); row.Comment != "Fix login" || got.Comment != "Fix login" {
		t.Fatalf("comment %q / %q, want the task title", row.Comment, got.Comment)
	}
	long := reg(t, tk, "l", "2026-06-03", 60)
	long.Comment = strings.Repeat("ä", 300)
	if _, err := e.c.UpsertRegistration(e.ctx, long); err != nil {
		t.Fatal(err)
	}
	if row, _ := e.srv.Registration(long.GUID); len([]rune(row.Comment)) != MaxComment {
		t.Fatalf("comment of %d runes, want %d", len([]rune(row.Comment)), MaxComment)
	}
}

func TestRegistrationByIDConfirmsDelete(t *testing.T) {
	e := newEnv(t, timelogtest.Options{})
	tk := e.task("Moved", "1")
	row := e.srv.AddRegistration(timelogtest.Registration{TaskID: tk.TaskID, Date: "2026-06-03", Hours: 1})
	// Moved out of the window by a person: still there by id.
	e.srv.EditRegistration(row.TimeRegistrationID, 0, func(r *timelogtest.Registration) { r.Date = "2026-07-01" })
	got, err := e.c.RegistrationByID(e.ctx, itoa(row.TimeRegistrationID))
	if err != nil || got.Day.String() != "2026-07-01" || got.GUID != row.GUID {
		t.Fatalf("moved row: %+v, %v", got, err)
	}
	e.srv.DeleteRegistrationUI(row.TimeRegistrationID)
	if _, err := e.c.RegistrationByID(e.ctx, itoa(row.TimeRegistrationID)); !errors.Is(err, connector.ErrNotFound) {
		t.Fatalf("deleted row: %v, want ErrNotFound", err)
	}
}

func TestUserSettings(t *testing.T) {
	e := newEnv(t, timelogtest.Options{CommentMandatory: true, RegistrationAllTasks: true})
	s, err := e.c.UserSettings(e.ctx)
	if err != nil || !s.CommentIsMandatory || !s.RegistrationAllTasks || s.TimeRegistrationTimestamp {
		t.Fatalf("settings %+v, %v", s, err)
	}
}

func TestTaskExternalKey(t *testing.T) {
	for _, withSystem := range []bool{false, true} {
		e := newEnv(t, timelogtest.Options{}, func(c *Config) { c.Portal = "acme.bitrix24.com" })
		var sys timelogtest.ExternalSystem
		if withSystem {
			sys = e.srv.AddExternalSystem("Bitrix24")
		}
		p := e.srv.AddProject(timelogtest.Project{Name: "P"})
		got, err := e.c.CreateTask(e.ctx, connector.TrackerTask{ProjectID: itoa(p.ProjectID), Name: "K [B24-55]"})
		if err != nil {
			t.Fatal(err)
		}
		id := 0
		_, _ = fmtSscan(got.ID, &id)
		keys := e.srv.ExternalKeys("task", id)
		switch {
		case withSystem && (len(keys) != 1 || keys[0] != itoa(sys.ExternalSystemID)+":acme.bitrix24.com/task/55"):
			t.Fatalf("keys %v", keys)
		case !withSystem && (len(keys) != 0 || e.srv.CountRequests("PUT", "/external-keys") != 0):
			t.Fatalf("a key was written without a Bitrix24 system: %v", keys)
		}
	}
}
