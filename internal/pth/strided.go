package pth

import (
	"fmt"
	"math"
)

// gather copies the elements of a strided view of src into a new C-order
// buffer. offset, shape and stride are in elements; elem is the element size.
func gather(src []byte, elem, offset int, shape, stride []int) ([]byte, error) {
	if len(shape) != len(stride) {
		return nil, fmt.Errorf("size %v and stride %v differ in length", shape, stride)
	}
	if offset < 0 {
		return nil, fmt.Errorf("negative storage offset %d", offset)
	}
	n := 1
	last := offset // index of the last element addressed
	for i, d := range shape {
		if d < 0 || stride[i] < 0 {
			return nil, fmt.Errorf("negative size or stride in size %v stride %v", shape, stride)
		}
		if d != 0 && n > math.MaxInt/d {
			return nil, fmt.Errorf("size %v has too many elements", shape)
		}
		n *= d
	}
	if n == 0 {
		return []byte{}, nil
	}
	for i, d := range shape {
		if stride[i] != 0 && d-1 > (math.MaxInt-last)/stride[i] {
			return nil, fmt.Errorf("size %v stride %v overflow", shape, stride)
		}
		last += (d - 1) * stride[i]
	}
	storageLen := len(src) / elem
	if last >= storageLen {
		return nil, fmt.Errorf("view (offset %d, size %v, stride %v) reaches element %d of a %d-element storage", offset, shape, stride, last, storageLen)
	}
	out := make([]byte, n*elem)
	if isContiguous(shape, stride) {
		copy(out, src[offset*elem:(offset+n)*elem])
		return out, nil
	}
	// Copy row by row along the innermost dimension.
	nd := len(shape)
	inner, innerStride := shape[nd-1], stride[nd-1]
	idx := make([]int, nd-1)
	pos, base := 0, offset
	for {
		if innerStride == 1 {
			pos += copy(out[pos:], src[base*elem:(base+inner)*elem])
		} else {
			for j := 0; j < inner; j++ {
				s := (base + j*innerStride) * elem
				pos += copy(out[pos:pos+elem], src[s:s+elem])
			}
		}
		// Advance the multi-index over the outer dimensions.
		k := nd - 2
		for ; k >= 0; k-- {
			idx[k]++
			base += stride[k]
			if idx[k] < shape[k] {
				break
			}
			base -= idx[k] * stride[k]
			idx[k] = 0
		}
		if k < 0 {
			return out, nil
		}
	}
}

// isContiguous reports whether stride is the C-order stride of shape
// (dimensions of size 1 may have any stride).
func isContiguous(shape, stride []int) bool {
	want := 1
	for i := len(shape) - 1; i >= 0; i-- {
		if shape[i] != 1 && stride[i] != want {
			return false
		}
		want *= shape[i]
	}
	return true
}
