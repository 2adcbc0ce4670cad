package sanitize

import (
	"strings"
	"testing"

	"mugai/policy"
	"mugai/sanitize/sanitizetest"
)

// TestTNEFOnlyBody: a mail whose only body is a winmail.dat gets that text;
// a mail with a text part keeps it and strips the winmail.dat.
func TestTNEFOnlyBody(t *testing.T) {
	tnef := sanitizetest.NewTNEF().Attr(1, 0x00069003, sanitizetest.Props(sanitizetest.Prop{Tag: 0x1000001F, Data: sanitizetest.UTF16("会議の件、承知しました。")})).
		Attr(2, 0x0006800F, []byte("ATTACHED-PAYLOAD")).B
	part := "Content-Type: application/ms-tnef; name=winmail.dat\r\nContent-Disposition: attachment; filename=winmail.dat\r\nContent-Transfer-Encoding: base64\r\n\r\n" + string(wrapBase64(tnef))
	only := "From: a@example.jp\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n" + part + "--b--\r\n"
	res, err := testRebuilder().Rebuild(testEnvelope, strings.NewReader(only))
	if err != nil {
		t.Fatal(err)
	}
	out, _ := parseOutput(res.Message)
	if !strings.Contains(out.text, "会議の件、承知しました。") || strings.Contains(out.text, "ATTACHED-PAYLOAD") || !strings.Contains(out.text, "winmail.dat") {
		t.Errorf("body:\n%s", out.text)
	}
	if d := res.Decisions[0]; d.Reason != policy.ReasonTNEFBody || d.Action != policy.ActionTextify {
		t.Errorf("decision %+v", d)
	}

	withText := "From: a@example.jp\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nplain body\r\n--b\r\n" + part + "--b--\r\n"
	res, _ = testRebuilder().Rebuild(testEnvelope, strings.NewReader(withText))
	out, _ = parseOutput(res.Message)
	if !strings.Contains(out.text, "plain body") || strings.Contains(out.text, "会議の件") || res.Decisions[1].Action != policy.ActionStrip {
		t.Errorf("with a text part: %+v\n%s", res.Decisions, out.text)
	}
}
