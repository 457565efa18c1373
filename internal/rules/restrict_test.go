package rules

import (
	"context"
	"errors"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// protected is a ruleset where "secret", "a.hidden", the nested object "a"
// as a whole and any unlisted field are withheld from some documents.
const protected = `[
 {"name":"owner","apply_when":{"owner":"%%user.id"},"read":true,"write":true},
 {"name":"other","apply_when":{},"fields":{"_id":{"read":true},"name":{"read":true},"owner":{"read":true},"tags":{"read":true},
   "items":{"read":true},"a":{"fields":{"b":{"read":true},"hidden":{"read":false}}},"maybe":{"read":{"public":true}}}}
]`

func TestRestrictionsFieldOracles(t *testing.T) {
	v := view(t, roles(t, protected), user("u1"))
	refused := []string{
		`{"secret":"x"}`,
		`{"secret":{"$exists":true}}`,
		`{"secret.sub":1}`,
		`{"secret.0":1}`,
		`{"secret.$":1}`,
		`{"a.hidden":1}`,
		`{"a.0.hidden":1}`,
		`{"a":{"b":1,"hidden":2}}`,
		`{"a":{"$exists":true}}`,
		`{"a":{"$elemMatch":{"hidden":1}}}`,
		`{"items":{"$elemMatch":{"x":1}}}`[:0] + `{"a":{"$elemMatch":{"b":1,"hidden":{"$gt":0}}}}`,
		`{"$or":[{"name":"n"},{"secret":"x"}]}`,
		`{"$and":[{"name":"n"},{"$or":[{"secret":"x"}]}]}`,
		`{"$nor":[{"secret":"x"}]}`,
		`{"name":"n","secret":{"$not":{"$eq":"x"}}}`,
		`{"maybe":1}`,
		`{"unlisted":1}`,
		`{"secret":{"$in":["a","b"]}}`,
		`{"secret":{"$type":"string"}}`,
		`{"secret":{"$size":1}}`,
	}
	for _, f := range refused {
		if err := v.CheckFilter(ej(t, f)); !errors.Is(err, ErrForbidden) {
			t.Errorf("filter %s: got %v, want refusal", f, err)
		}
	}
	allowed := []string{
		`{}`,
		`{"name":"n"}`,
		`{"a.b":1}`,
		`{"a.0.b":1}`,
		`{"items.x":1}`,
		`{"items":{"$elemMatch":{"x":1,"y":{"$gt":2}}}}`,
		`{"tags":{"$all":["a"]}}`,
		`{"$or":[{"name":"n"},{"owner":"u1"}]}`,
		`{"name":{"$not":{"$eq":"x"}}}`,
		`{"name":{"$in":["a"]},"$comment":"c"}`,
	}
	for _, f := range allowed {
		if err := v.CheckFilter(ej(t, f)); err != nil {
			t.Errorf("filter %s: %v", f, err)
		}
	}
	for _, s := range []string{`{"secret":1}`, `{"a":1}`, `{"name":1,"a.hidden":-1}`} {
		if err := v.CheckSort(ej(t, s)); !errors.Is(err, ErrForbidden) {
			t.Errorf("sort %s: got %v", s, err)
		}
	}
	if err := v.CheckSort(ej(t, `{"name":1,"a.b":-1}`)); err != nil {
		t.Errorf("sort: %v", err)
	}
	for _, p := range []string{`{"secret":1}`, `{"secret":0}`, `{"a.hidden":1}`, `{"items":{"$elemMatch":{"secret":1}}}`[:0] + `{"tags.$":1,"secret.$":1}`, `{"x":{"$concat":["$secret"]}}`, `{"x":{"$literal":"$$ROOT"}}`[:0] + `{"x":{"$getField":{"field":"a","input":"$$ROOT"}}}`} {
		if err := v.CheckProjection(ej(t, p)); !errors.Is(err, ErrForbidden) {
			t.Errorf("projection %s: got %v", p, err)
		}
	}
	if err := v.CheckProjection(ej(t, `{"name":1,"a.b":1,"tags.$":1}`)); err != nil {
		t.Errorf("projection: %v", err)
	}
	updates := []struct {
		upd string
		af  []string
	}{
		{`{"$set":{"secret":"x"}}`, nil},
		{`{"$unset":{"secret":""}}`, nil},
		{`{"$setOnInsert":{"secret":1}}`, nil},
		{`{"$rename":{"secret":"name"}}`, nil},
		{`{"$rename":{"name":"secret"}}`, nil},
		{`{"$set":{"a.hidden":1}}`, nil},
		{`{"$set":{"a.$[].hidden":1}}`, nil},
		{`{"$set":{"items.$[e].ok":1}}`, []string{`{"e.secret":1}`}[:0]},
		{`{"$set":{"a.$[e].b":1}}`, []string{`{"e.hidden":1}`}},
		{`{"$pull":{"a":{"hidden":1}}}`, nil},
		{`{"$push":{"secret":1}}`, nil},
		{`{"$where":{"x":1}}`, nil},
	}
	// The owner role reads everything, so these updates are not refused
	// for the request; under the other role, which hides a path each of
	// them names, a document is refused before the update is applied.
	ctx := context.Background()
	owned := ej(t, `{"_id":1,"owner":"u1","name":"n","secret":"s","a":{"b":1,"hidden":2}}`)
	other := ej(t, `{"_id":2,"owner":"u2","name":"n","secret":"s","a":{"b":1,"hidden":2}}`)
	for i, u := range updates {
		var af []bson.D
		for _, f := range u.af {
			af = append(af, ej(t, f))
		}
		tg, err := v.CheckUpdateDoc(ej(t, u.upd), af)
		if i == len(updates)-1 {
			if !errors.Is(err, ErrForbidden) {
				t.Errorf("update %s: got %v", u.upd, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("update %s %v: %v", u.upd, u.af, err)
			continue
		}
		if err := v.CheckUpdateBefore(ctx, owned, tg); err != nil {
			t.Errorf("update %s of the owner's document: %v", u.upd, err)
		}
		want := ErrUpdateNotPermitted
		if i == 7 {
			want = nil
		}
		if err := v.CheckUpdateBefore(ctx, other, tg); !errors.Is(err, want) {
			t.Errorf("update %s %v of another's document: got %v, want %v", u.upd, u.af, err, want)
		}
	}
	tg, err := v.CheckUpdateDoc(ej(t, `{"$set":{"name":"x","items.$[e].x":1},"$push":{"tags":"t"}}`), []bson.D{ej(t, `{"e.x":{"$gt":1}}`)})
	if err != nil {
		t.Errorf("update: %v", err)
	}
	if err := v.CheckUpdateBefore(ctx, other, tg); err != nil {
		t.Errorf("update of readable fields of another's document: %v", err)
	}
	// a.b is readable, but a is shown only in part: a read does not tell
	// whether a is a document, which decides whether $set a.b fails.
	tg, err = v.CheckUpdateDoc(ej(t, `{"$set":{"a.b":2}}`), nil)
	if err != nil {
		t.Errorf("update: %v", err)
	}
	if err := v.CheckUpdateBefore(ctx, other, tg); !errors.Is(err, ErrUpdateNotPermitted) {
		t.Errorf("update into a partly shown object: %v", err)
	}
	// A document under the other role of which nothing is readable is
	// withheld: it is not a candidate (§4.5 pre-image rule), for an
	// update or a delete, so the outcome is that of a selector matching
	// nothing, whatever it holds.
	tg, err = v.CheckUpdateDoc(ej(t, `{"$set":{"name":"x"}}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.CheckUpdateBefore(ctx, ej(t, `{"secret":1}`), tg); !errors.Is(err, ErrNotVisible) {
		t.Errorf("update of a withheld document: %v", err)
	}
	if err := v.CheckDelete(ctx, ej(t, `{"secret":1}`)); !errors.Is(err, ErrNotVisible) {
		t.Errorf("delete of a withheld document: %v", err)
	}
	// A replacement names every field: refused under the role with field
	// rules, allowed under the owner role.
	tg, err = v.CheckUpdateDoc(ej(t, `{"owner":"u2","name":"n"}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.CheckUpdateBefore(ctx, other, tg); !errors.Is(err, ErrUpdateNotPermitted) {
		t.Errorf("replacement of another's document: %v", err)
	}
	if err := v.CheckUpdateBefore(ctx, owned, tg); err != nil {
		t.Errorf("replacement of the owner's document: %v", err)
	}
	// Without the owner role, no role reads secret: refused for the request.
	only := view(t, roles(t, `[{"name":"other","apply_when":{},"fields":{"name":{"read":true,"write":true}},"additional_fields":{}}]`), user("u1"))
	for _, u := range []string{`{"$set":{"secret":1}}`, `{"$inc":{"name":1,"secret":1}}`, `{"$set":{"name":"x"},"$unset":{"secret":""}}`} {
		if _, err := only.CheckUpdateDoc(ej(t, u), nil); !errors.Is(err, ErrForbidden) {
			t.Errorf("update %s with one role: got %v", u, err)
		}
	}
	// A zero UpdateTargets (not from CheckUpdateDoc) refuses.
	if err := v.CheckUpdateBefore(ctx, owned, UpdateTargets{}); !errors.Is(err, ErrUpdateNotPermitted) {
		t.Errorf("unchecked update: %v", err)
	}
}

func TestRestrictionsOwnerOnlyRoleAllowsEverything(t *testing.T) {
	v := view(t, roles(t, `[{"name":"all","apply_when":{},"read":true}]`), user("u1"))
	for _, f := range []string{`{"secret":"x"}`, `{"a":{"b":1}}`, `{"x.0.y":{"$elemMatch":{"z":1}}}`} {
		if err := v.CheckFilter(ej(t, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestRestrictionsOperators(t *testing.T) {
	v := view(t, roles(t, `[{"name":"all","apply_when":{},"read":true}]`), user("u1"))
	for _, f := range []string{
		`{"$where":"true"}`, `{"$expr":{"$eq":["$a",1]}}`, `{"$text":{"$search":"x"}}`, `{"$jsonSchema":{}}`,
		`{"a":{"$regex":"^x"}}`, `{"a":{"$regularExpression":{"pattern":"x","options":""}}}`, `{"a":{"$in":[{"$regularExpression":{"pattern":"x","options":""}}]}}`,
		`{"a":{"$not":{"$regularExpression":{"pattern":"x","options":""}}}}`,
		`{"a":{"$near":[0,0]}}`, `{"a":{"$geoWithin":{}}}`, `{"a":{"$geoIntersects":{}}}`, `{"a":{"$nearSphere":[0,0]}}`,
		`{"a":{"$bitsAllSet":1}}`, `{"a":{"$bitsAnyClear":1}}`, `{"a":{"$bitsAllClear":1}}`, `{"a":{"$bitsAnySet":1}}`,
		`{"a":{"$elemMatch":{"$where":"x"}}}`, `{"$or":[{"$expr":true}]}`,
	} {
		if err := v.CheckFilter(ej(t, f)); !errors.Is(err, ErrForbidden) {
			t.Errorf("%s: got %v", f, err)
		}
	}
	for _, f := range []string{
		`{"a":{"$eq":1,"$ne":2,"$gt":0,"$gte":0,"$lt":9,"$lte":9}}`, `{"a":{"$in":[1],"$nin":[2]}}`,
		`{"a":{"$exists":true,"$type":"int","$size":1,"$mod":[2,0],"$all":[1]}}`, `{"a":{"$elemMatch":{"$gt":1}}}`,
	} {
		if err := v.CheckFilter(ej(t, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	pipes := map[string]bool{ // pipeline -> allowed
		`[{"$match":{"a":1}},{"$group":{"_id":"$a"}}]`:                   true,
		`[{"$lookup":{"from":"o","pipeline":[{"$match":{}}],"as":"x"}}]`: true,
		`[{"$unionWith":"o"}]`:                                           true,
		`[{"$search":{"text":{"query":"x","path":"a"}}}]`:                true,
		`[{"$out":"x"}]`:            false,
		`[{"$merge":{"into":"x"}}]`: false,
		`[{"$facet":{}}]`:           false,
		`[{"$graphLookup":{}}]`:     false,
		`[{"$collStats":{}}]`:       false,
		`[{"$indexStats":{}}]`:      false,
		`[{"$currentOp":{}}]`:       false,
		`[{"$geoNear":{}}]`:         false,
		`[{"$lookup":{"from":"o","pipeline":[{"$out":"y"}],"as":"x"}}]`: false,
		`[{"$group":{"_id":null,"x":{"$accumulator":{}}}}]`:             false,
		`[{"$project":{"x":{"$setIsSubset":[[1],[1]]}}}]`:               false,
		`[{"$match":{"$where":"x"}}]`:                                   false,
		`[{"$project":{"a":1}},{"$match":{"$expr":{"$function":{}}}}]`:  false,
		`[{"$match":{"a":{"$regex":"x"}}}]`:                             false,
	}
	for p, ok := range pipes {
		var stages []bson.D
		if err := bson.UnmarshalExtJSON([]byte(`{"p":`+p+`}`), false, &struct {
			P *[]bson.D `bson:"p"`
		}{&stages}); err != nil {
			t.Fatal(err)
		}
		err := v.CheckPipeline(stages)
		if ok && err != nil {
			t.Errorf("%s: %v", p, err)
		}
		if !ok && !errors.Is(err, ErrForbidden) {
			t.Errorf("%s: got %v, want refusal", p, err)
		}
	}
}

// A pipeline's leading $match and $sort run before redaction, so they get
// the field checks; later stages see redacted documents.
func TestRestrictionsPipelineFields(t *testing.T) {
	v := view(t, roles(t, protected), user("u1"))
	for _, p := range [][]string{{`{"$match":{"secret":1}}`}, {`{"$sort":{"secret":1}}`}, {`{"$match":{"name":"n"}}`, `{"$sort":{"a.hidden":1}}`}} {
		var st []bson.D
		for _, s := range p {
			st = append(st, ej(t, s))
		}
		if err := v.CheckPipeline(st); !errors.Is(err, ErrForbidden) {
			t.Errorf("%v: got %v", p, err)
		}
	}
}

func TestRestrictionsOptions(t *testing.T) {
	v := view(t, roles(t, `[{"name":"all","read":true}]`), user("u1"))
	for _, o := range []string{"collation", "readConcern", "writeConcern"} {
		if err := v.CheckOptions("limit", o); !errors.Is(err, ErrForbidden) {
			t.Errorf("%s: got %v", o, err)
		}
	}
	if err := v.CheckOptions("limit", "skip", "sort", "projection"); err != nil {
		t.Error(err)
	}
}

func TestRestrictionsComputedProjection(t *testing.T) {
	v := view(t, roles(t, protected), user("u1"))
	for _, p := range []string{
		`{"x":{"$concat":["$secret"]}}`, `{"x":"$secret"}`, `{"x":"$a.hidden"}`, `{"x":"$$ROOT"}`, `{"x":"$$CURRENT.secret"}`,
		`{"x":{"$function":{"body":"f","args":[],"lang":"js"}}}`, `{"x":{"$cond":[true,"$name",{"$toUpper":"$secret"}]}}`,
		`{"x":{"nested":"$secret"}}`, `{"name":1,"secret":{"$slice":1}}`, `{"items":{"$elemMatch":{"x":1}},"a":{"$elemMatch":{"hidden":1}}}`,
	} {
		if err := v.CheckProjection(ej(t, p)); !errors.Is(err, ErrForbidden) {
			t.Errorf("%s: got %v", p, err)
		}
	}
	for _, p := range []string{`{"x":{"$concat":["$name","-","$a.b"]}}`, `{"x":"$name","y":{"$literal":1}}`, `{"items":{"$slice":2}}`, `{"items":{"$elemMatch":{"x":1}}}`} {
		if err := v.CheckProjection(ej(t, p)); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	whole := view(t, roles(t, `[{"name":"r","read":true}]`), user("u1"))
	if err := whole.CheckProjection(ej(t, `{"x":"$$ROOT","y":"$secret"}`)); err != nil {
		t.Errorf("whole-document role: %v", err)
	}
}
