package mcpserver

import (
	"bytes"
	"context"
	"fmt"
	"runtime/debug"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// harden is a receiving middleware that keeps a hostile or sloppy call
// from taking the server down:
//
//   - a tools/call whose arguments are missing or JSON null gets {}: the
//     SDK v1.8.0 panics applying schema defaults to a null object (a nil
//     map), which would end the process;
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
			}
		}
		return next(ctx, method, req)
	}
}
