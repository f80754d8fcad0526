package secrets

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/zalando/go-keyring"
)

// Store holds secrets by key. Every method takes a context; the OS keychain also applies
// its own timeout. Delete of a missing key is not an error.
type Store interface {
	Get(ctx context.Context, key string) (Secret, error)
	Set(ctx context.Context, key string, value Secret) error
	Delete(ctx context.Context, key string) error
}

// ErrNotFound means the store holds no secret under the key (or only part of a chunked one).
// It wraps keyring.ErrNotFound, so errors.Is works with either.
var ErrNotFound = fmt.Errorf("no such secret: %w", keyring.ErrNotFound)

// ErrTimeout means the OS keychain did not answer in time; the error text asks whether it
// is locked.
var ErrTimeout = errors.New("the OS keychain did not answer")

// EnvMode is the environment variable that selects the store: "memory" or empty.
const EnvMode = "TIMEBRIDGE_KEYRING"

// Open returns the store for mode, the value of TIMEBRIDGE_KEYRING: "memory" keeps secrets
// in this process only; "" uses the OS keychain with the default options.
func Open(mode string) (Store, error) {
	switch strings.TrimSpace(mode) {
	case "memory":
		return NewMemory(), nil
	case "":
		return NewKeyring(KeyringOptions{}), nil
	}
	return nil, fmt.Errorf("%s=%q: allowed values are \"memory\" or empty (the OS keychain)", EnvMode, mode)
}

// checkKey rejects keys that would collide with chunk names or that a keychain may not hold.
func checkKey(key string) error {
	switch {
	case key == "":
		return errors.New("empty secret key")
	case len(key) > 200:
		return fmt.Errorf("secret key %.20q… is longer than 200 bytes", key)
	case strings.ContainsAny(key, "#\x00\r\n\t"):
		return fmt.Errorf("secret key %q contains '#' or a control character", key)
	}
	return nil
}

// Memory is a Store that keeps secrets in this process only. The zero value is not
// usable; call NewMemory. It is safe for concurrent use.
type Memory struct {
	mu sync.Mutex
	m  map[string]Secret
}

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory { return &Memory{m: map[string]Secret{}} }

// Get returns the secret under key or an error wrapping ErrNotFound.
func (m *Memory) Get(ctx context.Context, key string) (Secret, error) {
	if err := checkOp(ctx, key); err != nil {
		return "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.m[key]
	if !ok {
		return "", fmt.Errorf("keychain get %q: %w", key, ErrNotFound)
	}
	return v, nil
}

// Set stores value under key, replacing any earlier value.
func (m *Memory) Set(ctx context.Context, key string, value Secret) error {
	if err := checkOp(ctx, key); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.m[key] = value
	return nil
}

// Delete removes key; a missing key is not an error.
func (m *Memory) Delete(ctx context.Context, key string) error {
	if err := checkOp(ctx, key); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.m, key)
	return nil
}

// Keys returns the stored keys, sorted (for tests and diagnostics; no values).
func (m *Memory) Keys() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	keys := make([]string, 0, len(m.m))
	for k := range m.m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func checkOp(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	return ctx.Err()
}
