package authorizer

import "sync"

// tokenCache maps exact token strings to verified grants. It holds at most
// size entries in two generations: lookups hit the current generation, then
// the previous one (promoting the entry); when the current generation is
// full it becomes the previous one and the oldest is dropped whole. That
// approximates LRU without touching shared state on a current-generation hit.
//
// The key is the token itself, not a hash of it, so two different tokens can
// never share an entry.
type tokenCache struct {
	mu   sync.RWMutex
	cur  map[string]*grant
	prev map[string]*grant
	gen  int  // entries per generation
	keep bool // whether a full generation is kept as the previous one
}

func newTokenCache(size int) *tokenCache {
	if size <= 0 {
		return nil
	}
	// Two generations of size/2; a cache of one entry has room for the
	// current generation only.
	gen := max(size/2, 1)
	return &tokenCache{gen: gen, keep: 2*gen <= size, cur: make(map[string]*grant, gen)}
}

// get returns the grant cached for token, or nil. A nil cache is empty.
func (c *tokenCache) get(token string) *grant {
	if c == nil {
		return nil
	}
	c.mu.RLock()
	g := c.cur[token]
	if g != nil {
		c.mu.RUnlock()
		return g
	}
	g = c.prev[token]
	c.mu.RUnlock()
	if g != nil {
		c.put(token, g)
	}
	return g
}

func (c *tokenCache) put(token string, g *grant) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.cur[token]; !ok && len(c.cur) >= c.gen {
		c.prev = nil
		if c.keep {
			c.prev = c.cur
		}
		c.cur = make(map[string]*grant, c.gen)
	}
	c.cur[token] = g
}

func (c *tokenCache) remove(token string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	delete(c.cur, token)
	delete(c.prev, token)
	c.mu.Unlock()
}

func (c *tokenCache) len() int {
	if c == nil {
		return 0
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.cur) + len(c.prev)
}
