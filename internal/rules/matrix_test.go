package rules

import (
	"context"
	"errors"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// The permission matrix: users × documents × operations (× fields), built
// from the seeds. A cell is a string of the operations the user may do on
// the document: r read (whole document), w update (every field, one at a
// time and together), i insert (a copy of the document), d delete; "-"
// for nothing; W instead of w when only some single-field updates pass
// (changing the owner field moves the post-image out of the write filter,
// W-35). Every cell is asserted, allowed and denied alike.

type matrixCase struct {
	name   string
	set    *Set
	ns     string
	users  map[string]Caller
	docs   map[string]bson.D
	expect map[string]map[string]string // user -> doc -> ops
	sync   bool                         // also check a sync session agrees on r/w
}

func flxSet(t *testing.T, permissions string) *Set {
	t.Helper()
	flx, err := LoadFlexibleSync("sync/config.json", []byte(permissions))
	if err != nil {
		t.Fatal(err)
	}
	s := NewSet(DefaultOptions())
	s.Default = flx.Default
	for c, rs := range flx.Collections {
		s.Collections["db."+c] = rs
	}
	return s
}

func cu(id string, custom string) Caller {
	c := Caller{ID: id, Type: "normal"}
	if custom != "" {
		var d bson.D
		if err := bson.UnmarshalExtJSON([]byte(custom), false, &d); err != nil {
			panic(err)
		}
		c.CustomData = d
	}
	return c
}

func doc(js string) bson.D {
	var d bson.D
	if err := bson.UnmarshalExtJSON([]byte(js), false, &d); err != nil {
		panic(err)
	}
	return d
}

func ops(t *testing.T, v *View, d bson.D) string {
	ctx := context.Background()
	var b strings.Builder
	out, dec := v.Read(ctx, d)
	if out != nil && dec.Level == Whole {
		b.WriteByte('r')
	} else if out != nil {
		b.WriteString("p")
	}
	// Update every non-_id field on its own and all together; a cell says
	// w only when all agree, and the test fails if they disagree.
	all := bson.D{}
	per := map[bool]int{}
	for _, e := range d {
		if e.Key == "_id" {
			continue
		}
		all = append(all, bson.E{Key: e.Key, Value: "changed-" + e.Key})
		err := v.CheckUpdate(ctx, d, applyUpdate(t, d, bson.D{{Key: "$set", Value: bson.D{{Key: e.Key, Value: "changed-" + e.Key}}}}))
		per[err == nil]++
	}
	errAll := v.CheckUpdate(ctx, d, applyUpdate(t, d, bson.D{{Key: "$set", Value: all}}))
	if per[true] > 0 && per[false] > 0 {
		b.WriteString("W") // field-level: some fields writable
	} else if per[true] > 0 {
		if errAll != nil && !errors.Is(errAll, ErrNotVisible) {
			t.Errorf("every field writable alone but not together: %v", errAll)
		}
		b.WriteString("w")
	}
	ins := mqlCopyWithoutID(d)
	if v.CheckInsert(ctx, ins) == nil {
		b.WriteByte('i')
	}
	if v.CheckDelete(ctx, d) == nil {
		b.WriteByte('d')
	}
	if b.Len() == 0 {
		return "-"
	}
	return b.String()
}

func mqlCopyWithoutID(d bson.D) bson.D {
	out := bson.D{}
	for _, e := range d {
		if e.Key != "_id" {
			out = append(out, e)
		}
	}
	return out
}

func TestPermissionMatrix(t *testing.T) {
	ctx := context.Background()
	cases := []matrixCase{
		{
			name:  "003 read and write own data",
			set:   flxSet(t, `{"defaultRoles":[{"name":"owner-read-write","applyWhen":{},"read":{"owner_id":"%%user.id"},"write":{"owner_id":"%%user.id"}}]}`),
			users: map[string]Caller{"u1": cu("u1", ""), "u2": cu("u2", "")},
			docs:  map[string]bson.D{"d1": doc(`{"_id":1,"owner_id":"u1","title":"a"}`), "d2": doc(`{"_id":2,"owner_id":"u2","title":"b"}`)},
			expect: map[string]map[string]string{
				"u1": {"d1": "rWid", "d2": "-"},
				"u2": {"d1": "-", "d2": "rWid"},
			},
			sync: true,
		},
		{
			name:  "003 write own, read all",
			set:   flxSet(t, `{"defaultRoles":[{"name":"owner-write","applyWhen":{},"read":true,"write":{"owner_id":"%%user.id"}}]}`),
			users: map[string]Caller{"u1": cu("u1", ""), "u2": cu("u2", "")},
			docs:  map[string]bson.D{"d1": doc(`{"_id":1,"owner_id":"u1","title":"a"}`), "d2": doc(`{"_id":2,"owner_id":"u2","title":"b"}`)},
			expect: map[string]map[string]string{
				"u1": {"d1": "rWid", "d2": "r"},
				"u2": {"d1": "r", "d2": "rWid"},
			},
			sync: true,
		},
		{
			name:  "003 global admin",
			set:   flxSet(t, `{"defaultRoles":[{"name":"admin","applyWhen":{"%%user.custom_data.isGlobalAdmin":true},"read":true,"write":true},{"name":"user","applyWhen":{},"read":{"owner_id":"%%user.id"},"write":{"owner_id":"%%user.id"}}]}`),
			users: map[string]Caller{"admin": cu("a", `{"isGlobalAdmin":true}`), "u1": cu("u1", `{"isGlobalAdmin":false}`), "str": cu("s", `{"isGlobalAdmin":"true"}`)},
			docs:  map[string]bson.D{"d1": doc(`{"_id":1,"owner_id":"u1","title":"a"}`), "d2": doc(`{"_id":2,"owner_id":"u2","title":"b"}`)},
			expect: map[string]map[string]string{
				"admin": {"d1": "rwid", "d2": "rwid"},
				"u1":    {"d1": "rWid", "d2": "-"},
				"str":   {"d1": "-", "d2": "-"},
			},
			sync: true,
		},
		{
			name:  "003 restricted news feed",
			set:   flxSet(t, `{"defaultRoles":[{"name":"owner-write","applyWhen":{},"read":{"owner_id":{"$in":"%%user.custom_data.subscribedTo"}},"write":{"owner_id":"%%user.id"}}]}`),
			users: map[string]Caller{"u1": cu("u1", `{"subscribedTo":["u2"]}`), "u3": cu("u3", "")},
			docs:  map[string]bson.D{"d1": doc(`{"_id":1,"owner_id":"u1","title":"a"}`), "d2": doc(`{"_id":2,"owner_id":"u2","title":"b"}`), "d3": doc(`{"_id":3,"owner_id":"u3","title":"c"}`)},
			expect: map[string]map[string]string{
				"u1": {"d1": "rWid", "d2": "r", "d3": "-"},
				"u3": {"d1": "-", "d2": "-", "d3": "rWid"},
			},
			sync: true,
		},
		{
			name:  "003 dynamic collaboration",
			set:   flxSet(t, `{"rules":{},"defaultRoles":[{"name":"read-only","applyWhen":{},"write":{"$or":[{"owner_id":"%%user.id"},{"collaborators":"%%user.id"}]}}]}`),
			users: map[string]Caller{"u1": cu("u1", ""), "u3": cu("u3", ""), "u4": cu("u4", "")},
			docs:  map[string]bson.D{"shared": doc(`{"_id":1,"owner_id":"u1","collaborators":["u3"],"title":"a"}`), "private": doc(`{"_id":2,"owner_id":"u1","collaborators":[],"title":"b"}`)},
			expect: map[string]map[string]string{
				// u1 editing "collaborators" alone on shared keeps owner;
				// u3 changing owner_id or collaborators leaves the write
				// filter: those single-field edits fail (W: some fields).
				"u1": {"shared": "rWid", "private": "rWid"},
				"u3": {"shared": "rWid", "private": "-"},
				"u4": {"shared": "-", "private": "-"},
			},
			sync: true,
		},
		{
			name:  "003 tiered privileges",
			set:   flxSet(t, `{"rules":{},"defaultRoles":[{"name":"admin","applyWhen":{"%%user.custom_data.isTeamAdmin":true},"read":{"team":"%%user.custom_data.team"},"write":{"team":"%%user.custom_data.team"}},{"name":"user","applyWhen":{},"read":{"team":"%%user.custom_data.team"},"write":{"owner_id":"%%user.id"}}]}`),
			users: map[string]Caller{"redAdmin": cu("ra", `{"team":"red","isTeamAdmin":true}`), "redUser": cu("ru", `{"team":"red","isTeamAdmin":false}`)},
			docs: map[string]bson.D{
				"redOther": doc(`{"_id":1,"team":"red","owner_id":"x","title":"a"}`),
				"redOwn":   doc(`{"_id":2,"team":"red","owner_id":"ru","title":"b"}`),
				"blue":     doc(`{"_id":3,"team":"blue","owner_id":"x","title":"c"}`),
			},
			expect: map[string]map[string]string{
				"redAdmin": {"redOther": "rWid", "redOwn": "rWid", "blue": "-"},
				"redUser":  {"redOther": "r", "redOwn": "rWid", "blue": "-"},
			},
			sync: true,
		},
		{
			name: "002 task tracker tasks",
			set: roles(t, `[{"name":"isAssignee","apply_when":{"assignee":"%%user.id"},"insert":true,"delete":true,"read":true,"write":true},
				{"name":"default","apply_when":{},"insert":false,"delete":false,"read":true,"write":false}]`),
			users: map[string]Caller{"u1": cu("u1", ""), "u2": cu("u2", "")},
			docs:  map[string]bson.D{"t1": doc(`{"_id":1,"assignee":"u1","name":"a","status":"Open"}`), "t2": doc(`{"_id":2,"assignee":"u2","name":"b","status":"Open"}`), "none": doc(`{"_id":3,"name":"c","status":"Open"}`)},
			expect: map[string]map[string]string{
				// Reassigning one's own task to someone else is an update
				// of a document the caller is assignee of: allowed (the role
				// is chosen on the pre-image, §4.5).
				"u1": {"t1": "rwid", "t2": "r", "none": "r"},
				"u2": {"t1": "r", "t2": "rwid", "none": "r"},
			},
		},
		{
			name:  "002 task tracker users (read only)",
			set:   roles(t, `[{"name":"default","apply_when":{},"insert":false,"delete":false,"read":true,"write":false}]`),
			users: map[string]Caller{"u1": cu("u1", "")},
			docs:  map[string]bson.D{"self": doc(`{"_id":"u1","user_id":"u1","name":"me"}`), "other": doc(`{"_id":"u2","user_id":"u2","name":"you"}`)},
			expect: map[string]map[string]string{
				"u1": {"self": "r", "other": "r"},
			},
		},
		{
			name: "004 manager, employee, teammate",
			set:  roles(t, "["+managerRole+","+employeeRole+","+teammateRole+"]"),
			users: map[string]Caller{
				"andy":    employee("andy@dm", "sales", "phylis@dm", "stanley@dm"),
				"phylis":  employee("phylis@dm", "sales"),
				"stanley": employee("stanley@dm", "sales"),
				"oscar":   employee("oscar@dm", "accounting"),
			},
			docs: map[string]bson.D{
				"phylis":  doc(`{"_id":1,"employeeId":"0528","name":"Phylis Lapin","team":"sales","email":"phylis@dm","manages":[]}`),
				"stanley": doc(`{"_id":2,"employeeId":"0713","name":"Stanley Hudson","team":"sales","email":"stanley@dm","manages":[]}`),
				"andy":    doc(`{"_id":3,"employeeId":"0865","name":"Andy Bernard","team":"sales","email":"andy@dm","manages":["phylis@dm","stanley@dm"]}`),
			},
			expect: map[string]map[string]string{
				// Inserting a copy of a managed employee's document: the
				// role on the new document is Manager (insert:true).
				"andy":    {"phylis": "rwid", "stanley": "rwid", "andy": "rw"},
				"phylis":  {"phylis": "rw", "stanley": "r", "andy": "r"},
				"stanley": {"phylis": "r", "stanley": "rw", "andy": "r"},
				"oscar":   {"phylis": "-", "stanley": "-", "andy": "-"},
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ns := c.ns
			if ns == "" {
				ns = "db.c"
			}
			for un, u := range c.users {
				v, err := c.set.View(ctx, ns, u, RequestContext{})
				if err != nil {
					t.Fatal(err)
				}
				var sv *SyncView
				if c.sync {
					if sv, err = c.set.SyncView(ctx, ns, u, RequestContext{}, nil); err != nil {
						t.Fatal(err)
					}
				}
				for dn, d := range c.docs {
					want := c.expect[un][dn]
					if got := ops(t, v, d); got != want {
						t.Errorf("%s on %s: got %q want %q", un, dn, got, want)
					}
					if sv != nil {
						r, w := sv.CanRead(ctx, d), sv.CanWrite(ctx, d)
						if r != strings.Contains(want, "r") || w != strings.ContainsAny(want, "wW") {
							t.Errorf("sync %s on %s: read %v write %v, want %q", un, dn, r, w, want)
						}
					}
					// The pushed-down filter never drops a readable document.
					if strings.Contains(want, "r") {
						if ok, err := v.MatchesRules(d); err != nil || !ok {
							t.Errorf("%s on %s: pushed-down filter %v excludes a readable document (%v)", un, dn, v.RulesFilter(), err)
						}
					}
				}
			}
		})
	}
}
