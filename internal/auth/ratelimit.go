package auth

import (
	"context"
	"sync"
	"time"
)

// Rate is a token bucket: Burst attempts at once, then one more every
// Interval.
type Rate struct {
	Burst    int
	Interval time.Duration
}

// RateLimits limit login, register, confirm and reset attempts per client
// IP and per identity (email, API key prefix, JWT subject). The zero value
// means DefaultRateLimits.
type RateLimits struct {
	// Disabled turns rate limiting off (tests, benchmarks).
	Disabled    bool
	PerIP       Rate
	PerIdentity Rate
}

// DefaultRateLimits: 100 attempts per IP then 10/s (a NAT of many
// clients), and 10 per identity then one every 6 s (10/min), which stops
// online password guessing without getting in a real user's way.
var DefaultRateLimits = RateLimits{
	PerIP:       Rate{Burst: 100, Interval: 100 * time.Millisecond},
	PerIdentity: Rate{Burst: 10, Interval: 6 * time.Second},
}

// limiter holds one token bucket per key ("ip:…", "id:…"). Buckets that
// have refilled completely are dropped by sweep, so memory follows recent
// activity only.
type limiter struct {
	cfg RateLimits
	now func() time.Time
	mu  sync.Mutex
	m   map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
	rate   Rate
}

func newLimiter(cfg RateLimits, now func() time.Time) *limiter {
	if cfg.PerIP.Burst <= 0 || cfg.PerIP.Interval <= 0 {
		cfg.PerIP = DefaultRateLimits.PerIP
	}
	if cfg.PerIdentity.Burst <= 0 || cfg.PerIdentity.Interval <= 0 {
		cfg.PerIdentity = DefaultRateLimits.PerIdentity
	}
	return &limiter{cfg: cfg, now: now, m: map[string]*bucket{}}
}

// allow takes one token from the client IP's bucket and one from the
// identity's; an empty ip or identity is not limited on that side.
func (l *limiter) allow(ip, identity string) bool {
	if l.cfg.Disabled {
		return true
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	var bs []*bucket
	if ip != "" {
		bs = append(bs, l.get("ip:"+ip, l.cfg.PerIP, now))
	}
	if identity != "" {
		bs = append(bs, l.get("id:"+identity, l.cfg.PerIdentity, now))
	}
	for _, b := range bs {
		if b.tokens < 1 {
			return false
		}
	}
	for _, b := range bs {
		b.tokens--
	}
	return true
}

func (l *limiter) get(key string, r Rate, now time.Time) *bucket {
	b, ok := l.m[key]
	if !ok {
		b = &bucket{tokens: float64(r.Burst), at: now, rate: r}
		l.m[key] = b
		return b
	}
	if el := now.Sub(b.at); el > 0 {
		b.tokens = min(float64(r.Burst), b.tokens+float64(el)/float64(r.Interval))
		b.at = now
	}
	return b
}

// sweep drops full buckets every minute until ctx ends.
func (l *limiter) sweep(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := l.now()
		l.mu.Lock()
		for k, b := range l.m {
			if b.tokens+float64(now.Sub(b.at))/float64(b.rate.Interval) >= float64(b.rate.Burst) {
				delete(l.m, k)
			}
		}
		l.mu.Unlock()
	}
}

// limit returns ErrLimitExceeded when the attempt is over a limit.
func (s *Service) limit(ctx context.Context, ip, identity string) error {
	if s.limits.allow(ip, identity) {
		return nil
	}
	s.log.InfoContext(ctx, "auth: rate limit exceeded", "client_ip", ip)
	return ErrLimitExceeded
}
