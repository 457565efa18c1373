package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/atollhq/atoll/internal/appconfig"
	"github.com/atollhq/atoll/internal/applog"
	"github.com/atollhq/atoll/internal/auth"
	"github.com/atollhq/atoll/internal/dataaccess"
	"github.com/atollhq/atoll/internal/expr"
	"github.com/atollhq/atoll/internal/functions"
	"github.com/atollhq/atoll/internal/server"
	"github.com/atollhq/atoll/internal/server/clientapi"
	"github.com/atollhq/atoll/internal/store"
	"github.com/atollhq/atoll/internal/store/embedded"
	"github.com/atollhq/atoll/internal/triggers"
)

// appServeConfig is the part of `atoll serve`'s configuration about the
// app: how it is loaded and how its client API behaves. Durations and the
// public URL come from environment variables only, to keep the flag list
// short; they are operational knobs, not app configuration.
type appServeConfig struct {
	secrets         string
	publicURL       string
	accessTokenTTL  time.Duration
	refreshTokenTTL time.Duration
	// triggerLease is how long a dead process's trigger leases block the
	// others (ATOLL_TRIGGER_LEASE; 0: the triggers package default).
	triggerLease time.Duration
}

// appServeFromEnv reads ATOLL_SECRETS (a JSON file of secret values),
// ATOLL_PUBLIC_URL (the location endpoint's hostname) and
// ATOLL_ACCESS_TOKEN_TTL / ATOLL_REFRESH_TOKEN_TTL (Go durations; the
// end-to-end tests shorten the access token to exercise refresh) and
// ATOLL_TRIGGER_LEASE (the trigger lease expiry).
func appServeFromEnv() (appServeConfig, error) {
	c := appServeConfig{secrets: os.Getenv("ATOLL_SECRETS"), publicURL: os.Getenv("ATOLL_PUBLIC_URL")}
	for _, d := range []struct {
		env string
		dst *time.Duration
	}{{"ATOLL_ACCESS_TOKEN_TTL", &c.accessTokenTTL}, {"ATOLL_REFRESH_TOKEN_TTL", &c.refreshTokenTTL}, {"ATOLL_TRIGGER_LEASE", &c.triggerLease}} {
		v := os.Getenv(d.env)
		if v == "" {
			continue
		}
		dur, err := time.ParseDuration(v)
		if err != nil || dur <= 0 {
			return c, fmt.Errorf("%s: want a positive duration such as 30m, got %q", d.env, v)
		}
		*d.dst = dur
	}
	return c, nil
}

// loadServeApp loads the --app directory with secrets from ATOLL_SECRETS and
// ATOLL_SECRET_<name> variables. Problems are all reported at once.
func loadServeApp(ctx context.Context, dir, appID string, ac appServeConfig, logger *slog.Logger) (*appconfig.App, error) {
	secrets := map[string]string{}
	if ac.secrets != "" {
		fromFile, err := appconfig.ReadSecretsFile(ac.secrets)
		if err != nil {
			return nil, err
		}
		for k, v := range fromFile {
			secrets[k] = v
		}
	}
	for k, v := range appconfig.SecretsFromEnv(os.Environ()) {
		secrets[k] = v
	}
	app, err := appconfig.Load(ctx, dir, appconfig.Options{AppID: appID, Secrets: secrets})
	if err != nil {
		var probs appconfig.Problems
		if errors.As(err, &probs) {
			for _, p := range probs {
				logger.Error("app problem", "problem", p.String())
			}
		}
		return nil, fmt.Errorf("loading app %s: %w", dir, err)
	}
	for _, w := range app.Warnings {
		logger.Warn("app warning", "warning", w.String())
	}
	for _, name := range app.MissingSecrets() {
		logger.Warn("secret not supplied", "secret", name, "env", appconfig.SecretEnvPrefix+name)
	}
	return app, nil
}

// mountApp builds the app's auth service and data access on st and mounts
// the client API. The returned closer must run after the server drained.
// Watch streams end when ctx is done, so a shutdown does not wait on them.
func mountApp(ctx context.Context, srv *server.Server, st store.Store, app *appconfig.App, ac appServeConfig, logger *slog.Logger) (func(), error) {
	// Without ATOLL_SMTP_ADDR, auth writes confirmation and reset emails
	// to the log so development works.
	var mailer auth.Mailer
	if smtp, ok := auth.SMTPConfigFromEnv(os.Getenv); ok {
		mailer = auth.NewSMTPMailer(smtp)
	}
	svc, err := auth.New(ctx, auth.Options{
		Store:           st,
		App:             app,
		Mailer:          mailer,
		Logger:          logger,
		AccessTokenTTL:  ac.accessTokenTTL,
		RefreshTokenTTL: ac.refreshTokenTTL,
	})
	if err != nil {
		return nil, fmt.Errorf("starting auth: %w", err)
	}
	data, err := dataaccess.New(app, st, dataaccess.Options{Logger: logger})
	if err != nil {
		_ = svc.Close()
		return nil, fmt.Errorf("compiling rules and schemas: %w", err)
	}
	// The app log: function runs, written in the background to
	// __atoll.app_logs (see internal/applog for retention and bounds).
	appLog := applog.NewWriter(st, applog.Options{Logger: logger})
	closeLog := func() {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := appLog.Close(cctx); err != nil {
			logger.Warn("app log: entries not written at shutdown", "error", err)
		}
	}
	engine, err := functions.New(app, functions.Config{Data: data, Store: st, Users: functions.AuthUsers{S: svc}, Logger: logger, AppLog: appLog})
	if err != nil {
		closeLog()
		_ = data.Close()
		_ = svc.Close()
		return nil, fmt.Errorf("loading functions: %w", err)
	}
	// Auth runs custom-function logins, confirmation and reset functions
	// and on_user_creation_function_name as system.
	svc.SetFunctions(functions.AuthRunner{E: engine})
	// Triggers run their functions as system; authentication triggers
	// get the auth service's events after each operation commits.
	trigs, err := triggers.Compile(app, engine.Has)
	if err != nil {
		_ = engine.Close()
		_ = data.Close()
		_ = svc.Close()
		return nil, fmt.Errorf("loading triggers: %w", err)
	}
	// The embedded store is one process's: leases of a crashed earlier run are void.
	_, exclusive := st.(*embedded.Store)
	trigRunner := triggers.New(trigs, triggers.Config{Functions: engine, Store: st, Logger: logger, LeaseTTL: ac.triggerLease, Exclusive: exclusive})
	svc.OnEvent(trigRunner.OnAuthEvent)
	if err := trigRunner.Start(ctx); err != nil {
		_ = engine.Close()
		_ = data.Close()
		_ = svc.Close()
		return nil, fmt.Errorf("starting triggers: %w", err)
	}
	closeAll := func() {
		_ = trigRunner.Close()
		_ = engine.Close()
		closeLog()
		_ = data.Close()
		_ = svc.Close()
	}
	// %function in the rules of client data requests runs as the
	// requesting user.
	ruleFunctions := func(u dataaccess.Caller, req *expr.Request) expr.FunctionCaller {
		return engine.ForCaller(functions.Caller{User: &u, Request: req})
	}
	api, err := clientapi.New(clientapi.Config{App: app, Auth: svc, Data: data, Functions: clientFunctions{engine: engine, auth: svc},
		RuleFunctions: ruleFunctions, Done: ctx.Done(), Logger: logger, PublicURL: ac.publicURL})
	if err != nil {
		closeAll()
		return nil, err
	}
	api.Register(srv)
	logger.Info("app loaded", "app_id", app.AppID, "name", app.Root.Name, "providers", len(app.AuthProviders),
		"data_sources", len(data.Services()), "triggers", len(trigs))
	return closeAll, nil
}
