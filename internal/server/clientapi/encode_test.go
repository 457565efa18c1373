package clientapi

import (
	"bytes"
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
	var buf bytes.Buffer
	if err := appendCanonical(&buf, v); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

var tricky = []string{"", "plain", `q"uote`, `back\slash`, "nl\n cr\r tab\t bs\b ff\f", "\x00\x01\x1f\x7f",
	"<html>&amp;", "é 中文 🎉", "\u2028\u2029", "bad \xff utf8 \xc3", "%25 %0A"}

var trickyFloats = []float64{0, math.Copysign(0, -1), 1, -1, 1.5, 3.0, 1e21, 1e-7, 123456789012345678, math.MaxFloat64,
	math.SmallestNonzeroFloat64, math.Inf(1), math.Inf(-1), math.NaN(), 0.1 + 0.2}

// randomValue builds a random BSON value of the types results carry,
// plus a few that fall back to the driver.
func randomValue(r *rand.Rand, depth int) any {
	k := r.IntN(14)
	if depth > 4 && k < 2 {
		k = 2 + r.IntN(12)
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
	default:
		return bson.Regex{Pattern: "a.b", Options: "i"}
	}
}

// TestCanonicalMatchesDriver: the direct encoder writes exactly what the
// driver writes, for random nested values of every type results carry.
func TestCanonicalMatchesDriver(t *testing.T) {
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

// FuzzCanonicalString: any string (keys and values) encodes as the driver
// encodes it.
func FuzzCanonicalString(f *testing.F) {
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
