package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/atollhq/atoll/internal/appconfig"
	"github.com/atollhq/atoll/internal/server"
	"github.com/atollhq/atoll/internal/store"
	"github.com/atollhq/atoll/internal/store/embedded"
	mongostore "github.com/atollhq/atoll/internal/store/mongo"
	"github.com/atollhq/atoll/internal/version"
)

// serveConfig is the configuration of `atoll serve`, from flags with
// environment-variable defaults.
type serveConfig struct {
	app       string
	data      string
	addr      string
	mongoURI  string
	appID     string
	logFormat string
	logLevel  string
}

func serveFlags(fs *flag.FlagSet) *serveConfig {
	c := &serveConfig{}
	fs.StringVar(&c.app, "app", envOr("ATOLL_APP", ""), "App Services app directory (env ATOLL_APP)")
	fs.StringVar(&c.data, "data", envOr("ATOLL_DATA", "./atoll-data"), "data directory of the embedded store (env ATOLL_DATA)")
	fs.StringVar(&c.addr, "addr", envOr("ATOLL_ADDR", "127.0.0.1:8080"), "HTTP listen address (env ATOLL_ADDR)")
	fs.StringVar(&c.mongoURI, "mongodb-uri", envOr("ATOLL_MONGODB_URI", ""), "use this MongoDB deployment instead of the embedded store (env ATOLL_MONGODB_URI)")
	fs.StringVar(&c.appID, "app-id", envOr("ATOLL_APP_ID", ""), "override the app id (env ATOLL_APP_ID)")
	fs.StringVar(&c.logFormat, "log-format", envOr("ATOLL_LOG_FORMAT", "json"), "log format: json or text (env ATOLL_LOG_FORMAT)")
	fs.StringVar(&c.logLevel, "log-level", envOr("ATOLL_LOG_LEVEL", "info"), "log level: debug, info, warn or error (env ATOLL_LOG_LEVEL)")
	return c
}

func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func serve(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("atoll serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := serveFlags(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "atoll serve: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	logger, err := newLogger(stderr, cfg.logFormat, cfg.logLevel)
	if err != nil {
		fmt.Fprintf(stderr, "atoll serve: %v\n", err)
		return 2
	}
	if err := cfg.check(); err != nil {
		logger.Error("invalid configuration", "error", err.Error())
		return 2
	}
	appCfg, err := appServeFromEnv()
	if err != nil {
		logger.Error("invalid configuration", "error", err.Error())
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger.Info("starting", "version", version.String(), "app", cfg.app, "data", cfg.data)
	var app *appconfig.App
	if cfg.app != "" {
		if app, err = loadServeApp(ctx, cfg.app, cfg.appID, appCfg, logger); err != nil {
			logger.Error("loading the app", "error", err.Error())
			return 1
		}
	}
	st, err := openStore(ctx, cfg, logger)
	if err != nil {
		logger.Error("opening the store", "error", err.Error())
		return 1
	}
	code := 0
	srv := server.New(server.Config{Addr: cfg.addr, Logger: logger})
	var closeApp func()
	if app != nil {
		if closeApp, err = mountApp(ctx, srv, st, app, appCfg, logger); err != nil {
			logger.Error("starting the app", "error", err.Error())
			code = 1
		}
	}
	if code == 0 {
		if err := srv.Run(ctx); err != nil {
			logger.Error("server stopped", "error", err.Error())
			code = 1
		}
	}
	if closeApp != nil {
		closeApp()
	}
	// Run has drained the HTTP server: no request uses the store any more.
	cctx, cancel := context.WithTimeout(context.Background(), storeCloseTimeout)
	defer cancel()
	if err := st.Close(cctx); err != nil {
		logger.Error("closing the store", "error", err.Error())
		code = 1
	}
	logger.Info("stopped")
	return code
}

// Bounds on opening and closing the store: a MongoDB deployment that does
// not answer must not hang the process.
const (
	storeOpenTimeout  = 30 * time.Second
	storeCloseTimeout = 30 * time.Second
)

// openStore opens the MongoDB deployment of --mongodb-uri when given, and
// the embedded store in --data otherwise.
func openStore(ctx context.Context, cfg *serveConfig, logger *slog.Logger) (store.Store, error) {
	octx, cancel := context.WithTimeout(ctx, storeOpenTimeout)
	defer cancel()
	if cfg.mongoURI != "" {
		st, err := mongostore.Open(octx, cfg.mongoURI)
		if err != nil {
			return nil, err
		}
		caps := st.Capabilities()
		logger.Info("store: MongoDB", "change_streams", caps.ChangeStreams, "transactions", caps.Transactions)
		if !caps.ChangeStreams {
			logger.Warn("the MongoDB deployment is not a replica set or sharded cluster: change streams, triggers and transactions are unavailable")
		}
		return st, nil
	}
	st, err := embedded.Open(octx, cfg.data, embedded.Options{})
	if err != nil {
		return nil, err
	}
	logger.Info("store: embedded", "dir", cfg.data)
	return st, nil
}

// check validates what can be validated before anything starts.
func (c *serveConfig) check() error {
	if c.app != "" {
		st, err := os.Stat(c.app)
		if err != nil {
			return fmt.Errorf("app directory: %w", err)
		}
		if !st.IsDir() {
			return fmt.Errorf("app directory %s is not a directory", c.app)
		}
	}
	return nil
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("invalid --log-level %q", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("invalid --log-format %q (want json or text)", format)
}
