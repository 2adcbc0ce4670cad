package main

import (
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
)

// TestServeFailingStart: a start that fails on a port in use (the SMTP
// listener, the metrics listener) prints its error first and alone,
// exits non-zero and writes nothing to the audit log (no policy record).
func TestServeFailingStart(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	busy := taken.Addr().String()
	tests := []struct {
		name  string
		extra func(listen string) string // config lines added
		want  string
	}{
		{"smtp port in use", func(string) string { return fmt.Sprintf("listen: %q\n", busy) }, "listen: "},
		{"metrics port in use", func(listen string) string { return fmt.Sprintf("listen: %q\nmetrics: %q\n", listen, busy) }, "metrics: "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, file := adminSetup(t)
			body, _ := os.ReadFile(file)
			lines := strings.SplitN(string(body), "\n", 2) // the first line is listen
			os.WriteFile(file, []byte(tc.extra(freePort(t))+lines[1]), 0o644)
			code, stdout, stderr := runCLI(t, "serve", "-config", file)
			if code == 0 || stdout != "" {
				t.Errorf("exit %d, stdout %q", code, stdout)
			}
			if !strings.HasPrefix(stderr, "mugai serve: "+tc.want) || !strings.Contains(stderr, "address already in use") ||
				strings.Count(stderr, "\n") != 1 {
				t.Errorf("stderr is not the error alone:\n%s", stderr)
			}
			if recs := auditRecords(cfg.Audit); len(recs) != 0 {
				t.Errorf("a failed start wrote audit records: %v", recs)
			}
		})
	}
}
