package connector

import (
	"crypto/sha1"
	"fmt"
	"regexp"
	"strings"
)

// Tracker names used in markers and settings.
const (
	TrackerTimeDoctor = "timedoctor"
	TrackerTimeLog    = "timelog"
)

// markerRe finds the Bitrix24 id marker at the end of a tracker task name.
var markerRe = regexp.MustCompile(`\s\[B24-(\d+)\]\s*$`)

// TaskMarker is the name suffix that ties a tracker task to Bitrix24 task id
// (design §4): " [B24-<taskId>]".
func TaskMarker(taskID string) string { return " [B24-" + taskID + "]" }

// TaskName is the tracker task name for a Bitrix24 task: the title plus the marker,
// with the title shortened (never the marker) so the whole fits in max runes when
// max > 0.
func TaskName(title, taskID string, max int) string {
	title = strings.TrimSpace(title)
	marker := TaskMarker(taskID)
	if max > 0 {
		r := []rune(title)
		room := max - len([]rune(marker))
		if room < 1 {
			room = 1
		}
		if len(r) > room {
			title = strings.TrimSpace(string(r[:room-1])) + "…"
		}
	}
	return title + marker
}

// ParseTaskMarker returns the Bitrix24 task id in a tracker task name, if any.
func ParseTaskMarker(name string) (taskID string, ok bool) {
	m := markerRe.FindStringSubmatch(name)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// elapsedRe finds our marker in an elapsed record's COMMENT_TEXT.
var elapsedRe = regexp.MustCompile(`timebridge:([a-z0-9]+):(\d{4}-\d{2}-\d{2})(?::([0-9A-Za-z-]+))?\s*$`)

// ElapsedMarker is the suffix of COMMENT_TEXT on an elapsed record we own (design §4):
// "timebridge:<tracker>:<yyyy-mm-dd>[:<registration-id>]".
type ElapsedMarker struct {
	Tracker        string
	Day            Day
	RegistrationID string // TimeLog registrations written to Bitrix24; else empty
}

// String formats the marker.
func (m ElapsedMarker) String() string {
	s := "timebridge:" + m.Tracker + ":" + m.Day.String()
	if m.RegistrationID != "" {
		s += ":" + m.RegistrationID
	}
	return s
}

// Comment is the full COMMENT_TEXT: free text, a middle dot, then the marker.
func (m ElapsedMarker) Comment(text string) string {
	text = strings.TrimSpace(text)
	if text == "" {
		return m.String()
	}
	return text + " · " + m.String()
}

// ParseElapsedMarker finds our marker in a COMMENT_TEXT. Records without it belong
// to a person (or another tool) and are never treated as ours.
func ParseElapsedMarker(comment string) (ElapsedMarker, bool) {
	m := elapsedRe.FindStringSubmatch(comment)
	if m == nil {
		return ElapsedMarker{}, false
	}
	d, err := ParseDay(m[2])
	if err != nil {
		return ElapsedMarker{}, false
	}
	return ElapsedMarker{Tracker: m[1], Day: d, RegistrationID: m[3]}, true
}

// registrationNamespace is the UUIDv5 namespace of TimeLog registration GUIDs. It is
// part of the on-the-wire contract: never change it.
var registrationNamespace = [16]byte{0x6b, 0x1f, 0x3c, 0x52, 0x8e, 0x0d, 0x4c, 0x7a, 0x9b, 0x21, 0x5d, 0x3e, 0x80, 0x44, 0xa1, 0x17}

// RegistrationGUID is the TimeLog registration id for a Bitrix24 elapsed record
// (design §4): UUIDv5(namespace, portal + "/elapsed/" + elapsedID).
func RegistrationGUID(portal, elapsedID string) string {
	return uuidV5(registrationNamespace, portal+"/elapsed/"+elapsedID)
}

// uuidV5 implements RFC 9562 §5.5 (SHA-1 name-based UUID).
func uuidV5(ns [16]byte, name string) string {
	h := sha1.New()
	h.Write(ns[:])
	h.Write([]byte(name))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = (u[6] & 0x0f) | 0x50
	u[8] = (u[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}
