package auth

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/atollhq/atoll/internal/appconfig"
	"github.com/atollhq/atoll/internal/store"
)

// Defaults of Options.
const (
	DefaultAccessTokenTTL  = 30 * time.Minute
	DefaultRefreshTokenTTL = 60 * 24 * time.Hour
	// DefaultSessionCacheTTL bounds how long a process keeps trusting that
	// a session exists: a session revoked by another process is refused
	// here at most this long after. Revocations made through this Service
	// take effect at once.
	DefaultSessionCacheTTL = 5 * time.Second
	// MaxSessionCacheTTL caps Options.SessionCacheTTL.
	MaxSessionCacheTTL = 30 * time.Second
	// anonRefreshTokenTTL: anonymous sessions effectively never expire
	// (App Services issues them for ~50 years); the SDK cannot log an
	// anonymous user back in after the refresh token is lost.
	anonRefreshTokenTTL = 50 * 365 * 24 * time.Hour
)

// Options configure a Service.
type Options struct {
	// Store holds users, sessions and keys under store.SystemDatabase, and
	// the custom user data collection.
	Store store.Store
	// App supplies the auth providers and the custom user data settings;
	// nil means no provider is enabled (the CLI's admin operations work
	// without one). Replace it at runtime with Service.SetApp.
	App *appconfig.App
	// Functions runs confirmation, reset, authentication and user-creation
	// functions; nil makes the flows that need one fail with a clear error.
	Functions FunctionRunner
	// Mailer sends confirmation and reset emails; nil uses a LogMailer on
	// Logger so development works without SMTP.
	Mailer Mailer
	// Logger receives operational logs; tokens and passwords never reach
	// it (except the LogMailer's development links). nil: slog.Default().
	Logger *slog.Logger

	AccessTokenTTL  time.Duration // 0: DefaultAccessTokenTTL
	RefreshTokenTTL time.Duration // 0: DefaultRefreshTokenTTL
	SessionCacheTTL time.Duration // 0: DefaultSessionCacheTTL; capped at MaxSessionCacheTTL

	// RateLimits limit login, register, confirm and reset attempts; the
	// zero value means the defaults (on).
	RateLimits RateLimits
	// Argon2 sets the password hashing cost; the zero value means
	// DefaultArgon2.
	Argon2 Argon2Params
	// Hooks are called after CREATE, LOGIN and DELETE commit.
	Hooks []EventHook
	// Now is the clock; nil: time.Now.
	Now func() time.Time
}

// Service is the authentication service of one app. It is safe for
// concurrent use. Close stops its background work.
type Service struct {
	st        store.Store
	log       *slog.Logger
	fn        FunctionRunner
	mailer    Mailer
	now       func() time.Time
	accessTTL time.Duration
	refreshTT time.Duration
	cacheTTL  time.Duration
	argon     Argon2Params

	app      atomic.Pointer[appconfig.App]
	domainID string

	keys     *keyRing
	sessions *sessionCache
	limits   *limiter

	hooksMu sync.RWMutex
	hooks   []EventHook

	stop   context.CancelFunc
	wg     sync.WaitGroup
	closed atomic.Bool
}

// errNotYet marks API surface that is not implemented yet.
var errNotYet = errors.New("auth: not implemented yet")

// New opens the auth service: it creates the indexes it needs, loads or
// creates the domain id and the token signing key, and starts the rate
// limiter's sweeper (stopped by Close).
func New(ctx context.Context, opts Options) (*Service, error) {
	return nil, errNotYet
}

// Close stops the background work. It does not close the store.
func (s *Service) Close() error { return errNotYet }

// SetApp swaps the app configuration (providers, custom user data), as on
// a redeploy. Users, sessions and keys are unaffected.
func (s *Service) SetApp(app *appconfig.App) { s.app.Store(app) }

// DomainID is the app's domain id (24 hex), stable across restarts; it
// appears in tokens and profiles.
func (s *Service) DomainID() string { return s.domainID }
