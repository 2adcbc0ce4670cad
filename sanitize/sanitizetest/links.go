package sanitizetest

import "strings"

// LiveLink reports text a mail client would still link: any scheme
// followed by // (ASCII or full-width, slashes or backslashes) other than
// the ones defanging writes (hxxp, hxxps, fxp), a program-starting scheme,
// a UNC path, www. and ftp. names. It returns the text from the link on,
// or "" when there is none. It is written apart from the link scanner of
// package sanitize/text, by brute force over every position and with its
// own list of schemes, so that the two check each other.
func LiveLink(s string) string {
	folded := strings.ToLower(foldWidth(s))
	for i := 0; i < len(folded); i++ {
		rest := folded[i:]
		if strings.HasPrefix(rest, `\\`) && len(rest) > 2 && rest[2] > ' ' && !strings.ContainsRune("\\/<>\"'", rune(rest[2])) {
			return rest
		}
		if (strings.HasPrefix(rest, "www.") || strings.HasPrefix(rest, "ftp.")) && len(rest) > 4 && rest[4] > ' ' && !strings.ContainsRune("/\\?#<>\"'", rune(rest[4])) {
			return rest
		}
		if strings.HasPrefix(rest, "://") || strings.HasPrefix(rest, `:\\`) || strings.HasPrefix(rest, `:/\`) || strings.HasPrefix(rest, `:\/`) {
			j := i
			for j > 0 && strings.ContainsRune("abcdefghijklmnopqrstuvwxyz0123456789+-.", rune(folded[j-1])) {
				j--
			}
			if scheme := strings.TrimLeft(folded[j:i], "0123456789+-."); scheme != "" && !inertSchemes[scheme] {
				return folded[j:]
			}
		}
		if rest[0] == ':' && len(rest) > 1 && rest[1] > ' ' && !strings.ContainsRune("<>\"'", rune(rest[1])) {
			j := i
			for j > 0 && strings.ContainsRune("abcdefghijklmnopqrstuvwxyz0123456789+-", rune(folded[j-1])) {
				j--
			}
			scheme := folded[j:i]
			if j > 0 && strings.ContainsRune("abcdefghijklmnopqrstuvwxyz", rune(folded[j-1])) {
				continue
			}
			if (HandlerSchemes[scheme] || strings.HasPrefix(scheme, "ms-")) && !(scheme == "http" || scheme == "https" || scheme == "ftp") {
				return folded[j:]
			}
		}
	}
	return ""
}

// HandlerSchemes are the schemes a mail client links without "//": those
// that start a program or reach a file (and every ms-* one). The link
// scanner of sanitize/text keeps its own list; its tests check that the
// two lists are the same.
var HandlerSchemes = map[string]bool{
	"http": true, "https": true, "ftp": true, "ftps": true, "sftp": true, "file": true,
	"search-ms": true, "search": true, "shell": true, "javascript": true, "vbscript": true,
	"livescript": true, "jscript": true, "data": true, "blob": true, "jar": true, "mhtml": true,
	"mk": true, "its": true, "res": true, "hcp": true, "help": true, "smb": true, "cifs": true,
	"nfs": true, "afp": true, "telnet": true, "ssh": true, "rlogin": true, "rdp": true, "vnc": true,
	"ldap": true, "ldaps": true, "webcal": true, "webcals": true, "outlook": true, "onenote": true,
	"notes": true, "news": true, "nntp": true, "snews": true, "irc": true, "ircs": true,
	"gopher": true, "wais": true, "prospero": true, "callto": true, "skype": true, "msteams": true,
	"zoommtg": true, "microsoft-edge": true, "jnlp": true, "steam": true, "itms": true,
	"itms-services": true, "view-source": true, "intent": true, "vscode": true, "calculator": true,
	"wsl": true, "wt": true, "x-help-action": true, "mso-minsb": true, "windows": true,
}

// inertSchemes are what defanging writes: no client knows them.
var inertSchemes = map[string]bool{"hxxp": true, "hxxps": true, "fxp": true}

// foldWidth writes full-width ASCII forms as ASCII.
func foldWidth(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 0xff01 && r <= 0xff5e {
			return r - 0xff01 + '!'
		}
		return r
	}, s)
}
