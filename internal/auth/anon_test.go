package auth

import (
	"errors"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/store"
)

// TestAnonymousUsersInactive90DaysAreDeleted: an anonymous user nobody
// has logged in as or refreshed a session of for 90 days is deleted with
// its sessions (a DELETE event fires); one whose session was refreshed
// is kept until 90 days after that (a second refresh the same day is not
// recorded); normal users and anonymous users that linked another
// identity are kept.
func TestAnonymousUsersInactive90DaysAreDeleted(t *testing.T) {
	e := newEnv(t, testApp())
	ctx := ctxT(t)
	day := 24 * time.Hour

	idle := e.mustLogin("anon-user", bson.D{})
	refreshed := e.mustLogin("anon-user", bson.D{})
	linked := e.mustLogin("anon-user", bson.D{})
	if err := e.svc.RegisterUser(ctx, "", "linked@x.y", "password1"); err != nil {
		t.Fatal(err)
	}
	caller, err := e.svc.VerifyAccessToken(ctx, linked.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Login(ctx, LoginRequest{Provider: "local-userpass", Body: userpass("linked@x.y", "password1"), Link: caller}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.CreateUser("normal@x.y", "password1"); err != nil {
		t.Fatal(err)
	}
	normal := e.mustLogin("local-userpass", userpass("normal@x.y", "password1"))

	purge := func(want int) {
		t.Helper()
		if n, err := e.svc.purgeAnonymous(ctx); err != nil || n != want {
			t.Fatalf("purge: deleted %d (%v), want %d", n, err, want)
		}
	}
	gone := func(r *LoginResult, want bool) {
		t.Helper()
		_, err := e.svc.User(ctx, r.UserID)
		if got := errors.Is(err, ErrUserNotFound); got != want || (!got && err != nil) {
			t.Fatalf("user %s: deleted %v (%v), want %v", r.UserID, got, err, want)
		}
	}

	e.clk.advance(60 * day)
	if _, err := e.svc.RefreshAccessToken(ctx, refreshed.RefreshToken); err != nil {
		t.Fatal(err)
	}
	// A second refresh the same day does not move the record.
	e.clk.advance(time.Hour)
	if _, err := e.svc.RefreshAccessToken(ctx, refreshed.RefreshToken); err != nil {
		t.Fatal(err)
	}
	e.clk.advance(31 * day) // 91 days after the logins
	*e.hooks = nil
	purge(1)
	gone(idle, true)
	for _, r := range []*LoginResult{refreshed, linked, normal} {
		gone(r, false)
	}
	if _, err := e.svc.RefreshAccessToken(ctx, idle.RefreshToken); err == nil {
		t.Fatal("the deleted user's session still refreshes")
	}
	if len(*e.hooks) != 1 || (*e.hooks)[0].Operation != OpDelete || (*e.hooks)[0].User.ID != idle.UserID ||
		len((*e.hooks)[0].Providers) != 1 || (*e.hooks)[0].Providers[0] != ProviderAnon {
		t.Fatalf("events %+v: want one DELETE of the idle anonymous user", *e.hooks)
	}
	purge(0)

	// 90 days after the refresh (the first of that day's two: the second
	// was not recorded), the refreshed user goes too.
	e.clk.advance(58 * day) // 89 days and 1 hour after the refresh
	purge(0)
	e.clk.advance(day) // 90 days and 1 hour after
	purge(1)
	gone(refreshed, true)
	gone(linked, false)
	gone(normal, false)
}

// TestAnonymousPurgeWaitsForActivityRecords: a deployment that only
// started recording refreshes (an upgrade) deletes nobody until it has
// recorded 90 days of them, whatever the last logins say.
func TestAnonymousPurgeWaitsForActivityRecords(t *testing.T) {
	st := openStore(t)
	e := newEnvOn(t, st, testApp())
	ctx := ctxT(t)
	old := e.mustLogin("anon-user", bson.D{})
	// The user logged in long before activity was recorded, as after an
	// upgrade: its last login is set back and it has no activity record.
	oid, _ := bson.ObjectIDFromHex(old.UserID)
	if _, err := e.svc.coll(collUsers).UpdateOne(ctx, idFilter(oid), bson.D{
		{Key: "$set", Value: bson.D{{Key: "last_login_at", Value: dt(e.clk.now().Add(-400 * 24 * time.Hour))}}},
		{Key: "$unset", Value: bson.D{{Key: "last_active_at", Value: ""}}},
	}, store.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if n, err := e.svc.purgeAnonymous(ctx); err != nil || n != 0 {
		t.Fatalf("purge before 90 days of records: deleted %d (%v)", n, err)
	}
	// A second process on the store keeps the first record.
	e.clk.advance(89 * 24 * time.Hour)
	e2 := newEnvOn(t, st, testApp(), func(o *Options) { o.Now = e.clk.now })
	if !e2.svc.activitySince.Equal(e.svc.activitySince) {
		t.Fatalf("second process: records since %v, first %v", e2.svc.activitySince, e.svc.activitySince)
	}
	if n, err := e2.svc.purgeAnonymous(ctx); err != nil || n != 0 {
		t.Fatalf("purge after 89 days of records: deleted %d (%v)", n, err)
	}
	e.clk.advance(24 * time.Hour)
	if n, err := e2.svc.purgeAnonymous(ctx); err != nil || n != 1 {
		t.Fatalf("purge after 90 days of records: deleted %d (%v)", n, err)
	}
}
