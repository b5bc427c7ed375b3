package rest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/models"
)

const jsonContentType = "application/json; charset=utf-8"

// Fields returns the names of ?field= (repeated keys: ?field=uuid&field=name),
// nil when the request asks for all fields.
func Fields(c *gin.Context) []string { return Values(c, "field") }

// Render writes obj as the JSON response with the given status, limited to
// the keys named by ?field= when present (unknown names are ignored, so
// naming only unknown fields gives {}). A HEAD request gets no body.
// It returns an internal *models.Error when obj cannot be marshalled,
// before anything is written.
func Render(c *gin.Context, status int, obj any) error {
	return writeJSON(c, status, obj, Fields(c), false)
}

// writeJSON writes obj (see marshalJSON) with status, or only the status
// and content type for HEAD.
func writeJSON(c *gin.Context, status int, obj any, fields []string, list bool) error {
	if c.Request.Method == http.MethodHead {
		c.Header("Content-Type", jsonContentType)
		c.Status(status)
		return nil
	}
	b, err := marshalJSON(obj, fields, list)
	if err != nil {
		return err
	}
	c.Data(status, jsonContentType, b)
	return nil
}

// marshalJSON marshals obj (an object, or a slice of objects when list is
// set) and, when fields is not empty, keeps only those top-level keys of
// each object.
func marshalJSON(obj any, fields []string, list bool) ([]byte, error) {
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, models.Internal(fmt.Errorf("render: %w", err))
	}
	if len(fields) == 0 {
		return b, nil
	}
	keep := make(map[string]bool, len(fields))
	for _, f := range fields {
		keep[f] = true
	}
	if list {
		b, err = filterArray(b, keep)
	} else {
		b, err = filterObject(b, keep)
	}
	if err != nil {
		return nil, models.Internal(fmt.Errorf("render fields: %w", err))
	}
	return b, nil
}

// filterArray applies filterObject to every element of a JSON array;
// anything else is returned unchanged.
func filterArray(b []byte, keep map[string]bool) ([]byte, error) {
	if t := bytes.TrimSpace(b); len(t) == 0 || t[0] != '[' {
		return b, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(b, &items); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	out.Grow(len(b))
	out.WriteByte('[')
	for i, item := range items {
		if i > 0 {
			out.WriteByte(',')
		}
		f, err := filterObject(item, keep)
		if err != nil {
			return nil, err
		}
		out.Write(f)
	}
	out.WriteByte(']')
	return out.Bytes(), nil
}

// filterObject keeps the listed keys of a JSON object, in their original
// order; a value that is not an object is returned unchanged.
func filterObject(b []byte, keep map[string]bool) ([]byte, error) {
	if t := bytes.TrimSpace(b); len(t) == 0 || t[0] != '{' {
		return b, nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil { // {
		return nil, err
	}
	var out bytes.Buffer
	out.WriteByte('{')
	n := 0
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("unexpected JSON token %v", tok)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		if !keep[key] {
			continue
		}
		if n > 0 {
			out.WriteByte(',')
		}
		n++
		k, err := json.Marshal(key)
		if err != nil {
			return nil, err
		}
		out.Write(k)
		out.WriteByte(':')
		out.Write(v)
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, fmt.Errorf("unterminated JSON object: %v", err)
	}
	out.WriteByte('}')
	return out.Bytes(), nil
}
