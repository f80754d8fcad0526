package connectortest

import (
	"testing"

	"github.com/timebridge/timebridge/sync/connector"
)

func TestMemoryContract(t *testing.T) {
	Run(t, Opt{New: func(t *testing.T) (connector.Tracker, Fixture) {
		m := NewMemory(connector.User{ID: "u1", Name: "Ann", Email: "ann@example.com"})
		return m, m
	}})
}

func TestMemoryRestrictedContract(t *testing.T) {
	// A tracker like TimeLog: no project creation, no rename, move or (de)activation.
	Run(t, Opt{New: func(t *testing.T) (connector.Tracker, Fixture) {
		m := NewMemory(connector.User{ID: "u1", Name: "Ann", Email: "ann@example.com"},
			WithName(connector.TrackerTimeLog), WithFeatures(connector.Features{CreateTask: true}))
		return m, m
	}})
}
