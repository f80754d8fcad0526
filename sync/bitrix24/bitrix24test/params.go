package bitrix24test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// obj is a decoded JSON object or PHP array that keeps its key order: legacy
// task.* methods read their arguments by position (spec §2.1).
type obj struct {
	keys []string
	m    map[string]any
}

func newObj() *obj { return &obj{m: map[string]any{}} }

func (o *obj) set(k string, v any) {
	if _, ok := o.m[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.m[k] = v
}

// get looks a key up case-insensitively (PHP methods accept FILTER and filter).
func (o *obj) get(k string) (any, bool) {
	if o == nil {
		return nil, false
	}
	if v, ok := o.m[k]; ok {
		return v, true
	}
	for _, kk := range o.keys {
		if strings.EqualFold(kk, k) {
			return o.m[kk], true
		}
	}
	return nil, false
}

// values returns the values in key order.
func (o *obj) values() []any {
	out := make([]any, 0, len(o.keys))
	for _, k := range o.keys {
		out = append(out, o.m[k])
	}
	return out
}

// decodeOrdered decodes JSON keeping object key order; numbers stay json.Number.
func decodeOrdered(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeValue(dec)
	if err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data")
	}
	return v, nil
}

func decodeValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := newObj()
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				o.set(k, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return o, nil
		case '[':
			var list []any
			for dec.More() {
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				list = append(list, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			if list == nil {
				list = []any{}
			}
			return list, nil
		}
		return nil, fmt.Errorf("unexpected %v", t)
	default:
		return tok, nil
	}
}

// parsePHPQuery parses a query string with PHP keys (filter[ID][]=1) in order.
func parsePHPQuery(raw string) (*obj, error) {
	root := newObj()
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return nil, err
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			return nil, err
		}
		path := splitPHPKey(key)
		cur := root
		for i, seg := range path {
			last := i == len(path)-1
			if seg == "" {
				seg = strconv.Itoa(len(cur.keys))
			}
			if last {
				cur.set(seg, val)
				break
			}
			next, ok := cur.m[seg].(*obj)
			if !ok {
				next = newObj()
				cur.set(seg, next)
			}
			cur = next
		}
	}
	return root, nil
}

func splitPHPKey(key string) []string {
	i := strings.IndexByte(key, '[')
	if i < 0 || !strings.HasSuffix(key, "]") {
		return []string{key}
	}
	out := []string{key[:i]}
	rest := key[i:]
	for len(rest) > 0 && rest[0] == '[' {
		j := strings.IndexByte(rest, ']')
		if j < 0 {
			break
		}
		out = append(out, rest[1:j])
		rest = rest[j+1:]
	}
	return out
}

// toInt reads an integer from a JSON number, a digit string or a float.
func toInt(v any) (int, bool) {
	switch t := v.(type) {
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return int(i), true
		}
		if f, err := t.Float64(); err == nil {
			return int(f), true
		}
	case string:
		if i, err := strconv.Atoi(strings.TrimSpace(t)); err == nil {
			return i, true
		}
	case int:
		return t, true
	case float64:
		return int(t), true
	case bool:
		if t {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

func toStr(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case json.Number:
		return t.String()
	case bool:
		if t {
			return "Y"
		}
		return "N"
	}
	return fmt.Sprint(v)
}

// toList turns an array, a PHP array object or a scalar into a list.
func toList(v any) []any {
	switch t := v.(type) {
	case nil:
		return nil
	case []any:
		return t
	case *obj:
		return t.values()
	}
	return []any{v}
}

func toObj(v any) *obj {
	switch t := v.(type) {
	case *obj:
		return t
	case []any:
		if len(t) == 0 {
			return newObj()
		}
		o := newObj()
		for i, x := range t {
			o.set(strconv.Itoa(i), x)
		}
		return o
	}
	return nil
}

// merge copies src's keys into dst (later wins).
func merge(dst, src *obj) {
	if src == nil {
		return
	}
	for _, k := range src.keys {
		dst.set(k, src.m[k])
	}
}
