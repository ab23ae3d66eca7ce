package pth

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCheckPickle(t *testing.T) {
	recs := records(t, td("views.pth"))
	require.NoError(t, checkPickle(recs[0].data))

	ok := [][]byte{
		[]byte("\x80\x02K\x05."),                                         // PROTO 2, BININT1 5, STOP
		[]byte("cbuiltins\nlist\n)R."),                                   // GLOBAL, EMPTY_TUPLE, REDUCE
		[]byte("\x80\x04\x95\x04\x00\x00\x00\x00\x00\x00\x00K\x01\x94."), // FRAME of 4 bytes
		[]byte("X\x02\x00\x00\x00hi."),                                   // BINUNICODE "hi"
	}
	for _, p := range ok {
		require.NoError(t, checkPickle(p), "%q", p)
	}
	bad := map[string]string{
		"X\xff\xff\xff\x7fhi.":                       "claims 2147483647 bytes, 3 remain",
		"\x8e\x00\x00\x00\x00\x01\x00\x00\x00.":      "claims 4294967296 bytes, 1 remain",
		"\x95\xff\x00\x00\x00\x00\x00\x00\x00K\x01.": "frame at byte 0 claims 255 bytes",
		"cbuiltins\nlist":                            "unterminated argument",
		"K\x01":                                      "no STOP opcode",
		"\xff.":                                      "unknown opcode 0xff",
		"X\x01":                                      "pickle truncated at byte 1",
	}
	for p, msg := range bad {
		require.ErrorContains(t, checkPickle([]byte(p)), msg, "%q", p)
	}
}
