package pth

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// Argument layouts of pickle opcodes (protocols 0 to 5).
const (
	argNone = iota
	argFixed1
	argFixed2
	argFixed4
	argFixed8
	argLine     // one newline-terminated line
	argTwoLines // two newline-terminated lines
	argLen1     // 1-byte length, then data
	argLen4     // 4-byte little-endian length, then data
	argLen8     // 8-byte little-endian length, then data
	argFrame    // 8-byte frame length; the frame holds further opcodes
)

var opcodeArgs = func() [256]int8 {
	var t [256]int8
	for i := range t {
		t[i] = -1 // unknown opcode
	}
	set := func(ops string, kind int8) {
		for i := 0; i < len(ops); i++ {
			t[ops[i]] = kind
		}
	}
	set("(.012NQRabd}el]ost)u\x81\x85\x86\x87\x88\x89\x8f\x90\x91\x92\x93\x94\x97\x98", argNone)
	set("Khq\x80\x82", argFixed1)
	set("M\x83", argFixed2)
	set("Jjr\x84", argFixed4)
	set("G", argFixed8)
	set("ILFSVPgp", argLine)
	set("ci", argTwoLines)
	set("UC\x8c\x8a", argLen1)
	set("TBX\x8b", argLen4)
	set("\x8d\x8e\x96", argLen8)
	set("\x95", argFrame)
	return t
}()

// checkPickle walks the opcodes of a pickle stream without executing them
// and checks that every length-prefixed argument fits in the stream. The
// unpickler allocates such arguments before reading them, so this keeps a
// corrupt or hostile data.pkl from requesting huge allocations.
func checkPickle(p []byte) error {
	i := 0
	for i < len(p) {
		op := p[i]
		kind := opcodeArgs[op]
		i++
		rest := len(p) - i
		var n uint64
		switch kind {
		case argNone:
			if op == '.' {
				return nil
			}
			continue
		case argFixed1:
			n = 1
		case argFixed2:
			n = 2
		case argFixed4:
			n = 4
		case argFixed8:
			n = 8
		case argLine, argTwoLines:
			lines := 1
			if kind == argTwoLines {
				lines = 2
			}
			for range lines {
				j := bytes.IndexByte(p[i:], '\n')
				if j < 0 {
					return fmt.Errorf("unterminated argument of opcode 0x%02x at byte %d", op, i-1)
				}
				i += j + 1
			}
			continue
		case argLen1, argLen4, argLen8:
			prefix := map[int8]int{argLen1: 1, argLen4: 4, argLen8: 8}[kind]
			if rest < prefix {
				return truncatedAt(i)
			}
			var l uint64
			switch prefix {
			case 1:
				l = uint64(p[i])
			case 4:
				l = uint64(binary.LittleEndian.Uint32(p[i:]))
			default:
				l = binary.LittleEndian.Uint64(p[i:])
			}
			if l > uint64(rest-prefix) {
				return fmt.Errorf("opcode 0x%02x at byte %d claims %d bytes, %d remain", op, i-1, l, rest-prefix)
			}
			n = uint64(prefix) + l
		case argFrame:
			if rest < 8 {
				return truncatedAt(i)
			}
			if l := binary.LittleEndian.Uint64(p[i:]); l > uint64(rest-8) {
				return fmt.Errorf("frame at byte %d claims %d bytes, %d remain", i-1, l, rest-8)
			}
			n = 8 // the frame's content is scanned as opcodes
		default:
			return fmt.Errorf("unknown opcode 0x%02x at byte %d", op, i-1)
		}
		if n > uint64(rest) {
			return fmt.Errorf("opcode 0x%02x at byte %d needs %d bytes, %d remain", op, i-1, n, rest)
		}
		i += int(n)
	}
	return fmt.Errorf("no STOP opcode (truncated pickle)")
}

func truncatedAt(i int) error { return fmt.Errorf("pickle truncated at byte %d", i) }
