// Package connector holds the small interfaces the sync engine talks to and the
// value types that cross them.
//
// TaskSource is Bitrix24: the source of truth for tasks, groups and people, and the
// sink for time (elapsed-time records). Tracker is a time tracker (Time Doctor,
// TimeLog): the engine mirrors tasks into it and reads the user's tracked time from
// it. TimeWriter is implemented by trackers that also receive time from Bitrix24
// (TimeLog, design §2 row 7).
//
// Every error a connector returns wraps one of the sentinels in errors.go, so the
// engine decides what to do with errors.Is alone. Keys and markers (design §4) live in
// keys.go so that every connector and the engine derive them the same way.
package connector
