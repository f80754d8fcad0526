package store

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

func openTemp(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

type rec struct {
	Name    string
	Seconds int64
}

func TestPutGetDeleteList(t *testing.T) {
	s, _ := openTemp(t)
	if err := s.Put(BucketTasks, "timedoctor/42", rec{"Fix login", 3600}); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(BucketTasks, "timedoctor/43", rec{"Other", 1}); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(BucketTasks, "timelog/42", rec{"TL", 2}); err != nil {
		t.Fatal(err)
	}
	var got rec
	ok, err := s.Get(BucketTasks, "timedoctor/42", &got)
	if err != nil || !ok || got != (rec{"Fix login", 3600}) {
		t.Fatalf("Get = %+v, %v, %v", got, ok, err)
	}
	all, err := List[rec](s, BucketTasks, "timedoctor/")
	if err != nil || len(all) != 2 || all[0].Name != "Fix login" || all[1].Name != "Other" {
		t.Fatalf("List(timedoctor/) = %+v, %v", all, err)
	}
	if err := s.Delete(BucketTasks, "timedoctor/42"); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.Get(BucketTasks, "timedoctor/42", &got); ok || err != nil {
		t.Fatalf("Get after Delete = %v, %v", ok, err)
	}
	if err := s.Delete(BucketTasks, "missing"); err != nil {
		t.Fatalf("Delete(missing) = %v, want nil", err)
	}
}

func TestUnknownBucketIsAnError(t *testing.T) {
	s, _ := openTemp(t)
	if err := s.Put("nope", "k", 1); err == nil {
		t.Fatal("Put into an unknown bucket succeeded")
	}
}

func TestJournalNewestFirst(t *testing.T) {
	s, _ := openTemp(t)
	for i := range 5 {
		if err := s.Append(rec{Seconds: int64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Journal[rec](s, 3)
	if err != nil || len(got) != 3 || got[0].Seconds != 4 || got[2].Seconds != 2 {
		t.Fatalf("Journal(3) = %+v, %v", got, err)
	}
}

func TestSecondOpenIsLocked(t *testing.T) {
	_, path := openTemp(t)
	start := time.Now()
	_, err := Open(path, Options{Timeout: 100 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open error = %v, want ErrLocked", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("second Open did not honour the timeout")
	}
}

func TestPersistsAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(BucketCursors, "bitrix24", rec{"c", 7}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var got rec
	if ok, _ := s.Get(BucketCursors, "bitrix24", &got); !ok || got.Seconds != 7 {
		t.Fatalf("after reopen: %+v, %v", got, ok)
	}
}

func TestCorruptFileIsMovedAsideAndRebuilt(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.db")
	if err := os.WriteFile(path, []byte(strings.Repeat("not a bolt file ", 512)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, Options{}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open(corrupt) error = %v, want ErrCorrupt", err)
	}
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	s, moved, err := OpenOrRebuild(path, Options{}, now)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if moved != path+".corrupt-20261201T100000Z" {
		t.Fatalf("moved to %q", moved)
	}
	if data, err := os.ReadFile(moved); err != nil || !strings.HasPrefix(string(data), "not a bolt file") {
		t.Fatalf("the corrupt file was not kept: %v", err)
	}
	if err := s.Put(BucketTasks, "k", 1); err != nil {
		t.Fatalf("rebuilt store unusable: %v", err)
	}
}

func TestNewerSchemaIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		b, _ := tx.CreateBucketIfNotExists([]byte(BucketMeta))
		return b.Put([]byte(schemaKey), []byte{0, 0, 0, 0, 0, 0, 0, 99})
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(path, Options{})
	if err == nil || !strings.Contains(err.Error(), "update timebridge") {
		t.Fatalf("Open(newer schema) error = %v, want a hint to update", err)
	}
}
