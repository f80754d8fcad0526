package store

import (
	"encoding/binary"
	"fmt"

	"go.etcd.io/bbolt"
)

// schemaKey holds the schema version (uint64, big endian) in the meta bucket.
const schemaKey = "schema"

// migration upgrades the state file by one step.
type migration struct {
	version int
	name    string
	migrate func(tx *bbolt.Tx) error
}

// migrations upgrade the state file one step at a time, oldest first, in one
// transaction with the version bump. Append only: a released step is never edited
// or reordered. TestMigrations has one case per step.
var migrations = []migration{
	{1, "create meta, links, cursors, parked, conflicts, journal", createBuckets},
}

// SchemaVersion is the version a state file has after Open.
func SchemaVersion() int { return migrations[len(migrations)-1].version }

func createBuckets(tx *bbolt.Tx) error {
	for _, name := range []string{BucketTasks, BucketProjects, BucketDays, BucketRegistrations,
		BucketCursors, BucketParked, BucketConflicts, BucketJournal} {
		if _, err := tx.CreateBucketIfNotExists([]byte(name)); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	return nil
}

func readVersion(tx *bbolt.Tx) (int, error) {
	meta := tx.Bucket([]byte(BucketMeta))
	if meta == nil {
		return 0, nil
	}
	v := meta.Get([]byte(schemaKey))
	if v == nil {
		return 0, nil
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("schema version has %d bytes: %w", len(v), ErrCorrupt)
	}
	return int(binary.BigEndian.Uint64(v)), nil
}

// migrate applies the pending steps in one transaction.
func (s *Store) migrate() error {
	return s.db.Update(func(tx *bbolt.Tx) error { return applyMigrations(tx, migrations) })
}

func applyMigrations(tx *bbolt.Tx, steps []migration) error {
	cur, err := readVersion(tx)
	if err != nil {
		return err
	}
	if latest := steps[len(steps)-1].version; cur > latest {
		return fmt.Errorf("state file has schema %d, this timebridge knows %d: update timebridge", cur, latest)
	}
	meta, err := tx.CreateBucketIfNotExists([]byte(BucketMeta))
	if err != nil {
		return fmt.Errorf("create meta bucket: %w", err)
	}
	for _, m := range steps {
		if m.version <= cur {
			continue
		}
		if err := m.migrate(tx); err != nil {
			return fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
		}
		var v [8]byte
		binary.BigEndian.PutUint64(v[:], uint64(m.version))
		if err := meta.Put([]byte(schemaKey), v[:]); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) checkVersion() error {
	return s.db.View(func(tx *bbolt.Tx) error {
		v, err := readVersion(tx)
		if err != nil {
			return err
		}
		if v != SchemaVersion() {
			return fmt.Errorf("state file has schema %d, want %d: run timebridge once to upgrade it", v, SchemaVersion())
		}
		return nil
	})
}
