package mioir

import (
	"errors"
	"fmt"

	"github.com/gomioir/gomioir/internal/safetensors"
	"github.com/gomioir/gomioir/nets/layers"

	"github.com/gomioir/gomioir/mioir/data"
	"github.com/gomioir/gomioir/nets/torch"
	"github.com/gomioir/gomioir/prompt"
)

// NewClassifierTrainer prepares the training of a task classifier on the
// LQ patches of src (labels: each sample's prompt index), with the same
// curriculum, optimiser, EMA, checkpoints and Resume as NewTrainer. The
// reference trains it with batch 16 of 256 x 256 crops, Adam (a nil
// TrainConfig.Optimizer) and 4 cosine cycles of 250k
// (curriculum.ClassifierPlan; set Batch and Patch accordingly).
//
// The loss is the cross-entropy of the classifier's logits (the output of
// lastOut, before the softmax). The reference instead applied
// nn.CrossEntropyLoss to the softmax outputs (a double softmax, method spec
// 4.5), which flattens the gradients; this trainer does not reproduce that
// quirk. The logged per-task loss is each sample's cross-entropy;
// validation (TrainConfig.Val) reports the accuracy per task in percent.
// Exported weights (stage files) are the classifier's state dict under the
// reference's names, with "format" = ClassifierFormat metadata; LoadClassifier
// reads them.
func NewClassifierTrainer(c *prompt.Classifier, src data.Source, cfg TrainConfig) (*Trainer, error) {
	if c == nil {
		return nil, errors.New("mioir: train: nil classifier")
	}
	t := &Trainer{cls: c, kind: "classifier", dev: torch.CPU, module: c}
	if c.LastOut != nil && c.LastOut.Weight != nil {
		t.dev = c.LastOut.Weight.Device()
	}
	t.step = t.classifierStep
	if cfg.Optimizer == nil {
		cfg.Optimizer = &torch.AdamConfig{} // Adam, betas 0.9 and 0.99
	}
	if err := t.init(src, cfg, true); err != nil {
		return nil, err
	}
	return t, nil
}

// classifierLogits is the classifier's forward pass without the softmax.
func classifierLogits(c *prompt.Classifier, x *torch.Tensor) *torch.Tensor {
	f := c.CondNet.Forward(x).AdaptiveAvgPool2d(1, 1).Flatten(1, 3)
	return c.LastOut.Forward(f)
}

func (t *Trainer) classifierStep(b *data.Batch) (float64, []float32, error) {
	s := torch.NewScope(torch.Grad)
	defer s.Close()
	if err := t.opt.ZeroGrad(); err != nil {
		return 0, nil, err
	}
	x, err := torch.FromSliceOn(s, t.dev, b.LQ, int64(b.N), int64(b.C), int64(b.H), int64(b.W))
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
	y, err := torch.FromSliceOn(s, t.dev, labels, int64(len(labels)))
	if err != nil {
		return 0, nil, err
	}
	oh, err := torch.FromSliceOn(s, t.dev, onehot, int64(len(idx)), prompt.NumTasks)
	if err != nil {
		return 0, nil, err
	}
	logits := classifierLogits(t.cls, x)
	loss := torch.CrossEntropy(logits, y)
	if err := loss.Backward(); err != nil {
		return 0, nil, err
	}
	per := logits.Detach().LogSoftmax(1).Mul(oh).Sum(false, 1).Neg().ToDevice(torch.CPU)
	if err := s.Err(); err != nil {
		return 0, nil, err
	}
	lv, err := loss.Item()
	if err != nil {
		return 0, nil, err
	}
	ps, err := torch.ToSlice[float32](per)
	if err != nil {
		return 0, nil, err
	}
	if err := t.opt.Step(); err != nil {
		return 0, nil, err
	}
	return lv, ps, nil
}

// ClassifierFormat is the "format" metadata entry of the classifier files
// a classifier Trainer writes.
const ClassifierFormat = "gomioir.classifier"

// LoadClassifier reads a classifier file written by a classifier Trainer
// (stage files, LatestModel, LatestEMAModel) strictly; attach it to an EP
// model with Model.SetClassifier for automatic task selection.
func LoadClassifier(path string) (*prompt.Classifier, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("mioir: load classifier %s: %w", path, err)
	}
	if f.Metadata["format"] != ClassifierFormat {
		return nil, fmt.Errorf("mioir: load classifier %s: not a gomioir classifier (format %q; reference .pth files go through Model.ImportClassifier)", path, f.Metadata["format"])
	}
	g, err := torch.NewGenerator(0)
	if err != nil {
		return nil, err
	}
	defer g.Close()
	c, err := prompt.NewClassifier(g)
	if err != nil {
		return nil, err
	}
	if err := layers.LoadStateDict(c, f.Tensors, layers.LoadOptions{}); err != nil {
		c.Close()
		return nil, fmt.Errorf("mioir: load classifier %s: %w", path, err)
	}
	return c, nil
}
