package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/atollhq/atoll/internal/appconfig"
	"github.com/atollhq/atoll/internal/store"
	"go.mongodb.org/mongo-driver/v2/bson"
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
	fnMu      sync.RWMutex
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
	// access and users are per-process caches bounded like sessions (see
	// accesscache.go and usercache.go).
	access *accessCache
	users  *userCache
	limits *limiter

	jwks      jwksCache
	dummyHash string // an argon2id hash verified for unknown users

	// activitySince is when the deployment started recording anonymous
	// sessions' activity: no anonymous user is deleted for inactivity
	// before anonInactivity has passed since (anon.go).
	activitySince time.Time

	hooksMu sync.RWMutex
	hooks   []EventHook

	stop   context.CancelFunc
	wg     sync.WaitGroup
	closed atomic.Bool
}

// Collection names under store.SystemDatabase.
const (
	collUsers      = "auth_users"
	collIdentities = "auth_identities"
	collUserpass   = "auth_userpass"
	collTokens     = "auth_tokens"
	collSessions   = "auth_sessions"
	collAPIKeys    = "auth_api_keys"
	collKeys       = "auth_keys"
	collState      = "auth_state"
)

// New opens the auth service: it creates the indexes it needs, loads or
// creates the domain id and the token signing key, and starts the rate
// limiter's sweeper (stopped by Close).
func New(ctx context.Context, opts Options) (*Service, error) {
	if opts.Store == nil {
		return nil, errors.New("auth: Options.Store is required")
	}
	s := &Service{
		st:        opts.Store,
		log:       opts.Logger,
		fn:        opts.Functions,
		mailer:    opts.Mailer,
		now:       opts.Now,
		accessTTL: opts.AccessTokenTTL,
		refreshTT: opts.RefreshTokenTTL,
		cacheTTL:  opts.SessionCacheTTL,
		argon:     opts.Argon2,
		hooks:     append([]EventHook(nil), opts.Hooks...),
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.mailer == nil {
		s.mailer = NewLogMailer(s.log)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.accessTTL <= 0 {
		s.accessTTL = DefaultAccessTokenTTL
	}
	if s.refreshTT <= 0 {
		s.refreshTT = DefaultRefreshTokenTTL
	}
	if s.cacheTTL <= 0 {
		s.cacheTTL = DefaultSessionCacheTTL
	}
	s.cacheTTL = min(s.cacheTTL, MaxSessionCacheTTL)
	if s.argon == (Argon2Params{}) {
		s.argon = DefaultArgon2
	}
	s.app.Store(opts.App)
	if err := s.ensureIndexes(ctx); err != nil {
		return nil, err
	}
	dom, err := s.loadDomainID(ctx)
	if err != nil {
		return nil, err
	}
	s.domainID = dom
	if s.activitySince, err = s.loadActivitySince(ctx); err != nil {
		return nil, err
	}
	s.access = newAccessCache(s.cacheTTL, maxAccessCacheEntries)
	s.users = newUserCache(s.cacheTTL, maxUserCacheEntries)
	s.keys = &keyRing{s: s}
	if err := s.keys.load(ctx, true); err != nil {
		return nil, err
	}
	s.sessions = newSessionCache(s.cacheTTL)
	limits := opts.RateLimits
	if limits == (RateLimits{}) {
		limits = DefaultRateLimits
	}
	s.limits = newLimiter(limits, s.now)
	bg, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	if !limits.Disabled {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.limits.sweep(bg)
		}()
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.janitor(bg)
	}()
	// The dummy hash for unknown users is made now, so that the first
	// unknown-user login costs the same as the others.
	if s.dummyHash, err = hashPassword(s.argon, "atoll-dummy-password"); err != nil {
		cancel()
		s.wg.Wait()
		return nil, err
	}
	return s, nil
}

// Close stops the background work. It does not close the store.
func (s *Service) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.stop()
	s.wg.Wait()
	return nil
}

// SetFunctions installs the function runner (or replaces it, nil to
// remove it), for when the functions engine is built after auth.
func (s *Service) SetFunctions(fn FunctionRunner) {
	s.fnMu.Lock()
	s.fn = fn
	s.fnMu.Unlock()
}

func (s *Service) functions() FunctionRunner {
	s.fnMu.RLock()
	defer s.fnMu.RUnlock()
	return s.fn
}

// SetApp swaps the app configuration (providers, custom user data), as on
// a redeploy. Users, sessions and keys are unaffected.
func (s *Service) SetApp(app *appconfig.App) { s.app.Store(app) }

// DomainID is the app's domain id (24 hex), stable across restarts; it
// appears in tokens and profiles.
func (s *Service) DomainID() string { return s.domainID }

func (s *Service) coll(name string) store.Collection {
	return s.st.Database(store.SystemDatabase).Collection(name)
}

func (s *Service) ensureIndexes(ctx context.Context) error {
	idx := []struct {
		coll string
		m    store.IndexModel
	}{
		{collSessions, store.IndexModel{Name: "user_id_1", Keys: bson.D{{Key: "user_id", Value: 1}}}},
		{collIdentities, store.IndexModel{Name: "user_id_1", Keys: bson.D{{Key: "user_id", Value: 1}}}},
		{collAPIKeys, store.IndexModel{Name: "key_hash_1", Keys: bson.D{{Key: "key_hash", Value: 1}}, Unique: true}},
		{collAPIKeys, store.IndexModel{Name: "user_id_1", Keys: bson.D{{Key: "user_id", Value: 1}}}},
		{collUserpass, store.IndexModel{Name: "user_id_1", Keys: bson.D{{Key: "user_id", Value: 1}}}},
		{collSessions, store.IndexModel{Name: "expires_at_1", Keys: bson.D{{Key: "expires_at", Value: 1}}}},
		{collTokens, store.IndexModel{Name: "expires_at_1", Keys: bson.D{{Key: "expires_at", Value: 1}}}},
	}
	for _, i := range idx {
		if _, err := s.coll(i.coll).CreateIndex(ctx, i.m); err != nil {
			return fmt.Errorf("auth: index %s on %s: %w", i.m.Name, i.coll, err)
		}
	}
	return nil
}

// loadDomainID reads the domain id, creating it on first start.
func (s *Service) loadDomainID(ctx context.Context) (string, error) {
	doc, err := s.stateOnce(ctx, "domain", bson.D{{Key: "domain_id", Value: bson.NewObjectID().Hex()}})
	if err != nil {
		return "", fmt.Errorf("auth: domain id: %w", err)
	}
	id, ok := lookupString(doc, "domain_id")
	if !ok {
		return "", errors.New("auth: malformed domain document")
	}
	return id, nil
}

// loadActivitySince reads when this deployment started recording the
// activity of anonymous sessions (see anon.go), recording now on first
// start.
func (s *Service) loadActivitySince(ctx context.Context) (time.Time, error) {
	doc, err := s.stateOnce(ctx, "anon_activity", bson.D{{Key: "since", Value: dt(s.now())}})
	if err != nil {
		return time.Time{}, fmt.Errorf("auth: anonymous activity record: %w", err)
	}
	t := lookupTime(doc, "since")
	if t.IsZero() {
		return time.Time{}, errors.New("auth: malformed anonymous activity document")
	}
	return t, nil
}

// stateOnce returns the auth_state document whose _id is id, storing
// {_id: id} plus fields when there is none. Two processes starting together both try to
// insert; the loser reads the winner's.
func (s *Service) stateOnce(ctx context.Context, id string, fields bson.D) (bson.D, error) {
	c := s.coll(collState)
	for range 2 {
		doc, err := c.FindOne(ctx, idFilter(id), store.FindOptions{})
		if err == nil {
			return doc, nil
		}
		if !errors.Is(err, store.ErrNoDocuments) {
			return nil, fmt.Errorf("read: %w", err)
		}
		doc = append(bson.D{{Key: "_id", Value: id}}, fields...)
		_, err = c.InsertOne(ctx, doc)
		if err == nil {
			return doc, nil
		}
		if !store.IsDuplicateKey(err) {
			return nil, fmt.Errorf("store: %w", err)
		}
	}
	return nil, errors.New("could not be established")
}

// internalError logs err and returns the opaque error clients see.
func (s *Service) internalError(ctx context.Context, what string, err error) error {
	s.log.ErrorContext(ctx, "auth: "+what, "err", err)
	return &Error{Code: CodeInternal, Message: msgInternal, Err: fmt.Errorf("%s: %w", what, err)}
}
