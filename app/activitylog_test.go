package app

import (
	"log/slog"
	"testing"
	"time"

	"github.com/dicominbox/dicominbox/scp"
)

// TestActivityLogNewest: Newest moves when an entry is added, not when the
// running "Stored N instances" entry is updated in place (the window redraws
// at once for the first, at its live pace for the second); Version moves for both.
func TestActivityLogNewest(t *testing.T) {
	l := NewActivityLog(10)
	if l.Newest() != 0 || l.Version() != 0 {
		t.Fatalf("empty log: newest %d, version %d", l.Newest(), l.Version())
	}
	l.Apply(assocEv(scp.AssociationAccepted, 1, 0))
	l.Apply(storedEv(1, time.Second, "S", "SE", 100))
	newest, version := l.Newest(), l.Version()
	if newest != 2 {
		t.Fatalf("newest after two entries = %d", newest)
	}
	l.Apply(storedEv(1, 2*time.Second, "S", "SE", 100)) // updates the "Stored" entry
	if l.Newest() != newest || l.Version() == version {
		t.Errorf("in-place update: newest %d → %d, version %d → %d", newest, l.Newest(), version, l.Version())
	}
	if e := l.Entries(slog.LevelInfo); len(e) != 2 || e[0].Text != "Stored 2 instances (800 B) of Doe^Jane — CT HEAD from MODALITY" {
		t.Errorf("entries: %+v", e)
	}
	l.Apply(assocEv(scp.AssociationReleased, 1, 3*time.Second))
	if l.Newest() != newest+1 {
		t.Errorf("newest after a new entry = %d, want %d", l.Newest(), newest+1)
	}
}
