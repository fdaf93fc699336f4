package autodiscover

import (
	"context"
	"strings"
	"sync"
	"time"
)

// DefaultCacheTTL is how long a discovered EWS URL is reused.
const DefaultCacheTTL = 24 * time.Hour

// Cache keeps successful results in memory per user and settings, for TTL.
// The engine may persist results itself (Result is plain data). It is safe
// for concurrent use.
type Cache struct {
	ttl time.Duration
	now func() time.Time

	mu sync.Mutex
	m  map[string]cacheEntry
}

type cacheEntry struct {
	res     Result
	expires time.Time
}

// NewCache returns a cache; ttl <= 0 means DefaultCacheTTL. now may be nil
// (time.Now); tests pass a fake clock.
func NewCache(ttl time.Duration, now func() time.Time) *Cache {
	if ttl <= 0 {
		ttl = DefaultCacheTTL
	}
	if now == nil {
		now = time.Now
	}
	return &Cache{ttl: ttl, now: now, m: map[string]cacheEntry{}}
}

func cacheKey(req Request) string {
	return strings.Join([]string{
		strings.ToLower(strings.TrimSpace(req.User)), strings.TrimSpace(req.AutodiscoverURL),
		strings.ToLower(strings.TrimSpace(req.Server)), strings.TrimSpace(req.V2URL),
		strings.TrimSpace(req.EWSURL), req.Cloud.Name,
	}, "\x00")
}

// Get returns a live cached result for req.
func (c *Cache) Get(req Request) (Result, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[cacheKey(req)]
	if !ok || !c.now().Before(e.expires) {
		return Result{}, false
	}
	res := e.res
	res.Hops = append([]Hop(nil), e.res.Hops...)
	res.Cached = true
	return res, true
}

// Put stores a result for req.
func (c *Cache) Put(req Request, res Result) {
	c.mu.Lock()
	defer c.mu.Unlock()
	res.Cached = false
	c.m[cacheKey(req)] = cacheEntry{res: res, expires: c.now().Add(c.ttl)}
}

// Invalidate forgets every result for user (e.g. after EWS said the URL is
// wrong); "" forgets everything.
func (c *Cache) Invalidate(user string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	user = strings.ToLower(strings.TrimSpace(user))
	for k := range c.m {
		if user == "" || strings.HasPrefix(k, user+"\x00") {
			delete(c.m, k)
		}
	}
}

// Discover returns the cached result for req or runs Discover and caches
// a success.
func (c *Cache) Discover(ctx context.Context, req Request) (Result, error) {
	if res, ok := c.Get(req); ok {
		return res, nil
	}
	res, err := Discover(ctx, req)
	if err != nil {
		return Result{}, err
	}
	c.Put(req, res)
	return res, nil
}
