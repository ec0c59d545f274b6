package main

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// The load generator shares the machine with the servers it measures, and
// with encoding/json its clients spent 60 % of their CPU decoding frames
// (group workload: 99,000 frames a second; docs/benchmarks.md). The flat
// frames that make up the load (message, sent, pong, error) are read here
// by a small strict scanner; anything it does not handle exactly like
// encoding/json (history pages, escaped strings, keys that match a field
// only case-insensitively, null, deep nesting) goes to encoding/json, so
// the result is always what json.Unmarshal gives (FuzzDecodeFrame).

// decodeFrame fills f from b as json.Unmarshal(b, f) on a zero f would.
func decodeFrame(b []byte, f *inFrame) error {
	if fastFrame(b, f) {
		return nil
	}
	*f = inFrame{}
	return json.Unmarshal(b, f)
}

// decodeStamp fills s from content as json.Unmarshal(content, s) on a zero
// s would.
func decodeStamp(content []byte, s *stamp) error {
	if fastStamp(content, s) {
		return nil
	}
	*s = stamp{}
	return json.Unmarshal(content, s)
}

var frameKeys = [][]byte{
	[]byte("type"), []byte("client_msg_id"), []byte("conversation"), []byte("seq"), []byte("from"),
	[]byte("content"), []byte("messages"), []byte("has_more"), []byte("code"), []byte("message"),
}

var stampKeys = [][]byte{[]byte("text"), []byte("t")}

// foldsTo reports whether key matches one of names case-insensitively:
// encoding/json would fill that field, so the fast path gives up.
func foldsTo(key []byte, names [][]byte) bool {
	for _, n := range names {
		if bytes.EqualFold(key, n) {
			return true
		}
	}
	return false
}

func fastFrame(b []byte, f *inFrame) bool {
	var g inFrame
	s := scanner{b: b}
	ok := s.object(func(key []byte) bool {
		switch string(key) {
		case "type":
			return s.stringInto(&g.Type)
		case "client_msg_id":
			return s.stringInto(&g.ClientMsgID)
		case "conversation":
			return s.stringInto(&g.Conversation)
		case "from":
			return s.stringInto(&g.From)
		case "code":
			return s.stringInto(&g.Code)
		case "message":
			return s.stringInto(&g.Message)
		case "seq":
			return s.int64Into(&g.Seq)
		case "has_more":
			return s.boolInto(&g.HasMore)
		case "content":
			start := s.i
			if !s.skip(0) || s.b[start] == 'n' { // null leaves the field alone: json's way
				return false
			}
			g.Content = bytes.Clone(s.b[start:s.i])
			return true
		case "messages":
			return false
		}
		return !foldsTo(key, frameKeys) && s.skip(0)
	})
	if !ok || !s.end() {
		return false
	}
	*f = g
	return true
}

func fastStamp(b []byte, st *stamp) bool {
	var g stamp
	s := scanner{b: b}
	ok := s.object(func(key []byte) bool {
		switch string(key) {
		case "text":
			return s.stringInto(&g.Text)
		case "t":
			return s.int64Into(&g.T)
		}
		return !foldsTo(key, stampKeys) && s.skip(0)
	})
	if !ok || !s.end() {
		return false
	}
	*st = g
	return true
}

// scanner reads strict JSON from b at i. Its methods report false both for
// invalid JSON and for valid JSON they leave to encoding/json.
type scanner struct {
	b []byte
	i int
}

const maxDepth = 64

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// end skips trailing white space and reports whether b ends there.
func (s *scanner) end() bool {
	s.ws()
	return s.i == len(s.b)
}

func (s *scanner) peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// object reads an object, calling value for each key with the scanner at
// the key's value, which value must consume.
func (s *scanner) object(value func(key []byte) bool) bool {
	if s.peek() != '{' {
		return false
	}
	s.i++
	if s.peek() == '}' {
		s.i++
		return true
	}
	for {
		key, ok := s.rawString()
		if !ok || s.peek() != ':' {
			return false
		}
		s.i++
		s.ws()
		if !value(key) {
			return false
		}
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return true
		default:
			return false
		}
	}
}

// rawString reads a string without escapes and returns its bytes.
func (s *scanner) rawString() ([]byte, bool) {
	if s.peek() != '"' {
		return nil, false
	}
	start := s.i + 1
	for j := start; j < len(s.b); j++ {
		switch c := s.b[j]; {
		case c == '"':
			s.i = j + 1
			return s.b[start:j], true
		case c == '\\' || c < 0x20:
			return nil, false
		}
	}
	return nil, false
}

// stringInto reads a string into dst; invalid UTF-8 (which json replaces)
// is left to encoding/json.
func (s *scanner) stringInto(dst *string) bool {
	v, ok := s.rawString()
	if !ok || !utf8.Valid(v) {
		return false
	}
	*dst = string(v)
	return true
}

func (s *scanner) int64Into(dst *int64) bool {
	start := s.i
	if !s.number() {
		return false
	}
	n, err := strconv.ParseInt(string(s.b[start:s.i]), 10, 64) // fails on fractions and exponents, as json does for int64
	if err != nil {
		return false
	}
	*dst = n
	return true
}

func (s *scanner) boolInto(dst *bool) bool {
	switch {
	case bytes.HasPrefix(s.b[s.i:], []byte("true")):
		s.i += 4
		*dst = true
	case bytes.HasPrefix(s.b[s.i:], []byte("false")):
		s.i += 5
		*dst = false
	default:
		return false
	}
	return true
}

// number reads -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() bool {
	b, i := s.b, s.i
	digits := func() bool {
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i > start
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case !digits():
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	s.i = i
	return true
}

// skip reads any value strictly.
func (s *scanner) skip(depth int) bool {
	if depth > maxDepth {
		return false
	}
	switch c := s.peek(); {
	case c == '"':
		_, ok := s.rawString()
		return ok
	case c == '{':
		return s.object(func([]byte) bool { return s.skip(depth + 1) })
	case c == '[':
		s.i++
		if s.peek() == ']' {
			s.i++
			return true
		}
		for {
			if !s.skip(depth + 1) {
				return false
			}
			switch s.peek() {
			case ',':
				s.i++
			case ']':
				s.i++
				return true
			default:
				return false
			}
		}
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	}
	for _, lit := range []string{"true", "false", "null"} {
		if bytes.HasPrefix(s.b[s.i:], []byte(lit)) {
			s.i += len(lit)
			return true
		}
	}
	return false
}
