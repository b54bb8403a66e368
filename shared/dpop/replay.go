package dpop

import (
	"crypto/sha256"
	"sync"
)

// DefaultReplayCapacity is the default number of proofs a ReplayCache
// remembers. A proof is remembered until its iat plus the accepted age, at
// most MaxAge + Leeway (70 s by default) after it is checked. A Lambda
// container serves one request at a time, and a warm invocation costs at
// least about 1 ms, so one container accepts at most ~1,000 proofs a second,
// 70,000 in 70 s: 100,000 entries hold every proof a container can accept,
// in about 7 MB (a map entry and a ring slot, ~70 bytes each).
const DefaultReplayCapacity = 100_000

// replayKey identifies a proof: its jti, scoped to its key so that two
// clients picking the same jti do not collide.
type replayKey [16]byte

func newReplayKey(jkt, jti string) replayKey {
	h := sha256.New()
	h.Write([]byte(jkt))
	h.Write([]byte{0})
	h.Write([]byte(jti))
	var k replayKey
	copy(k[:], h.Sum(nil))
	return k
}

// replayCache remembers the proofs accepted in this process until they
// expire. It is bounded: when it holds capacity unexpired entries it
// refuses new proofs (ErrReplayFull) rather than forget one that could be
// replayed. Entries leave in the order they came, once the oldest has
// expired; an entry behind an unexpired one may outlive its expiry by at
// most the proof window, which only delays reuse of its space.
type replayCache struct {
	mu    sync.Mutex
	seen  map[replayKey]int64 // unix nanoseconds at which the entry expires
	ring  []replayKey         // insertion order
	head  int
	count int
}

func newReplayCache(capacity int) *replayCache {
	return &replayCache{
		seen: make(map[replayKey]int64, min(capacity, 4096)),
		ring: make([]replayKey, capacity),
	}
}

// use records k until expires. It fails with ErrReplay when k is recorded
// and not expired, and with ErrReplayFull when there is no room.
func (c *replayCache) use(k replayKey, expires, now int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if exp, ok := c.seen[k]; ok && exp > now {
		return ErrReplay
	}
	for c.count > 0 {
		old := c.ring[c.head]
		if exp, ok := c.seen[old]; ok && exp > now {
			break
		}
		delete(c.seen, old)
		c.head = (c.head + 1) % len(c.ring)
		c.count--
	}
	if c.count == len(c.ring) {
		return ErrReplayFull
	}
	// An expired entry for k still in the ring is overwritten here; its
	// ring slot is dropped later, when it reaches the head.
	c.seen[k] = expires
	c.ring[(c.head+c.count)%len(c.ring)] = k
	c.count++
	return nil
}
