package sanitize

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"strings"
	"testing"
	"time"

	"mugai/policy"
	"mugai/sanitize/format"
)

// jpegOf is a w×h photo-like JPEG.
func jpegOf(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), uint8(x ^ y), 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 50}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestExpansionBudget: a ZIP of images, small as mail, worth more pixels
// than the message's expansion budget: the images the budget holds are
// rebuilt, the rest are removed with the reason, and the whole is within
// the budget.
func TestExpansionBudget(t *testing.T) {
	photo := jpegOf(t, 1000, 1000) // about 1.5 MB decoded
	var members []zipEntry
	for i := range 12 {
		members = append(members, zipEntry{name: fmt.Sprintf("photo%02d.jpg", i), data: photo})
	}
	rb := testRebuilder()
	rb.Limits.MaxExpansion = 8 << 20
	msg := withAttachment("application/zip", "photos.zip", makeZip(t, members...))
	res, err := rb.Rebuild(testEnvelope, strings.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	kept, cut := 0, 0
	for _, d := range res.Decisions {
		if !strings.HasPrefix(d.Path, "2/") {
			continue
		}
		switch {
		case d.Reason == policy.ReasonDisarmed:
			kept++
		case d.Reason == policy.ReasonSanitizeFailed && strings.Contains(d.Detail, format.ErrBudget.Error()):
			cut++
		default:
			t.Errorf("member %+v", d)
		}
	}
	if kept == 0 || cut == 0 || kept+cut != 12 {
		t.Errorf("kept %d, cut %d of 12 members", kept, cut)
	}
}

// TestRebuildDeadline: a rebuild whose context ends stops with
// ErrDeadline, whatever part it was working on; no result is returned.
func TestRebuildDeadline(t *testing.T) {
	reg := &format.Registry{}
	reg.Register("disarm", &badSanitizer{"hang"}, "text/*")
	rb := &Rebuilder{Policy: policy.Default(), Sanitizers: reg, Limits: Limits{SanitizeTimeout: time.Minute}}
	msg := withAttachment("text/plain", "a.txt", []byte("hello\n"))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	res, err := rb.RebuildContext(ctx, testEnvelope, strings.NewReader(msg), nil)
	if !errors.Is(err, ErrDeadline) || res != nil {
		t.Fatalf("hanging sanitizer: %v, %v", res, err)
	}
	done, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if _, err := testRebuilder().RebuildContext(done, testEnvelope, strings.NewReader(msg), nil); !errors.Is(err, ErrDeadline) {
		t.Fatalf("ended context: %v", err)
	}
}

// TestGrowRefused: when the gateway cannot back an expansion with memory,
// the rebuild stops with the *format.GrowError (a 4xx for the client),
// never a decision that would remove the part for good.
func TestGrowRefused(t *testing.T) {
	errNoMemory := errors.New("no memory")
	var asked []int64
	grow := func(n int64) error {
		asked = append(asked, n)
		return errNoMemory
	}
	msg := withAttachment("image/jpeg", "p.jpg", jpegOf(t, 300, 200))
	res, err := testRebuilder().RebuildContext(context.Background(), testEnvelope, strings.NewReader(msg), grow)
	var ge *format.GrowError
	if !errors.As(err, &ge) || !errors.Is(err, errNoMemory) || res != nil || len(asked) != 1 {
		t.Fatalf("got %v, %v, asked %v", res, err, asked)
	}
	// Granted: the reservation grows to the largest single expansion, not
	// to the sum, so a second image of the same size asks for nothing.
	sum := func(msg string) (n int64) {
		grow := func(k int64) error { n += k; return nil }
		if _, err := testRebuilder().RebuildContext(context.Background(), testEnvelope, strings.NewReader(msg), grow); err != nil {
			t.Fatal(err)
		}
		return n
	}
	photo := jpegOf(t, 300, 200)
	one := sum(withAttachment("image/jpeg", "p.jpg", photo))
	zip2 := withAttachment("application/zip", "p.zip", makeZip(t, zipEntry{name: "a.jpg", data: photo}, zipEntry{name: "b.jpg", data: photo}))
	if one == 0 || sum(zip2) >= 2*one+int64(2*len(photo)) {
		t.Errorf("one image asked %d, a ZIP of two asked %d", one, sum(zip2))
	}
}
