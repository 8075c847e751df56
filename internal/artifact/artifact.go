package artifact

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/consort-ml/consort/ensemble"
	"github.com/consort-ml/consort/trainer"
)

// ErrMismatch marks members whose predictions cannot be combined: other
// labels, folds, classes or test split.
var ErrMismatch = errors.New("artifact: members do not share data")

// Problem builds an ensemble problem from members' predictions and packed
// sizes. All members must share classes, labels, folds and test labels
// (trials of one sweep, or trained with the same data, folds and split
// seed).
func Problem(ids []string, preds []*trainer.Predictions, bytes []int64) (*ensemble.Problem, error) {
	if len(ids) == 0 || len(ids) != len(preds) || len(ids) != len(bytes) {
		return nil, fmt.Errorf("artifact: %d ids, %d predictions, %d sizes", len(ids), len(preds), len(bytes))
	}
	ref := preds[0]
	p := &ensemble.Problem{Classes: len(ref.Classes), Labels: ref.Labels, Folds: make([]int, len(ref.Folds))}
	for i, f := range ref.Folds {
		p.Folds[i] = int(f)
	}
	if len(ref.TestLabels) > 0 {
		p.TestLabels = ref.TestLabels
	}
	for i, pr := range preds {
		switch {
		case !slices.Equal(pr.Classes, ref.Classes):
			return nil, fmt.Errorf("%w: %s has classes %v, %s has %v", ErrMismatch, ids[i], pr.Classes, ids[0], ref.Classes)
		case !slices.Equal(pr.Labels, ref.Labels):
			return nil, fmt.Errorf("%w: %s was trained on other samples than %s", ErrMismatch, ids[i], ids[0])
		case !slices.Equal(pr.Folds, ref.Folds):
			return nil, fmt.Errorf("%w: %s used other folds than %s (same split seed?)", ErrMismatch, ids[i], ids[0])
		case !slices.Equal(pr.TestLabels, ref.TestLabels):
			return nil, fmt.Errorf("%w: %s has another test split than %s", ErrMismatch, ids[i], ids[0])
		}
		m := ensemble.Member{ID: ids[i], OOF: pr.OOF, Bytes: bytes[i]}
		if len(pr.Test) > 0 {
			m.Test = pr.Test
		}
		p.Members = append(p.Members, m)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// Getter reads objects; jetstream.ObjectStore satisfies it.
type Getter interface {
	GetBytes(ctx context.Context, name string, opts ...jetstream.GetObjectOpt) ([]byte, error)
}

// Putter writes objects; jetstream.ObjectStore satisfies it.
type Putter interface {
	PutBytes(ctx context.Context, name string, data []byte) (*jetstream.ObjectInfo, error)
}

// Cache keeps recently used decoded predictions, up to a byte budget. It
// is safe for concurrent use.
type Cache struct {
	// Budget bounds the cached probabilities in bytes; 0 means 256 MiB.
	Budget int64

	mu    sync.Mutex
	size  int64
	lru   *list.List
	items map[string]*list.Element
}

type entry struct {
	name string
	p    *trainer.Predictions
	size int64
}

// Predictions returns the decoded predictions object name from g, cached.
func (c *Cache) Predictions(ctx context.Context, g Getter, name string) (*trainer.Predictions, error) {
	c.mu.Lock()
	if c.items == nil {
		c.items, c.lru = map[string]*list.Element{}, list.New()
	}
	if e, ok := c.items[name]; ok {
		c.lru.MoveToFront(e)
		p := e.Value.(*entry).p
		c.mu.Unlock()
		return p, nil
	}
	c.mu.Unlock()
	b, err := g.GetBytes(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("artifact: get %s: %w", name, err)
	}
	p, err := trainer.UnmarshalPredictions(b)
	if err != nil {
		return nil, fmt.Errorf("artifact: %s: %w", name, err)
	}
	size := int64(4 * (len(p.OOF) + len(p.Test)))
	budget := c.Budget
	if budget <= 0 {
		budget = 256 << 20
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[name]; !ok {
		c.items[name] = c.lru.PushFront(&entry{name, p, size})
		c.size += size
		for c.size > budget && c.lru.Len() > 1 {
			old := c.lru.Back()
			e := old.Value.(*entry)
			c.lru.Remove(old)
			delete(c.items, e.name)
			c.size -= e.size
		}
	}
	return p, nil
}
