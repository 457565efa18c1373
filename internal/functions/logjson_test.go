package functions

import (
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestAppendCanonicalMatchesDriver: the app log's fast encoder writes
// what bson.MarshalExtJSON writes, and declines what it does not know.
func TestAppendCanonicalMatchesDriver(t *testing.T) {
	vals := []any{
		nil, true, false, "", "plain", "a<b>&c\u2028\u2029\x01\x1f\x00\v\t\n\r\b\f\"\\é😀\x7f",
		int32(-5), int32(2147483647), int64(-9007199254740993), bson.NewObjectID(),
		bson.NewDateTimeFromTime(time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC)), bson.NewDateTimeFromTime(time.Now()),
		bson.Undefined{}, bson.D{}, bson.A{},
		bson.D{{Key: "k<\"\n", Value: int32(1)}, {Key: "nested", Value: bson.A{"x", bson.D{{Key: "y", Value: nil}}, bson.A{}}}},
		bson.A{int64(1), "two", bson.D{{Key: "_id", Value: bson.NewObjectID()}}},
	}
	for _, v := range vals {
		got, ok := appendCanonical(nil, v, 0)
		if !ok {
			t.Errorf("%#v: declined", v)
			continue
		}
		b, err := bson.MarshalExtJSON(bson.D{{Key: "v", Value: v}}, true, false)
		if err != nil {
			t.Fatal(err)
		}
		want := strings.TrimSuffix(strings.TrimPrefix(string(b), `{"v":`), "}")
		if string(got) != want {
			t.Errorf("%#v:\n got %s\nwant %s", v, got, want)
		}
	}
	for _, v := range []any{1.5, bson.Decimal128{}, "bad\xff", bson.D{{Key: "d", Value: 2.5}}, bson.A{bson.Binary{}}} {
		if _, ok := appendCanonical(nil, v, 0); ok {
			t.Errorf("%#v: should fall back to the driver", v)
		}
	}
	if got := ejsonOf(bson.A{1.5, int32(1)}); got != `[{"$numberDouble":"1.5"},{"$numberInt":"1"}]` {
		t.Errorf("fallback: %s", got)
	}
}
