package rules

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/expr"
	"github.com/atollhq/atoll/internal/mql"
)

// PartitionCRUD makes partition-based sync permissions govern MongoDB
// requests on the synced cluster, as App Services did while partition sync
// was enabled: collection rules were ignored there (§3.2 item 4; the test
// apps of that era relied on it, W-31). %%partition is bound to each
// document's partition-key value, the likely reading of an undocumented
// behaviour [?].
type PartitionCRUD struct {
	// Key is the partition key field, e.g. "_partition".
	Key         string
	Permissions *PartitionPermissions
}

// partitionView is the per-request state of a View in partition mode.
type partitionView struct {
	crud    *PartitionCRUD
	binding expr.Binding
}

// decide evaluates the partition permissions for the partition of doc. An
// absent key leaves %%partition missing; a failed binding denies.
func (p *partitionView) decide(ctx context.Context, doc bson.D) (read, write bool) {
	b := p.binding
	if v := lookup(doc, p.crud.Key); !mql.IsMissing(v) {
		if v == nil {
			v = bson.Null{}
		}
		b.Partition = v
	}
	env, err := expr.Bind(b)
	if err != nil {
		return false, false
	}
	return p.crud.Permissions.Decide(ctx, env)
}

func (p *partitionView) read(ctx context.Context, doc bson.D) (bson.D, Decision) {
	if r, _ := p.decide(ctx, doc); r {
		return doc, Decision{Role: -1, Level: Whole}
	}
	return nil, Decision{Role: -1}
}

func (p *partitionView) checkWrite(ctx context.Context, pre, post bson.D, denied error) error {
	if pre != nil {
		if r, _ := p.decide(ctx, pre); !r {
			return ErrNotVisible
		}
		if _, w := p.decide(ctx, pre); !w {
			return denied
		}
	}
	if post != nil {
		if _, w := p.decide(ctx, post); !w {
			return denied
		}
	}
	return nil
}
