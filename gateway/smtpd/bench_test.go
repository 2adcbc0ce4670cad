package smtpd

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"

	"mugai/gateway/load"
)

// referenceWire is load.Realistic() as DATA carries it: dot-stuffed and
// ended by CRLF.CRLF.
func referenceWire() []byte {
	msg := load.Realistic()
	var b bytes.Buffer
	for _, line := range bytes.SplitAfter(msg, []byte("\r\n")) {
		if len(line) > 0 && line[0] == '.' {
			b.WriteByte('.')
		}
		b.Write(line)
	}
	if !bytes.HasSuffix(b.Bytes(), []byte("\r\n")) {
		b.WriteString("\r\n")
	}
	b.WriteString(".\r\n")
	return b.Bytes()
}

// discardData is a session that reads the message to io.Discard, as
// either server hands it over.
type discardData struct{}

func (discardData) NewSession(*Conn) (Session, error)             { return discardData{}, nil }
func (discardData) Mail(string, MailParams) error                 { return nil }
func (discardData) Rcpt(string) error                             { return nil }
func (discardData) Data(r io.Reader) error                        { _, err := io.Copy(io.Discard, r); return err }
func (discardData) Reset()                                        {}
func (discardData) Logout()                                       {}
func (discardData) AuthPlain(string, string) error                { return nil }
func (discardData) NewGoSession(*smtp.Conn) (smtp.Session, error) { return goSession{}, nil }

type goSession struct{}

func (goSession) Mail(string, *smtp.MailOptions) error { return nil }
func (goSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (goSession) Data(r io.Reader) error               { _, err := io.Copy(io.Discard, r); return err }
func (goSession) Reset()                               {}
func (goSession) Logout() error                        { return nil }

// BenchmarkTransaction: one MAIL, RCPT, DATA of the 150 KB reference
// message per iteration, pipelined on one loopback connection, through
// smtpd and through go-smtp v0.25.1's server (what the gateway ran
// before; its strict reader and connection-layer scans not counted).
func BenchmarkTransaction(b *testing.B) {
	wire := referenceWire()
	tx := append([]byte("MAIL FROM:<a@example.jp>\r\nRCPT TO:<b@example.jp>\r\nDATA\r\n"), wire...)
	for _, name := range []string{"smtpd", "go-smtp"} {
		b.Run(name, func(b *testing.B) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			if name == "smtpd" {
				srv := &Server{Hostname: "mx.test", Backend: discardData{}, MaxMessageBytes: 25 << 20, MaxLineLength: 4096}
				go srv.Serve(l)
				defer srv.Shutdown(b.Context())
			} else {
				srv := smtp.NewServer(smtp.BackendFunc(discardData{}.NewGoSession))
				srv.Domain, srv.MaxMessageBytes, srv.MaxLineLength = "mx.test", 25<<20, 4096
				go srv.Serve(l)
				defer srv.Close()
			}
			c, err := net.Dial("tcp", l.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			r := bufio.NewReader(c)
			c.Write([]byte("EHLO c.test\r\n"))
			for l := ""; !strings.HasPrefix(l, "250 "); {
				if l, err = r.ReadString('\n'); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(len(wire)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Write(tx); err != nil {
					b.Fatal(err)
				}
				for range 4 { // MAIL, RCPT, 354, the reply to the data
					l, err := r.ReadString('\n')
					if err != nil || l[0] != '2' && l[0] != '3' {
						b.Fatalf("%q %v", l, err)
					}
				}
			}
		})
	}
}
