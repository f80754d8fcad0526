package bitrix24

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/timebridge/timebridge/sync/connector"
)

// Legacy task.elapseditem.* methods read their arguments BY POSITION (spec
// §2.1, §3.8): bodies are structs whose field order is the argument order
// (encoding/json keeps struct order, sorts map keys), with auth appended last
// and nothing in the query string.

type wireElapsed struct {
	ID          FlexString `json:"ID"`
	TaskID      FlexString `json:"TASK_ID"`
	UserID      FlexString `json:"USER_ID"`
	Seconds     FlexInt    `json:"SECONDS"`
	Comment     string     `json:"COMMENT_TEXT"`
	CreatedDate string     `json:"CREATED_DATE"`
}

func (w wireElapsed) elapsed() connector.Elapsed {
	created, _ := parseTime(w.CreatedDate)
	return connector.Elapsed{ID: string(w.ID), TaskID: string(w.TaskID), UserID: string(w.UserID),
		Seconds: int64(w.Seconds), Comment: w.Comment, Created: created}
}

// elapsedCmd is the positional getlist for one task:
// [TASKID, ORDER, FILTER, SELECT, PARAMS{NAV_PARAMS}], paged with the >ID cursor
// on page 1 (start is ignored by this method).
func elapsedCmd(taskID string, afterID int64) string {
	q := &phpQuery{}
	q.add("0", taskID).add("1[ID]", "asc").add("2[>ID]", strconv.FormatInt(afterID, 10)).add("3[]", "*").
		add("4[NAV_PARAMS][nPageSize]", strconv.Itoa(pageSize)).add("4[NAV_PARAMS][iNumPage]", "1")
	return "task.elapseditem.getlist?" + q.String()
}

// Elapsed lists every record of the given tasks (all users), batched across
// tasks; a task with a full page is read again after its last id. Tasks that
// fail (deleted: ErrNotFound) are left out and reported in a *BatchError
// keyed by task id, alongside the records of the others.
func (c *Client) Elapsed(ctx context.Context, taskIDs []string) ([]connector.Elapsed, error) {
	after := map[string]int64{}
	pending := []string{}
	for _, id := range uniq(taskIDs) {
		if _, err := idNum(id); err != nil {
			return nil, err
		}
		pending = append(pending, id)
	}
	var out []connector.Elapsed
	failed := map[string]error{}
	for len(pending) > 0 {
		cmds := make([]batchCmd, 0, len(pending))
		for _, id := range pending {
			cmds = append(cmds, batchCmd{Key: "e" + id, Cmd: elapsedCmd(id, after[id])})
		}
		res, err := c.batch(ctx, cmds, false)
		if err != nil {
			return nil, err
		}
		var next []string
		for _, id := range pending {
			r := res["e"+id]
			if r.Err != nil {
				failed[id] = r.Err
				continue
			}
			var rows []wireElapsed
			if err := decode("task.elapseditem.getlist", r.Result, &rows); err != nil {
				return nil, err
			}
			for _, w := range rows {
				e := w.elapsed()
				if e.TaskID == "" {
					e.TaskID = id
				}
				out = append(out, e)
				if n, err := idNum(e.ID); err == nil && n > after[id] {
					after[id] = n
				}
			}
			if len(rows) >= pageSize {
				next = append(next, id)
			}
		}
		pending = next
	}
	if len(failed) > 0 {
		return out, &BatchError{Errs: failed}
	}
	return out, nil
}

// ElapsedOfUser lists the user's records on one task with CREATED_DATE in
// [from, to): the reconcile read before an add and after an ambiguous one
// (spec §3.8 step 4); match the marker client-side.
func (c *Client) ElapsedOfUser(ctx context.Context, taskID, userID string, from, to time.Time) ([]connector.Elapsed, error) {
	tid, err := idNum(taskID)
	if err != nil {
		return nil, err
	}
	uid, err := idNum(userID)
	if err != nil {
		return nil, err
	}
	return c.elapsedPages(ctx, func(last int64) any {
		return struct {
			TaskID int64             `json:"TASKID"`
			Order  map[string]string `json:"ORDER"`
			Filter map[string]any    `json:"FILTER"`
			Select []string          `json:"SELECT"`
			Params map[string]any    `json:"PARAMS"`
		}{tid, map[string]string{"ID": "asc"},
			map[string]any{"USER_ID": uid, ">=CREATED_DATE": from.Format(isoLayout), "<CREATED_DATE": to.Format(isoLayout), ">ID": last},
			[]string{"*"}, navFirstPage}
	})
}

// navFirstPage asks getlist for one page of pageSize rows; paging goes by the
// >ID cursor, never by iNumPage (spec §3.8).
var navFirstPage = map[string]any{"NAV_PARAMS": map[string]int{"nPageSize": pageSize, "iNumPage": 1}}

// elapsedPages reads task.elapseditem.getlist pages ordered by ID, moving the
// >ID cursor on, until a page comes back short.
func (c *Client) elapsedPages(ctx context.Context, args func(last int64) any) ([]connector.Elapsed, error) {
	var out []connector.Elapsed
	var last int64
	for {
		env, err := c.call(ctx, "task.elapseditem.getlist", args(last), callOpts{})
		if err != nil {
			return nil, err
		}
		var rows []wireElapsed
		if err := decode("task.elapseditem.getlist", env.Result, &rows); err != nil {
			return nil, err
		}
		for _, w := range rows {
			e := w.elapsed()
			out = append(out, e)
			if n, _ := idNum(e.ID); n > last {
				last = n
			}
		}
		if len(rows) < pageSize {
			return out, nil
		}
	}
}

type elapsedFields struct {
	Seconds     int64  `json:"SECONDS"`
	Comment     string `json:"COMMENT_TEXT"`
	CreatedDate string `json:"CREATED_DATE,omitempty"`
}

// createdDate is the record's work date: e.Created, else 12:00 UTC of e.Day,
// always with a numeric offset.
func createdDate(e connector.Elapsed) string {
	switch {
	case !e.Created.IsZero():
		return e.Created.Format(isoLayout)
	case !e.Day.IsZero():
		return e.Day.Start(time.UTC).Add(12 * time.Hour).Format(isoLayout)
	}
	return ""
}

// AddElapsed creates a record for the signed-in user (no USER_ID is sent) and
// returns its id. It is never retried after an ambiguous failure (timeout,
// 5xx, HTML): the caller reconciles by the marker with ElapsedOfUser/Elapsed.
func (c *Client) AddElapsed(ctx context.Context, e connector.Elapsed) (string, error) {
	tid, err := idNum(e.TaskID)
	if err != nil {
		return "", err
	}
	if e.Seconds <= 0 {
		return "", fmt.Errorf("bitrix24: elapsed record of %d s", e.Seconds)
	}
	args := struct {
		TaskID int64         `json:"TASKID"`
		Fields elapsedFields `json:"ARFIELDS"`
	}{tid, elapsedFields{Seconds: e.Seconds, Comment: e.Comment, CreatedDate: createdDate(e)}}
	env, err := c.call(ctx, "task.elapseditem.add", args, callOpts{write: true})
	if err != nil {
		return "", err
	}
	var id FlexInt
	if err := decode("task.elapseditem.add", env.Result, &id); err != nil || id <= 0 {
		if err == nil {
			err = &connector.APIError{Service: service, Op: "task.elapseditem.add", Message: "no id in the reply", Kind: connector.ErrTransient}
		}
		return "", err
	}
	return id.String(), nil
}

// UpdateElapsed sets SECONDS and COMMENT_TEXT of a record (idempotent, retried).
func (c *Client) UpdateElapsed(ctx context.Context, e connector.Elapsed) error {
	tid, err := idNum(e.TaskID)
	if err != nil {
		return err
	}
	iid, err := idNum(e.ID)
	if err != nil {
		return err
	}
	args := struct {
		TaskID int64         `json:"TASKID"`
		ItemID int64         `json:"ITEMID"`
		Fields elapsedFields `json:"ARFIELDS"`
	}{tid, iid, elapsedFields{Seconds: e.Seconds, Comment: e.Comment}}
	_, err = c.call(ctx, "task.elapseditem.update", args, callOpts{})
	return err
}

// DeleteElapsed removes a record. A record already gone (ITEM_NOT_FOUND, e.g.
// after a retried delete that had committed) counts as deleted.
func (c *Client) DeleteElapsed(ctx context.Context, taskID, elapsedID string) error {
	tid, err := idNum(taskID)
	if err != nil {
		return err
	}
	iid, err := idNum(elapsedID)
	if err != nil {
		return err
	}
	args := struct {
		TaskID int64 `json:"TASKID"`
		ItemID int64 `json:"ITEMID"`
	}{tid, iid}
	_, err = c.call(ctx, "task.elapseditem.delete", args, callOpts{})
	var ae *connector.APIError
	if errors.As(err, &ae) && strings.Contains(ae.Message, "ITEM_NOT_FOUND") {
		return nil
	}
	return err
}

// UserElapsed lists the user's records on all tasks with CREATED_DATE at or
// after since (the all-tasks getlist form [ORDER, FILTER, SELECT, PARAMS],
// paged with NAV_PARAMS): time typed into Bitrix24 (design §2 row 7). Skip our
// own records with connector.ParseElapsedMarker.
func (c *Client) UserElapsed(ctx context.Context, userID string, since time.Time) ([]connector.Elapsed, error) {
	uid, err := idNum(userID)
	if err != nil {
		return nil, err
	}
	return c.elapsedPages(ctx, func(last int64) any {
		filter := map[string]any{"USER_ID": uid, ">ID": last}
		if !since.IsZero() {
			filter[">=CREATED_DATE"] = since.Format(isoLayout)
		}
		return struct {
			Order  map[string]string `json:"ORDER"`
			Filter map[string]any    `json:"FILTER"`
			Select []string          `json:"SELECT"`
			Params map[string]any    `json:"PARAMS"`
		}{map[string]string{"ID": "asc"}, filter, []string{"*"}, navFirstPage}
	})
}
