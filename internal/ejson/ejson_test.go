package ejson

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// driverCanonical is the reference: the driver's canonical Extended JSON.
func driverCanonical(t testing.TB, v any) string {
	t.Helper()
	b, err := bson.MarshalExtJSON(bson.D{{Key: "v", Value: v}}, true, false)
	if err != nil {
		t.Fatal(err)
	}
	return string(b[len(`{"v":`) : len(b)-1])
}

func ours(t testing.TB, v any) string {
	t.Helper()
	b, err := Append(nil, v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var tricky = []string{"", "plain", `q"uote`, `back\slash`, "nl\n cr\r tab\t bs\b ff\f", "\x00\x01\x1f\x7f",
	"<html>&amp;", "é 中文 🎉", "\u2028\u2029", "bad \xff utf8 \xc3", "%25 %0A"}

var trickyFloats = []float64{0, math.Copysign(0, -1), 1, -1, 1.5, 3.0, 1e21, 1e-7, 123456789012345678, math.MaxFloat64,
	math.SmallestNonzeroFloat64, math.Inf(1), math.Inf(-1), math.NaN(), 0.1 + 0.2}

// randomValue builds a random BSON value of the types results carry,
// plus a few that fall back to the driver.
func randomValue(r *rand.Rand, depth int) any {
	k := r.IntN(15)
	if depth > 4 && k < 2 {
		k = 2 + r.IntN(13)
	}
	switch k {
	case 0:
		d := bson.D{}
		for i := r.IntN(5); i > 0; i-- {
			d = append(d, bson.E{Key: tricky[r.IntN(len(tricky))], Value: randomValue(r, depth+1)})
		}
		return d
	case 1:
		a := bson.A{}
		for i := r.IntN(5); i > 0; i-- {
			a = append(a, randomValue(r, depth+1))
		}
		return a
	case 2:
		return tricky[r.IntN(len(tricky))]
	case 3:
		return r.IntN(2) == 0
	case 4:
		return nil
	case 5:
		return int32(r.Uint32())
	case 6:
		return int64(r.Uint64())
	case 7:
		return trickyFloats[r.IntN(len(trickyFloats))]
	case 8:
		return r.NormFloat64() * math.Pow(10, float64(r.IntN(40)-20))
	case 9:
		return bson.NewObjectIDFromTimestamp(time.Unix(int64(r.Uint32()), 0))
	case 10:
		return bson.DateTime(int64(r.Uint64()) >> r.IntN(20))
	case 11:
		return bson.Binary{Subtype: 4, Data: []byte{1, 2, 3}}
	case 12:
		return bson.Timestamp{T: r.Uint32(), I: r.Uint32()}
	case 13:
		return bson.Undefined{}
	default:
		return bson.Regex{Pattern: "a.b", Options: "i"}
	}
}

// TestMatchesDriver: the direct encoder writes exactly what the
// driver writes, for random nested values of every type results carry.
func TestMatchesDriver(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, s := range tricky {
		if got, want := ours(t, s), driverCanonical(t, s); got != want {
			t.Fatalf("string %q: %s, driver %s", s, got, want)
		}
	}
	for _, f := range trickyFloats {
		if got, want := ours(t, f), driverCanonical(t, f); got != want {
			t.Fatalf("double %v: %s, driver %s", f, got, want)
		}
	}
	for i := 0; i < 5000; i++ {
		v := randomValue(r, 0)
		if got, want := ours(t, v), driverCanonical(t, v); got != want {
			t.Fatalf("value %#v:\n ours   %s\n driver %s", v, got, want)
		}
	}
}

// FuzzString: any string (keys and values) encodes as the driver
// encodes it.
func FuzzString(f *testing.F) {
	for _, s := range tricky {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v := bson.D{{Key: s, Value: s}}
		if got, want := ours(t, v), driverCanonical(t, v); got != want {
			t.Fatalf("%q: %s, driver %s", s, got, want)
		}
	})
}

// TestAppendsToWhatIsThere: Append extends b, leaving what it held.
func TestAppendsToWhatIsThere(t *testing.T) {
	b, err := Append([]byte("data: "), bson.D{{Key: "n", Value: int32(1)}, {Key: "u", Value: bson.Undefined{}}})
	if err != nil || string(b) != `data: {"n":{"$numberInt":"1"},"u":{"$undefined":true}}` {
		t.Fatalf("%s, %v", b, err)
	}
}

// TestTooDeep: nesting past MaxDepth, and an array that contains itself,
// are refused rather than overflowing the stack.
func TestTooDeep(t *testing.T) {
	var v any = bson.A{}
	for i := 0; i < MaxDepth; i++ {
		v = bson.D{{Key: "x", Value: v}}
	}
	if _, err := Append(nil, v); !errors.Is(err, ErrTooDeep) {
		t.Fatalf("depth %d: %v", MaxDepth+1, err)
	}
	if _, err := Append(nil, v.(bson.D)[0].Value); err != nil {
		t.Fatalf("depth %d: %v", MaxDepth, err)
	}
	self := bson.A{nil}
	self[0] = self
	if _, err := Append(nil, self); !errors.Is(err, ErrTooDeep) {
		t.Fatalf("self-containing array: %v", err)
	}
}

// benchDocs is a find result like bench/clientapi's: 20 small documents.
func benchDocs() bson.A {
	docs := bson.A{}
	for i := 0; i < 20; i++ {
		docs = append(docs, bson.D{{Key: "_id", Value: bson.NewObjectID()}, {Key: "owner_id", Value: "6745d1c2a1b2c3d4e5f60718"},
			{Key: "n", Value: int64(i)}, {Key: "title", Value: "item title"}, {Key: "done", Value: i%2 == 0}})
	}
	return docs
}

// BenchmarkAppend and BenchmarkDriver encode the same result with this
// package and with the driver.
func BenchmarkAppend(b *testing.B) {
	docs, buf := benchDocs(), make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = Append(buf[:0], docs); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDriver(b *testing.B) {
	docs := benchDocs()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := bson.MarshalExtJSON(bson.D{{Key: "v", Value: docs}}, true, false); err != nil {
			b.Fatal(err)
		}
	}
}
