package mql

import (
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// UpsertSeed builds the document an upsert starts from: the equality
// clauses of filter (top-level and inside $and), with dotted paths
// expanded into embedded documents.
//
// Equality means {a: v}, {a: {$eq: v}} and a one-element {a: {$in: [v]}}
// (v not a regex); one-clause $or counts like $and, as MongoDB simplifies
// it. Other operators contribute nothing. _id comes first when present.
// Two clauses on the same path or on a path and its prefix fail with
// NotSingleValueField (54), as MongoDB cannot tell which value to use.
func UpsertSeed(filter bson.D) (bson.D, error) {
	if depth(filter, 0) > MaxDepth+2 {
		return nil, Errorf(CodeOverflow, "query nesting exceeds the maximum depth of %d", MaxDepth)
	}
	filter, err := updNormalize(filter)
	if err != nil {
		return nil, err
	}
	s := &updSeed{}
	if err := s.walk(filter, 0); err != nil {
		return nil, err
	}
	seed := bson.D{}
	for _, c := range s.clauses {
		seed = updSeedSet(seed, c.parts, DeepCopy(c.value))
	}
	for i, e := range seed {
		if e.Key == "_id" && i > 0 {
			out := make(bson.D, 0, len(seed))
			out = append(out, e)
			out = append(out, seed[:i]...)
			out = append(out, seed[i+1:]...)
			seed = out
			break
		}
	}
	if err := CheckDepth(seed); err != nil {
		return nil, err
	}
	return seed, nil
}

type updSeedClause struct {
	path  string
	parts []string
	value any
}

type updSeed struct {
	clauses []updSeedClause
}

func (s *updSeed) walk(filter bson.D, level int) error {
	if level > MaxDepth {
		return Errorf(CodeOverflow, "query nesting exceeds the maximum depth of %d", MaxDepth)
	}
	for _, e := range filter {
		switch {
		case e.Key == "$and" || e.Key == "$or":
			arr, ok := e.Value.(bson.A)
			if !ok || (e.Key == "$or" && len(arr) != 1) {
				continue
			}
			for _, c := range arr {
				if d, ok := c.(bson.D); ok {
					if err := s.walk(d, level+1); err != nil {
						return err
					}
				}
			}
		case strings.HasPrefix(e.Key, "$"):
			// $expr, $comment, $nor, $text, ...: no equality to take.
		default:
			v, ok := updEqualityValue(e.Value)
			if !ok {
				continue
			}
			if err := s.add(e.Key, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// updEqualityValue extracts the value a query condition pins a field to.
func updEqualityValue(cond any) (any, bool) {
	switch x := cond.(type) {
	case bson.Regex:
		return nil, false
	case bson.D:
		if len(x) == 0 || !strings.HasPrefix(x[0].Key, "$") {
			return x, true
		}
		for _, op := range x {
			switch op.Key {
			case "$eq":
				return op.Value, true
			case "$in":
				if arr, ok := op.Value.(bson.A); ok && len(arr) == 1 {
					if _, re := arr[0].(bson.Regex); !re {
						return arr[0], true
					}
				}
			}
		}
		return nil, false
	}
	return cond, true
}

func (s *updSeed) add(path string, v any) error {
	parts := strings.Split(path, ".")
	for _, p := range parts {
		if p == "" || strings.HasPrefix(p, "$") {
			return nil
		}
	}
	for _, c := range s.clauses {
		switch {
		case c.path == path:
			return updErrorf(updCodeNotSingleValueField, "NotSingleValueField", "cannot infer query fields to set, path '%s' is matched twice", path)
		case strings.HasPrefix(path, c.path+"."), strings.HasPrefix(c.path, path+"."):
			return updErrorf(updCodeNotSingleValueField, "NotSingleValueField", "cannot infer query fields to set, both paths '%s' and '%s' are matched", c.path, path)
		}
	}
	s.clauses = append(s.clauses, updSeedClause{path: path, parts: parts, value: v})
	return nil
}

// updSeedSet sets parts to v in doc, creating embedded documents; clauses
// never overlap, so everything on the way is a document this seed made.
func updSeedSet(doc bson.D, parts []string, v any) bson.D {
	if len(parts) == 1 {
		return append(doc, bson.E{Key: parts[0], Value: v})
	}
	for i := range doc {
		if doc[i].Key == parts[0] {
			sub, _ := doc[i].Value.(bson.D)
			doc[i].Value = updSeedSet(sub, parts[1:], v)
			return doc
		}
	}
	return append(doc, bson.E{Key: parts[0], Value: updSeedSet(bson.D{}, parts[1:], v)})
}
