package connector

import (
	"errors"
	"fmt"
)

// Sentinel errors. Connectors wrap them (usually inside an *APIError); callers test
// with errors.Is.
var (
	// ErrUnauthorized: the credentials are missing, expired or revoked. The service
	// needs a new sign-in; nothing else helps.
	ErrUnauthorized = errors.New("sign-in needed")
	// ErrForbidden: the signed-in user may not do this (role, scope, plan). Retrying
	// does not help until an administrator changes something.
	ErrForbidden = errors.New("not allowed")
	// ErrNotFound: the object does not exist or the user cannot see it.
	ErrNotFound = errors.New("not found")
	// ErrRateLimited: the service asked us to slow down. The request was not executed.
	ErrRateLimited = errors.New("rate limited")
	// ErrClosedPeriod: the day lies in a closed or approved period (TimeLog closed
	// week); writes are refused until someone reopens it.
	ErrClosedPeriod = errors.New("period closed")
	// ErrUnsupported: the service cannot do this at all (see Features).
	ErrUnsupported = errors.New("not supported by the service")
	// ErrTransient: a network error, a 5xx, or a malformed or truncated reply. The
	// same request may succeed later.
	ErrTransient = errors.New("temporary failure")
	// ErrInvalid: the request was rejected as malformed; a bug or a bad setting.
	ErrInvalid = errors.New("request rejected")
)

// APIError is a failed call to a service. Kind is one of the sentinels above and
// makes errors.Is work; Code and Message are the service's own words.
type APIError struct {
	Service string // "bitrix24", "timedoctor", "timelog"
	Op      string // method or route, e.g. "tasks.task.list"
	Status  int    // HTTP status, 0 when no reply arrived
	Code    string // the service's error code, e.g. "QUERY_LIMIT_EXCEEDED"
	Message string // the service's description, or a short excerpt of a broken reply
	Kind    error  // one of the sentinels
	Err     error  // underlying cause (network error, JSON error), may be nil
}

func (e *APIError) Error() string {
	msg := e.Service
	if e.Op != "" {
		msg += " " + e.Op
	}
	if e.Status != 0 {
		msg += fmt.Sprintf(": HTTP %d", e.Status)
	}
	if e.Code != "" {
		msg += " " + e.Code
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	if e.Kind != nil {
		msg += " (" + e.Kind.Error() + ")"
	}
	return msg
}

// Is reports whether target is the error's kind, so errors.Is(err, ErrForbidden) works.
func (e *APIError) Is(target error) bool { return e.Kind != nil && target == e.Kind }

// Unwrap returns the underlying cause.
func (e *APIError) Unwrap() error { return e.Err }

// Retryable reports whether err is worth another try later without anybody changing
// anything: rate limits and transient failures.
func Retryable(err error) bool {
	return errors.Is(err, ErrRateLimited) || errors.Is(err, ErrTransient)
}
