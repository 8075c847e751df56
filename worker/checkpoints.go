package worker

import (
	"container/list"
	"sync"

	"github.com/consort-ml/consort/trainer"
)

// DefaultCheckpointBytes bounds a Trainer's checkpoints when
// Trainer.CheckpointBytes is 0.
const DefaultCheckpointBytes = 256 << 20

// checkpoints keeps the training state of recent ASHA screens, so that a
// promotion handled by this worker continues its parent's training instead
// of starting over (with the same result). It is bounded by bytes, least
// recently used first out; a promotion whose parent's state is gone (or
// was trained on another worker) trains from scratch.
type checkpoints struct {
	mu    sync.Mutex
	limit int64
	bytes int64
	order *list.List // of *ckEntry, most recent at the front
	byKey map[string]*list.Element
}

type ckEntry struct {
	key string
	ck  *trainer.Checkpoint
	n   int64
}

func (c *checkpoints) get(key string) *trainer.Checkpoint {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[key]; ok {
		c.order.MoveToFront(e)
		return e.Value.(*ckEntry).ck
	}
	return nil
}

func (c *checkpoints) put(key string, ck *trainer.Checkpoint) {
	n := ck.Bytes()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.limit <= 0 || n > c.limit {
		return
	}
	if c.byKey == nil {
		c.byKey, c.order = map[string]*list.Element{}, list.New()
	}
	if e, ok := c.byKey[key]; ok {
		c.removeLocked(e)
	}
	c.byKey[key] = c.order.PushFront(&ckEntry{key, ck, n})
	c.bytes += n
	for c.bytes > c.limit {
		c.removeLocked(c.order.Back())
	}
}

func (c *checkpoints) remove(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[key]; ok {
		c.removeLocked(e)
	}
}

func (c *checkpoints) removeLocked(e *list.Element) {
	en := e.Value.(*ckEntry)
	c.order.Remove(e)
	delete(c.byKey, en.key)
	c.bytes -= en.n
}

// size returns the number of checkpoints and their bytes.
func (c *checkpoints) size() (int, int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.byKey), c.bytes
}
