//go:build interop

package interop

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"mugai/gateway"
)

// TestDeploymentKit checks contrib/ with the tools an admin will use on
// it: systemd's own verifier on the unit, and Postfix's postconf and
// postmap on the snippets (postconf warns about every parameter it does
// not know, so a misspelt one fails here, not in production).
func TestDeploymentKit(t *testing.T) {
	if err := Require("postmap", "systemd-analyze"); err != nil {
		t.Fatal(err)
	}
	contrib, err := filepath.Abs("../../contrib")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	run := func(t *testing.T, name string, args ...string) string {
		t.Helper()
		out, err := exec.Command(name, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	clean := func(t *testing.T, what, out string) {
		t.Helper()
		for _, line := range strings.Split(out, "\n") {
			if l := strings.ToLower(line); strings.Contains(l, "warning") || strings.Contains(l, "fatal") ||
				strings.Contains(l, "unknown") || strings.Contains(l, "invalid") || strings.Contains(l, "failed") {
				t.Errorf("%s: %s", what, line)
			}
		}
	}

	t.Run("systemd unit", func(t *testing.T) {
		unit, err := os.ReadFile(filepath.Join(contrib, "mugai.service"))
		if err != nil {
			t.Fatal(err)
		}
		// The verifier wants the program to exist: point it at ours.
		bin := *mugaiBin
		if bin == "" {
			bin, _ = exec.LookPath("true")
		}
		text := strings.Replace(string(unit), "ExecStart=/usr/local/bin/mugai", "ExecStart="+bin, 1)
		if text == string(unit) {
			t.Fatal("the unit does not start /usr/local/bin/mugai")
		}
		f := filepath.Join(dir, "mugai.service")
		if err := os.WriteFile(f, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		clean(t, "systemd-analyze verify", run(t, "systemd-analyze", "verify", f))
	})

	t.Run("postfix snippets", func(t *testing.T) {
		for _, side := range []string{"internet-side", "lgwan-side"} {
			conf := filepath.Join(dir, side)
			if err := os.MkdirAll(conf, 0o755); err != nil {
				t.Fatal(err)
			}
			main, err := os.ReadFile(filepath.Join(contrib, "postfix", side+".main.cf"))
			if err != nil {
				t.Fatal(err)
			}
			master := masterCF
			if extra, err := os.ReadFile(filepath.Join(contrib, "postfix", side+".master.cf")); err == nil {
				master += string(extra)
			}
			if err := os.WriteFile(filepath.Join(conf, "main.cf"), main, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(conf, "master.cf"), []byte(strings.Replace(master, "%s", "127.0.0.1:10026", 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			clean(t, side+".main.cf", run(t, "postconf", "-c", conf, "-n"))
			clean(t, side+".master.cf", run(t, "postconf", "-c", conf, "-M"))
		}
		// The transport map routes the city's domain to mugai.
		tr := filepath.Join(dir, "transport")
		data, err := os.ReadFile(filepath.Join(contrib, "postfix", "transport"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(tr, data, 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, err := gateway.LoadConfig(filepath.Join(contrib, "mugai.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		// postmap reads a main.cf: the Internet side's written above (the
		// system one does not exist when Postfix is installed with "No
		// configuration", as .ci/install-interop-tools does).
		got := strings.TrimSpace(run(t, "postmap", "-c", filepath.Join(dir, "internet-side"), "-q", "city.example.lg.jp", "texthash:"+tr))
		if want := "smtp:[" + strings.Replace(cfg.Listen, ":", "]:", 1); got != want {
			t.Errorf("transport lookup of city.example.lg.jp = %q, want %q (contrib/mugai.yaml listen)", got, want)
		}
	})
}
