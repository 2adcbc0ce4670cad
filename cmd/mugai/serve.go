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
	"strings"
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
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM, syscall.SIGUSR1, syscall.SIGHUP)
wait:
	for {
		select {
		case err := <-done:
			return err
		case s := <-sig:
			if s == syscall.SIGHUP { // logrotate, a new policy
				reloadConfig(log, *configFile, g)
				if err := g.Reload(); err == nil {
					log.Info("reloaded: audit log reopened, policy in force", "policy_sha256", g.Policy().SHA256)
				} // a refusal is logged and audited by Reload
				continue
			}
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

// reloadConfig reads the configuration file again on SIGHUP and applies
// what can change live (accept.networks, accept.domains); keys that need a
// restart are named in a warning, and a file that no longer loads leaves
// everything as it is.
func reloadConfig(log *slog.Logger, path string, g *gateway.Gateway) {
	if path == "" {
		return
	}
	cfg, err := gateway.LoadConfig(path)
	if err != nil {
		log.Error("configuration file is invalid now; nothing of it applied", "config", path, "err", oneLine(err))
		return
	}
	applied, restart := g.ApplyConfig(cfg)
	if len(applied) > 0 {
		log.Info("configuration applied", "keys", strings.Join(applied, ","))
	}
	if len(restart) > 0 {
		log.Warn("configuration changed in sections that apply only at restart", "sections", strings.Join(restart, ","))
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
