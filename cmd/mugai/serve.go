package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"mugai/gateway"
)

// cmdServe runs the relay until SIGINT or SIGTERM.
func cmdServe(args []string, _, stderr io.Writer) error {
	fs := newFlags("serve", stderr, "[-config FILE]")
	configFile := fs.String("config", "", "configuration file (default: the embedded defaults)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	cfg := gateway.Defaults()
	if *configFile != "" {
		var err error
		if cfg, err = gateway.LoadConfig(*configFile); err != nil {
			return usagef("%s", oneLine(err))
		}
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	effective, _ := json.Marshal(cfg)
	log.Info("starting mugai", "version", version, "config", orDefault(*configFile, "(embedded defaults)"), "effective", string(effective))

	g, err := gateway.New(cfg, log, sanitizers(cfg.Cache))
	if err != nil {
		return usagef("%s", oneLine(err))
	}
	l, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return usagef("listen: %v", err)
	}
	pidFile := filepath.Join(cfg.Spool, pidName)
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o640); err != nil {
		return fmt.Errorf("pid file: %w", err)
	}
	defer os.Remove(pidFile)
	done := make(chan error, 1)
	go func() { done <- g.Serve(l) }()

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM, syscall.SIGUSR1)
wait:
	for {
		select {
		case err := <-done:
			return err
		case s := <-sig:
			if s == syscall.SIGUSR1 { // mugai queue flush/requeue/delete
				if err := g.Rescan(); err != nil {
					log.Error("rescan of the spool failed", "err", err)
				} else {
					log.Info("spool rescanned: waiting messages are due now")
				}
				continue
			}
			log.Info("shutting down", "signal", s.String())
			break wait
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return g.Shutdown(ctx)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
