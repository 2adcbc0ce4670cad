package gateway

import (
	"os"
	"reflect"
	"regexp"
	"testing"

	"mugai/policy/strictyaml"
)

// TestREADMEConfig: the configuration the README shows is the embedded
// one, key for key: every key it names exists (strict decoding), and
// every default that is not zero is written there with its value.
func TestREADMEConfig(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)\n## Configuration\n.*?```yaml\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("no yaml block in the README's Configuration section")
	}
	var cfg Config
	if _, err := strictyaml.Decode("README.md", m[1], &cfg); err != nil {
		t.Fatal(err)
	}
	if def := Defaults(); !reflect.DeepEqual(cfg, def) {
		t.Errorf("README configuration differs from Defaults():\nREADME   %+v\nDefaults %+v", cfg, def)
	}
}
