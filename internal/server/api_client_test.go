package server_test

import (
	"context"
	"net/http"
	"testing"

	"atrium/internal/server/apiclient"
)

// TestAPIClient checks that the client generated from the API's document
// (apiclient, made by oapi-codegen from internal/server/api/openapi.yaml)
// works against a running server.
func TestAPIClient(t *testing.T) {
	f := newAPIFixture(t, "sqlite")
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
