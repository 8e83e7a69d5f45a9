package store_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"atrium/internal/store"
)

// TestMemberRank_MatchesIndex: the members page orders roles by an
// expression built from app.Roles; memberships_workspace_rank_idx
// (migration 00004) must hold the same expression word for word, or the
// page sorts outside the index.
func TestMemberRank_MatchesIndex(t *testing.T) {
	expr := strings.ReplaceAll(store.MemberRank(), "m.", "")
	if got, want := expr, "(CASE role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 ELSE 2 END)"; got != want {
		t.Errorf("rank expression %s, want %s", got, want)
	}
	for _, dialect := range []string{"sqlite", "postgres"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "migrations", dialect, "00004_hot_query_indexes.sql"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), expr) {
			t.Errorf("%s: memberships_workspace_rank_idx does not hold %s", dialect, expr)
		}
	}
}
