package prompt

import (
	"fmt"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
)

// priority is the order in which the reference's EP test code breaks ties
// between equal classifier outputs (see Priority).
var priority = [NumTasks]int{3, 4, 0, 1, 2, 5, 6}

// Priority returns the order in which the reference's EP test code breaks
// ties between equal classifier outputs: rain, haze, blur, noise, jpeg,
// dark, sr, as prompt indices. The result is a copy.
func Priority() [NumTasks]int { return priority }

// Classifier is the reference's task classifier: CondNet (3x3 stride-3
// convolutions 3->128->128, then 1x1 convolutions 128->128->128->32,
// LeakyReLU(0.1) between them, no padding), a global average pool,
// lastOut = Linear(32, 7) and softmax. It picks the explicit prompt of EP
// models at test time.
type Classifier struct {
	CondNet layers.Sequential
	LastOut *layers.Linear
}

// NewClassifier builds a classifier with PyTorch's default init from g, in
// the reference's construction order (lastOut first).
func NewClassifier(g *torch.Generator) (*Classifier, error) {
	c := &Classifier{}
	fail := func(err error) (*Classifier, error) {
		c.Close()
		return nil, fmt.Errorf("prompt: classifier: %w", err)
	}
	var err error
	if c.LastOut, err = layers.NewLinear(g, 32, NumTasks, false); err != nil {
		return fail(err)
	}
	convs := []struct{ in, out, k, stride int64 }{
		{3, 128, 3, 3}, {128, 128, 3, 3}, {128, 128, 1, 1}, {128, 128, 1, 1}, {128, 32, 1, 1},
	}
	for i, cv := range convs {
		conv, err := layers.NewConv2d(g, cv.in, cv.out, cv.k, &layers.ConvConfig{Stride: cv.stride})
		if err != nil {
			return fail(err)
		}
		c.CondNet = append(c.CondNet, conv)
		if i < len(convs)-1 {
			c.CondNet = append(c.CondNet, layers.LeakyReLU(0.1))
		}
	}
	return c, nil
}

// Visit reports lastOut, then CondNet.{0,2,4,6,8}.
func (c *Classifier) Visit(v layers.Visitor) {
	if c == nil {
		return
	}
	v.Module("lastOut", c.LastOut)
	v.Module("CondNet", c.CondNet)
}

// Forward returns the (N, 7) class probabilities of x (N, 3, H, W), H and W
// at least 9. Column i is the task with PromptIndex i.
func (c *Classifier) Forward(x *torch.Tensor) *torch.Tensor {
	f := c.CondNet.Forward(x).AdaptiveAvgPool2d(1, 1).Flatten(1, 3)
	return c.LastOut.Forward(f).Softmax(1)
}

// Classify's strips: blockSide is the input block one CondNet output reads
// (two stride-3 convolutions), stripPixels the input pixels of a strip.
const (
	blockSide   = 9
	stripPixels = 1 << 20
)

// Prediction is the classifier's answer for one image.
type Prediction struct {
	// Probs are the softmax outputs, indexed by prompt index.
	Probs [NumTasks]float32
	// Task is the task the reference's EP test code selects (see Select).
	Task degrade.Task
}

// Classify runs the classifier on x (N, 3, H, W) in inference mode (use the
// full, unpadded image, as the reference does) and returns one Prediction per
// image.
//
// A large image goes through CondNet in strips of rows: its two first
// convolutions have stride equal to their kernel (3) and the rest are 1x1,
// so each output value reads its own 9x9 block of input and the image is
// exactly the union of strips whose heights are multiples of 9 (the rows
// below the last full block are never read, as in one pass). The average
// pooling is then the sum of the strips' sums over the count, which equals
// one pass up to the order of the additions, with memory bounded by the
// strip instead of the image (CondNet's first layer alone holds 57 bytes per
// input pixel).
func (c *Classifier) Classify(x *torch.Tensor) ([]Prediction, error) {
	out, err := torch.Run(torch.Inference, func(s *torch.Scope) *torch.Tensor {
		x := s.Use(x)
		if x.Err() != nil || x.Dim() != 4 {
			return c.Forward(x).ToDevice(torch.CPU)
		}
		h, w := x.Size(2), x.Size(3)
		rows := max(blockSide, stripPixels/max(w, 1)/blockSide*blockSide)
		if h <= rows || w < blockSide {
			return c.Forward(x).ToDevice(torch.CPU)
		}
		used := h / blockSide * blockSide
		var sum *torch.Tensor
		for y := int64(0); y < used; y += rows {
			strip := s.Child(torch.Inference) // frees the strip's activations
			f := strip.Keep(c.CondNet.Forward(strip.Use(x).Narrow(2, y, min(rows, used-y))).Sum(false, 2, 3))
			strip.Close()
			if sum == nil {
				sum = f
			} else {
				sum = sum.Add(f)
			}
		}
		count := float64((used / blockSide) * (w / blockSide))
		return c.LastOut.Forward(sum.DivScalar(count)).Softmax(1).ToDevice(torch.CPU)
	})
	if err != nil {
		return nil, fmt.Errorf("prompt: classify: %w", err)
	}
	defer out.Close()
	p, err := torch.ToSlice[float32](out)
	if err != nil {
		return nil, fmt.Errorf("prompt: classify: %w", err)
	}
	preds := make([]Prediction, len(p)/NumTasks)
	for i := range preds {
		copy(preds[i].Probs[:], p[i*NumTasks:])
		if preds[i].Task, err = Select(preds[i].Probs[:]); err != nil {
			return nil, err
		}
	}
	return preds, nil
}

// SelectIndex returns the prompt index the reference selects from class
// probabilities: among the entries equal to the maximum, the first in
// Priority order.
func SelectIndex(probs []float32) (int, error) {
	if len(probs) != NumTasks {
		return -1, fmt.Errorf("prompt: select: %d probabilities, want %d", len(probs), NumTasks)
	}
	best := probs[0]
	for _, p := range probs {
		if p != p {
			return -1, fmt.Errorf("prompt: select: NaN probability")
		}
		best = max(best, p)
	}
	for _, i := range priority {
		if probs[i] == best {
			return i, nil
		}
	}
	panic("unreachable: the maximum is one of the entries")
}

// Select is SelectIndex as a task.
func Select(probs []float32) (degrade.Task, error) {
	i, err := SelectIndex(probs)
	if err != nil {
		return 0, err
	}
	return degrade.TaskFromPromptIndex(i)
}

// Close frees the parameters.
func (c *Classifier) Close() {
	if c != nil {
		layers.Close(c)
	}
}
