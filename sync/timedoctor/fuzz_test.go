package timedoctor

import (
	"encoding/json"
	"net/http"
	"testing"
)

// FuzzDecode feeds arbitrary replies through the classifier and the wire
// structs: whatever TD sends, the client returns an error or data, never panics.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{"data": [[{"start": "2025-01-01T11:22:33.000Z", "time": 43200, "userId": "001", "taskId": "666"}]]}`,
		`{"data": [{"id": "x", "name": "T [B24-1]", "project": {"id": "p"}, "deleted": null, "status": ""}], "paging": {"next": 25}}`,
		`{"error": "mergeRange: range too wide"}`, `{"data": {"status": "totpNeeded"}}`, `{"data": [oops`, `<html>`, ``,
		`{"data": [{"time": "12", "start": 5}]}`, `{"error": {"code": 1}, "message": 7}`, `{"data": [[null]], "paging": null}`,
	} {
		f.Add(seed)
	}
	c, err := New(Config{Token: "t", Company: "c"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body string) {
		resp := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}}}
		env, _, err := c.classify(request{method: "GET", path: "/api/1.0/x", retry: true}, resp, []byte(body))
		if err != nil {
			if env != nil {
				t.Fatal("error with data")
			}
			return
		}
		var rows [][]wireRow
		_ = json.Unmarshal(env.Data, &rows)
		var tasks []wireTask
		_ = json.Unmarshal(env.Data, &tasks)
		for _, tk := range tasks {
			_ = trackerTask(tk)
		}
		var l wireLogin
		_ = json.Unmarshal(env.Data, &l)
	})
}
