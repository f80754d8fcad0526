package keyringtest

import (
	"context"
	"crypto/rand"
	"errors"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/timebridge/timebridge/app/secrets"
)

// newStore returns the real keychain store and a key prefix unique to this run, and fails
// the test at once when no keychain answers.
func newStore(t *testing.T) (*secrets.Keyring, string) {
	t.Helper()
	k := secrets.NewKeyring(secrets.KeyringOptions{Timeout: 10 * time.Second})
	prefix := "keyringtest-" + rand.Text()[:10] + "-"
	_, err := k.Get(context.Background(), prefix+"probe")
	if !errors.Is(err, secrets.ErrNotFound) {
		t.Fatalf("no usable OS keychain (run under with-desktop.sh, which provides an unlocked Secret Service): %v", err)
	}
	return k, prefix
}

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	k, p := newStore(t)
	key := p + "token"
	t.Cleanup(func() { _ = k.Delete(ctx, key) })

	if err := k.Set(ctx, key, "first-value"); err != nil {
		t.Fatal(err)
	}
	if err := k.Set(ctx, key, "second-väluë"); err != nil {
		t.Fatal(err)
	}
	got, err := k.Get(ctx, key)
	if err != nil || got.Reveal() != "second-väluë" {
		t.Fatalf("Get = %q, %v", got.Reveal(), err)
	}
	if runtime.GOOS == "linux" {
		// Another Secret Service client sees the record under service "timebridge".
		out, err := exec.Command("secret-tool", "lookup", "service", "timebridge", "username", key).Output()
		if err != nil || string(out) != "second-väluë" {
			t.Fatalf("secret-tool lookup: %q, %v", out, err)
		}
	}
	if err := k.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Get(ctx, key); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatalf("Get after Delete: %v", err)
	}
	if err := k.Delete(ctx, key); err != nil {
		t.Fatalf("Delete of a missing key: %v", err)
	}
}

func TestChunkedValue(t *testing.T) {
	ctx := context.Background()
	k, p := newStore(t)
	key := p + "big"
	t.Cleanup(func() { _ = k.Delete(ctx, key) })

	big := strings.Repeat("0123456789abcdef", 640) // 10 KB
	if err := k.Set(ctx, key, secrets.Secret(big)); err != nil {
		t.Fatal(err)
	}
	got, err := k.Get(ctx, key)
	if err != nil || got.Reveal() != big {
		t.Fatalf("Get 10 KB: %d bytes, %v", len(got.Reveal()), err)
	}
	if runtime.GOOS == "linux" {
		for _, user := range []string{key + "#1", key + "#5"} {
			out, err := exec.Command("secret-tool", "lookup", "service", "timebridge", "username", user).Output()
			if err != nil || len(out) == 0 || len(out) > secrets.DefaultMaxRecord {
				t.Fatalf("chunk %s: %d bytes, %v", user, len(out), err)
			}
		}
	}
	if err := k.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS == "linux" {
		out, _ := exec.Command("secret-tool", "search", "--all", "service", "timebridge").CombinedOutput()
		if strings.Contains(string(out), key) {
			t.Fatalf("chunks left after Delete:\n%s", out)
		}
	}
}

func TestJSONRecord(t *testing.T) {
	ctx := context.Background()
	k, p := newStore(t)
	key := p + "pair"
	t.Cleanup(func() { _ = k.Delete(ctx, key) })
	type pair struct{ Access, Refresh string }
	in := pair{"access-" + strings.Repeat("a", 3000), "refresh-1"}
	if err := secrets.SetJSON(ctx, k, key, in); err != nil {
		t.Fatal(err)
	}
	var out pair
	if err := secrets.GetJSON(ctx, k, key, &out); err != nil || out != in {
		t.Fatalf("GetJSON: %v", err)
	}
}
