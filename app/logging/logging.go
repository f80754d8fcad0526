package logging

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
)

// File names and rotation defaults.
const (
	DirName        = "logs"
	FileName       = "timebridge.log"
	DefaultMaxSize = 5 << 20 // bytes per file before it is rotated
	DefaultKeep    = 3       // rotated files kept: timebridge.log.1 (newest) … .3
)

// Dir returns the log directory under home, for the "Open log folder" menu item.
func Dir(home string) string { return filepath.Join(home, DirName) }

// Options configure Open. Zero fields take the defaults shown.
type Options struct {
	Home        string       // required: the log goes to Home/logs/timebridge.log
	Level       slog.Leveler // slog.LevelInfo: level of the file
	Stderr      io.Writer    // nil: no terminal output; else text lines for commands
	StderrLevel slog.Leveler // Level
	MaxSize     int64        // 5 MiB: the file is rotated before it grows past this
	Keep        int          // 3 rotated files besides the current one
}

// New returns a logger writing JSON lines at level to home/logs/timebridge.log (rotated
// at 5 MiB, 3 old files kept) and, when stderr is not nil, text lines to stderr. Close
// the io.Closer at exit.
func New(home string, level slog.Level, stderr io.Writer) (*slog.Logger, io.Closer, error) {
	return Open(Options{Home: home, Level: level, Stderr: stderr})
}

// Open is New with every option.
func Open(opt Options) (*slog.Logger, io.Closer, error) {
	if opt.Home == "" {
		return nil, nil, errors.New("open log: no home directory")
	}
	if opt.Level == nil {
		opt.Level = slog.LevelInfo
	}
	if opt.StderrLevel == nil {
		opt.StderrLevel = opt.Level
	}
	if opt.MaxSize <= 0 {
		opt.MaxSize = DefaultMaxSize
	}
	if opt.Keep <= 0 {
		opt.Keep = DefaultKeep
	}
	dir := Dir(opt.Home)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("open log: %w", err)
	}
	w, err := openRotator(filepath.Join(dir, FileName), opt.MaxSize, opt.Keep)
	if err != nil {
		return nil, nil, err
	}
	handlers := []slog.Handler{slog.NewJSONHandler(w, &slog.HandlerOptions{Level: opt.Level, ReplaceAttr: ReplaceAttr})}
	if opt.Stderr != nil {
		handlers = append(handlers, slog.NewTextHandler(opt.Stderr, &slog.HandlerOptions{Level: opt.StderrLevel, ReplaceAttr: ReplaceAttr}))
	}
	return slog.New(slog.NewMultiHandler(handlers...)), w, nil
}

// rotator is an io.WriteCloser over a log file that renames it to .1 (and .1 to .2…)
// before a write would take it past max bytes. slog handlers write one whole line per
// Write, so lines are never split across files.
type rotator struct {
	mu   sync.Mutex
	path string
	max  int64
	keep int
	f    *os.File
	size int64
}

func openRotator(path string, max int64, keep int) (*rotator, error) {
	r := &rotator{path: path, max: max, keep: keep}
	if err := r.open(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *rotator) open() error {
	f, err := os.OpenFile(r.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open log: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return fmt.Errorf("open log: %w", err)
	}
	r.f, r.size = f, st.Size()
	return nil
}

// Write appends p, rotating first when needed.
func (r *rotator) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return 0, os.ErrClosed
	}
	if r.size > 0 && r.size+int64(len(p)) > r.max {
		if err := r.rotate(); err != nil {
			return 0, err
		}
	}
	n, err := r.f.Write(p)
	r.size += int64(n)
	return n, err
}

// rotate shifts the files. When a rename fails (on Windows another process may hold the
// file open) it keeps writing to the current file and tries again after another max bytes.
func (r *rotator) rotate() error {
	_ = r.f.Close()
	_ = os.Remove(r.path + "." + strconv.Itoa(r.keep))
	for i := r.keep - 1; i >= 1; i-- {
		_ = os.Rename(r.path+"."+strconv.Itoa(i), r.path+"."+strconv.Itoa(i+1))
	}
	renamed := os.Rename(r.path, r.path+".1") == nil
	if err := r.open(); err != nil {
		r.f = nil // later writes report os.ErrClosed
		return err
	}
	if !renamed {
		r.size = 0
	}
	return nil
}

// Close closes the log file. Later writes fail with os.ErrClosed.
func (r *rotator) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	return err
}
