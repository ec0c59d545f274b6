package main

import (
	"encoding/json"
	"reflect"
	"testing"
)

// frameSeeds are frames as the messageservice writes them, and the shapes
// around them the fast path must hand to encoding/json.
var frameSeeds = []string{
	`{"type":"message","msg_id":"383262894785040385","conversation":"u:1:2","seq":66,"from":"1","to":{"kind":"user","id":"2"},"content":{"kind":"text","text":"1795444194791458367"},"ts":1795444194791}`,
	`{"type":"sent","client_msg_id":"o12-65","msg_id":"9","conversation":"g:5","seq":7,"ts":17}`,
	`{"type":"pong"}`,
	`{"type":"error","code":"bad_frame","message":"not JSON","client_msg_id":"x"}`,
	`{"type":"history","conversation":"g:5","messages":[{"msg_id":"1","conversation":"g:5","seq":1,"from":"3","to":{"kind":"group","id":"5"},"content":{"t":12},"ts":1}],"has_more":true}`,
	` { "type" : "message" , "seq" : -0 , "content" : [1, 2.5e-3, "a", null, true, false, {}] } `,
	`{"Type":"message"}`, `{"SEQ":1}`, `{"ſeq":1}`, `{"seq":1.5}`, `{"seq":1e2}`, `{"seq":99999999999999999999}`,
	`{"type":null}`, `{"content":null}`, `{"type":"a\"b"}`, "{\"type\":\"\xff\"}", `{"type":1}`,
	`{"has_more":false,"x":{"y":[[[]]]}}`, `{"seq":01}`, `{"seq":-}`, `{} x`, `[]`, `{"a":1,}`, `{"a" 1}`, ``,
}

func sameFrame(t *testing.T, b []byte) {
	var want inFrame
	wantErr := json.Unmarshal(b, &want)
	var got inFrame
	gotErr := decodeFrame(b, &got)
	if (gotErr == nil) != (wantErr == nil) {
		t.Fatalf("decodeFrame(%q) err = %v, json.Unmarshal err = %v", b, gotErr, wantErr)
	}
	if wantErr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("decodeFrame(%q) = %+v, json.Unmarshal = %+v", b, got, want)
	}
	var ws, gs stamp
	wantErr, gotErr = json.Unmarshal(b, &ws), decodeStamp(b, &gs)
	if (gotErr == nil) != (wantErr == nil) || (wantErr == nil && gs != ws) {
		t.Fatalf("decodeStamp(%q) = %+v, %v; json.Unmarshal = %+v, %v", b, gs, gotErr, ws, wantErr)
	}
}

func TestDecodeFrameMatchesJSON(t *testing.T) {
	for _, s := range frameSeeds {
		sameFrame(t, []byte(s))
	}
	for _, s := range []string{`{"kind":"text","text":"123"}`, `{"t":5,"text":"x"}`, `{"T":5}`, `{"TEXT":"a"}`, `{"t":"5"}`} {
		sameFrame(t, []byte(s))
	}
}

// TestDecodeFrameFastPath: the frames of the load take the fast path (the
// point of it), the others fall back.
func TestDecodeFrameFastPath(t *testing.T) {
	var f inFrame
	for _, s := range frameSeeds[:4] {
		if !fastFrame([]byte(s), &f) {
			t.Errorf("fastFrame(%s) fell back", s)
		}
	}
	if fastFrame([]byte(frameSeeds[4]), &f) {
		t.Errorf("a history frame took the fast path")
	}
	var st stamp
	if !fastStamp([]byte(`{"kind":"text","text":"123"}`), &st) || st.Text != "123" {
		t.Errorf("fastStamp of a text content: %+v", st)
	}
}

func FuzzDecodeFrame(f *testing.F) {
	for _, s := range frameSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { sameFrame(t, b) })
}
