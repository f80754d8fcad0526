package timelogtest

import (
	"fmt"
	"time"
)

// Demo is what SeedDemo created.
type Demo struct {
	Ann, Ben, Cara User
	// Projects by name: "Website relaunch", "Mobile app", "Internal".
	Projects map[string]Project
	Tasks    []Task // 12 tasks, 4 per project, 2 of them with Bitrix24 markers
	// Tokens by email; Ann's is also Server.Token.
	Tokens map[string]string
	// ClosedWeek is the Monday ("YYYY-MM-DD") of the week closed for Ann.
	ClosedWeek string
}

// SeedDemo fills realistic sample data for `timebridge demo`, relative to the week
// of monday (a Monday; zero: the Monday of the clock's current week):
//
//   - users: Ann Berg ann@example.com (the Owner, Server.Token), Ben Holm
//     ben@example.com, Cara Lund cara@example.com, each with a token valid 2 years;
//   - projects (active, time tracking allowed): "Website relaunch", "Mobile app",
//     "Internal" — named after the demo Bitrix24 groups;
//   - 12 tasks, 4 per project; "Fix login [B24-8812]" (Website relaunch) and
//     "Push notifications [B24-8813]" (Mobile app) carry Bitrix24 markers; all
//     three users are allocated to every task;
//   - Ann's week of monday: Mon–Fri one or two rows a day (1.5 h, 2 h, 0.75 h …),
//     one absence row (Friday, 4 h holiday, AbsenceCodeID 1); Ben has two rows
//     that Ann's get-by-date never shows;
//   - the week before monday is closed for Ann (two rows in it, approval 6).
func (s *Server) SeedDemo(monday time.Time) Demo {
	if monday.IsZero() {
		now := s.Clock.Now().In(s.opts.Zone)
		monday = time.Date(now.Year(), now.Month(), now.Day()-(int(now.Weekday())+6)%7, 0, 0, 0, 0, time.UTC)
	}
	day := func(off int) string { return monday.AddDate(0, 0, off).Format(time.DateOnly) }
	exp := s.Clock.Now().AddDate(2, 0, 0)
	d := Demo{Projects: map[string]Project{}, Tokens: map[string]string{}}
	s.mu.Lock()
	owner := s.userLocked(s.Owner.UserID)
	owner.FirstName, owner.LastName, owner.Initials, owner.Email = "Ann", "Berg", "AB", "ann@example.com"
	s.Owner = *owner
	s.mu.Unlock()
	d.Ann = s.Owner
	d.Ben = s.AddUser(User{FirstName: "Ben", LastName: "Holm", Email: "ben@example.com"})
	d.Cara = s.AddUser(User{FirstName: "Cara", LastName: "Lund", Email: "cara@example.com"})
	d.Tokens[d.Ann.Email] = s.Token
	d.Tokens[d.Ben.Email] = s.IssueToken(d.Ben.UserID, exp)
	d.Tokens[d.Cara.Email] = s.IssueToken(d.Cara.UserID, exp)

	names := map[string][]string{
		"Website relaunch": {"Fix login [B24-8812]", "Design review", "Content migration", "SEO audit"},
		"Mobile app":       {"Push notifications [B24-8813]", "Offline mode", "App store release", "Crash fixes"},
		"Internal":         {"Meetings", "Administration", "Training", "Support"},
	}
	for i, pname := range []string{"Website relaunch", "Mobile app", "Internal"} {
		p := s.AddProject(Project{Name: pname, No: fmt.Sprintf("P-%03d", i+1), CustomerID: i + 1})
		d.Projects[pname] = p
		for j, tname := range names[pname] {
			t := s.AddTask(Task{Name: tname, No: fmt.Sprintf("T-%d%02d", i+1, j+1), ProjectID: p.ProjectID,
				IsDefaultBillable: pname != "Internal", StartDate: day(-30) + "T00:00:00", EndDate: day(335) + "T00:00:00"})
			d.Tasks = append(d.Tasks, t)
			for _, u := range []User{d.Ann, d.Ben, d.Cara} {
				s.Allocate(u.UserID, t.TaskID)
			}
		}
	}
	rows := []struct {
		off   int
		task  int
		hours float64
		text  string
	}{
		{0, 0, 1.5, "Login bug triage"}, {0, 8, 0.5, "Weekly meeting"}, {1, 1, 2, "Review mockups"},
		{2, 4, 3.25, "Push payloads"}, {3, 0, 0.75, "Login fix deployed"}, {3, 9, 1, "Expenses"},
		{4, 6, 2, "Release checklist"},
	}
	for _, r := range rows {
		t := d.Tasks[r.task]
		s.AddRegistration(Registration{UserID: d.Ann.UserID, TaskID: t.TaskID, Date: day(r.off), Hours: r.hours,
			Billable: t.IsDefaultBillable, Comment: r.text})
	}
	s.AddRegistration(Registration{UserID: d.Ann.UserID, Date: day(4), Hours: 4, AbsenceCodeID: 1, Comment: "Holiday"})
	s.AddRegistration(Registration{UserID: d.Ben.UserID, TaskID: d.Tasks[2].TaskID, Date: day(1), Hours: 6, Comment: "Migration"})
	s.AddRegistration(Registration{UserID: d.Ben.UserID, TaskID: d.Tasks[5].TaskID, Date: day(2), Hours: 2.5, Comment: "Offline sync"})
	for _, off := range []int{-7, -5} {
		r := s.AddRegistration(Registration{UserID: d.Ann.UserID, TaskID: d.Tasks[10].TaskID, Date: day(off), Hours: 1, Comment: "Onboarding"})
		s.SetApproval(r.TimeRegistrationID, 6)
	}
	d.ClosedWeek = day(-7)
	s.CloseWeek(d.Ann.UserID, d.ClosedWeek)
	return d
}
