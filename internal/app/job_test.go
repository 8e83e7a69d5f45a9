package app_test

import (
	"testing"

	"atrium/internal/app"
)

// TestJobState_Rules: which states the console and `atrium jobs` may
// retry, cancel and list as failed, and that each state has words.
func TestJobState_Rules(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		state                 app.JobState
		retry, cancel, failed bool
	}{
		{app.JobAvailable, false, true, false},
		{app.JobPending, false, true, false},
		{app.JobScheduled, false, true, false},
		{app.JobRetryable, true, true, true},
		{app.JobRunning, false, true, false},
		{app.JobCompleted, false, false, false},
		{app.JobDiscarded, true, false, true},
		{app.JobCancelled, true, false, false},
	} {
		t.Run(string(tc.state), func(t *testing.T) {
			if got := tc.state.CanRetry(); got != tc.retry {
				t.Errorf("CanRetry=%v, want %v", got, tc.retry)
			}
			if got := tc.state.CanCancel(); got != tc.cancel {
				t.Errorf("CanCancel=%v, want %v", got, tc.cancel)
			}
			if got := tc.state.Failed(); got != tc.failed {
				t.Errorf("Failed=%v, want %v", got, tc.failed)
			}
			if l := tc.state.Label(); l == "" || l == string(tc.state) {
				t.Errorf("Label=%q, want words", l)
			}
		})
	}
}

// TestJobError_Line: an error preview is one line, cut with an ellipsis.
func TestJobError_Line(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		msg  string
		n    int
		want string
	}{
		{"dial tcp: refused", 80, "dial tcp: refused"},
		{"line one\n\tline two  ", 80, "line one line two"},
		{"abcdefghij", 5, "abcd…"},
		{"ééééé", 5, "ééééé"},
	} {
		if got := (app.JobError{Message: tc.msg}).Line(tc.n); got != tc.want {
			t.Errorf("Line(%q, %d)=%q, want %q", tc.msg, tc.n, got, tc.want)
		}
	}
}
