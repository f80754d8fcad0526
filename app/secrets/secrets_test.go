package secrets

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
)

const planted = "s3cr3t-PLANTED-value"

func TestSecretNeverPrints(t *testing.T) {
	t.Parallel()
	s := Secret(planted)
	type holder struct {
		Token Secret
		Ptr   *Secret
	}
	h := holder{Token: s, Ptr: &s}
	var outs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10s", "%T"} {
		outs = append(outs, fmt.Sprintf(verb, s), fmt.Sprintf(verb, h), fmt.Sprintf(verb, []Secret{s}))
	}
	outs = append(outs, fmt.Sprint(s), fmt.Sprintln(s, &s), s.String(), s.GoString())
	for _, v := range []any{s, h, map[string]Secret{"a": s}} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, string(b))
	}
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	log.Info("x", "token", s, "h", h, slog.Any("p", &s))
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "token", s)
	outs = append(outs, buf.String())
	for _, o := range outs {
		if strings.Contains(o, planted) || strings.Contains(o, fmt.Sprintf("%x", planted)) {
			t.Errorf("secret leaked: %s", o)
		}
	}
	if s.Reveal() != planted {
		t.Errorf("Reveal = %q", s.Reveal())
	}
	if !Secret("").IsEmpty() || s.IsEmpty() {
		t.Error("IsEmpty wrong")
	}
}

// storeSuite checks the Store contract on any implementation.
func storeSuite(t *testing.T, s Store) {
	ctx := context.Background()
	if _, err := s.Get(ctx, "missing"); !errors.Is(err, ErrNotFound) || !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("Get missing: %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, "missing"); err != nil {
		t.Fatalf("Delete missing: %v", err)
	}
	values := []string{"", "short", strings.Repeat("ä€😀", 2000), strings.Repeat("x", 10*1024), chunkPrefix + "1:1:0\nfake"}
	for _, v := range values {
		if err := s.Set(ctx, "k", Secret(v)); err != nil {
			t.Fatalf("Set %d bytes: %v", len(v), err)
		}
		got, err := s.Get(ctx, "k")
		if err != nil || got.Reveal() != v {
			t.Fatalf("Get after Set of %d bytes: %d bytes, %v", len(v), len(got.Reveal()), err)
		}
	}
	if err := s.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "k"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete: %v", err)
	}
	for _, bad := range []string{"", "a#1", "a\nb", strings.Repeat("k", 201)} {
		if err := s.Set(ctx, bad, "v"); err == nil {
			t.Errorf("Set(%q) accepted", bad)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Get(cctx, "k"); !errors.Is(err, context.Canceled) {
		t.Errorf("Get with cancelled context: %v", err)
	}
}

func TestMemory(t *testing.T) {
	t.Parallel()
	m := NewMemory()
	storeSuite(t, m)
	_ = m.Set(context.Background(), "b", "1")
	_ = m.Set(context.Background(), "a", "2")
	if got := m.Keys(); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("Keys = %v", got)
	}
}

// fakeBackend is a keychain with a record limit, like Windows' Credential Manager.
type fakeBackend struct {
	mu      sync.Mutex
	limit   int
	recs    map[string]string
	calls   int
	failSet int           // fail the n-th Set call (1-based) when > 0
	block   chan struct{} // when set, every call waits on it
}

func newFake(limit int) *fakeBackend { return &fakeBackend{limit: limit, recs: map[string]string{}} }

func (f *fakeBackend) wait() {
	f.mu.Lock()
	b := f.block
	f.mu.Unlock()
	if b != nil {
		<-b
	}
}

func (f *fakeBackend) Get(service, user string) (string, error) {
	f.wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	v, ok := f.recs[service+"/"+user]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return v, nil
}

func (f *fakeBackend) Set(service, user, pw string) error {
	f.wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if len(pw) > f.limit {
		return keyring.ErrSetDataTooBig
	}
	if f.failSet > 0 {
		f.failSet--
		if f.failSet == 0 {
			return errors.New("disk full")
		}
	}
	f.recs[service+"/"+user] = pw
	return nil
}

func (f *fakeBackend) Delete(service, user string) error {
	f.wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if _, ok := f.recs[service+"/"+user]; !ok {
		return keyring.ErrNotFound
	}
	delete(f.recs, service+"/"+user)
	return nil
}

func (f *fakeBackend) names() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Sorted(maps.Keys(f.recs))
}

func TestKeyringContractOnFake(t *testing.T) {
	t.Parallel()
	for _, limit := range []int{128, 2560} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			t.Parallel()
			f := newFake(limit)
			storeSuite(t, NewKeyring(KeyringOptions{Backend: f, MaxRecord: limit}))
			if n := f.names(); len(n) != 0 {
				t.Errorf("records left after Delete: %v", n)
			}
		})
	}
}

func TestKeyringChunking(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFake(2560)
	k := NewKeyring(KeyringOptions{Backend: f, MaxRecord: 2560})

	// Short values are stored as they are, under the service name.
	if err := k.Set(ctx, "tok", "abc"); err != nil {
		t.Fatal(err)
	}
	if got := f.recs["timebridge/tok"]; got != "abc" {
		t.Fatalf("short value stored as %q", got)
	}

	// A 10 KB value is split into records within the limit and reassembled.
	big := strings.Repeat("0123456789", 1024)
	if err := k.Set(ctx, "tok", Secret(big)); err != nil {
		t.Fatal(err)
	}
	want := []string{"timebridge/tok", "timebridge/tok#1", "timebridge/tok#2", "timebridge/tok#3", "timebridge/tok#4"}
	if got := f.names(); !slices.Equal(got, want) {
		t.Fatalf("records = %v, want %v", got, want)
	}
	if got, err := k.Get(ctx, "tok"); err != nil || got.Reveal() != big {
		t.Fatalf("Get 10 KB: %d bytes, %v", len(got.Reveal()), err)
	}

	// Shrinking removes the chunks no longer needed.
	if err := k.Set(ctx, "tok", Secret(big[:3000])); err != nil {
		t.Fatal(err)
	}
	if got := f.names(); !slices.Equal(got, want[:2]) {
		t.Fatalf("after shrinking, records = %v", got)
	}
	if got, _ := k.Get(ctx, "tok"); got.Reveal() != big[:3000] {
		t.Fatal("shrunk value differs")
	}

	// A missing or altered part is reported as ErrNotFound, never as a wrong value.
	_ = k.Set(ctx, "tok", Secret(big))
	delete(f.recs, "timebridge/tok#2")
	if _, err := k.Get(ctx, "tok"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "part 3 of 5 is missing") {
		t.Fatalf("missing part: %v", err)
	}
	_ = k.Set(ctx, "tok", Secret(big))
	f.recs["timebridge/tok#3"] = strings.Repeat("Z", len(f.recs["timebridge/tok#3"]))
	if _, err := k.Get(ctx, "tok"); !errors.Is(err, ErrNotFound) || strings.Contains(err.Error(), "ZZZ") {
		t.Fatalf("altered part: %v", err)
	}
	f.recs["timebridge/tok"] = chunkPrefix + "x:y\n"
	if _, err := k.Get(ctx, "tok"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("damaged header: %v", err)
	}

	// Delete removes every chunk.
	_ = k.Set(ctx, "tok", Secret(big))
	_ = k.Set(ctx, "other", "keep")
	if err := k.Delete(ctx, "tok"); err != nil {
		t.Fatal(err)
	}
	if got := f.names(); !slices.Equal(got, []string{"timebridge/other"}) {
		t.Fatalf("after Delete, records = %v", got)
	}
}

func TestKeyringInterruptedSetNeverGivesWrongValue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	old, next := strings.Repeat("a", 1000), strings.Repeat("b", 1000)
	for fail := 1; fail <= 9; fail++ {
		f := newFake(256)
		k := NewKeyring(KeyringOptions{Backend: f, MaxRecord: 256})
		if err := k.Set(ctx, "tok", Secret(old)); err != nil {
			t.Fatal(err)
		}
		f.failSet = fail
		setErr := k.Set(ctx, "tok", Secret(next))
		got, err := k.Get(ctx, "tok")
		switch {
		case err != nil && !errors.Is(err, ErrNotFound):
			t.Errorf("fail at %d: Get: %v", fail, err)
		case err == nil && got.Reveal() != old && got.Reveal() != next:
			t.Errorf("fail at %d: Get returned a mix of old and new values", fail)
		case setErr == nil && (err != nil || got.Reveal() != next):
			t.Errorf("fail at %d: Set succeeded but Get = %v", fail, err)
		}
	}
}

func TestKeyringUTF8Boundaries(t *testing.T) {
	t.Parallel()
	f := newFake(128)
	k := NewKeyring(KeyringOptions{Backend: f, MaxRecord: 100})
	v := strings.Repeat("€", 300) // 3-byte runes
	if err := k.Set(context.Background(), "u", Secret(v)); err != nil {
		t.Fatal(err)
	}
	for name, rec := range f.recs {
		if !strings.HasPrefix(rec, chunkPrefix) && !utfValid(rec) {
			t.Errorf("record %s cut inside a character", name)
		}
		if len(rec) > 128 { // MaxRecord is raised to 2*headerRoom at least
			t.Errorf("record %s has %d bytes", name, len(rec))
		}
	}
	if got, err := k.Get(context.Background(), "u"); err != nil || got.Reveal() != v {
		t.Fatalf("Get: %v", err)
	}
}

func utfValid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

func TestKeyringTimeout(t *testing.T) {
	t.Parallel()
	f := newFake(2560)
	f.block = make(chan struct{})
	defer close(f.block)
	k := NewKeyring(KeyringOptions{Backend: f, Timeout: 20 * time.Millisecond})
	start := time.Now()
	_, err := k.Get(context.Background(), "tok")
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "did not answer within 20ms — is it locked?") {
		t.Fatalf("Get on a hung keychain: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("timeout took %v", d)
	}
	// The next call does not hang either, even while the first is still stuck.
	if err := k.Set(context.Background(), "tok", "v"); !errors.Is(err, ErrTimeout) {
		t.Fatalf("Set on a hung keychain: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	k2 := NewKeyring(KeyringOptions{Backend: f, Timeout: time.Hour})
	if err := k2.Delete(ctx, "tok"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Delete with a context deadline: %v", err)
	}
}

func TestKeyringTooBig(t *testing.T) {
	t.Parallel()
	// A backend whose limit is below MaxRecord reports a clear error.
	k := NewKeyring(KeyringOptions{Backend: newFake(10), MaxRecord: 2048})
	err := k.Set(context.Background(), "tok", Secret(strings.Repeat("x", 100)))
	if !errors.Is(err, keyring.ErrSetDataTooBig) || strings.Contains(err.Error(), "xxxx") {
		t.Fatalf("Set too big: %v", err)
	}
}

func TestOpen(t *testing.T) {
	t.Parallel()
	s, err := Open("memory")
	if _, ok := s.(*Memory); !ok || err != nil {
		t.Errorf("Open(memory) = %T, %v", s, err)
	}
	s, err = Open("")
	if _, ok := s.(*Keyring); !ok || err != nil {
		t.Errorf("Open(\"\") = %T, %v", s, err)
	}
	if _, err := Open("file"); err == nil || !strings.Contains(err.Error(), "TIMEBRIDGE_KEYRING") {
		t.Errorf("Open(file) = %v", err)
	}
}

func TestJSON(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	type tokens struct {
		Access  string    `json:"access"`
		Refresh string    `json:"refresh"`
		Expires time.Time `json:"expires"`
	}
	s := NewMemory()
	in := tokens{planted, "refresh-" + planted, time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
	if err := SetJSON(ctx, s, "bitrix24.token", in); err != nil {
		t.Fatal(err)
	}
	if got := s.Keys(); !slices.Equal(got, []string{"bitrix24.token"}) {
		t.Fatalf("records = %v, want one", got)
	}
	var out tokens
	if err := GetJSON(ctx, s, "bitrix24.token", &out); err != nil || out != in {
		t.Fatalf("GetJSON = %+v, %v", out, err)
	}
	if err := GetJSON(ctx, s, "nope", &out); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetJSON missing: %v", err)
	}
	_ = s.Set(ctx, "bad", Secret("{"+planted))
	if err := GetJSON(ctx, s, "bad", &out); err == nil || strings.Contains(err.Error(), planted) {
		t.Errorf("GetJSON bad: %v", err)
	}
	_ = s.Set(ctx, "bad", Secret(`{"access": 5, "refresh": "`+planted+`"}`))
	if err := GetJSON(ctx, s, "bad", &out); err == nil || strings.Contains(err.Error(), planted) {
		t.Errorf("GetJSON wrong type: %v", err)
	}
	type withSecret struct{ T Secret }
	if err := SetJSON(ctx, s, "x", withSecret{"v"}); err == nil {
		t.Error("SetJSON accepted a Secret field")
	}
}
