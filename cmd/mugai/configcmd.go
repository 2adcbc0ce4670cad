package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"mugai/gateway"
	"mugai/policy/strictyaml"
)

// systemConfig is where contrib/ installs the configuration (the path
// contrib/mugai.service passes to serve); tests point it elsewhere.
var systemConfig = "/etc/mugai/mugai.yaml"

// configEnv names the configuration file when -config is not given.
const configEnv = "MUGAI_CONFIG"

// configSource is where a command's configuration comes from: -config,
// else $MUGAI_CONFIG, else systemConfig when it exists, else the embedded
// defaults (path "").
type configSource struct {
	path string
	via  string // how path was found: "-config", "$MUGAI_CONFIG", "the installed default"
}

// findConfig looks for the configuration the way an admin expects; flag
// is the value of -config.
func findConfig(flag string) configSource {
	if flag != "" {
		return configSource{flag, "-config"}
	}
	if env := os.Getenv(configEnv); env != "" {
		return configSource{env, "$" + configEnv}
	}
	// Any answer but "not there" (a file the admin may not read) uses it:
	// loading it then says what is wrong.
	if _, err := os.Stat(systemConfig); !errors.Is(err, fs.ErrNotExist) {
		return configSource{systemConfig, "the installed default"}
	}
	return configSource{}
}

// String says where the configuration came from, for an error about a
// path it holds: "(from the embedded defaults; pass -config or set
// MUGAI_CONFIG)".
func (s configSource) String() string {
	switch s.via {
	case "":
		return "from the embedded defaults; pass -config or set " + configEnv
	case "-config":
		return "from " + s.path
	}
	return fmt.Sprintf("from %s, %s", s.path, s.via)
}

// load reads the configuration; the embedded defaults for no path.
func (s configSource) load() (gateway.Config, error) {
	if s.path == "" {
		return gateway.Defaults(), nil
	}
	cfg, err := gateway.LoadConfig(s.path)
	if err != nil && s.via != "-config" {
		err = fmt.Errorf("%w (configuration found through %s)", err, s.via)
	}
	return cfg, err
}

// cmdConfigCheck validates a configuration and prints it as it takes
// effect, every key with its value; on errors it prints every problem as
// file:line: key.path: problem and exits 1 (2 when the file cannot be
// read at all).
func cmdConfigCheck(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("config check", stderr, "[-config FILE]")
	configFile := fs.String("config", "", "configuration file (default: $MUGAI_CONFIG, else "+systemConfig+" when it exists, else the embedded defaults)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q (the file goes after -config)", fs.Arg(0))
	}
	src := findConfig(*configFile)
	cfg, err := src.load()
	if err != nil {
		var se *strictyaml.Error
		if errors.As(err, &se) {
			fmt.Fprintln(stderr, se.Error())
			fmt.Fprintf(stderr, "%d problems in %s\n", len(se.Problems), src.path)
			return &failure{code: 1}
		}
		return usagef("%v", err)
	}
	name := src.path
	if name == "" {
		name = "(embedded defaults)"
	}
	fmt.Fprintf(stdout, "# configuration %s: valid; in effect, every key:\n", name)
	stdout.Write(cfg.EffectiveYAML())
	return nil
}

// durationFlag is a flag.Duration that reads durations as the
// configuration does (strictyaml.ParseDuration: 30s, 2h, 90d).
func durationFlag(fs *flags, name string, def time.Duration, usage string) *time.Duration {
	d := def
	fs.Var(durationValue{&d}, name, usage)
	return &d
}

type durationValue struct{ d *time.Duration }

func (v durationValue) Set(s string) error {
	d, err := strictyaml.ParseDuration(s)
	if err == nil {
		*v.d = d
	}
	return err
}

func (v durationValue) String() string {
	if v.d == nil {
		return ""
	}
	return strictyaml.Duration(*v.d).String()
}
