package app

import (
	"errors"
	"fmt"

	"github.com/timebridge/timebridge/app/config"
	"github.com/timebridge/timebridge/sync/connector"
	"github.com/timebridge/timebridge/sync/store"
)

// Exit codes (design §6).
const (
	ExitOK       = 0 // done
	ExitFailures = 1 // the cycle finished with failures (parked items, conflicts, errors)
	ExitUsage    = 2 // usage or config error
	ExitSignIn   = 3 // a service needs a sign-in
	ExitLocked   = 4 // another instance holds the state
)

// ExitError carries an exit code with its message.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// usageErr is a usage or config error (exit 2).
func usageErr(format string, args ...any) error {
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf(format, args...)}
}

// exitCode maps an error to the documented exit code.
func exitCode(err error) int {
	var ee *ExitError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ee):
		return ee.Code
	case errors.Is(err, store.ErrLocked):
		return ExitLocked
	case errors.Is(err, connector.ErrUnauthorized):
		return ExitSignIn
	case errors.Is(err, config.ErrUnknownKey), errors.Is(err, config.ErrInvalid), errors.Is(err, config.ErrBadFile),
		errors.Is(err, config.ErrSecretKey):
		return ExitUsage
	}
	return ExitFailures
}
