package rest

import (
	"context"
	"sync"
	"time"
)

// Refresher keeps an OAuth token pair whose refresh tokens are single-use
// (Bitrix24, Time Doctor Classic): every caller whose request was refused with
// the same access token waits for one refresh, and renew stores the new pair
// before anybody uses it. T is the service's token type.
type Refresher[T any] struct {
	access func(T) string

	mu     sync.Mutex
	cur    T
	flight *refreshFlight[T]
}

type refreshFlight[T any] struct {
	done chan struct{}
	tok  T
	err  error
}

// NewRefresher starts with the pair initial; access reads a pair's access token.
func NewRefresher[T any](initial T, access func(T) string) *Refresher[T] {
	return &Refresher[T]{cur: initial, access: access}
}

// Current is the pair to send now.
func (r *Refresher[T]) Current() T {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cur
}

// Set replaces the pair (a new sign-in).
func (r *Refresher[T]) Set(t T) {
	r.mu.Lock()
	r.cur = t
	r.mu.Unlock()
}

// Refresh renews the pair after rejected (an access token the service refused).
// When the pair has moved on since, it returns the current one at once. Concurrent
// callers share one renew. renew gets the old pair, must exchange its refresh
// token and persist the result before returning; it runs to the end (at most a
// minute) even if the caller's ctx ends, because a refresh that reached the server
// has spent the old refresh token.
func (r *Refresher[T]) Refresh(ctx context.Context, rejected string, renew func(ctx context.Context, old T) (T, error)) (T, error) {
	r.mu.Lock()
	if r.access(r.cur) != rejected {
		cur := r.cur
		r.mu.Unlock()
		return cur, nil
	}
	if f := r.flight; f != nil {
		r.mu.Unlock()
		select {
		case <-f.done:
			return f.tok, f.err
		case <-ctx.Done():
			var zero T
			return zero, ctx.Err()
		}
	}
	f := &refreshFlight[T]{done: make(chan struct{})}
	r.flight = f
	old := r.cur
	r.mu.Unlock()

	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	tok, err := renew(rctx, old)
	cancel()
	r.mu.Lock()
	if err == nil {
		r.cur = tok
	}
	r.flight = nil
	f.tok, f.err = r.cur, err
	r.mu.Unlock()
	close(f.done)
	return f.tok, err
}
