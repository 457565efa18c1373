package expr

import (
	"context"
	"errors"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestQueryExpand(t *testing.T) {
	env := bind(t, Binding{
		User:   &User{ID: "5f650356a8631da45dd4784c", CustomData: jdoc(t, `{"role":"user","teams":["a","b"]}`)},
		Values: map[string]any{"max": 10},
		Functions: funcs{"region": func([]any) (any, error) { return "eu", nil },
			"boom": func([]any) (any, error) { return nil, errors.New("boom") }},
	})
	cases := []struct {
		name, query, want string
		err               error
	}{
		{"W-40/owner", `{"owner_id":"%%user.id"}`, `{"owner_id":"5f650356a8631da45dd4784c"}`, nil},
		{"W-41/literal", `{"archived":false}`, `{"archived":false}`, nil},
		{"operators-pass-through", `{"n":{"$lte":"%%values.max","$mod":[2,0]},"name":{"$regex":"^a"}}`,
			`{"n":{"$lte":10,"$mod":[2,0]},"name":{"$regex":"^a"}}`, nil},
		{"in-expansion", `{"team":{"$in":"%%user.custom_data.teams"}}`, `{"team":{"$in":["a","b"]}}`, nil},
		{"in-array-with-expansion", `{"who":{"$in":["x","%%user.id"]}}`, `{"who":{"$in":["x","5f650356a8631da45dd4784c"]}}`, nil},
		{"converter", `{"_id":{"%stringToOid":"%%user.id"}}`, `{"_id":{"$oid":"5f650356a8631da45dd4784c"}}`, nil},
		{"function", `{"region":{"%function":{"name":"region"}}}`, `{"region":"eu"}`, nil},
		{"or-elements", `{"$or":[{"a":"%%user.id"},{"b":1}]}`, `{"$or":[{"a":"5f650356a8631da45dd4784c"},{"b":1}]}`, nil},
		{"elemMatch", `{"m":{"$elemMatch":{"u":"%%user.id","r":"admin"}}}`, `{"m":{"$elemMatch":{"u":"5f650356a8631da45dd4784c","r":"admin"}}}`, nil},
		{"guard-true-dropped", `{"%%user.custom_data.role":"user","a":1}`, `{"a":1}`, nil},
		{"guard-false-never", `{"%%user.custom_data.role":"admin","a":1}`, `{"_id":{"$exists":false}}`, nil},
		{"guard-in-or", `{"$or":[{"%%user.custom_data.role":"user"},{"a":1}]}`, `{"$or":[{},{"a":1}]}`, nil},
		{"ejson-literal", `{"d":{"$date":"2024-01-01T00:00:00Z"}}`, `{"d":{"$date":"2024-01-01T00:00:00Z"}}`, nil},
		{"missing-fails-closed", `{"$nor":[{"team":"%%user.custom_data.none"}]}`, "", ErrMissingValue},
		{"function-fails", `{"x":{"%function":{"name":"boom"}}}`, "", ErrFunction},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q, err := ParseQuery(jdoc(t, c.query))
			if err != nil {
				t.Fatal(err)
			}
			got, err := q.Expand(context.Background(), env)
			if c.err != nil {
				if !errors.Is(err, c.err) {
					t.Fatalf("err = %v, want %v", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			gj, _ := bson.MarshalExtJSON(got, false, false)
			wj, _ := bson.MarshalExtJSON(jdoc(t, c.want), false, false)
			if string(gj) != string(wj) {
				t.Fatalf("Expand = %s, want %s", gj, wj)
			}
		})
	}
}

func TestQueryParseErrors(t *testing.T) {
	for _, c := range []struct {
		query string
		is    error
	}{
		{`{"a":"%%nope"}`, ErrUnknownExpansion},
		{`{"a":"%%root.b"}`, ErrSyntax},
		{`{"%%root.a":1}`, ErrSyntax},
		{`{"%%user.id":"%%root.a"}`, ErrSyntax},
		{`{"a":{"%function":{"nam":"f"}}}`, ErrSyntax},
		{`{"$or":[{"%%user.bad":1}]}`, ErrUnknownExpansion},
	} {
		if _, err := ParseQuery(jdoc(t, c.query)); !errors.Is(err, c.is) {
			t.Errorf("ParseQuery(%s) = %v, want %v", c.query, err, c.is)
		}
	}
	if _, err := ParseQuery(true); !errors.Is(err, ErrSyntax) {
		t.Errorf("a boolean is not a query: %v", err)
	}
	q, err := ParseQuery(jdoc(t, `{"a":"%%user.id","%%values.x":1,"b":{"%function":{"name":"f"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if q.Uses() != UsesUser|UsesValues|UsesFunction || len(q.Functions()) != 1 || q.ValueNames()[0] != "x" {
		t.Errorf("Uses = %v, Functions = %v", q.Uses(), q.Functions())
	}
}
