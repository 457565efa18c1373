package dataaccess

import (
	"go.mongodb.org/mongo-driver/v2/bson"
)

// simplify rewrites a pushed-down filter into an equivalent one the store's
// planner can use an index for. rules.PushDown already leaves out an empty
// client filter and repeated $or branches, but a client filter plus the
// rules is still {$and: [client, rules...]}, and a planner that looks only
// at top-level equality (the embedded store's) would scan the collection
// for it. simplify drops empty clauses, removes duplicate branches of $and/$or,
// unwraps a single-branch $and/$or and lifts $and clauses to the top level
// where their keys do not collide. Each step keeps the filter's meaning.
func simplify(f bson.D) bson.D {
	out := bson.D{}
	for _, e := range f {
		switch e.Key {
		case "$and", "$or":
			arr, ok := e.Value.(bson.A)
			if !ok || len(arr) == 0 {
				out = append(out, e)
				continue
			}
			parts, ok := simplifyBranches(arr, e.Key == "$and")
			if !ok {
				out = append(out, e)
				continue
			}
			switch {
			case len(parts) == 0 && e.Key == "$and":
				// {$and: [{}]} matches everything.
			case len(parts) == 0:
				// {$or: [{}]} also matches everything.
			case len(parts) == 1 || e.Key == "$and":
				for _, p := range parts {
					out = liftInto(out, p)
				}
			default:
				out = append(out, bson.E{Key: e.Key, Value: toA(parts)})
			}
		default:
			out = append(out, e)
		}
	}
	return out
}

// simplifyBranches simplifies each branch; for $and, empty branches are
// dropped, for $or an empty branch makes the whole $or true (reported as
// no branches). Duplicates are removed. ok is false when a branch is not
// a document (left for the query engine to report).
func simplifyBranches(arr bson.A, and bool) ([]bson.D, bool) {
	var out []bson.D
	seen := map[string]bool{}
	for _, x := range arr {
		d, ok := x.(bson.D)
		if !ok {
			return nil, false
		}
		d = simplify(d)
		if len(d) == 0 {
			if and {
				continue
			}
			return nil, true
		}
		b, err := bson.Marshal(d)
		if err != nil {
			return nil, false
		}
		if seen[string(b)] {
			continue
		}
		seen[string(b)] = true
		out = append(out, d)
	}
	return out, true
}

// liftInto adds the clauses of p to the conjunction out: at the top level
// when none of p's keys is already there, else as one more $and branch.
func liftInto(out, p bson.D) bson.D {
	for _, e := range p {
		if e.Key == "$and" || has(out, e.Key) {
			return appendAnd(out, p)
		}
	}
	return append(out, p...)
}

func appendAnd(out, p bson.D) bson.D {
	for i, e := range out {
		if e.Key == "$and" {
			if arr, ok := e.Value.(bson.A); ok {
				out[i].Value = append(arr[:len(arr):len(arr)], p)
				return out
			}
		}
	}
	return append(out, bson.E{Key: "$and", Value: bson.A{p}})
}

func has(d bson.D, key string) bool {
	for _, e := range d {
		if e.Key == key {
			return true
		}
	}
	return false
}

func toA(ds []bson.D) bson.A {
	a := make(bson.A, len(ds))
	for i, d := range ds {
		a[i] = d
	}
	return a
}
