package sanitize

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"mugai/policy"
)

// TestMain lets the nested benchmark run one rebuild in a child process
// of its own, whose peak RSS the kernel then reports alone.
func TestMain(m *testing.M) {
	if f := os.Getenv("MUGAI_BENCH_REBUILD_FILE"); f != "" {
		os.Exit(rebuildFile(f))
	}
	os.Exit(m.Run())
}

func rebuildFile(name string) int {
	f, err := os.Open(name)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer f.Close()
	rb := &Rebuilder{Policy: policy.Default(), Hostname: "mugai.test"}
	if _, err := rb.Rebuild(testEnvelope, f); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// The peak of this process's own memory since its exec (wait4's
	// maxrss would count the parent's, which the child shared until then).
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for line := range strings.Lines(string(status)) {
		if strings.HasPrefix(line, "VmHWM:") {
			fmt.Print(line)
		}
	}
	return 0
}

// nestedAttachment is a 6 MB binary attachment (8.2 MB as base64) as a
// MIME part.
func nestedAttachment() string {
	data := make([]byte, 6<<20)
	for i := range data {
		data[i] = byte(i * 7919 >> 3)
	}
	return "Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"data.bin\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n" + string(wrapBase64(data))
}

// BenchmarkNested: the same 6 MB attachment nested 1, 10 and 30
// multiparts deep (the default depth limit is 32), default policy. B/op
// and alloc/B say what the rebuild allocates; peak-RSS-MB is the peak RSS
// of a child process doing one rebuild from a file, and RSS/msg that peak
// less the child's RSS on a one-line message, over the message's size.
// Memory must not grow with the depth.
func BenchmarkNested(b *testing.B) {
	dir := b.TempDir()
	tiny := filepath.Join(dir, "tiny.eml")
	if err := os.WriteFile(tiny, []byte("From: a@example.org\r\nSubject: tiny\r\n\r\nhello\r\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	base := childRSS(b, tiny)
	part := nestedAttachment()
	for _, depth := range []int{1, 10, 30} {
		msg := nested(depth, part, "\r\n")
		name := filepath.Join(dir, fmt.Sprintf("depth%d.eml", depth))
		if err := os.WriteFile(name, msg, 0o644); err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("depth=%d", depth), func(b *testing.B) {
			benchRebuild(b, &Rebuilder{Policy: policy.Default(), Hostname: "mugai.test"}, string(msg))
			peak := childRSS(b, name)
			b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MB")
			b.ReportMetric(float64(peak-base)/float64(len(msg)), "RSS/msg")
		})
	}
}

// childRSS runs one rebuild of the file in a child process and returns
// its peak RSS in bytes (Linux: /proc/self/status).
func childRSS(b *testing.B, file string) int64 {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "MUGAI_BENCH_REBUILD_FILE="+file)
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("child rebuild of %s: %v %s", file, err, strings.TrimSpace(string(out)))
	}
	var kb int64
	if _, err := fmt.Sscanf(strings.TrimSpace(string(out)), "VmHWM: %d kB", &kb); err != nil {
		b.Fatalf("child rebuild of %s printed %q, not its VmHWM", file, out)
	}
	return kb << 10
}
