package mcpserver

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

// maxMessage bounds one inbound JSON-RPC message (one line).
const maxMessage = 4 << 20

// The SDK's stdio transport ends the session on the first line that is not
// a JSON-RPC message. A client's one bad line must not cost the agent its
// memory for the rest of the session, so the lines pass through guard
// first: a line that is not JSON gets a parse error (-32700), JSON that is
// not a JSON-RPC message (or a batch, which MCP no longer has) gets an
// invalid-request error (-32600) with its id when it has one, an
// over-long line gets -32600 too; the session goes on. Good lines reach
// the SDK unchanged.

// lockedWriter serialises whole-message writes of the SDK and the guard.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// guard copies good lines from in to the returned reader and answers bad
// ones on out. It stops when in ends.
func guard(in io.Reader, out io.Writer) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		br := bufio.NewReaderSize(in, 64<<10)
		for {
			line, tooLong, err := readLine(br)
			if len(bytes.TrimSpace(line)) > 0 || tooLong {
				if msg := check(line, tooLong); msg != nil {
					_, _ = out.Write(msg)
				} else if _, werr := pw.Write(append(line, '\n')); werr != nil {
					pw.CloseWithError(werr)
					return
				}
			}
			if err != nil {
				if errors.Is(err, io.EOF) {
					err = nil
				}
				pw.CloseWithError(err)
				return
			}
		}
	}()
	return pr
}

// readLine reads one line without its newline; past maxMessage it discards
// the rest of the line and reports tooLong.
func readLine(br *bufio.Reader) (line []byte, tooLong bool, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			line = append(line, chunk...)
			if len(line) > maxMessage {
				tooLong, line = true, nil
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return bytes.TrimRight(line, "\r\n"), tooLong, err
	}
}

// check returns the error response for a bad line, or nil for a good one.
func check(line []byte, tooLong bool) []byte {
	if tooLong {
		return errorResponse(nil, jsonrpc.CodeInvalidRequest, fmt.Sprintf("message longer than %d bytes", maxMessage))
	}
	if !json.Valid(line) {
		return errorResponse(nil, jsonrpc.CodeParseError, "parse error: not JSON")
	}
	trimmed := bytes.TrimSpace(line)
	if trimmed[0] != '{' {
		return errorResponse(nil, jsonrpc.CodeInvalidRequest, "invalid request: want one JSON-RPC object (batches are not supported)")
	}
	var probe struct {
		ID                    json.RawMessage `json:"id"`
		Method, Result, Error json.RawMessage
	}
	_ = json.Unmarshal(trimmed, &probe)
	if _, err := jsonrpc.DecodeMessage(trimmed); err != nil {
		return errorResponse(probe.ID, jsonrpc.CodeInvalidRequest, "invalid request: "+err.Error())
	}
	// The SDK answers an id of 1.5 as 1, and gives no answer at all to an
	// object that is neither a request nor a response.
	if len(probe.ID) > 0 && probe.ID[0] != '"' && bytes.ContainsAny(probe.ID, ".eE") {
		return errorResponse(nil, jsonrpc.CodeInvalidRequest, "invalid request: an id is a string or an integer")
	}
	if probe.Method == nil && probe.Result == nil && probe.Error == nil {
		return errorResponse(probe.ID, jsonrpc.CodeInvalidRequest, "invalid request: neither a request (method) nor a response (result, error)")
	}
	return nil
}

func errorResponse(id json.RawMessage, code int, msg string) []byte {
	// Echo the id only when it is a valid JSON-RPC id (string or number).
	idv := json.RawMessage("null")
	if len(id) > 0 && (id[0] == '"' || id[0] == '-' || (id[0] >= '0' && id[0] <= '9')) {
		idv = id
	}
	b, _ := json.Marshal(struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Error   struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}{JSONRPC: "2.0", ID: idv, Error: struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}{code, msg}})
	return append(b, '\n')
}
