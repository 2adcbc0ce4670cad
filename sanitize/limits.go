package sanitize

// Limits bound the work one message can cause. Anything beyond a limit is
// removed with a decision that says which limit.
type Limits struct {
	MaxDepth       int   // multipart/message nesting
	MaxParts       int   // MIME entities in one message
	MaxHeaderBytes int   // one header block
	MaxPartBytes   int64 // decoded bytes of one part
	// MaxBodyText bounds the text rendered from one body part (HTML
	// nesting and the like can multiply it); what is cut is said in the
	// notice.
	MaxBodyText int
}

// DefaultLimits are the limits used when a field is zero.
var DefaultLimits = Limits{MaxDepth: 32, MaxParts: 1000, MaxHeaderBytes: 256 << 10, MaxPartBytes: 64 << 20, MaxBodyText: 8 << 20}

func (l Limits) withDefaults() Limits {
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultLimits.MaxDepth
	}
	if l.MaxParts <= 0 {
		l.MaxParts = DefaultLimits.MaxParts
	}
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = DefaultLimits.MaxHeaderBytes
	}
	if l.MaxPartBytes <= 0 {
		l.MaxPartBytes = DefaultLimits.MaxPartBytes
	}
	if l.MaxBodyText <= 0 {
		l.MaxBodyText = DefaultLimits.MaxBodyText
	}
	return l
}
