package bitrix24

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/timebridge/timebridge/sync/connector"
)

// batchCmd is one command of a batch: "method?query" with PHP keys.
type batchCmd struct {
	Key string
	Cmd string
}

// batchResult is one command's outcome.
type batchResult struct {
	Result json.RawMessage
	Total  int
	Err    error // per-command error, classified like a call's
}

// BatchError collects per-command failures; errors.Is matches any of them.
type BatchError struct {
	Errs map[string]error // command key → error
}

func (e *BatchError) Error() string {
	keys := make([]string, 0, len(e.Errs))
	for k := range e.Errs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+": "+e.Errs[k].Error())
	}
	return fmt.Sprintf("bitrix24: %d failed: %s", len(keys), strings.Join(parts, "; "))
}

// Unwrap returns the per-command errors.
func (e *BatchError) Unwrap() []error {
	out := make([]error, 0, len(e.Errs))
	for _, err := range e.Errs {
		out = append(out, err)
	}
	return out
}

type batchReply struct {
	Result FlexMap[json.RawMessage] `json:"result"`
	Errors FlexMap[struct {
		Error FlexString `json:"error"`
		Desc  string     `json:"error_description"`
	}] `json:"result_error"`
	Total FlexMap[FlexInt] `json:"result_total"`
}

// batch runs commands in chunks of 50, one request (one rate-limit token) per
// chunk, halt=0. A batch with writes is never retried as a whole (write=true):
// its commands commit one by one (spec §2.5).
func (c *Client) batch(ctx context.Context, cmds []batchCmd, write bool) (map[string]batchResult, error) {
	out := make(map[string]batchResult, len(cmds))
	for chunk := range slices.Chunk(cmds, pageSize) {
		m := make(map[string]string, len(chunk))
		for _, cmd := range chunk {
			m[cmd.Key] = cmd.Cmd
		}
		env, err := c.call(ctx, "batch", map[string]any{"halt": 0, "cmd": m}, callOpts{write: write})
		if err != nil {
			return nil, err
		}
		var r batchReply
		if err := decode("batch", env.Result, &r); err != nil {
			return nil, err
		}
		for _, cmd := range chunk {
			method, _, _ := strings.Cut(cmd.Cmd, "?")
			if e, ok := r.Errors[cmd.Key]; ok {
				out[cmd.Key] = batchResult{Err: apiError(method, 0, string(e.Error), e.Desc)}
				continue
			}
			res, ok := r.Result[cmd.Key]
			if !ok {
				out[cmd.Key] = batchResult{Err: &connector.APIError{Service: service, Op: method, Message: "command missing from the batch reply", Kind: connector.ErrTransient}}
				continue
			}
			out[cmd.Key] = batchResult{Result: res, Total: int(r.Total[cmd.Key])}
		}
	}
	return out, nil
}
