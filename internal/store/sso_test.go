package store_test

import (
	"bytes"
	"context"
	"testing"

	"atrium/internal/app"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// testPlans returns the catalog as the default configuration builds it.
func testPlans() *app.Catalog {
	return app.NewCatalog(app.CatalogConfig{Currency: "usd", FreeSeats: 3, FreeAPIRate: 600, ProAPIRate: 600, BusAPIRate: 3000})
}

// TestSSOService_PlanGate holds single sign-on to the catalog: the plan in
// force must include app.FeatureSSO, whatever its name.
func TestSSOService_PlanGate(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		key := bytes.Repeat([]byte{7}, 32)
		ada := signUpMember(t, db, c, "ada@example.com")
		ws := createWorkspace(t, db, ada, "Team")
		sc := app.ScopeOf(ada.ctx, ws.ID)
		makePro(t, db, ws.ID)

		without := testPlans()
		for i := range without.Plans {
			if without.Plans[i].Key == app.PlanPro {
				without.Plans[i].Features = []app.Feature{app.FeatureAuditExport}
			}
		}
		t.Run("PlanWithoutSSO", func(t *testing.T) {
			svc := store.NewSSOService(db, key, without)
			requireCode(t, "save on a plan without sso", svc.SaveSSOConnection(ada.ctx, sc, "https://idp.example.com", "client", "s3cret"), app.EFORBIDDEN)
		})
		t.Run("Business", func(t *testing.T) {
			if _, err := db.SQL().ExecContext(context.Background(),
				db.Rebind("UPDATE workspaces SET plan = 'business', subscription_status = 'active' WHERE id = ?"), ws.ID); err != nil {
				t.Fatal(err)
			}
			svc := store.NewSSOService(db, key, testPlans())
			requireCode(t, "save on business", svc.SaveSSOConnection(ada.ctx, sc, "https://idp.example.com", "client", "s3cret"), "")
			conn, err := svc.ConnectionFor(context.Background(), ws.ID)
			if err != nil || conn == nil {
				t.Fatalf("ConnectionFor on business = %v, %v", conn, err)
			}
			if conn, err := store.NewSSOService(db, key, without).ConnectionFor(context.Background(), ws.ID); err != nil || conn == nil {
				t.Fatalf("ConnectionFor on business (without sso on pro) = %v, %v", conn, err)
			}
		})
	})
}

// makePro puts a workspace on the Pro plan.
func makePro(t *testing.T, db *store.DB, wsID int64) {
	t.Helper()
	if _, err := db.SQL().ExecContext(context.Background(),
		db.Rebind("UPDATE workspaces SET plan = 'pro', subscription_status = 'active' WHERE id = ?"), wsID); err != nil {
		t.Fatal(err)
	}
}

func TestSSOService(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		key := bytes.Repeat([]byte{7}, 32)
		svc := store.NewSSOService(db, key, testPlans())
		ada := signUpMember(t, db, c, "ada@example.com")
		ben := signUpMember(t, db, c, "ben@example.com")
		eve := signUpMember(t, db, c, "eve@example.com")
		ws := createWorkspace(t, db, ada, "Team")
		addMember(t, db, c, ada.ctx, ws.ID, ben, app.RoleAdmin)
		other := createWorkspace(t, db, eve, "Elsewhere")
		sc := app.ScopeOf(ada.ctx, ws.ID)

		t.Run("FreePlanRefused", func(t *testing.T) {
			requireCode(t, "save on free", svc.SaveSSOConnection(ada.ctx, sc, "https://idp.example.com", "client", "s3cret"), app.EFORBIDDEN)
		})
		makePro(t, db, ws.ID)
		makePro(t, db, other.ID)

		t.Run("OwnersOnly", func(t *testing.T) {
			requireCode(t, "admin saves", svc.SaveSSOConnection(ben.ctx, app.ScopeOf(ben.ctx, ws.ID), "https://idp.example.com", "c", "s"), app.EFORBIDDEN)
			requireCode(t, "outsider saves", svc.SaveSSOConnection(eve.ctx, app.ScopeOf(eve.ctx, ws.ID), "https://idp.example.com", "c", "s"), app.ENOTFOUND)
		})

		t.Run("SecretSealed", func(t *testing.T) {
			requireCode(t, "no secret first", svc.SaveSSOConnection(ada.ctx, sc, "https://idp.example.com", "client", ""), app.EINVALID)
			requireCode(t, "save", svc.SaveSSOConnection(ada.ctx, sc, "https://idp.example.com", "client", "s3cret-value"), "")
			var stored string
			if err := db.SQL().QueryRowContext(context.Background(), db.Rebind("SELECT client_secret FROM workspace_sso WHERE workspace_id = ?"), ws.ID).Scan(&stored); err != nil {
				t.Fatal(err)
			}
			if stored == "" || bytes.Contains([]byte(stored), []byte("s3cret-value")) {
				t.Fatalf("stored secret %q is not sealed", stored)
			}
			// Saving without a secret keeps the one kept.
			requireCode(t, "save again", svc.SaveSSOConnection(ada.ctx, sc, "https://idp.example.com", "client2", ""), "")
			conn, err := svc.ConnectionFor(context.Background(), ws.ID)
			if err != nil || conn.ClientSecret != "s3cret-value" || conn.ClientID != "client2" {
				t.Fatalf("connection %+v, %v: want the secret kept and the new client id", conn, err)
			}
			if n := countAudit(t, db, ws.ID, app.ActionSSOConfigured); n != 2 {
				t.Fatalf("%d sso.configured entries, want 2", n)
			}
		})

		t.Run("Domains", func(t *testing.T) {
			d, err := svc.AddSSODomain(ada.ctx, sc, "example.com")
			if err != nil || d.Token == "" || d.Verified() {
				t.Fatalf("add: %+v %v", d, err)
			}
			_, err = svc.AddSSODomain(ada.ctx, sc, "example.com")
			requireCode(t, "add twice", err, app.ECONFLICT)
			requireCode(t, "require before verified", svc.SetSSOSettings(ada.ctx, sc, app.SSOSettings{RequireSSO: true}), app.EINVALID)
			// Another workspace claims it too; whoever verifies first holds it.
			od, err := svc.AddSSODomain(eve.ctx, app.ScopeOf(eve.ctx, other.ID), "example.com")
			if err != nil {
				t.Fatal(err)
			}
			_, err = svc.MarkSSODomainVerified(eve.ctx, app.ScopeOf(eve.ctx, other.ID), d.ID)
			requireCode(t, "verify another workspace's domain id", err, app.ENOTFOUND)
			if _, err := svc.MarkSSODomainVerified(ada.ctx, sc, d.ID); err != nil {
				t.Fatal(err)
			}
			_, err = svc.MarkSSODomainVerified(eve.ctx, app.ScopeOf(eve.ctx, other.ID), od.ID)
			requireCode(t, "verify a domain held elsewhere", err, app.ECONFLICT)
			_, err = svc.AddSSODomain(eve.ctx, app.ScopeOf(eve.ctx, other.ID), "example.com")
			requireCode(t, "claim a domain held elsewhere", err, app.ECONFLICT)
			conn, err := svc.ConnectionForEmail(context.Background(), "grace@example.com")
			if err != nil || conn == nil || conn.WorkspaceID != ws.ID {
				t.Fatalf("connection for grace@example.com: %+v %v", conn, err)
			}
			if conn, _ := svc.ConnectionForEmail(context.Background(), "grace@elsewhere.test"); conn != nil {
				t.Fatal("an unverified domain routes to a connection")
			}
			requireCode(t, "require", svc.SetSSOSettings(ada.ctx, sc, app.SSOSettings{RequireSSO: true, JIT: true, JITRole: app.RoleMember}), "")
			if req, err := svc.SSORequired(context.Background(), ws.ID, "ben@example.com"); err != nil || !req {
				t.Fatalf("required of ben@example.com: %v %v", req, err)
			}
			if req, _ := svc.SSORequired(context.Background(), ws.ID, "ben@other.test"); req {
				t.Fatal("required of an address outside the domain")
			}
			_, err = svc.RemoveSSODomain(ada.ctx, sc, d.ID)
			requireCode(t, "remove the last verified domain while required", err, app.EINVALID)
			if _, err := svc.DisableSSO(context.Background(), ws.Slug, "ticket 42"); err != nil {
				t.Fatal(err)
			}
			if req, _ := svc.SSORequired(context.Background(), ws.ID, "ben@example.com"); req {
				t.Fatal("still required after DisableSSO")
			}
			if n := countAudit(t, db, ws.ID, app.ActionSSODisabled); n != 1 {
				t.Fatalf("%d sso.disabled_by_operator entries, want 1", n)
			}
			if _, err := svc.RemoveSSODomain(ada.ctx, sc, d.ID); err != nil {
				t.Fatal(err)
			}
		})
	})
}

func TestSSOService_SignIn(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		svc := store.NewSSOService(db, bytes.Repeat([]byte{7}, 32), testPlans())
		ada := signUpMember(t, db, c, "ada@acme.test")
		ws := createWorkspace(t, db, ada, "Acme")
		makePro(t, db, ws.ID)
		sc := app.ScopeOf(ada.ctx, ws.ID)
		requireCode(t, "save", svc.SaveSSOConnection(ada.ctx, sc, "https://idp.acme.test", "client", "secret"), "")
		d, err := svc.AddSSODomain(ada.ctx, sc, "acme.test")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.MarkSSODomainVerified(ada.ctx, sc, d.ID); err != nil {
			t.Fatal(err)
		}
		requireCode(t, "jit on", svc.SetSSOSettings(ada.ctx, sc, app.SSOSettings{JIT: true, JITRole: app.RoleAdmin, RequireSSO: true}), "")
		conn, err := svc.ConnectionFor(context.Background(), ws.ID)
		if err != nil {
			t.Fatal(err)
		}
		id := func(sub, email string) app.ExternalIdentity {
			return app.ExternalIdentity{Provider: "sso-1", Issuer: "https://idp.acme.test", Subject: sub, Email: email}
		}
		ns := func() app.NewSession {
			_, h := app.NewToken()
			return app.NewSession{TokenHash: h}
		}

		t.Run("JoinsAsTheRole", func(t *testing.T) {
			res, err := svc.SignInWithSSO(context.Background(), conn, id("bea", "bea@acme.test"), false, "", ns())
			if err != nil || !res.Joined || !res.NewUser {
				t.Fatalf("sign-in: %+v %v, want a new user who joined", res, err)
			}
			if n := countAudit(t, db, ws.ID, app.ActionSSOJoined); n != 1 {
				t.Fatalf("%d joined entries", n)
			}
			if n := storetest.Count(t, db, "SELECT COUNT(*) FROM memberships WHERE workspace_id = ? AND user_id = ? AND role = 'admin'", ws.ID, res.User.ID); n != 1 {
				t.Fatal("not a member as admin")
			}
			if n := storetest.Count(t, db, "SELECT COUNT(*) FROM sessions WHERE user_id = ? AND sso_workspace_id = ?", res.User.ID, ws.ID); n != 1 {
				t.Fatal("the session does not name the workspace")
			}
			// Again: already a member, nothing more.
			if res, err := svc.SignInWithSSO(context.Background(), conn, id("bea", "bea@acme.test"), false, "", ns()); err != nil || res.Joined {
				t.Fatalf("second sign-in: %+v %v", res, err)
			}
		})

		t.Run("NoSeatLeft", func(t *testing.T) {
			full := *conn
			full.Limits = app.PlanLimits{ProSeats: 2}
			res, err := svc.SignInWithSSO(context.Background(), &full, id("cy", "cy@acme.test"), false, "", ns())
			if err != nil || res.Joined || res.JoinRefused == "" {
				t.Fatalf("sign-in into a full workspace: %+v %v, want signed in, not joined, with the reason", res, err)
			}
		})

		t.Run("AddressOutsideTheDomain", func(t *testing.T) {
			_, err := svc.SignInWithSSO(context.Background(), conn, id("dan", "dan@other.test"), false, "", ns())
			requireCode(t, "outside", err, app.EFORBIDDEN)
		})

		t.Run("LapsesOffPro", func(t *testing.T) {
			if req, _ := svc.SSORequired(context.Background(), ws.ID, "bea@acme.test"); !req {
				t.Fatal("not required on Pro")
			}
			if _, err := db.SQL().ExecContext(context.Background(), db.Rebind("UPDATE workspaces SET plan = 'free', subscription_status = 'canceled' WHERE id = ?"), ws.ID); err != nil {
				t.Fatal(err)
			}
			if req, _ := svc.SSORequired(context.Background(), ws.ID, "bea@acme.test"); req {
				t.Fatal("still required after leaving Pro")
			}
			if c, _ := svc.ConnectionForEmail(context.Background(), "bea@acme.test"); c != nil {
				t.Fatal("the sign-in page still routes to a workspace off Pro")
			}
		})
	})
}
