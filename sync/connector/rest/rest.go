// Package rest holds what the service clients share: a paced, retrying HTTP
// caller and the classification of replies into the connector's typed errors.
//
// Each client keeps its own wire structs and error mapping; rest only knows HTTP.
// A Pacer spends a leaky-bucket budget per request (Bitrix24: 2/s, burst 50) and
// retries what shouldRetry allows with doubling, jittered backoff, honouring
// Retry-After. Writes that are not idempotent must not be retried blindly: callers
// pass Retry: false for them and reconcile by key instead.
package rest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/time/rate"

	"github.com/timebridge/timebridge/sync/connector"
)

// Pacer limits the request rate and retries failed requests.
type Pacer struct {
	limiter    *rate.Limiter
	maxRetries int
	minBackoff time.Duration
	maxBackoff time.Duration
	sleep      func(ctx context.Context, d time.Duration) error
}

// PacerConfig configures a Pacer. Zero fields take the defaults shown.
type PacerConfig struct {
	Rate       float64       // requests per second; 0: unlimited
	Burst      int           // bucket size; default 1
	MaxRetries int           // retries after the first try; default 3, -1: none
	MinBackoff time.Duration // first pause; default 500ms
	MaxBackoff time.Duration // cap; default 30s
	// Sleep waits d or until ctx ends; tests replace it. Default: a timer.
	Sleep func(ctx context.Context, d time.Duration) error
}

// NewPacer builds a Pacer.
func NewPacer(cfg PacerConfig) *Pacer {
	p := &Pacer{maxRetries: cfg.MaxRetries, minBackoff: cfg.MinBackoff, maxBackoff: cfg.MaxBackoff, sleep: cfg.Sleep}
	if cfg.Rate > 0 {
		burst := max(cfg.Burst, 1)
		p.limiter = rate.NewLimiter(rate.Limit(cfg.Rate), burst)
	}
	switch {
	case p.maxRetries == 0:
		p.maxRetries = 3
	case p.maxRetries < 0:
		p.maxRetries = 0
	}
	if p.minBackoff <= 0 {
		p.minBackoff = 500 * time.Millisecond
	}
	if p.maxBackoff <= 0 {
		p.maxBackoff = 30 * time.Second
	}
	if p.sleep == nil {
		p.sleep = Sleep
	}
	return p
}

// Sleep waits d or until ctx ends.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Wait spends one request of the budget.
func (p *Pacer) Wait(ctx context.Context) error {
	if p.limiter == nil {
		return ctx.Err()
	}
	return p.limiter.Wait(ctx)
}

// Call runs fn until it succeeds, fails for good, or the retries are spent. fn
// returns retry=true for failures worth another try and may return a RetryAfter
// error to ask for a given pause. Each try spends one request of the budget.
func (p *Pacer) Call(ctx context.Context, fn func() (retry bool, err error)) error {
	var err error
	for attempt := 0; ; attempt++ {
		if werr := p.Wait(ctx); werr != nil {
			return errors.Join(werr, err)
		}
		var retry bool
		retry, err = fn()
		if err == nil || !retry || attempt >= p.maxRetries {
			return err
		}
		pause := Backoff(attempt, p.minBackoff, p.maxBackoff)
		var ra *RetryAfterError
		if errors.As(err, &ra) && ra.After > pause {
			pause = min(ra.After, p.maxBackoff)
		}
		if serr := p.sleep(ctx, pause); serr != nil {
			return errors.Join(serr, err)
		}
	}
}

// Backoff is the pause before retry attempt+1: min·2^attempt, capped at max, with
// ±20 % jitter so that many clients do not retry in step.
func Backoff(attempt int, lo, hi time.Duration) time.Duration {
	d := lo
	for i := 0; i < attempt && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	jitter := time.Duration(rand.Int64N(int64(d)/5+1)) - d/10
	return max(d+jitter, 0)
}

// RetryAfterError carries a pause the service asked for (Retry-After, a reset time).
type RetryAfterError struct {
	After time.Duration
	Err   error
}

func (e *RetryAfterError) Error() string { return e.Err.Error() }
func (e *RetryAfterError) Unwrap() error { return e.Err }

// ParseRetryAfter reads a Retry-After header (seconds or an HTTP date); 0 if absent.
func ParseRetryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// RetryStatus reports whether an HTTP status is worth another try.
func RetryStatus(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// KindForStatus is the default sentinel for an HTTP status without a more specific
// service error code.
func KindForStatus(status int) error {
	switch {
	case status == http.StatusUnauthorized:
		return connector.ErrUnauthorized
	case status == http.StatusForbidden:
		return connector.ErrForbidden
	case status == http.StatusNotFound:
		return connector.ErrNotFound
	case status == http.StatusTooManyRequests:
		return connector.ErrRateLimited
	case status >= 500:
		return connector.ErrTransient
	default:
		return connector.ErrInvalid
	}
}

// Excerpt returns at most n bytes of body as a single line, for error messages
// about malformed replies. It never cuts a UTF-8 sequence.
func Excerpt(body []byte, n int) string {
	s := strings.Join(strings.Fields(string(body)), " ")
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// Do sends req with client and reads the whole body (at most maxBody bytes). A
// transport failure becomes a transient *connector.APIError. The caller maps the
// status and body.
func Do(client *http.Client, req *http.Request, service, op string, maxBody int64) (*http.Response, []byte, error) {
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctxErr := req.Context().Err(); ctxErr != nil {
			return nil, nil, ctxErr
		}
		return nil, nil, &connector.APIError{Service: service, Op: op, Kind: connector.ErrTransient, Err: netCause(err)}
	}
	defer resp.Body.Close()
	if maxBody <= 0 {
		maxBody = 32 << 20
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return resp, body, &connector.APIError{Service: service, Op: op, Status: resp.StatusCode,
			Kind: connector.ErrTransient, Message: "reply cut short", Err: err}
	}
	return resp, body, nil
}

// netCause shortens url.Error chains to the useful part.
func netCause(err error) error {
	var ne net.Error
	if errors.As(err, &ne) {
		return ne
	}
	return err
}

// IsHTML reports whether a reply is an HTML page (proxies and timeouts) rather than JSON.
func IsHTML(resp *http.Response, body []byte) bool {
	if strings.Contains(resp.Header.Get("Content-Type"), "text/html") {
		return true
	}
	b := bytes.TrimSpace(body)
	return bytes.HasPrefix(b, []byte("<"))
}

// Malformed builds the error for a reply that is not the JSON we expect.
func Malformed(service, op string, status int, body []byte, err error) error {
	return &connector.APIError{Service: service, Op: op, Status: status, Kind: connector.ErrTransient,
		Message: fmt.Sprintf("malformed reply: %q", Excerpt(body, 120)), Err: err}
}
