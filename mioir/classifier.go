package mioir

import (
	"fmt"

	"github.com/gomioir/gomioir/internal/safetensors"
	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
	"github.com/gomioir/gomioir/prompt"
)

// ClassifierFormat is the "format" metadata entry of native classifier files
// (SaveClassifier; a classifier trainer's stage files).
const ClassifierFormat = "gomioir.classifier"

// SaveClassifier writes a task classifier to path atomically: its state dict
// under the reference's names, with "format" = ClassifierFormat metadata.
// replace, as in Model.SaveWith, writes other tensors (e.g. a trainer's
// moving average) in place of the classifier's own.
func SaveClassifier(path string, c *prompt.Classifier, replace map[string]*torch.Tensor) error {
	if c == nil || c.LastOut == nil {
		return fmt.Errorf("mioir: save classifier %s: nil or closed classifier", path)
	}
	sd, err := layers.StateDict(c)
	if err == nil {
		sd, err = replaceTensors(sd, replace)
	}
	if err == nil {
		err = safetensors.WriteFile(path, sd, map[string]string{"format": ClassifierFormat})
	}
	if err != nil {
		return fmt.Errorf("mioir: save classifier %s: %w", path, err)
	}
	return nil
}

// LoadClassifier reads a classifier file written by SaveClassifier (a
// classifier trainer's stage files and latest copies) strictly; attach it to
// an EP model with Model.SetClassifier for automatic task selection.
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
	if err := layers.LoadStateDict(c, f.Tensors, nil); err != nil {
		c.Close()
		return nil, fmt.Errorf("mioir: load classifier %s: %w", path, err)
	}
	return c, nil
}
