package functions

import (
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestBSONSize checks the quick result measure against the encoder.
func TestBSONSize(t *testing.T) {
	vals := []any{
		nil, bson.Undefined{}, bson.Null{}, bson.MinKey{}, bson.MaxKey{}, true, int32(7), int64(-3), 1.5,
		bson.NewDateTimeFromTime(time.Now()), bson.Timestamp{T: 1, I: 2}, bson.NewObjectID(),
		bson.NewDecimal128(1, 2), "", "héllo", bson.Binary{Subtype: 4, Data: []byte("0123456789abcdef")},
		bson.Regex{Pattern: "^a.*", Options: "im"},
		bson.D{}, bson.A{},
		bson.D{{Key: "a", Value: int32(1)}, {Key: "nested", Value: bson.D{{Key: "x", Value: bson.A{"p", int64(2), bson.D{}}}}}},
		func() bson.A {
			a := bson.A{}
			for i := 0; i < 123; i++ {
				a = append(a, int32(i))
			}
			return a
		}(),
	}
	for _, v := range vals {
		b, err := bson.Marshal(bson.D{{Key: "r", Value: v}})
		if err != nil {
			t.Fatal(err)
		}
		n, ok := bsonSize(v, 0)
		if !ok || n+8 != len(b) {
			t.Errorf("%T %v: bsonSize %d (ok %v) + 8, encoded %d", v, v, n, ok, len(b))
		}
	}
	if _, ok := bsonSize(struct{}{}, 0); ok {
		t.Error("unknown type measured")
	}
}
