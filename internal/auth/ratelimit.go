package auth

import "time"

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
