package store

import (
	"fmt"
	"path/filepath"
	"testing"

	"go.etcd.io/bbolt"
)

// TestMigrations runs each step on a file at the previous version and checks what
// it leaves. Add a case for every new migration.
func TestMigrations(t *testing.T) {
	cases := []struct {
		name        string
		seed, check func(*bbolt.Tx) error
	}{
		{"create_buckets", seedNothing, checkBuckets},
	}
	if len(cases) != len(migrations) {
		t.Fatalf("%d migrations, %d cases: add a case for each migration", len(migrations), len(cases))
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db, err := bbolt.Open(filepath.Join(t.TempDir(), "state.db"), 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if i > 0 {
				if err := db.Update(func(tx *bbolt.Tx) error { return applyMigrations(tx, migrations[:i]) }); err != nil {
					t.Fatal(err)
				}
			}
			if err := db.Update(tc.seed); err != nil {
				t.Fatal(err)
			}
			if err := db.Update(func(tx *bbolt.Tx) error { return applyMigrations(tx, migrations[:i+1]) }); err != nil {
				t.Fatal(err)
			}
			if err := db.View(tc.check); err != nil {
				t.Fatal(err)
			}
			if err := db.View(func(tx *bbolt.Tx) error {
				v, err := readVersion(tx)
				if err == nil && v != migrations[i].version {
					err = fmt.Errorf("version %d after step, want %d", v, migrations[i].version)
				}
				return err
			}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func seedNothing(*bbolt.Tx) error { return nil }

func checkBuckets(tx *bbolt.Tx) error {
	for _, name := range []string{BucketMeta, BucketTasks, BucketProjects, BucketDays, BucketRegistrations,
		BucketCursors, BucketParked, BucketConflicts, BucketJournal} {
		if tx.Bucket([]byte(name)) == nil {
			return fmt.Errorf("bucket %s missing", name)
		}
	}
	return nil
}
