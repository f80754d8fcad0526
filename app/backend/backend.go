// Package backend holds the few value types the window (package ui) and the app
// exchange through ui.Backend: sign-in credentials typed into a dialog and the
// rows of the Settings tab. It sits below both so that neither imports the other.
package backend

import "errors"

// Credentials are what a sign-in dialog collects. Only the fields of the service are set.
type Credentials struct {
	Email, Password, TOTP string // Time Doctor 2 (TOTP only when asked: SignIn returns ErrTOTPRequired first)
	Token                 string // TimeLog personal access token
	Webhook               string // Bitrix24 incoming-webhook URL (instead of the browser flow)
}

// ErrTOTPRequired is returned by SignIn when Time Doctor asks for a 2FA code; the
// dialog then asks for it.
var ErrTOTPRequired = errors.New("a two-factor code is required")

// Setting is one row of the Settings tab.
type Setting struct {
	Key, Label, Value, Help string
	Kind                    string   // "text", "bool", "choice", "duration", "date", "zone", "number", "url"
	Choices                 []string // for "choice"
}
