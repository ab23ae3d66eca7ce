package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/gomioir/gomioir/mioir"
	"github.com/gomioir/gomioir/mioir/data"
	"github.com/gomioir/gomioir/mioir/eval"
	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
	"github.com/gomioir/gomioir/prompt"
)

// NewClassifierTrainer prepares the training of a task classifier on the
// LQ patches of src (labels: each sample's prompt index), with the same
// curriculum, optimiser, EMA, checkpoints and Resume as NewTrainer. The
// reference trains it with batch 16 of 256 x 256 crops, Adam (a nil
// Config.Optimizer) and 4 cosine cycles of 250k
// (curriculum.ClassifierPlan; set Batch and Patch accordingly).
//
// The loss is the cross-entropy of the classifier's logits (the output of
// lastOut, before the softmax). The reference instead applied
// nn.CrossEntropyLoss to the softmax outputs (a double softmax, method spec
// 4.5), which flattens the gradients; this trainer does not reproduce that
// quirk. The logged per-task loss is each sample's cross-entropy;
// validation (Config.Val) reports the accuracy per task in percent
// (eval.Classify). Exported weights (stage files) are classifier files
// (mioir.SaveClassifier); mioir.LoadClassifier reads them.
func NewClassifierTrainer(c *prompt.Classifier, src data.Source, cfg Config) (*Trainer, error) {
	if c == nil {
		return nil, errors.New("train: nil classifier")
	}
	return newTrainer(classifier{c}, src, cfg)
}

// classifier trains a task classifier.
type classifier struct{ c *prompt.Classifier }

func (c classifier) kind() string { return "classifier" }

// optimizer is the reference's for the classifier: Adam, betas 0.9 and
// 0.99, no weight decay.
func (classifier) optimizer() (torch.AdamConfig, error) { return torch.AdamConfig{}, nil }

func (c classifier) device() torch.Device {
	if c.c.LastOut != nil && c.c.LastOut.Weight != nil {
		return c.c.LastOut.Weight.Device()
	}
	return torch.CPU
}

func (c classifier) module() layers.Module            { return c.c }
func (c classifier) root() layers.Module              { return c.c }
func (c classifier) lqOnly() bool                     { return true }
func (c classifier) stochastic() bool                 { return false }
func (c classifier) setTraining(*torch.Generator)     {}
func (c classifier) config() (json.RawMessage, error) { return nil, nil }
func (c classifier) sameConfig(json.RawMessage) error { return nil }
func (c classifier) export(path string, r map[string]*torch.Tensor) error {
	return mioir.SaveClassifier(path, c.c, r)
}

// classifierLogits is the classifier's forward pass without the softmax.
func classifierLogits(c *prompt.Classifier, x *torch.Tensor) *torch.Tensor {
	f := c.CondNet.Forward(x).AdaptiveAvgPool2d(1, 1).Flatten(1, 3)
	return c.LastOut.Forward(f)
}

func (c classifier) step(opt *torch.Adam, b *data.Batch, reduce func() error) (float64, []float32, error) {
	s := torch.NewScope(torch.Grad)
	defer s.Close()
	if err := opt.ZeroGrad(); err != nil {
		return 0, nil, err
	}
	dev := c.device()
	x, err := torch.FromSliceOn(s, dev, b.LQ, int64(b.N), int64(b.C), int64(b.H), int64(b.W))
	if err != nil {
		return 0, nil, err
	}
	idx := b.PromptIndices()
	labels := make([]int64, len(idx))
	onehot := make([]float32, len(idx)*prompt.NumTasks)
	for i, v := range idx {
		labels[i] = int64(v)
		onehot[i*prompt.NumTasks+v] = 1
	}
	y, err := torch.FromSliceOn(s, dev, labels, int64(len(labels)))
	if err != nil {
		return 0, nil, err
	}
	oh, err := torch.FromSliceOn(s, dev, onehot, int64(len(idx)), prompt.NumTasks)
	if err != nil {
		return 0, nil, err
	}
	logits := classifierLogits(c.c, x)
	return finishStep(s, opt, reduce, torch.CrossEntropy(logits, y), logits.Detach().LogSoftmax(1).Mul(oh).Sum(false, 1).Neg())
}

// validate is the accuracy per set (eval.Classify).
func (c classifier) validate(ctx context.Context, sets []eval.Set) (validation, error) {
	rep, err := eval.Classify(ctx, c.c, sets)
	if err != nil {
		return validation{}, err
	}
	if len(rep.Skipped) > 0 {
		k := rep.Skipped[0]
		return validation{}, fmt.Errorf("%s/%s: %w", k.Set, k.Name, k.Err)
	}
	v := validation{scores: map[string]float64{}, metric: "acc", table: rep.Markdown()}
	for _, a := range rep.Sets {
		if a.N > 0 {
			v.scores[a.Set] = a.Percent()
		}
	}
	return v, nil
}
