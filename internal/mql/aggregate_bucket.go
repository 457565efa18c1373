package mql

import (
	"iter"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func init() {
	delete(unsupportedStages, "$bucket")
	stageNames["$bucket"] = compileBucketStage
}

// compileBucketStage builds $bucket as MongoDB defines it: a $group whose
// _id is the bucket's lower boundary (or the default), followed by a sort
// on _id.
func compileBucketStage(spec any, inFacet bool) (stage, error) {
	d, ok := spec.(bson.D)
	if !ok {
		return nil, Errorf(40201, "Argument to $bucket stage must be an object, but found type: %s.", TypeName(spec))
	}
	var groupBy any = Missing
	var boundaries bson.A
	var def any = Missing
	output := bson.D{{Key: "count", Value: bson.D{{Key: "$sum", Value: int32(1)}}}}
	for _, e := range d {
		switch e.Key {
		case "groupBy":
			groupBy = e.Value
		case "boundaries":
			a, ok := e.Value.(bson.A)
			if !ok {
				return nil, Errorf(40200, "The $bucket 'boundaries' field must be an array, but found type: %s.", TypeName(e.Value))
			}
			boundaries = a
		case "default":
			def = e.Value
		case "output":
			o, ok := e.Value.(bson.D)
			if !ok {
				return nil, Errorf(40196, "The $bucket 'output' field must be an object, but found type: %s.", TypeName(e.Value))
			}
			output = o
		default:
			return nil, Errorf(40197, "Unrecognized option to $bucket: %s.", e.Key)
		}
	}
	if IsMissing(groupBy) || boundaries == nil {
		return nil, Errorf(40198, "$bucket requires 'groupBy' and 'boundaries' to be specified.")
	}
	switch g := groupBy.(type) {
	case string:
		if !strings.HasPrefix(g, "$") {
			return nil, Errorf(40202, "The $bucket 'groupBy' field must be defined as a $-prefixed path or an expression, but found: %s.", fmtValue(g))
		}
	case bson.D:
	default:
		return nil, Errorf(40202, "The $bucket 'groupBy' field must be defined as a $-prefixed path or an expression, but found: %s.", fmtValue(groupBy))
	}
	if len(boundaries) < 2 {
		return nil, Errorf(40192, "The $bucket 'boundaries' field must have at least 2 values, but found %d value(s).", len(boundaries))
	}
	for i := 1; i < len(boundaries); i++ {
		if !SameTypeBracket(boundaries[i-1], boundaries[i]) {
			return nil, Errorf(40193, "All values in the the 'boundaries' option to $bucket must have the same type. Found conflicting types %s and %s.", TypeName(boundaries[i-1]), TypeName(boundaries[i]))
		}
		if Compare(boundaries[i-1], boundaries[i]) >= 0 {
			return nil, Errorf(40194, "The 'boundaries' option to $bucket must be sorted in ascending order, but elements %d and %d are not in ascending order (%s is not less than %s).", i-1, i, fmtValue(boundaries[i-1]), fmtValue(boundaries[i]))
		}
	}
	if !IsMissing(def) && Compare(def, boundaries[0]) >= 0 && Compare(def, boundaries[len(boundaries)-1]) < 0 && SameTypeBracket(def, boundaries[0]) {
		return nil, Errorf(40199, "The $bucket 'default' field must be less than the lowest boundary or greater than or equal to the highest boundary.")
	}
	by, err := compileExpr(groupBy, 0)
	if err != nil {
		return nil, err
	}
	groupSpec := append(bson.D{{Key: "_id", Value: nil}}, output...)
	gs, err := compileGroupStage(groupSpec, inFacet)
	if err != nil {
		return nil, err
	}
	g := gs.(*groupStage)
	g.id = func(c *evalCtx) (any, error) {
		v, err := by(c)
		if err != nil {
			return nil, err
		}
		if aggCompare(v, boundaries[0]) >= 0 && aggCompare(v, boundaries[len(boundaries)-1]) < 0 {
			i, _ := slices.BinarySearchFunc(boundaries, v, func(b, v any) int { return aggCompare(b, v) })
			if i == len(boundaries) || aggCompare(boundaries[i], v) != 0 {
				i--
			}
			return boundaries[i], nil
		}
		if IsMissing(def) {
			return nil, Errorf(40066, "$switch could not find a matching branch for an input, and no default was specified.")
		}
		return def, nil
	}
	return bucketStage{g}, nil
}

type bucketStage struct{ g *groupStage }

func (b bucketStage) run(rc *runCtx, in iter.Seq2[bson.D, error]) iter.Seq2[bson.D, error] {
	return blockingStage(func(rc *runCtx, docs []bson.D) ([]bson.D, error) {
		out, err := collect(rc, b.g.run(rc, sliceSeq(docs)))
		if err != nil {
			return nil, err
		}
		slices.SortStableFunc(out, func(x, y bson.D) int { return Compare(Get(x, "_id"), Get(y, "_id")) })
		return out, nil
	}).run(rc, in)
}
