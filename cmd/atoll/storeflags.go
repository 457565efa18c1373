package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/atollhq/atoll/internal/auth"
	"github.com/atollhq/atoll/internal/store"
)

// storeFlags are the flags that choose the store, shared by the admin
// commands (users, apikeys); they mean what they mean for `atoll serve`.
// The embedded store admits one process at a time, so against --data
// these commands run while the server is stopped.
type storeFlags struct {
	data     string
	mongoURI string
}

func (f *storeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.data, "data", envOr("ATOLL_DATA", "./atoll-data"), "data directory of the embedded store (env ATOLL_DATA)")
	fs.StringVar(&f.mongoURI, "mongodb-uri", envOr("ATOLL_MONGODB_URI", ""), "use this MongoDB deployment instead of the embedded store (env ATOLL_MONGODB_URI)")
}

// withAuth opens the store and an auth service on it (no app config: the
// admin operations need none), runs fn, and closes both.
func (f *storeFlags) withAuth(stderr io.Writer, fn func(ctx context.Context, svc *auth.Service) error) int {
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return f.withStore(context.Background(), stderr, func(ctx context.Context, st store.Store) error {
		svc, err := auth.New(ctx, auth.Options{Store: st, Logger: logger, RateLimits: auth.RateLimits{Disabled: true}})
		if err != nil {
			return err
		}
		defer svc.Close()
		return fn(ctx, svc)
	})
}

// withStore opens the store, runs fn, and closes the store.
func (f *storeFlags) withStore(ctx context.Context, stderr io.Writer, fn func(ctx context.Context, st store.Store) error) int {
	// openStore's advice about standalone MongoDB servers concerns the
	// server, not these one-shot commands: only its errors are shown.
	quiet := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	st, err := openStore(ctx, &serveConfig{data: f.data, mongoURI: f.mongoURI}, quiet)
	if err != nil {
		fmt.Fprintf(stderr, "atoll: opening the store: %v\n", err)
		return 1
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), storeCloseTimeout)
		defer cancel()
		if err := st.Close(cctx); err != nil {
			fmt.Fprintf(stderr, "atoll: closing the store: %v\n", err)
		}
	}()
	if err := fn(ctx, st); err != nil {
		fmt.Fprintf(stderr, "atoll: %v\n", err)
		return 1
	}
	return 0
}
