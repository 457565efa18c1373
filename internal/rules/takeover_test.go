package rules

import (
	"context"
	"testing"
)

// TestWriteFilterHoldsOnStoredDocument: a document's write filter must hold
// on the stored document as well as on the result. A user who may only
// read a document (its read filter passes, its write filter does not) must
// not be able to take it over by rewriting the very field the write filter
// checks — the post-image alone would then pass. Seed 003's restricted
// news feed (a subscriber setting owner_id to themselves on an author's
// post) and tiered privileges (a team member doing the same to a
// teammate's document) depend on it.
func TestWriteFilterHoldsOnStoredDocument(t *testing.T) {
	ctx := context.Background()
	feed := flxSet(t, `{"defaultRoles":[{"name":"owner-write","applyWhen":{},"read":{"owner_id":{"$in":"%%user.custom_data.subscribedTo"}},"write":{"owner_id":"%%user.id"}}]}`)
	subscriber := view(t, feed, cu("u1", `{"subscribedTo":["u2"]}`))
	post := ej(t, `{"_id":1,"owner_id":"u2","text":"by u2"}`)
	wantErr(t, "subscriber takes over", update(t, subscriber, post, `{"$set":{"owner_id":"u1"}}`), ErrUpdateNotPermitted)
	wantErr(t, "subscriber edits", update(t, subscriber, post, `{"$set":{"text":"x"}}`), ErrUpdateNotPermitted)
	own := ej(t, `{"_id":2,"owner_id":"u1","text":"by u1"}`)
	wantErr(t, "author edits", update(t, subscriber, own, `{"$set":{"text":"x"}}`), nil)

	tiered := flxSet(t, `{"rules":{},"defaultRoles":[{"name":"admin","applyWhen":{"%%user.custom_data.isTeamAdmin":true},"read":{"team":"%%user.custom_data.team"},"write":{"team":"%%user.custom_data.team"}},{"name":"user","applyWhen":{},"read":{"team":"%%user.custom_data.team"},"write":{"owner_id":"%%user.id"}}]}`)
	member := view(t, tiered, cu("ru", `{"team":"red","isTeamAdmin":false}`))
	mate := ej(t, `{"_id":3,"team":"red","owner_id":"x","title":"a"}`)
	wantErr(t, "member takes over", update(t, member, mate, `{"$set":{"owner_id":"ru"}}`), ErrUpdateNotPermitted)
	wantErr(t, "member replaces", member.CheckUpdate(ctx, mate, ej(t, `{"_id":3,"team":"red","owner_id":"ru","title":"mine"}`)), ErrUpdateNotPermitted)
	admin := view(t, tiered, cu("ra", `{"team":"red","isTeamAdmin":true}`))
	wantErr(t, "admin edits", update(t, admin, mate, `{"$set":{"owner_id":"ra"}}`), nil)
	blue := view(t, tiered, cu("ba", `{"team":"blue","isTeamAdmin":true}`))
	wantErr(t, "other team's admin", update(t, blue, mate, `{"$set":{"team":"blue"}}`), ErrNotVisible)
}
