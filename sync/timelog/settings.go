package timelog

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/timebridge/timebridge/sync/connector"
)

// Settings are the user's site rules (GET /v1/user-setting).
type Settings struct {
	CommentIsMandatory        bool
	RegistrationAllTasks      bool // no allocation needed
	TimeRegistrationTimestamp bool // start/end times demanded: timebridge parks such writes
	TimeRoundingFormat        int  // 0–5, server rounding
}

// UserSettings reads the user's site rules (sign-in and daily).
func (c *Client) UserSettings(ctx context.Context) (Settings, error) {
	r := request{method: http.MethodGet, path: "/v1/user-setting", retry: true}
	var m struct {
		TimeRoundingFormat flexInt `json:"TimeRoundingFormat"`
		Privileges         struct {
			RegistrationAllTasks bool `json:"RegistrationAllTasks"`
		} `json:"Privileges"`
		SiteSettings struct {
			CommentIsMandatory        bool `json:"CommentIsMandatory"`
			TimeRegistrationTimestamp bool `json:"TimeRegistrationTimestamp"`
		} `json:"SiteSettings"`
	}
	err := c.pacer.Call(ctx, func() (bool, error) {
		body, err := c.once(ctx, r, nil)
		if err == nil {
			err = single(r.op(), body, &m)
		}
		return err != nil && connector.Retryable(err), err
	})
	if err != nil {
		return Settings{}, err
	}
	return Settings{CommentIsMandatory: m.SiteSettings.CommentIsMandatory, RegistrationAllTasks: m.Privileges.RegistrationAllTasks,
		TimeRegistrationTimestamp: m.SiteSettings.TimeRegistrationTimestamp, TimeRoundingFormat: int(m.TimeRoundingFormat)}, nil
}

// ExternalSystemName is the external system whose keys timebridge writes when it
// exists; timebridge never creates it (spec §4.7).
const ExternalSystemName = "Bitrix24"

// writeTaskKey writes "<portal>/task/<sourceID>" as the task's external key when
// Config.Portal is set and a "Bitrix24" external system exists. Best effort: the
// store stays primary, so failures are only logged.
func (c *Client) writeTaskKey(ctx context.Context, taskID int, sourceID string) {
	if c.cfg.Portal == "" {
		return
	}
	type system struct {
		ExternalSystemID flexInt `json:"ExternalSystemID"`
		Name             string  `json:"Name"`
	}
	systems, err := listAll[system](ctx, c, "/v1/external-systems", nil)
	if err != nil {
		c.log.Warn("timelog external systems unreadable", "err", err)
		return
	}
	for _, s := range systems {
		if strings.EqualFold(strings.TrimSpace(s.Name), ExternalSystemName) {
			_, err := c.call(ctx, request{method: http.MethodPut, path: "/v1/task/" + strconv.Itoa(taskID) + "/external-keys",
				body: map[string]any{"ExternalID": c.cfg.Portal + "/task/" + sourceID, "ExternalSystemID": int(s.ExternalSystemID)}, retry: true})
			if err != nil {
				c.log.Warn("timelog task external key not written", "task", taskID, "err", err)
			}
			return
		}
	}
}
