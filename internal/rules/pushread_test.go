package rules

import (
	"testing"
)

// A role's read or write condition is pushed down when it compiles, so an
// owner rule written as read: {owner_id: "%%user.id"} reaches the store as
// an indexable equality; field rules or an uncompilable condition keep the
// query unrestricted (the decider still runs on every document).
func TestPushDownRoleReadCondition(t *testing.T) {
	cases := []struct{ name, rules, want string }{
		{"read owner", `{"roles":[{"name":"o","apply_when":{},"read":{"owner_id":"%%user.id"}}]}`,
			`{"owner_id":"u1"}`},
		{"read and write same", `{"roles":[{"name":"o","apply_when":{},"read":{"owner_id":"%%user.id"},"write":{"owner_id":"%%user.id"}}]}`,
			`{"owner_id":"u1"}`},
		{"write only", `{"roles":[{"name":"o","apply_when":{},"write":{"owner_id":"%%user.id"}}]}`,
			`{"owner_id":"u1"}`},
		{"read or write", `{"roles":[{"name":"o","apply_when":{},"read":{"team":"red"},"write":{"owner_id":"%%user.id"}}]}`,
			`{"$or":[{"team":"red"},{"owner_id":"u1"}]}`},
		{"two roles", `{"roles":[{"name":"o","apply_when":{},"read":{"owner_id":"%%user.id"}},{"name":"p","apply_when":{},"read":{"public":true}}]}`,
			`{"$or":[{"owner_id":"u1"},{"public":true}]}`},
		{"second role open", `{"roles":[{"name":"o","apply_when":{},"read":{"owner_id":"%%user.id"}},{"name":"p","apply_when":{},"read":true}]}`,
			`{}`},
		{"field rules", `{"roles":[{"name":"o","apply_when":{},"read":{"owner_id":"%%user.id"},"fields":{"title":{"read":true}}}]}`,
			`{}`},
		{"additional fields", `{"roles":[{"name":"o","apply_when":{},"read":{"owner_id":"%%user.id"},"additional_fields":{"read":true}}]}`,
			`{}`},
		{"function", `{"roles":[{"name":"o","apply_when":{},"read":{"%%true":{"%function":{"name":"f"}}}}]}`,
			`{}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := view(t, set(t, c.rules), user("u1"))
			if got := canon(t, v.PushDown(ej(t, `{}`))); got != c.want {
				t.Fatalf("pushed down %s, want %s", got, c.want)
			}
		})
	}
}
