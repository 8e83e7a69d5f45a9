package store_test

import (
	"fmt"
	"testing"

	"atrium/internal/app"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// BenchmarkWebhookFanOut renames a workspace, the webhook_fanout scenario
// of make bench in-process: with ten endpoints subscribed to the event, and
// with none. The request's transaction writes the change, its audit entry
// and, with endpoints, what queues the deliveries.
func BenchmarkWebhookFanOut(b *testing.B) {
	for _, dialect := range storetest.Dialects(b) {
		db := storetest.Open(b, dialect)
		c := newClock(db)
		ada := signUpMember(b, db, c, "ada@example.com")
		hooks := devWebhooks(db, nil)
		for _, n := range []int{0, 10} {
			ws := createWorkspace(b, db, ada, fmt.Sprintf("Fan %d", n))
			sc := app.ScopeOf(ada.ctx, ws.ID)
			for i := range n {
				if _, err := hooks.CreateWebhookEndpoint(ada.ctx, sc, app.WebhookEndpointInput{
					URL: fmt.Sprintf("https://hooks%d.example.com/", i), EventTypes: []string{app.ActionWorkspaceRenamed}}); err != nil {
					b.Fatal(err)
				}
			}
			wss := store.NewWorkspaceService(db)
			b.Run(fmt.Sprintf("%s/endpoints=%d", dialect, n), func(b *testing.B) {
				for i := 0; b.Loop(); i++ {
					name := fmt.Sprintf("Fan %d %d", n, i)
					if _, err := wss.UpdateWorkspace(ada.ctx, sc, app.WorkspaceUpdate{Name: &name}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
