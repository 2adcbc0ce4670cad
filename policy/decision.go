package policy

// Decision records what happened to one MIME leaf part of one message, and
// why. One is written to the audit log per leaf part, body parts included.
type Decision struct {
	MsgID        string `json:"id"`
	Path         string `json:"part"` // "1", "1.2", …; "0" for the message itself
	DeclaredType string `json:"declared_type"`
	DetectedType string `json:"detected_type"`
	Filename     string `json:"filename"`
	Size         int64  `json:"size"` // decoded bytes
	SHA256       string `json:"sha256"`
	Action       Action `json:"action"`
	RuleID       string `json:"rule"`
	Clause       string `json:"clause"`
	Reason       Reason `json:"reason"`
	// Delivered is the name the rebuilt file was delivered under: mugai's,
	// from what it verified the file to be, never the sender's as such.
	Delivered string `json:"delivered,omitempty"`
	// Detail is for humans (the explain table, debug log); it never carries
	// internal error text into mail.
	Detail string `json:"detail,omitempty"`
}
