// Package store keeps timebridge's local state in one bbolt file: links between
// Bitrix24 objects and tracker objects, cursors, parked items, conflicts and the
// journal. The links are a cache of what the remote keys already say (design §4):
// a lost or corrupt state file is rebuilt from the markers, never trusted over them.
//
// Values are JSON. Every read copies the bytes out of the transaction before it
// returns, as bbolt requires.
package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// ErrLocked means another process holds the state file: another instance of the app.
var ErrLocked = errors.New("another instance of timebridge holds the state file")

// ErrCorrupt means the state file cannot be read as a timebridge state file.
var ErrCorrupt = errors.New("state file is corrupt")

// Bucket names.
const (
	BucketMeta          = "meta"
	BucketTasks         = "tasks"         // task links: <tracker>/<bitrix24 task id> → TaskLink
	BucketProjects      = "projects"      // project links: <tracker>/<project name> → ProjectLink
	BucketDays          = "days"          // day totals ↔ elapsed records: <tracker>/<task id>/<day> → DayLink
	BucketRegistrations = "registrations" // registration ↔ elapsed record: <elapsed id> → RegLink
	BucketCursors       = "cursors"       // name → Cursor
	BucketParked        = "parked"        // key → Parked
	BucketConflicts     = "conflicts"     // key → Conflict
	BucketJournal       = "journal"       // sequence → JournalEntry
)

// Store is an open state file. Safe for concurrent use.
type Store struct {
	db   *bbolt.DB
	path string
}

// Options for Open.
type Options struct {
	// Timeout is how long Open waits for the file lock; default 1 s. A timeout
	// means another instance holds the file (ErrLocked).
	Timeout time.Duration
	// ReadOnly opens the file shared, for status readers.
	ReadOnly bool
}

// Open opens (creating if needed) the state file at path and applies pending migrations.
func Open(path string, opts Options) (*Store, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = time.Second
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create state directory: %w", err)
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: opts.Timeout, ReadOnly: opts.ReadOnly})
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("open %s: %w", path, ErrLocked)
		}
		if errors.Is(err, bolterrors.ErrInvalid) || errors.Is(err, bolterrors.ErrVersionMismatch) || errors.Is(err, bolterrors.ErrChecksum) {
			return nil, fmt.Errorf("open %s: %w: %v", path, ErrCorrupt, err)
		}
		return nil, fmt.Errorf("open state file %s: %w", path, err)
	}
	s := &Store{db: db, path: path}
	if !opts.ReadOnly {
		if err := s.migrate(); err != nil {
			db.Close()
			return nil, err
		}
	} else if err := s.checkVersion(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// OpenOrRebuild opens the state file; when it is corrupt it is moved aside (to
// path + ".corrupt-<time>") and a fresh one is created. moved is the new name of
// the bad file, or "" when nothing was wrong.
func OpenOrRebuild(path string, opts Options, now time.Time) (s *Store, moved string, err error) {
	s, err = Open(path, opts)
	if err == nil || !errors.Is(err, ErrCorrupt) {
		return s, "", err
	}
	moved = fmt.Sprintf("%s.corrupt-%s", path, now.UTC().Format("20060102T150405Z"))
	if rerr := os.Rename(path, moved); rerr != nil {
		return nil, "", fmt.Errorf("move corrupt state file aside: %w (after: %v)", rerr, err)
	}
	s, err = Open(path, opts)
	return s, moved, err
}

// Path is the state file's path.
func (s *Store) Path() string { return s.path }

// Close closes the file and releases the lock.
func (s *Store) Close() error { return s.db.Close() }

// Get reads key from bucket into v. It reports false when the key is absent.
func (s *Store) Get(bucket, key string, v any) (bool, error) {
	var raw []byte
	err := s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte(bucket))
		if b == nil {
			return fmt.Errorf("bucket %s missing: %w", bucket, ErrCorrupt)
		}
		if data := b.Get([]byte(key)); data != nil {
			raw = bytes.Clone(data)
		}
		return nil
	})
	if err != nil || raw == nil {
		return false, err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return false, fmt.Errorf("read %s/%s: %w: %v", bucket, key, ErrCorrupt, err)
	}
	return true, nil
}

// Put writes v under key in bucket (one transaction, synced to disk).
func (s *Store) Put(bucket, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s/%s: %w", bucket, key, err)
	}
	return s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte(bucket))
		if b == nil {
			return fmt.Errorf("bucket %s missing: %w", bucket, ErrCorrupt)
		}
		return b.Put([]byte(key), data)
	})
}

// Delete removes key from bucket; a missing key is no error.
func (s *Store) Delete(bucket, key string) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte(bucket))
		if b == nil {
			return fmt.Errorf("bucket %s missing: %w", bucket, ErrCorrupt)
		}
		return b.Delete([]byte(key))
	})
}

// Each calls fn for every key with the given prefix, in key order, with a copy of
// the value. fn must not call back into the store.
func (s *Store) Each(bucket, prefix string, fn func(key string, raw []byte) error) error {
	type kv struct {
		k string
		v []byte
	}
	var all []kv
	err := s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte(bucket))
		if b == nil {
			return fmt.Errorf("bucket %s missing: %w", bucket, ErrCorrupt)
		}
		c := b.Cursor()
		p := []byte(prefix)
		for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			all = append(all, kv{string(k), bytes.Clone(v)})
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, e := range all {
		if err := fn(e.k, e.v); err != nil {
			return err
		}
	}
	return nil
}

// List decodes every value with the given prefix into a slice of T.
func List[T any](s *Store, bucket, prefix string) ([]T, error) {
	var out []T
	err := s.Each(bucket, prefix, func(key string, raw []byte) error {
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			return fmt.Errorf("read %s/%s: %w: %v", bucket, key, ErrCorrupt, err)
		}
		out = append(out, v)
		return nil
	})
	return out, err
}

// Append adds v to the journal with the next sequence number.
func (s *Store) Append(v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode journal entry: %w", err)
	}
	return s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte(BucketJournal))
		if b == nil {
			return fmt.Errorf("bucket %s missing: %w", BucketJournal, ErrCorrupt)
		}
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		var k [8]byte
		binary.BigEndian.PutUint64(k[:], seq)
		return b.Put(k[:], data)
	})
}

// Journal returns up to limit journal entries, newest first (limit ≤ 0: all).
func Journal[T any](s *Store, limit int) ([]T, error) {
	var out []T
	err := s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte(BucketJournal))
		if b == nil {
			return fmt.Errorf("bucket %s missing: %w", BucketJournal, ErrCorrupt)
		}
		c := b.Cursor()
		for k, v := c.Last(); k != nil && (limit <= 0 || len(out) < limit); k, v = c.Prev() {
			var e T
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("read journal: %w: %v", ErrCorrupt, err)
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}
