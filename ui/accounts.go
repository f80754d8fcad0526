package ui

import (
	"context"
	"errors"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/data/binding"
	"fyne.io/fyne/v2/widget"

	"github.com/timebridge/timebridge/sync/engine"
)

// accountsTab lists each service with who is signed in and an Authorize / Sign out
// button. While a sign-in runs, its button reads "Cancel" and ends the flow.
type accountsTab struct {
	v        *view
	services binding.List[engine.ServiceState]
	notice   binding.String
	list     *widget.List
	content  fyne.CanvasObject

	// webhook opens the Bitrix24 webhook dialog; it sits below the rows, on the
	// left, and shows while Bitrix24 is not signed in.
	webhook *widget.Button

	// busy holds the cancel function of each running Authorize or SignOut, by
	// service. Only the Fyne thread touches it.
	busy map[string]context.CancelFunc

	// The running browser sign-in's URL (URLAuthorizer), with a Copy button.
	signInURL string
	urlLabel  *widget.Label
	copyURL   *widget.Button
	urlRow    *fyne.Container
	// dialog is the sign-in dialog opened last (tests drive it).
	dialog *signInDialog
}

func newAccountsTab(v *view) *accountsTab {
	t := &accountsTab{
		v:        v,
		services: binding.NewList(eq[engine.ServiceState]),
		notice:   binding.NewString(),
		busy:     map[string]context.CancelFunc{},
	}
	t.list = widget.NewListWithData(t.services, newAccountRow, t.updateRow)
	t.list.HideSeparators = false
	note := widget.NewLabelWithData(t.notice)
	note.Wrapping = fyne.TextWrapWord
	intro := widget.NewLabel("Sign in to Bitrix24 and your time tracker. Tokens are kept in the system keychain.")
	intro.Wrapping = fyne.TextWrapWord
	// Extra ways in go below the rows, on the left: each row keeps one button on
	// its right (Authorize, Sign in…, Sign out or Cancel).
	t.webhook = widget.NewButton("Use a Bitrix24 webhook instead…", func() { t.signInWebhook() })
	t.webhook.Hide()
	// While a browser sign-in waits: its URL, to copy when no browser opened.
	t.urlLabel = widget.NewLabel("")
	t.urlLabel.Truncation = fyne.TextTruncateEllipsis
	t.copyURL = widget.NewButton("Copy sign-in link", func() {
		if app := fyne.CurrentApp(); app != nil && t.signInURL != "" {
			app.Clipboard().SetContent(t.signInURL)
			_ = t.notice.Set("The sign-in link is copied: paste it into your browser.")
		}
	})
	t.urlRow = container.NewBorder(nil, nil, t.copyURL, nil, t.urlLabel) // extra buttons stay on the left
	t.urlRow.Hide()
	bottom := container.NewVBox(note, t.urlRow, container.NewHBox(t.webhook))
	t.content = container.NewBorder(intro, bottom, nil, nil, t.list)
	return t
}

func (t *accountsTab) update(st engine.Status) {
	_ = t.services.Set(st.Services)
	// A bound list redraws on its own only when the number of items changes; a
	// service that signed in keeps the count, so redraw the rows.
	t.list.Refresh()
	b24 := false
	for _, s := range st.Services {
		if s.Service == "bitrix24" && !s.SignedIn {
			b24 = true
		}
	}
	visible(t.webhook, b24)
}

// accountRow is one service: name, account line, problem, and one button.
type accountRow struct {
	widget.BaseWidget
	name, account *widget.Label
	action        *widget.Button
	box           *fyne.Container
}

func newAccountRow() fyne.CanvasObject {
	r := &accountRow{
		name:    widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		account: widget.NewLabel(""),
		action:  widget.NewButton("Authorize", nil),
	}
	r.account.Truncation = fyne.TextTruncateEllipsis
	r.box = container.NewBorder(nil, nil, r.name, r.action, r.account)
	r.ExtendBaseWidget(r)
	return r
}

func (r *accountRow) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(r.box) }

// accountAction is the button label for a service: Cancel while busy, else Sign out
// when signed in, else Sign in… for the services whose credentials are typed into a
// dialog (Time Doctor, TimeLog) and Authorize for the browser flow (Bitrix24).
func accountAction(s engine.ServiceState, busy bool) string {
	switch {
	case busy:
		return "Cancel"
	case s.SignedIn:
		return "Sign out"
	case typedSignIn(s.Service):
		return "Sign in…"
	default:
		return "Authorize"
	}
}

// typedSignIn reports whether the service signs in with a dialog in the window
// rather than in the browser.
func typedSignIn(service string) bool { return service == "timedoctor" || service == "timelog" }

func (t *accountsTab) updateRow(di binding.DataItem, o fyne.CanvasObject) {
	s, err := di.(binding.Item[engine.ServiceState]).Get()
	if err != nil {
		return
	}
	r := o.(*accountRow)
	r.name.SetText(serviceName(s.Service))
	r.account.SetText(serviceState(s))
	_, busy := t.busy[s.Service]
	r.action.SetText(accountAction(s, busy))
	svc, signedIn := s.Service, s.SignedIn
	r.action.OnTapped = func() { t.tap(svc, signedIn) }
	r.box.Refresh() // lay out again: a recycled row's name and button change width
}

// tap starts (or cancels) a sign-in or sign-out; the Backend call runs off the Fyne
// thread and reports back through fyne.Do.
func (t *accountsTab) tap(service string, signedIn bool) {
	if cancel, busy := t.busy[service]; busy {
		cancel()
		return
	}
	if !signedIn {
		switch service {
		case "timedoctor":
			t.signInTimeDoctor()
			return
		case "timelog":
			t.signInTimeLog()
			return
		}
	}
	name := serviceName(service)
	ctx, cancel := context.WithCancel(t.v.ctx)
	t.busy[service] = cancel
	t.list.Refresh()

	call, doing, done := t.v.backend.Authorize, "Signing in to "+name+" — finish in your browser…", "Signed in to "+name
	if service == "bitrix24" {
		doing += " If no browser opened, run: timebridge authorize bitrix24"
	}
	failed := "Sign-in to " + name + " failed: "
	if signedIn {
		call, doing, done = t.v.backend.SignOut, "Signing out of "+name+"…", "Signed out of "+name
		failed = "Sign-out of " + name + " failed: "
	}
	if ua, ok := t.v.backend.(URLAuthorizer); ok && !signedIn {
		call = func(ctx context.Context, service string) error {
			return ua.AuthorizeURL(ctx, service, func(u string) { fyne.Do(func() { t.showURL(u) }) })
		}
	}
	_ = t.notice.Set(doing)
	t.v.async(func() {
		err := call(ctx, service)
		cancelled := ctx.Err() != nil
		fyne.Do(func() {
			cancel()
			delete(t.busy, service)
			t.showURL("")
			t.list.Refresh()
			switch {
			case err == nil:
				_ = t.notice.Set(done)
			case cancelled && errors.Is(err, context.Canceled):
				_ = t.notice.Set(name + ": cancelled")
			default:
				_ = t.notice.Set(failed + err.Error())
			}
		})
	})
}

// URLAuthorizer is implemented by backends whose browser sign-in reports the URL
// it opens, so that the window can offer it with a Copy button for when no
// browser starts. url may be called from any goroutine.
type URLAuthorizer interface {
	AuthorizeURL(ctx context.Context, service string, url func(string)) error
}

// showURL shows (u != "") or hides the sign-in link row; Fyne thread.
func (t *accountsTab) showURL(u string) {
	t.signInURL = u
	t.urlLabel.SetText(u)
	visible(t.urlRow, u != "")
}
