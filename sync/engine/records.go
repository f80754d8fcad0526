package engine

import (
	"time"
)

// The records the engine keeps in the store. They cache what the remote keys say
// (design §4); after a lost state file the engine rebuilds them from the markers.

// taskLink ties a Bitrix24 task to its tracker task. Store key: <tracker>/<source id>.
type taskLink struct {
	SourceID      string
	Title         string
	TrackerTaskID string
	ProjectID     string
	Name          string
	Active        bool
	Members       []string
	// Superseded are older tracker tasks of the same Bitrix24 task (after a move on
	// a tracker that cannot move tasks, or a race between two employees). Their time
	// still maps to this Bitrix24 task.
	Superseded []string
	Gone       bool      // deleted in Bitrix24 or no longer the user's
	Changed    time.Time // the Bitrix24 task's changed date when we last mirrored it
}

// projectLink caches a project found or created by name. Key: <tracker>/<name>.
type projectLink struct {
	Name      string
	ProjectID string
}

// dayLink ties one task-day total to the elapsed record that carries it.
// Key: <tracker>/<source task id>/<yyyy-mm-dd>.
type dayLink struct {
	SourceTaskID string
	Day          string
	ElapsedID    string // "" while a create is in flight (State pending)
	Posted       int64  // seconds on the record as we last wrote or accepted it: the baseline
	Tracked      int64  // the tracker's total when we last reconciled this day
	State        string // dayPending, dayPosted, dayConflict
}

const (
	dayPending  = "pending" // intent recorded before a create; reconcile by marker first
	dayPosted   = "posted"
	dayConflict = "conflict"
)

// parkedRecord is an item set aside. Key: see parkKey*.
type parkedRecord struct {
	Key          string
	Kind         string // "task", "project", "day"
	Tracker      string
	SourceTaskID string
	What         string
	Reason       string
	Since        time.Time
	NextRetry    time.Time
	Attempts     int
}

// conflictRecord is an elapsed record a person changed. Key: <tracker>/<task>/<day>.
type conflictRecord struct {
	Key            string
	Tracker        string
	SourceTaskID   string
	TaskTitle      string
	Day            string
	ElapsedID      string
	TrackerSeconds int64
	RemoteSeconds  int64
	Detected       time.Time
}

// JournalEntry is one remote change the engine made, for the Activity view.
type JournalEntry struct {
	Time    time.Time `json:"time"`
	Service string    `json:"service"`
	Object  string    `json:"object"`
	Action  string    `json:"action"`
	Before  string    `json:"before,omitempty"`
	After   string    `json:"after,omitempty"`
}

// cursorRecord is a change-detection cursor. Key: its name.
type cursorRecord struct {
	Time time.Time
}

// pauseRecord is the persisted pause. Key "pause" in the cursors bucket.
type pauseRecord struct {
	Paused bool
	Until  time.Time // zero: until resumed
}

// identityRecord caches the signed-in Bitrix24 user. Key "me" in the cursors bucket.
type identityRecord struct {
	ID, Name, Email, TimeZone string
	Fetched                   time.Time
}
