package mql

import (
	"context"
	"iter"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Pipeline is a compiled aggregation pipeline.
type Pipeline struct{}

// Env is what a running pipeline needs from its surroundings.
type Env struct {
	// Collection opens another collection of the same database, for
	// $lookup and $unionWith. Nil means those stages fail when run.
	Collection func(ctx context.Context, name string) iter.Seq2[bson.D, error]
	// Now is the value of $$NOW; zero means time.Now().
	Now time.Time
}

// CompilePipeline parses and validates an aggregation pipeline.
func CompilePipeline(stages []bson.D) (*Pipeline, error) {
	return nil, errUnsupported("aggregation", "pipelines are not implemented yet")
}

// Run runs the pipeline over input.
func (p *Pipeline) Run(ctx context.Context, input iter.Seq2[bson.D, error], env *Env) ([]bson.D, error) {
	return nil, errUnsupported("aggregation", "pipelines are not implemented yet")
}
