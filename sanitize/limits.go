package sanitize

import (
	"time"

	"mugai/sanitize/archive"
)

// Limits bound the work one message can cause. Anything beyond a limit is
// removed with a decision that says which limit. They are the one place
// the rebuild's limits are set: the gateway fills them from its config
// (limits:), the offline commands take DefaultLimits. A zero field takes
// its default.
type Limits struct {
	MaxDepth       int   // multipart/message nesting
	MaxParts       int   // MIME entities in one message
	MaxHeaderBytes int   // one header block
	MaxPartBytes   int64 // decoded bytes of one part
	// MaxBodyText bounds the text rendered from one body part (HTML
	// nesting and the like can multiply it); what is cut is said in the
	// notice.
	MaxBodyText int
	// MaxExpansion bounds what one message may expand into, all parts
	// together (decompressed archive members, decoded pixels, rendered
	// pages, sanitizer output): the message's format.Budget.
	MaxExpansion int64
	// SanitizeTimeout bounds one sanitizer run; a part whose sanitizer
	// does not finish in time is removed (sanitize-failed).
	SanitizeTimeout time.Duration
	// MaxForwardDepth bounds messages inside messages: a forwarded
	// message nested deeper is removed (depth-limit).
	MaxForwardDepth int
	// MaxArchiveDepth bounds archives inside archives.
	MaxArchiveDepth int
	// MaxArchiveMembers bounds the archive members of one message, all
	// its archives together (each archive holds at most
	// archive.DefaultLimits.MaxMembers).
	MaxArchiveMembers int
	// MaxArchiveBytes bounds the decompressed bytes of one archive, all
	// its members (the expansion budget bounds all archives together).
	MaxArchiveBytes int64
}

// DefaultLimits are the limits used when a field is zero. The expansion
// budget lets ten 12-megapixel photos through, not a ZIP of twenty
// 40-megapixel ones.
var DefaultLimits = Limits{
	MaxDepth: 32, MaxParts: 1000, MaxHeaderBytes: 256 << 10, MaxPartBytes: 64 << 20, MaxBodyText: 8 << 20,
	MaxExpansion: 512 << 20, SanitizeTimeout: 60 * time.Second, MaxForwardDepth: 3,
	MaxArchiveDepth: 3, MaxArchiveMembers: 5000, MaxArchiveBytes: archive.DefaultLimits.MaxTotal,
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	setDefault(&l.MaxDepth, d.MaxDepth)
	setDefault(&l.MaxParts, d.MaxParts)
	setDefault(&l.MaxHeaderBytes, d.MaxHeaderBytes)
	setDefault(&l.MaxPartBytes, d.MaxPartBytes)
	setDefault(&l.MaxBodyText, d.MaxBodyText)
	setDefault(&l.MaxExpansion, d.MaxExpansion)
	setDefault(&l.SanitizeTimeout, d.SanitizeTimeout)
	setDefault(&l.MaxForwardDepth, d.MaxForwardDepth)
	setDefault(&l.MaxArchiveDepth, d.MaxArchiveDepth)
	setDefault(&l.MaxArchiveMembers, d.MaxArchiveMembers)
	setDefault(&l.MaxArchiveBytes, d.MaxArchiveBytes)
	return l
}

// setDefault sets a zero (or negative) limit to its default.
func setDefault[T int | int64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}
