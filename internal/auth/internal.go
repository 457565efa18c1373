package auth

type keyRing struct{}
type sessionCache struct{}
type limiter struct{}
