// Package promptirrule computes the weights of the PromptIR test fixture: the
// reduced reference network was loaded with weights from a closed-form rule
// (PromptIR.weights_rule.json) instead of a checkpoint, since it still holds
// 16 M parameters. Tests only.
package promptirrule

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/gomioir/gomioir/nets/torch/host"
)

// Rule is a PromptIR.weights_rule.json document: weights computed from an
// integer hash (see Value). Tensors lists every state_dict entry in order.
type Rule struct {
	Rule    string   `json:"rule"`
	Tensors []Tensor `json:"tensors"`
}

// Tensor is one tensor of a Rule: its index K in state_dict order, its key
// and shape, and the centre (Offset) and half-width (2^ScaleExp) of its
// values.
type Tensor struct {
	K        int     `json:"k"`
	Key      string  `json:"key"`
	Shape    []int64 `json:"shape"`
	DType    string  `json:"dtype"`
	Offset   float64 `json:"offset"`
	ScaleExp int     `json:"scale_exp"`
}

// Parse reads a PromptIR.weights_rule.json document.
func Parse(data []byte) (*Rule, error) {
	var r Rule
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("promptirrule: %w", err)
	}
	for i, t := range r.Tensors {
		switch {
		case t.K != i:
			return nil, fmt.Errorf("promptirrule: tensor %d (%s) has k=%d", i, t.Key, t.K)
		case t.DType != "float32":
			return nil, fmt.Errorf("promptirrule: %s: dtype %q is not float32", t.Key, t.DType)
		case t.ScaleExp < -100 || t.ScaleExp > 100:
			return nil, fmt.Errorf("promptirrule: %s: scale_exp %d", t.Key, t.ScaleExp)
		}
		for _, d := range t.Shape {
			if d < 0 {
				return nil, fmt.Errorf("promptirrule: %s: shape %v", t.Key, t.Shape)
			}
		}
	}
	return &r, nil
}

// Value is element j (row-major) of tensor k under the
// closed-form rule:
//
//	x = uint32(j*0x9E3779B1 + (k+1)*0x85EBCA6B)   (wrapping uint32 arithmetic)
//	x ^= x>>16; x *= 0x7FEB352D; x ^= x>>15; x *= 0x846CA68B; x ^= x>>16
//	m = int(x>>8) - 2^23                            (-2^23 <= m < 2^23)
//	value = float32(offset + float64(m) * 2^(scaleExp-23))
//
// The float64 sum is exact; the conversion to float32 rounds to nearest
// even, as the reference's cast does.
func Value(k, j int, offset float64, scaleExp int) float32 {
	x := uint32(j)*0x9E3779B1 + uint32(k+1)*0x85EBCA6B
	x ^= x >> 16
	x *= 0x7FEB352D
	x ^= x >> 15
	x *= 0x846CA68B
	x ^= x >> 16
	m := int64(x>>8) - 1<<23
	return float32(offset + math.Ldexp(float64(m), scaleExp-23))
}

// StateDict computes every tensor of the rule, in its order, as float32
// raw tensors (about 65 MB for the reduced fixture network).
func (r *Rule) StateDict() (*host.StateDict, error) {
	sd := host.NewStateDict()
	for _, t := range r.Tensors {
		shape := make([]int, len(t.Shape))
		n := 1
		for i, d := range t.Shape {
			shape[i] = int(d)
			n *= int(d)
		}
		v := make([]float32, n)
		for j := range v {
			v[j] = Value(t.K, j, t.Offset, t.ScaleExp)
		}
		if err := sd.Add(t.Key, host.FromFloat32(shape, v)); err != nil {
			return nil, fmt.Errorf("promptirrule: %w", err)
		}
	}
	return sd, nil
}
