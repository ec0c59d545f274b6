package httpkit

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// ID is an id in JSON: a decimal string, since snowflake ids exceed the
// integers JavaScript holds exactly. Use it (or `json:",string"` on an
// int64 in answers) for every id field.
type ID int64

var idType = reflect.TypeFor[ID]()

// MarshalJSON writes the id as a decimal string.
func (id ID) MarshalJSON() ([]byte, error) {
	return []byte(`"` + strconv.FormatInt(int64(id), 10) + `"`), nil
}

// UnmarshalJSON reads a decimal string > 0. Anything else is not an error
// here but a mark in the value (a negative ID naming what the JSON held),
// which DecodeJSON finds with the field's path: the decoder of Go 1.26
// adds the field to a method's *json.UnmarshalTypeError, that of Go 1.27
// does not, so the path is found by DecodeJSON itself, the same with both.
// An ID decoded by anything but DecodeJSON must be checked with Valid.
func (id *ID) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		*id = badID(jsonValueKind(b))
		return nil
	}
	v, err := ParseID(s)
	if err != nil {
		*id = badID("string")
		return nil
	}
	*id = ID(v)
	return nil
}

// Valid reports whether id was a decimal id > 0 in the JSON (or is unset).
func (id ID) Valid() bool { return id >= 0 }

// idKinds are what the JSON held where an id was wanted, by mark: ID(-1-i)
// is idKinds[i].
var idKinds = [...]string{"number", "string", "object", "array", "bool", "null", "nothing"}

func badID(kind string) ID {
	for i, k := range idKinds {
		if k == kind {
			return ID(-1 - i)
		}
	}
	return ID(-1)
}

// held is what the JSON held where the marked id is.
func (id ID) held() string {
	if i := int(-1 - id); i >= 0 && i < len(idKinds) {
		return idKinds[i]
	}
	return "something else"
}

// findBadID walks v (what DecodeJSON decoded into) for an ID marked
// invalid and answers its JSON path as the decoder names fields: object
// keys joined with dots, no array indices.
func findBadID(v reflect.Value, path string) (string, ID, bool) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return findBadID(v.Elem(), path)
		}
	case reflect.Int64:
		if v.Type() == idType && v.Int() < 0 {
			return path, ID(v.Int()), true
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if p, id, ok := findBadID(v.Index(i), path); ok {
				return p, id, true
			}
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			if p, id, ok := findBadID(it.Value(), joinPath(path, fmt.Sprint(it.Key().Interface()))); ok {
				return p, id, true
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() && !f.Anonymous {
				continue
			}
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, _, _ := strings.Cut(tag, ",")
			p := path
			if name != "" || !f.Anonymous {
				p = joinPath(path, cmp.Or(name, f.Name))
			}
			if p, id, ok := findBadID(v.Field(i), p); ok {
				return p, id, true
			}
		}
	}
	return "", 0, false
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// ParseID reads a decimal id > 0.
func ParseID(s string) (int64, error) {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v <= 0 {
		return 0, errors.New("not a decimal id > 0")
	}
	return v, nil
}

func jsonValueKind(b []byte) string {
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	}
	return "number"
}
