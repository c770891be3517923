package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"unicode/utf8"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// harden is a receiving middleware that keeps a hostile or sloppy call
// from taking the server down:
//
//   - a tools/call whose arguments are missing or JSON null gets {}: the
//     SDK v1.8.0 panics applying schema defaults to a null object (a nil
//     map), which would end the process;
//   - arguments in the framework server's shape, {"params": {...}} (FastMCP
//     with one pydantic model argument named params), are unwrapped, so a
//     client written against that server gets the same answers here
//     instead of silent defaults;
//   - a tool error's text is cut to maxErrorText bytes: the SDK's schema
//     check quotes the offending value whole, and a hostile 4 MB argument
//     must not come back into the model's context;
//   - a panic anywhere in handling a request becomes an internal error for
//     that request, logged with its stack, and the session goes on.
func (s *Server) harden(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (res mcp.Result, err error) {
		defer func() {
			if p := recover(); p != nil {
				s.log.Error().Str("method", method).Interface("panic", p).Str("stack", string(debug.Stack())).Msg("request handler panicked")
				res, err = nil, fmt.Errorf("internal error handling %s", method)
			}
		}()
		if r, ok := req.(*mcp.CallToolRequest); ok && r.Params != nil {
			if a := bytes.TrimSpace(r.Params.Arguments); len(a) == 0 || bytes.Equal(a, []byte("null")) {
				r.Params.Arguments = []byte("{}")
			} else if inner, ok := frameworkParams(a); ok {
				r.Params.Arguments = inner
			}
		}
		res, err = next(ctx, method, req)
		if r, ok := res.(*mcp.CallToolResult); ok && r.IsError {
			for _, c := range r.Content {
				if tc, ok := c.(*mcp.TextContent); ok && len(tc.Text) > maxErrorText {
					tc.Text = clipBytes(tc.Text, maxErrorText) + "… (cut)"
				}
			}
		}
		return res, err
	}
}

// clipBytes cuts s to at most n bytes, on a rune boundary.
func clipBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// frameworkParams returns the object inside arguments of the form
// {"params": {...}} and nothing else.
func frameworkParams(args []byte) (json.RawMessage, bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(args, &m) != nil || len(m) != 1 {
		return nil, false
	}
	inner := bytes.TrimSpace(m["params"])
	if len(inner) == 0 || inner[0] != '{' {
		return nil, false
	}
	return inner, true
}

// maxErrorText bounds a tool error's text, in bytes.
const maxErrorText = 1000
