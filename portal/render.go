package portal

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
)

//go:embed templates/*.html
var templateFS embed.FS

// pages holds each page's template: the layout with that page's content.
type pages map[string]*template.Template

var pageNames = []string{"error", "message", "login", "requests", "trace", "admin_message"}

func parsePages() (pages, error) {
	p := pages{}
	for _, name := range pageNames {
		t, err := template.New(name).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("portal: template %s: %w", name, err)
		}
		p[name] = t
	}
	return p, nil
}

// page is what every page's layout shows.
type page struct {
	TitleJA, TitleEN string
	User             string // the approver signed in (admin pages)
	CSRF             string // the admin forms' token (logout, decisions)
	Logout           bool   // signed in by a session: show the logout button
	Note             *note  // the result of the last action
}

// note is a result shown at the top of a page or beside a part.
type note struct {
	Kind   string // ok, warn, err (a CSS class)
	JA, EN string
}

// problem is an error page's text.
type problem struct {
	page
	TextJA, TextEN string
	Back           string // a local path to go back to, or ""
}

// Error pages. They say what happened and never echo request input.
var (
	errNotFoundPage = problem{page: page{TitleJA: "ページが見つかりません", TitleEN: "Page not found"},
		TextJA: "このアドレスのページはありません。リンクの有効期限が切れているか、リンクが正しくありません。",
		TextEN: "There is no page at this address. The link may have expired or may be incomplete."}
	errInternal = problem{page: page{TitleJA: "エラー", TitleEN: "Error"},
		TextJA: "処理中にエラーが発生しました。しばらくしてからもう一度お試しください。",
		TextEN: "Something went wrong. Please try again later."}
	errTooMany = problem{page: page{TitleJA: "アクセスが多すぎます", TitleEN: "Too many requests"},
		TextJA: "短い時間にアクセスが集中しました。1 分ほど待ってからもう一度お試しください。",
		TextEN: "Too many requests in a short time. Please wait a minute and try again."}
	errBadForm = problem{page: page{TitleJA: "フォームが正しくありません", TitleEN: "Bad form"},
		TextJA: "送信された内容を読み取れませんでした。ページを開き直してもう一度送信してください。何も変更していません。",
		TextEN: "The form could not be read. Reload the page and send it again. Nothing was changed."}
	errTooLarge = problem{page: page{TitleJA: "送信内容が大きすぎます", TitleEN: "Form too large"},
		TextJA: "送信された内容が大きすぎます。理由やコメントを短くしてください。何も変更していません。",
		TextEN: "The form was too large. Shorten the reason or comment. Nothing was changed."}
	errCSRF = problem{page: page{TitleJA: "フォームの有効期限切れ", TitleEN: "Form expired"},
		TextJA: "このフォームは無効です。ページを開き直してからもう一度送信してください。何も変更していません。",
		TextEN: "This form is no longer valid. Reload the page and send it again. Nothing was changed."}
)

// render writes page name with data and status. The page is rendered
// into a buffer first, so a template error is a clean 500.
func (s *Server) render(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := s.pages[name].ExecuteTemplate(&buf, "layout", data); err != nil {
		s.cfg.Log.Error("portal: render", "page", name, "err", err)
		if name != "error" {
			s.fail(w, http.StatusInternalServerError, errInternal)
			return
		}
		http.Error(w, "500 internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// fail writes an error page.
func (s *Server) fail(w http.ResponseWriter, status int, p problem) {
	s.render(w, status, "error", p)
}
