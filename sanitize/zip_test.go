package sanitize

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"image"
	"image/png"
	"io"
	"strings"
	"testing"

	"golang.org/x/text/encoding/japanese"

	"mugai/policy"
)

type zipEntry struct {
	name string
	raw  bool // name bytes as given, no UTF-8 flag (legacy CP932)
	data []byte
}

func makeZip(t testing.TB, entries ...zipEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		if e.raw {
			h.NonUTF8 = true
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(e.data)
	}
	zw.Close()
	return buf.Bytes()
}

func readZip(t *testing.T, b []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("rebuilt archive does not open: %v", err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		out[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	return out
}

func TestZipRebuilt(t *testing.T) {
	pe := make([]byte, 0x80)
	copy(pe, "MZ")
	binary.LittleEndian.PutUint32(pe[0x3C:], 0x40)
	copy(pe[0x40:], "PE\x00\x00")
	var img bytes.Buffer
	png.Encode(&img, image.NewGray(image.Rect(0, 0, 2, 2)))
	sjisName, _ := japanese.ShiftJIS.NewEncoder().String("資料/議事録.txt")
	inner := makeZip(t, zipEntry{name: "inner.txt", data: []byte("inner text\n")}, zipEntry{name: "run.js", data: []byte("var s = new ActiveXObject('WScript.Shell'); eval(x);")})
	z := makeZip(t,
		zipEntry{name: "readme.txt", data: []byte("hello\n")},
		zipEntry{name: sjisName, raw: true, data: []byte("会議は木曜日\n")},
		zipEntry{name: "photo.png", data: append(img.Bytes(), "TRAILER"...)},
		zipEntry{name: "tool.exe", data: pe},
		zipEntry{name: "nested/inner.zip", data: inner},
	)
	res, err := testRebuilder().Rebuild(testEnvelope, strings.NewReader(withAttachment("application/zip", "資料.zip", z)))
	if err != nil {
		t.Fatal(err)
	}
	files := attachmentsOf(t, res.Message)
	rebuilt, ok := files["資料.zip"]
	if !ok {
		t.Fatalf("no archive attached; decisions %+v", res.Decisions)
	}
	got := readZip(t, rebuilt)
	if string(got["readme.txt"]) != "hello\r\n" || string(got["資料/議事録.txt"]) != "会議は木曜日\r\n" {
		t.Errorf("text members: %q", got)
	}
	if p, ok := got["photo.png"]; !ok || bytes.Contains(p, []byte("TRAILER")) {
		t.Errorf("image member missing or not rebuilt")
	}
	if _, ok := got["tool.exe"]; ok {
		t.Error("executable survived")
	}
	nested := readZip(t, got["nested/inner.zip"])
	if string(nested["inner.txt"]) != "inner text\r\n" || nested["run.js"] != nil || len(nested) != 1 {
		t.Errorf("nested archive: %q", nested)
	}
	reasons := map[string]policy.Reason{}
	for _, d := range res.Decisions {
		reasons[d.Path+" "+d.Filename] = d.Reason
	}
	for k, want := range map[string]policy.Reason{
		"2 資料.zip":             policy.ReasonDisarmed,
		"2/1 readme.txt":       policy.ReasonDisarmed,
		"2/2 資料/議事録.txt":       policy.ReasonDisarmed,
		"2/4 tool.exe":         policy.ReasonDangerousType,
		"2/5 nested/inner.zip": policy.ReasonDisarmed,
		"2/5/2 run.js":         policy.ReasonDangerousType,
		"2/5/1 inner.txt":      policy.ReasonDisarmed,
		"2/3 photo.png":        policy.ReasonDisarmed,
	} {
		if reasons[k] != want {
			t.Errorf("decision %q = %q, want %q (all: %v)", k, reasons[k], want, reasons)
		}
	}
	out, _ := parseOutput(res.Message)
	if !strings.Contains(out.text, "資料.zip › tool.exe") {
		t.Errorf("notice does not name the removed member:\n%s", out.text)
	}
}

func TestZipLimits(t *testing.T) {
	// Nesting beyond three archives.
	z := makeZip(t, zipEntry{name: "a.txt", data: []byte("deep\n")})
	for i := 0; i < 4; i++ {
		z = makeZip(t, zipEntry{name: "level.zip", data: z})
	}
	res, _ := testRebuilder().Rebuild(testEnvelope, strings.NewReader(withAttachment("application/zip", "deep.zip", z)))
	found := false
	for _, d := range res.Decisions {
		found = found || d.Reason == policy.ReasonDepthLimit
		if d.Filename == "a.txt" {
			t.Error("a member beyond the depth limit was decided")
		}
	}
	if !found {
		t.Errorf("no depth-limit decision: %+v", res.Decisions)
	}

	// Encrypted (PPAP) and emptied archives are removed.
	var enc bytes.Buffer
	zw := zip.NewWriter(&enc)
	w, _ := zw.CreateHeader(&zip.FileHeader{Name: "見積.pdf", Flags: 1})
	w.Write([]byte("ciphertext"))
	zw.Close()
	for _, tc := range []struct {
		data   []byte
		reason policy.Reason
	}{
		{enc.Bytes(), policy.ReasonEncryptedArchive},
		{makeZip(t, zipEntry{name: "a.exe", data: []byte("MZ")}), policy.ReasonNothingLeft},
	} {
		res, _ := testRebuilder().Rebuild(testEnvelope, strings.NewReader(withAttachment("application/zip", "x.zip", tc.data)))
		if d := res.Decisions[1]; d.Reason != tc.reason || d.Action != policy.ActionStrip {
			t.Errorf("decision %+v, want %s", d, tc.reason)
		}
		if len(attachmentsOf(t, res.Message)) != 0 {
			t.Error("archive attached")
		}
	}
}
