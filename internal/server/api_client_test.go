package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"testing"

	"atrium/internal/server/apiclient"
)

var updateOpenAPI = flag.Bool("update-openapi", false, "write the served OpenAPI document to internal/server/apiclient/openapi.json")

// canonicalURL is the APP_URL of the committed document.
const canonicalURL = "http://localhost:8080"

// TestAPIClient checks that the client generated from the committed
// document (apiclient, made by oapi-codegen) matches what the server
// serves, compiles, and works against a running server.
func TestAPIClient(t *testing.T) {
	f := newAPIFixture(t, "sqlite")
	served := bytes.ReplaceAll(f.api.docs.raw31, []byte(f.a.URL), []byte(canonicalURL))
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, served, "", "  "); err != nil {
		t.Fatal(err)
	}
	pretty.WriteByte('\n')
	const path = "apiclient/openapi.json"
	if *updateOpenAPI {
		if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	committed, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(committed, pretty.Bytes()) {
		t.Fatalf("the served OpenAPI document differs from %s: run go test -run TestAPIClient -update-openapi, then go generate ./internal/server/apiclient/", path)
	}

	bearer := func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+f.secret)
		return nil
	}
	c, err := apiclient.NewClientWithResponses(f.a.URL+"/api/v1", apiclient.WithRequestEditorFn(bearer))
	if err != nil {
		t.Fatal(err)
	}
	ws, err := c.GetWorkspaceWithResponse(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if ws.JSON200 == nil || ws.JSON200.Name != "Acme" || ws.JSON200.Seats.Members != 2 {
		t.Fatalf("GetWorkspace: %d %s", ws.StatusCode(), ws.Body)
	}
	inv, err := c.CreateInviteWithResponse(context.Background(), apiclient.CreateInviteJSONRequestBody{
		Email: "client@acme.test", Role: apiclient.APINewInviteRoleMember})
	if err != nil {
		t.Fatal(err)
	}
	if inv.JSON201 == nil || inv.JSON201.Email != "client@acme.test" {
		t.Fatalf("CreateInvite: %d %s", inv.StatusCode(), inv.Body)
	}
	limit := int64(1)
	members, err := c.ListMembersWithResponse(context.Background(), &apiclient.ListMembersParams{Limit: &limit})
	if err != nil {
		t.Fatal(err)
	}
	if members.JSON200 == nil || len(members.JSON200.Members) != 1 || members.JSON200.NextCursor == nil {
		t.Fatalf("ListMembers: %d %s", members.StatusCode(), members.Body)
	}
	invites, err := c.ListInvitesWithResponse(context.Background(), &apiclient.ListInvitesParams{Limit: &limit})
	if err != nil {
		t.Fatal(err)
	}
	if invites.JSON200 == nil || len(invites.JSON200.Invites) != 1 || invites.JSON200.NextCursor != nil {
		t.Fatalf("ListInvites: %d %s", invites.StatusCode(), invites.Body)
	}
}
