package npy

import (
	"fmt"
	"strconv"
	"strings"
)

// header holds the parsed fields of an .npy header dictionary.
type header struct {
	descr        string
	fortranOrder bool
	shape        []int
}

// parseHeader parses the Python dict literal of an .npy header, e.g.
// {'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 64, 64), }
func parseHeader(s string) (header, error) {
	p := &litParser{s: s}
	var h header
	seen := map[string]bool{}
	p.skipSpace()
	if !p.consume('{') {
		return h, fmt.Errorf("npy: header is not a dict: %q", truncate(s))
	}
	for {
		p.skipSpace()
		if p.consume('}') {
			break
		}
		key, err := p.str()
		if err != nil {
			return h, err
		}
		p.skipSpace()
		if !p.consume(':') {
			return h, fmt.Errorf("npy: header: expected ':' after key %q", key)
		}
		p.skipSpace()
		if seen[key] {
			return h, fmt.Errorf("npy: header: duplicate key %q", key)
		}
		seen[key] = true
		switch key {
		case "descr":
			if p.peek() != '\'' && p.peek() != '"' {
				return h, fmt.Errorf("npy: structured or unsupported dtype descr in header %q", truncate(s))
			}
			if h.descr, err = p.str(); err != nil {
				return h, err
			}
		case "fortran_order":
			if h.fortranOrder, err = p.boolean(); err != nil {
				return h, err
			}
		case "shape":
			if h.shape, err = p.intTuple(); err != nil {
				return h, err
			}
		default:
			return h, fmt.Errorf("npy: header: unexpected key %q", key)
		}
		p.skipSpace()
		if p.consume(',') {
			continue
		}
		p.skipSpace()
		if !p.consume('}') {
			return h, fmt.Errorf("npy: header: expected ',' or '}' at offset %d", p.i)
		}
		break
	}
	p.skipSpace()
	if p.i != len(p.s) {
		return h, fmt.Errorf("npy: header: trailing characters after dict")
	}
	for _, k := range []string{"descr", "fortran_order", "shape"} {
		if !seen[k] {
			return h, fmt.Errorf("npy: header: missing key %q", k)
		}
	}
	return h, nil
}

// formatHeader returns the dict literal NumPy writes for these fields.
func formatHeader(descr string, shape []int) string {
	var b strings.Builder
	b.WriteString("{'descr': '")
	b.WriteString(descr)
	b.WriteString("', 'fortran_order': False, 'shape': (")
	for i, d := range shape {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(d))
	}
	if len(shape) == 1 {
		b.WriteString(",")
	}
	b.WriteString("), }")
	return b.String()
}

// litParser is a tiny scanner for the subset of Python literals that appear
// in .npy headers.
type litParser struct {
	s string
	i int
}

func (p *litParser) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *litParser) consume(c byte) bool {
	if p.peek() == c && p.i < len(p.s) {
		p.i++
		return true
	}
	return false
}

func (p *litParser) skipSpace() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *litParser) str() (string, error) {
	q := p.peek()
	if q != '\'' && q != '"' {
		return "", fmt.Errorf("npy: header: expected a string at offset %d", p.i)
	}
	end := strings.IndexByte(p.s[p.i+1:], q)
	if end < 0 {
		return "", fmt.Errorf("npy: header: unterminated string at offset %d", p.i)
	}
	v := p.s[p.i+1 : p.i+1+end]
	if strings.IndexByte(v, '\\') >= 0 {
		return "", fmt.Errorf("npy: header: escapes in strings are not supported")
	}
	p.i += end + 2
	return v, nil
}

func (p *litParser) boolean() (bool, error) {
	switch {
	case strings.HasPrefix(p.s[p.i:], "True"):
		p.i += 4
		return true, nil
	case strings.HasPrefix(p.s[p.i:], "False"):
		p.i += 5
		return false, nil
	}
	return false, fmt.Errorf("npy: header: expected True or False at offset %d", p.i)
}

func (p *litParser) intTuple() ([]int, error) {
	open := p.peek()
	var closer byte
	switch open {
	case '(':
		closer = ')'
	case '[':
		closer = ']'
	default:
		return nil, fmt.Errorf("npy: header: shape is not a tuple")
	}
	p.i++
	shape := []int{}
	for {
		p.skipSpace()
		if p.consume(closer) {
			return shape, nil
		}
		start := p.i
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
		}
		if start == p.i {
			return nil, fmt.Errorf("npy: header: bad shape dimension at offset %d", start)
		}
		d, err := strconv.Atoi(p.s[start:p.i])
		if err != nil || d > 1<<48 {
			return nil, fmt.Errorf("npy: header: shape dimension %q out of range", p.s[start:p.i])
		}
		p.consume('L') // Python 2 long suffix
		shape = append(shape, d)
		if len(shape) > 64 {
			return nil, fmt.Errorf("npy: header: too many dimensions")
		}
		p.skipSpace()
		if p.consume(',') {
			continue
		}
		p.skipSpace()
		if !p.consume(closer) {
			return nil, fmt.Errorf("npy: header: expected ',' or '%c' in shape", closer)
		}
		return shape, nil
	}
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
