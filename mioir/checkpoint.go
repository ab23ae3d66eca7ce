package mioir

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/gomioir/gomioir/internal/pth"
	"github.com/gomioir/gomioir/internal/safetensors"
	"github.com/gomioir/gomioir/nets"
	"github.com/gomioir/gomioir/nets/keys"
	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
	"github.com/gomioir/gomioir/nets/torch/host"
	"github.com/gomioir/gomioir/prompt"
)

// Native model files are safetensors files whose metadata holds these
// entries: "format" = Format, "format_version" = FormatVersion, "config"
// = the Config as JSON and, when the model has any, "strength" = its
// StrengthModels as JSON, keyed by task name.
const (
	Format        = "gomioir.model"
	FormatVersion = 1
)

// Metadata keys of native model files.
const (
	metaFormat   = "format"
	metaVersion  = "format_version"
	metaConfig   = "config"
	metaStrength = "strength"
	mapsKey      = "prompt.maps"
)

// Save writes the model to path in the native format (safetensors; see
// Format), atomically: the backbone and prompt modules under the
// reference's names, the explicit maps as "prompt.maps" and the classifier
// under "classifier.". Load reads it back without any other argument.
func (m *Model) Save(path string) error { return m.SaveWith(path, nil) }

// Load reads a model written by Save: the configuration comes from the
// file's metadata, every tensor is checked strictly (names and shapes).
func Load(path string) (*Model, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("mioir: load %s: %w", path, err)
	}
	return fromFile(path, f)
}

// Read reads a model in the native format from r (for example a file
// embedded with go:embed, as package pretrained does), with the checks of
// Load. It reads r to its end.
func Read(r io.Reader) (*Model, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("mioir: read model: %w", err)
	}
	f, err := safetensors.Read(data)
	if err != nil {
		return nil, fmt.Errorf("mioir: read model: %w", err)
	}
	return fromFile("stream", f)
}

// fromFile builds the model a parsed native file describes; name is the
// file's name in errors.
func fromFile(name string, f *safetensors.File) (*Model, error) {
	if f.Metadata[metaFormat] != Format {
		return nil, fmt.Errorf("mioir: load %s: not a gomioir model (metadata format %q; reference .pth checkpoints go through Import)", name, f.Metadata[metaFormat])
	}
	v, err := strconv.Atoi(f.Metadata[metaVersion])
	if err != nil || v < 1 || v > FormatVersion {
		return nil, fmt.Errorf("mioir: load %s: format version %q is not supported (this library reads 1..%d)", name, f.Metadata[metaVersion], FormatVersion)
	}
	var cfg Config
	if err := json.Unmarshal([]byte(f.Metadata[metaConfig]), &cfg); err != nil {
		return nil, fmt.Errorf("mioir: load %s: %w", name, err)
	}
	m, err := build(cfg, nil)
	if err != nil {
		return nil, fmt.Errorf("mioir: load %s: %w", name, err)
	}
	if t, ok := f.Tensors.Get(mapsKey); ok {
		if cfg.Prompt != prompt.Explicit {
			m.Close()
			return nil, fmt.Errorf("mioir: load %s: %s holds %s but is not an explicit-prompt model", name, cfg.Name(), mapsKey)
		}
		shape := make([]int64, len(t.Shape))
		for i, d := range t.Shape {
			shape[i] = int64(d)
		}
		z, err := torch.Zeros(nil, shape, nil)
		if err != nil {
			m.Close()
			return nil, err
		}
		m.maps = &prompt.Maps{T: z}
	}
	if err := layers.LoadStateDict(m, f.Tensors, nil); err != nil {
		m.Close()
		return nil, fmt.Errorf("mioir: load %s (%s): %w", name, cfg.Name(), err)
	}
	if m.strength, err = parseStrength(f.Metadata[metaStrength]); err != nil {
		m.Close()
		return nil, fmt.Errorf("mioir: load %s: %w", name, err)
	}
	return m, nil
}

// ImportOptions complete Import. A nil *ImportOptions infers everything and
// loads "params".
type ImportOptions struct {
	// Arch restricts inference to one backbone ("SwinIR"); an error says
	// which keys contradict it.
	Arch string
	// Config, when set, is used as is instead of inferring the architecture
	// (InferConfig gives a starting point to adjust).
	Config *Config
	// EMA loads "params_ema" instead of "params" (the reference tests load
	// "params"). Loading the EMA weights is only ever this explicit choice.
	EMA bool
	// Maps is a .npy file with the explicit-prompt maps (the reference's
	// data/type7.npy), needed to restore with an EP model.
	Maps string
	// Classifier is the reference's Classifier.pth, attached for automatic
	// task selection; its "params" are loaded, as the reference test code
	// ends up doing.
	Classifier string
}

// sectionOf returns the state dict to import.
func sectionOf(ck *pth.Checkpoint, ema bool) (*host.StateDict, string, error) {
	if ck.IsBare() {
		if ema {
			return nil, "", errors.New("params_ema requested, but the checkpoint is a bare state dict")
		}
		sd, err := ck.StateDict(pth.Bare)
		return sd, "state dict", err
	}
	name := "params"
	if ema {
		name = "params_ema"
	}
	sd, err := ck.StateDict(name)
	if err != nil {
		return nil, "", fmt.Errorf("no %q section (sections: %s): %w", name, strings.Join(ck.Sections(), ", "), err)
	}
	return sd, name, nil
}

// keysOf lists a state dict's names and shapes, without a "module." prefix
// that wraps every key (DataParallel); it reports whether it stripped one.
func keysOf(sd *host.StateDict) (*keys.Keys, bool) {
	names := sd.Keys()
	strip := len(names) > 0
	for _, n := range names {
		if !strings.HasPrefix(n, "module.") {
			strip = false
			break
		}
	}
	shapes := make([][]int64, len(names))
	for i, n := range names {
		t, _ := sd.Get(n)
		s := make([]int64, len(t.Shape))
		for j, d := range t.Shape {
			s[j] = int64(d)
		}
		shapes[i] = s
		if strip {
			names[i] = strings.TrimPrefix(n, "module.")
		}
	}
	return keys.New(names, shapes), strip
}

// InferConfig reads a reference .pth checkpoint's keys and shapes and
// returns the configuration that matches them (backbone, its
// hyper-parameters, prompt kind). arch, if not empty, restricts the search
// to that backbone. Hyper-parameters that leave no trace in the weights
// (SwinIR's img_range and mean) take the paper's values.
func InferConfig(path, arch string) (Config, error) {
	ck, err := pth.Load(path)
	if err != nil {
		return Config{}, fmt.Errorf("mioir: %w", err)
	}
	sd, _, err := sectionOf(ck, false)
	if err != nil {
		return Config{}, fmt.Errorf("mioir: %s: %w", path, err)
	}
	k, _ := keysOf(sd)
	cfg, err := inferKeys(k, arch)
	if err != nil {
		return Config{}, fmt.Errorf("mioir: %s: %w", path, err)
	}
	return cfg, nil
}

// inferKeys matches k against the backbones registered in nets and reads
// the prompt kind.
func inferKeys(k *keys.Keys, arch string) (Config, error) {
	if k.Has("CondNet.0.weight") && k.Has("lastOut.weight") {
		return Config{}, errors.New("this is a task classifier checkpoint, not a restoration network (attach it with ImportOptions.Classifier or Model.ImportClassifier)")
	}
	kind, err := inferKind(k)
	if err != nil {
		return Config{}, err
	}
	net, err := nets.Infer(k, arch)
	if err != nil {
		return Config{}, err
	}
	return Config{Arch: net.ArchName(), Net: net, Prompt: kind}, nil
}

var extractorKey = regexp.MustCompile(`^F_ext_net[0-9]*\.conv1\.weight$`)

// inferKind reads the prompt kind from the prompt extractors' first
// convolution: 1 input channel for explicit maps, 3 for adaptive prompts,
// no extractor for a plain backbone.
func inferKind(k *keys.Keys) (prompt.Kind, error) {
	kind, from := prompt.None, ""
	for _, n := range k.Names() {
		if !extractorKey.MatchString(n) {
			continue
		}
		s := k.Shape(n)
		var kk prompt.Kind
		switch {
		case len(s) == 4 && s[1] == 1:
			kk = prompt.Explicit
		case len(s) == 4 && s[1] == 3:
			kk = prompt.Adaptive
		default:
			return 0, fmt.Errorf("prompt extractor %s has shape %v: expected 1 (EP) or 3 (AP) input channels", n, s)
		}
		if from != "" && kk != kind {
			return 0, fmt.Errorf("prompt extractors disagree: %s is %s, %s is %s", from, kind, n, kk)
		}
		kind, from = kk, n
	}
	return kind, nil
}

// Import reads an authors' .pth checkpoint (a BasicSR {'params',
// 'params_ema'} dict or a bare state dict) strictly: every key used, every
// shape equal, or the error names the offending keys. Without
// ImportOptions.Config the architecture is inferred from the keys and
// shapes (InferConfig).
func Import(path string, o *ImportOptions) (*Model, error) {
	if o == nil {
		o = &ImportOptions{}
	}
	ck, err := pth.Load(path)
	if err != nil {
		return nil, fmt.Errorf("mioir: import: %w", err)
	}
	sd, section, err := sectionOf(ck, o.EMA)
	if err != nil {
		return nil, fmt.Errorf("mioir: import %s: %w", path, err)
	}
	k, strip := keysOf(sd)
	var cfg Config
	if o.Config != nil {
		cfg = *o.Config
		if o.Arch != "" && !strings.EqualFold(o.Arch, cfg.arch()) {
			return nil, fmt.Errorf("mioir: import %s: arch %q contradicts the configuration's %q", path, o.Arch, cfg.arch())
		}
	} else if cfg, err = inferKeys(k, o.Arch); err != nil {
		return nil, fmt.Errorf("mioir: import %s: %w", path, err)
	}
	cfg.Classifier = false // attached below
	m, err := build(cfg, nil)
	if err != nil {
		return nil, fmt.Errorf("mioir: import %s: %w", path, err)
	}
	lo := &layers.LoadOptions{}
	if strip {
		lo.Rename = func(n string) string { return "module." + n }
	}
	if err := layers.LoadStateDict(m.network(), sd, lo); err != nil {
		m.Close()
		return nil, fmt.Errorf("mioir: import %s (%s) as %s: %w", path, section, cfg.Name(), err)
	}
	if o.Maps != "" {
		if err := m.LoadMaps(o.Maps); err != nil {
			m.Close()
			return nil, err
		}
	}
	if o.Classifier != "" {
		if err := m.ImportClassifier(o.Classifier); err != nil {
			m.Close()
			return nil, err
		}
	}
	return m, nil
}

// ImportClassifier reads the reference's Classifier.pth ("params", as the
// reference's test code loads it) strictly and attaches it to the model.
func (m *Model) ImportClassifier(path string) error {
	ck, err := pth.Load(path)
	if err != nil {
		return fmt.Errorf("mioir: import classifier: %w", err)
	}
	sd, _, err := sectionOf(ck, false)
	if err != nil {
		return fmt.Errorf("mioir: import classifier %s: %w", path, err)
	}
	c, err := prompt.NewClassifier(nil)
	if err != nil {
		return err
	}
	if err := layers.LoadStateDict(c, sd, nil); err != nil {
		c.Close()
		return fmt.Errorf("mioir: import classifier %s: %w", path, err)
	}
	if err := m.SetClassifier(c); err != nil {
		c.Close()
		return err
	}
	return nil
}

// InitFrom starts fine-tuning from another configuration's weights: it
// copies into m's network (prompt modules and backbone) every tensor of the
// native model file at path whose name and shape match, and leaves the rest
// as they are (an explicit-prompt model's backbone and modulation layers into
// an adaptive-prompt model, whose first extractor convolution takes 3
// channels instead of 1). The file must hold the same backbone class.
// loaded and skipped name m's tensors: look at skipped.
func (m *Model) InitFrom(path string) (loaded, skipped []string, err error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("mioir: init from %s: %w", path, err)
	}
	if f.Metadata[metaFormat] != Format {
		return nil, nil, fmt.Errorf("mioir: init from %s: not a gomioir model (metadata format %q)", path, f.Metadata[metaFormat])
	}
	var from Config
	if err := json.Unmarshal([]byte(f.Metadata[metaConfig]), &from); err != nil {
		return nil, nil, fmt.Errorf("mioir: init from %s: %w", path, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.net == nil {
		return nil, nil, ErrClosedModel
	}
	if from.Arch != m.cfg.Arch {
		// Names such as conv_last.bias recur across backbones with the
		// same shape; copying them alone would be a silent accident.
		return nil, nil, fmt.Errorf("mioir: init from %s: it holds a %s, not a %s", path, from.Name(), m.cfg.Arch)
	}
	loaded, skipped, err = layers.LoadMatching(m.network(), f.Tensors)
	if err != nil {
		return loaded, skipped, fmt.Errorf("mioir: init from %s: %w", path, err)
	}
	return loaded, skipped, nil
}
