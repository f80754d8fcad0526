package secrets

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/zalando/go-keyring"
)

// Backend is the raw keychain that Keyring drives: one string per (service, user) record.
// go-keyring's package functions implement it (the default); tests inject a fake with a
// small record limit. Missing records are reported with keyring.ErrNotFound.
type Backend interface {
	Get(service, user string) (string, error)
	Set(service, user, password string) error
	Delete(service, user string) error
}

// OSBackend is the OS keychain through github.com/zalando/go-keyring.
type OSBackend struct{}

// Get implements Backend with keyring.Get.
func (OSBackend) Get(service, user string) (string, error) { return keyring.Get(service, user) }

// Set implements Backend with keyring.Set.
func (OSBackend) Set(service, user, pw string) error { return keyring.Set(service, user, pw) }

// Delete implements Backend with keyring.Delete.
func (OSBackend) Delete(service, user string) error { return keyring.Delete(service, user) }

// Defaults of KeyringOptions.
const (
	DefaultService = "timebridge"
	DefaultTimeout = 5 * time.Second
	// DefaultMaxRecord is the largest value written to one keychain record. Windows'
	// Credential Manager rejects more than 2560 bytes; macOS base64-encodes the value
	// into a 4096-byte `security` command line. 2048 stays clear of both.
	DefaultMaxRecord = 2048
)

// KeyringOptions configure NewKeyring. Zero fields take the defaults shown.
type KeyringOptions struct {
	Service   string        // "timebridge": the keychain service name of every record
	Timeout   time.Duration // 5s per keychain call; a locked or hung keychain fails after it
	MaxRecord int           // 2048 bytes per record; longer values are split into chunks
	Backend   Backend       // OSBackend{}
}

// Keyring is a Store in the OS keychain. Each backend call runs with a timeout, since a
// locked Secret Service can block forever (the blocked call is abandoned, not stopped).
// Values longer than MaxRecord are stored in several records: key holds a small header
// and the first part, key#1, key#2… the rest; Get checks length and checksum when it
// reassembles them. Calls on one Keyring are serialised.
type Keyring struct {
	opt KeyringOptions
	sem chan struct{}
}

// NewKeyring returns a Store over the OS keychain (or opt.Backend).
func NewKeyring(opt KeyringOptions) *Keyring {
	if opt.Service == "" {
		opt.Service = DefaultService
	}
	if opt.Timeout <= 0 {
		opt.Timeout = DefaultTimeout
	}
	if opt.MaxRecord <= 0 {
		opt.MaxRecord = DefaultMaxRecord
	}
	if opt.MaxRecord < 2*headerRoom {
		opt.MaxRecord = 2 * headerRoom
	}
	if opt.Backend == nil {
		opt.Backend = OSBackend{}
	}
	return &Keyring{opt: opt, sem: make(chan struct{}, 1)}
}

// chunkPrefix starts the head record of a chunked value:
// "timebridge-chunked:v1:<records>:<bytes>:<crc32>\n" followed by the first part.
const (
	chunkPrefix = "timebridge-chunked:v1:"
	headerRoom  = 64 // bytes reserved for the header in the head record
)

// timeoutError is ErrTimeout with the time waited.
type timeoutError struct{ d time.Duration }

func (e timeoutError) Error() string {
	return fmt.Sprintf("the OS keychain did not answer within %s — is it locked?", e.d)
}
func (timeoutError) Is(target error) bool { return target == ErrTimeout }

// Get returns the secret under key or an error wrapping ErrNotFound (also when a chunked
// value is incomplete, which a sign-in repairs) or ErrTimeout.
func (k *Keyring) Get(ctx context.Context, key string) (Secret, error) {
	v, err := k.locked(ctx, key, func() (string, error) { return k.get(ctx, key) })
	if err != nil {
		return "", fmt.Errorf("keychain get %q: %w", key, err)
	}
	return Secret(v), nil
}

// Set stores value under key, replacing any earlier value and its chunks.
func (k *Keyring) Set(ctx context.Context, key string, value Secret) error {
	_, err := k.locked(ctx, key, func() (string, error) { return "", k.set(ctx, key, value.Reveal()) })
	if err != nil {
		return fmt.Errorf("keychain set %q: %w", key, err)
	}
	return nil
}

// Delete removes key and all its chunks; a missing key is not an error.
func (k *Keyring) Delete(ctx context.Context, key string) error {
	_, err := k.locked(ctx, key, func() (string, error) { return "", k.delete(ctx, key) })
	if err != nil {
		return fmt.Errorf("keychain delete %q: %w", key, err)
	}
	return nil
}

// locked checks key and runs fn while holding the Keyring's semaphore.
func (k *Keyring) locked(ctx context.Context, key string, fn func() (string, error)) (string, error) {
	if err := checkOp(ctx, key); err != nil {
		return "", err
	}
	t := time.NewTimer(k.opt.Timeout)
	defer t.Stop()
	select {
	case k.sem <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	case <-t.C:
		return "", timeoutError{k.opt.Timeout} // an earlier call is still stuck
	}
	defer func() { <-k.sem }()
	return fn()
}

// call runs one backend operation with the timeout.
func (k *Keyring) call(ctx context.Context, fn func() (string, error)) (string, error) {
	type result struct {
		v   string
		err error
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	done := make(chan result, 1)
	go func() {
		v, err := fn()
		done <- result{v, err}
	}()
	t := time.NewTimer(k.opt.Timeout)
	defer t.Stop()
	select {
	case r := <-done:
		switch {
		case errors.Is(r.err, keyring.ErrNotFound):
			return "", ErrNotFound
		case errors.Is(r.err, keyring.ErrSetDataTooBig):
			return "", fmt.Errorf("the OS keychain refused a record of this size: %w", r.err)
		}
		return r.v, r.err
	case <-ctx.Done():
		return "", ctx.Err()
	case <-t.C:
		return "", timeoutError{k.opt.Timeout}
	}
}

func (k *Keyring) getRecord(ctx context.Context, user string) (string, error) {
	return k.call(ctx, func() (string, error) { return k.opt.Backend.Get(k.opt.Service, user) })
}

func (k *Keyring) setRecord(ctx context.Context, user, v string) error {
	_, err := k.call(ctx, func() (string, error) { return "", k.opt.Backend.Set(k.opt.Service, user, v) })
	return err
}

// deleteRecord deletes one record and reports whether it existed.
func (k *Keyring) deleteRecord(ctx context.Context, user string) (bool, error) {
	_, err := k.call(ctx, func() (string, error) { return "", k.opt.Backend.Delete(k.opt.Service, user) })
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

func chunkName(key string, i int) string { return key + "#" + strconv.Itoa(i) }

func (k *Keyring) get(ctx context.Context, key string) (string, error) {
	head, err := k.getRecord(ctx, key)
	if err != nil || !strings.HasPrefix(head, chunkPrefix) {
		return head, err
	}
	n, size, sum, first, err := parseHeader(head)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.Grow(size)
	b.WriteString(first)
	for i := 1; i < n; i++ {
		part, err := k.getRecord(ctx, chunkName(key, i))
		if errors.Is(err, ErrNotFound) {
			return "", fmt.Errorf("the value is incomplete (part %d of %d is missing): %w", i+1, n, ErrNotFound)
		}
		if err != nil {
			return "", err
		}
		b.WriteString(part)
	}
	v := b.String()
	if len(v) != size || crc32.ChecksumIEEE([]byte(v)) != sum {
		return "", fmt.Errorf("the value is incomplete (its %d parts do not match their header): %w", n, ErrNotFound)
	}
	return v, nil
}

// parseHeader splits a head record into its header fields and the first part.
func parseHeader(head string) (n, size int, sum uint32, first string, err error) {
	line, first, ok := strings.Cut(head[len(chunkPrefix):], "\n")
	f := strings.Split(line, ":")
	bad := fmt.Errorf("the value has a damaged chunk header: %w", ErrNotFound)
	if !ok || len(f) != 3 {
		return 0, 0, 0, "", bad
	}
	n, err1 := strconv.Atoi(f[0])
	size, err2 := strconv.Atoi(f[1])
	s, err3 := strconv.ParseUint(f[2], 16, 32)
	if err1 != nil || err2 != nil || err3 != nil || n < 1 || size < 0 {
		return 0, 0, 0, "", bad
	}
	return n, size, uint32(s), first, nil
}

// split cuts v into the head record and the chunk records. A value that fits and does
// not look like a header is stored as it is, readable by other keychain tools.
func split(v string, max int) (head string, rest []string) {
	if len(v) <= max && !strings.HasPrefix(v, chunkPrefix) {
		return v, nil
	}
	first, tail := cut(v, max-headerRoom)
	for tail != "" {
		var part string
		part, tail = cut(tail, max)
		rest = append(rest, part)
	}
	header := fmt.Sprintf("%s%d:%d:%08x\n", chunkPrefix, len(rest)+1, len(v), crc32.ChecksumIEEE([]byte(v)))
	return header + first, rest
}

// cut returns at most n bytes of s, ending on a UTF-8 character boundary when s is text.
func cut(s string, n int) (string, string) {
	if len(s) <= n {
		return s, ""
	}
	i := n
	for i > n-utf8.UTFMax && i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	if !utf8.RuneStart(s[i]) { // not UTF-8 text: cut at n
		i = n
	}
	return s[:i], s[i:]
}

func (k *Keyring) set(ctx context.Context, key, v string) error {
	head, rest := split(v, k.opt.MaxRecord)
	// Chunks first, head last: a reader never sees a new head without its parts, and a
	// write cut short leaves a checksum mismatch (ErrNotFound), never a wrong value.
	for i, part := range rest {
		if err := k.setRecord(ctx, chunkName(key, i+1), part); err != nil {
			return err
		}
	}
	if err := k.setRecord(ctx, key, head); err != nil {
		return err
	}
	return k.sweep(ctx, key, len(rest)+1)
}

func (k *Keyring) delete(ctx context.Context, key string) error {
	if _, err := k.deleteRecord(ctx, key); err != nil {
		return err
	}
	return k.sweep(ctx, key, 1)
}

// sweep deletes the chunk records key#from, key#from+1… up to the first missing one.
func (k *Keyring) sweep(ctx context.Context, key string, from int) error {
	for i := from; ; i++ {
		found, err := k.deleteRecord(ctx, chunkName(key, i))
		if err != nil || !found {
			return err
		}
	}
}
