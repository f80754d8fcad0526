package connectortest

import (
	"net/http"

	"github.com/timebridge/timebridge/sync/connector"
)

// faults are the knobs both in-memory services share: failing calls, lost replies
// after a write, expired credentials. The owning service's mutex guards them.
type faults struct {
	service     string
	failNext    []int
	failOn      map[string][]int // by call name
	loseReplies int
	authExpired bool
}

func (f *faults) addFailures(n, status int) {
	for range n {
		f.failNext = append(f.failNext, status)
	}
}

// begin applies the knobs to one call named op.
func (f *faults) begin(op string) error {
	if f.authExpired {
		return &connector.APIError{Service: f.service, Op: op, Status: 401, Code: "expired_token", Kind: connector.ErrUnauthorized}
	}
	if q := f.failOn[op]; len(q) > 0 {
		f.failOn[op] = q[1:]
		return &connector.APIError{Service: f.service, Op: op, Status: q[0], Message: http.StatusText(q[0]), Kind: kindFor(q[0])}
	}
	if len(f.failNext) > 0 {
		st := f.failNext[0]
		f.failNext = f.failNext[1:]
		return &connector.APIError{Service: f.service, Op: op, Status: st, Message: http.StatusText(st), Kind: kindFor(st)}
	}
	return nil
}

// lostReply reports whether this write's reply is to be lost.
func (f *faults) lostReply(op string) error {
	if f.loseReplies > 0 {
		f.loseReplies--
		return &connector.APIError{Service: f.service, Op: op, Kind: connector.ErrTransient, Message: "connection reset after write"}
	}
	return nil
}

func kindFor(status int) error {
	switch {
	case status == 401:
		return connector.ErrUnauthorized
	case status == 403:
		return connector.ErrForbidden
	case status == 404:
		return connector.ErrNotFound
	case status == 429:
		return connector.ErrRateLimited
	case status == 422:
		return connector.ErrClosedPeriod
	case status >= 500:
		return connector.ErrTransient
	}
	return connector.ErrInvalid
}
