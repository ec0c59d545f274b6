package httpkit

import (
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
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

// UnmarshalJSON reads a decimal string > 0. Anything else is an
// *json.UnmarshalTypeError, which the decoder completes with the field.
func (id *ID) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return &json.UnmarshalTypeError{Value: jsonValueKind(b), Type: idType}
	}
	v, err := ParseID(s)
	if err != nil {
		return &json.UnmarshalTypeError{Value: "string " + strconv.Quote(s), Type: idType}
	}
	*id = ID(v)
	return nil
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
