package guard

import (
	"context"
	"fmt"
	"log/slog"
)

// LogHandler masks personal data in every record it passes on: the
// message, string attributes, errors and anything printed with %v, inside
// groups too. Wrap the process's handler with it once, at start-up, and no
// log line carries a phone number, whoever writes it.
func LogHandler(h slog.Handler) slog.Handler {
	if m, ok := h.(maskingHandler); ok {
		return m // masked already
	}
	return maskingHandler{h}
}

type maskingHandler struct{ next slog.Handler }

func (h maskingHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h maskingHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, MaskString(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(maskAttr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h maskingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	masked := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		masked[i] = maskAttr(a)
	}
	return maskingHandler{h.next.WithAttrs(masked)}
}

func (h maskingHandler) WithGroup(name string) slog.Handler {
	return maskingHandler{h.next.WithGroup(name)}
}

func maskAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, MaskString(v.String()))
	case slog.KindGroup:
		g := v.Group()
		masked := make([]slog.Attr, len(g))
		for i, ga := range g {
			masked[i] = maskAttr(ga)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(masked...)}
	case slog.KindAny:
		// An error or a Stringer goes through fmt, which calls its method
		// and turns a nil receiver's panic into "<nil>", as slog's own
		// handlers do: called here directly, a typed nil (*url.URL)(nil)
		// crashed the goroutine that logged it.
		switch x := v.Any().(type) {
		case []byte:
			return slog.String(a.Key, MaskString(string(x)))
		default:
			return slog.String(a.Key, MaskString(fmt.Sprint(x)))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
