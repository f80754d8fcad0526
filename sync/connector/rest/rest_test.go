package rest

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/timebridge/timebridge/sync/connector"
)

func TestPacerRetriesUntilSuccess(t *testing.T) {
	var slept []time.Duration
	p := NewPacer(PacerConfig{MaxRetries: 3, MinBackoff: time.Second, MaxBackoff: 8 * time.Second,
		Sleep: func(ctx context.Context, d time.Duration) error { slept = append(slept, d); return nil }})
	tries := 0
	err := p.Call(context.Background(), func() (bool, error) {
		tries++
		if tries < 3 {
			return true, &connector.APIError{Kind: connector.ErrTransient}
		}
		return false, nil
	})
	if err != nil || tries != 3 || len(slept) != 2 {
		t.Fatalf("err %v, tries %d, pauses %v", err, tries, slept)
	}
	if slept[1] < slept[0] {
		t.Fatalf("pauses %v do not grow", slept)
	}
}

func TestPacerGivesUpAndHonoursRetryAfter(t *testing.T) {
	var slept []time.Duration
	p := NewPacer(PacerConfig{MaxRetries: 2, MinBackoff: time.Second, MaxBackoff: 30 * time.Second,
		Sleep: func(ctx context.Context, d time.Duration) error { slept = append(slept, d); return nil }})
	tries := 0
	err := p.Call(context.Background(), func() (bool, error) {
		tries++
		return true, &RetryAfterError{After: 20 * time.Second, Err: &connector.APIError{Kind: connector.ErrRateLimited}}
	})
	if !errors.Is(err, connector.ErrRateLimited) || tries != 3 {
		t.Fatalf("err %v after %d tries", err, tries)
	}
	for _, d := range slept {
		if d != 20*time.Second {
			t.Fatalf("pauses %v, want Retry-After's 20s", slept)
		}
	}
}

func TestPacerDoesNotRetryFinalErrors(t *testing.T) {
	p := NewPacer(PacerConfig{Sleep: func(context.Context, time.Duration) error { return nil }})
	tries := 0
	err := p.Call(context.Background(), func() (bool, error) { tries++; return false, connector.ErrForbidden })
	if !errors.Is(err, connector.ErrForbidden) || tries != 1 {
		t.Fatalf("err %v after %d tries", err, tries)
	}
}

func TestBackoffBounds(t *testing.T) {
	for attempt := range 10 {
		d := Backoff(attempt, time.Second, 30*time.Second)
		if d < 0 || d > 33*time.Second {
			t.Fatalf("Backoff(%d) = %v out of bounds", attempt, d)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	cases := map[string]time.Duration{"": 0, "7": 7 * time.Second, "junk": 0,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second}
	for v, want := range cases {
		h := http.Header{}
		if v != "" {
			h.Set("Retry-After", v)
		}
		if got := ParseRetryAfter(h, now); got != want {
			t.Errorf("ParseRetryAfter(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestExcerpt(t *testing.T) {
	if got := Excerpt([]byte("  <html>\n  <body>gateway   timeout</body>"), 200); got != "<html> <body>gateway timeout</body>" {
		t.Fatalf("Excerpt = %q", got)
	}
	long := strings.Repeat("ü", 100)
	got := Excerpt([]byte(long), 11)
	if !strings.HasSuffix(got, "…") || strings.ContainsRune(got, '\uFFFD') {
		t.Fatalf("Excerpt cut a rune: %q", got)
	}
}

func TestKindForStatus(t *testing.T) {
	cases := map[int]error{401: connector.ErrUnauthorized, 403: connector.ErrForbidden, 404: connector.ErrNotFound,
		429: connector.ErrRateLimited, 503: connector.ErrTransient, 400: connector.ErrInvalid}
	for status, want := range cases {
		if got := KindForStatus(status); got != want {
			t.Errorf("KindForStatus(%d) = %v, want %v", status, got, want)
		}
	}
}
