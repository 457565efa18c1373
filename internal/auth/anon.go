package auth

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/store"
)

// Anonymous users are deleted after 90 days of inactivity, as App
// Services deletes them (spec §3.5). A user is anonymous while its one
// identity is an anon-user one: a user that linked an email or any other
// identity is kept like any other user (linking anonymous credentials is
// refused, so an anonymous user never has two).
//
// A user's activity (last_active_at) is its last login or the last time
// one of its sessions refreshed an access token. Refreshes are recorded
// at most once per activityResolution per session, on the session and on
// the user. A client in use refreshes its access token at least every 30
// minutes, so a user without activity for 90 days is one nobody uses.
// Nothing is deleted until the deployment has recorded activity for 90
// days (Service.activitySince): before that, refreshes were not
// recorded, and a user that looks inactive may not be.
const (
	anonInactivity     = 90 * 24 * time.Hour
	activityResolution = 24 * time.Hour
	// anonPurgeEvery is how often a process looks for inactive
	// anonymous users (on the janitor's tick), and anonPurgeBatch how
	// many it deletes at most each time.
	anonPurgeEvery = time.Hour
	anonPurgeBatch = 1000
)

// touchSession records that an anonymous session refreshed an access
// token, when its last record is older than activityResolution. A
// failure is logged: it only makes the user look older than it is.
func (s *Service) touchSession(ctx context.Context, sess *Session) {
	if sess.Identity.ProviderType != ProviderAnon {
		return
	}
	now := s.now().UTC().Truncate(time.Second)
	last := sess.CreatedAt
	if sess.LastActiveAt.After(last) {
		last = sess.LastActiveAt
	}
	if now.Sub(last) < activityResolution {
		return
	}
	sid, _ := bson.ObjectIDFromHex(sess.ID)
	uid, _ := bson.ObjectIDFromHex(sess.UserID)
	for _, w := range []struct {
		coll string
		id   bson.ObjectID
	}{{collUsers, uid}, {collSessions, sid}} {
		if _, err := s.coll(w.coll).UpdateOne(ctx, idFilter(w.id),
			bson.D{{Key: "$max", Value: bson.D{{Key: "last_active_at", Value: dt(now)}}}}, store.UpdateOptions{}); err != nil {
			s.log.WarnContext(ctx, "auth: record session activity", "err", err)
			return
		}
	}
	sess.LastActiveAt = now
}

// purgeAnonymous deletes up to anonPurgeBatch anonymous users without
// activity for anonInactivity, with DeleteUser (so their sessions go too,
// and authentication triggers see a DELETE). It returns how many it
// deleted. Every process may run it: a user another process deleted
// first is skipped.
func (s *Service) purgeAnonymous(ctx context.Context) (int, error) {
	from := s.now().Add(-anonInactivity)
	if from.Before(s.activitySince) {
		return 0, nil
	}
	// $not $gte also matches a user without last_active_at: one whose
	// last login was before activity was recorded.
	cur, err := s.coll(collUsers).Find(ctx, bson.D{
		{Key: "identities", Value: bson.D{{Key: "$size", Value: 1}}},
		{Key: "identities.provider_type", Value: ProviderAnon},
		{Key: "last_active_at", Value: bson.D{{Key: "$not", Value: bson.D{{Key: "$gte", Value: dt(from)}}}}},
	}, store.FindOptions{Limit: anonPurgeBatch})
	if err != nil {
		return 0, err
	}
	docs, err := store.All(ctx, cur)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, d := range docs {
		oid, _ := lookupOID(d, "_id")
		switch err := s.DeleteUser(ctx, oid.Hex()); {
		case err == nil:
			n++
		case !errors.Is(err, ErrUserNotFound):
			return n, err
		}
	}
	return n, nil
}
