package mioir

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/internal/fixtures"
	"github.com/gomioir/gomioir/internal/safetensors"
	"github.com/gomioir/gomioir/internal/testutil"
	"github.com/gomioir/gomioir/nets"
	"github.com/gomioir/gomioir/nets/keys"
	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
	"github.com/gomioir/gomioir/prompt"
)

// fullKeys reads <name>.full.keys.json (the paper configuration's keys).
func fullKeys(t *testing.T, name string) *keys.Keys { return keysFile(t, name+".full.keys.json") }

// reducedKeys reads <name>.keys.json (the fixture's keys).
func reducedKeys(t *testing.T, name string) *keys.Keys { return keysFile(t, name+".keys.json") }

func keysFile(t *testing.T, file string) *keys.Keys {
	return keys.New(testutil.KeyShapes(t, file))
}

// TestInferPaperConfigs infers the architecture from the paper
// configurations' key lists (the released checkpoints) and checks that the
// model built from the inferred configuration has exactly those keys and
// shapes, and the paper's parameter counts.
func TestInferPaperConfigs(t *testing.T) {
	for _, c := range []struct {
		name   string
		kind   prompt.Kind
		params int64
	}{
		{"SRResNet", prompt.None, 1_222_147},
		{"SRResNet_EP", prompt.Explicit, 1_441_033},
		{"SRResNet_AP", prompt.Adaptive, 1_447_305},
		{"SwinIR", prompt.None, 11_604_775},
		{"SwinIR_EP", prompt.Explicit, 11_854_341},
		{"SwinIR_AP", prompt.Adaptive, 11_860_613},
		{"Restormer", prompt.None, 26_126_644},
		{"Restormer_EP", prompt.Explicit, 26_547_578},
		{"Restormer_AP", prompt.Adaptive, 26_572_666},
		{"Uformer", prompt.None, 50_880_946},
		{"Uformer_EP", prompt.Explicit, 51_457_976},
		{"Uformer_AP", prompt.Adaptive, 51_489_336},
		{"PromptIR", prompt.None, 35_376_967},
	} {
		t.Run(c.name, func(t *testing.T) {
			k := fullKeys(t, c.name)
			cfg, err := inferKeys(k, "")
			require.NoError(t, err)
			require.Equal(t, c.kind, cfg.Prompt)
			require.Equal(t, c.name, cfg.Name())
			switch net := cfg.Net.(type) {
			case nets.SwinIRConfig:
				require.Equal(t, nets.SwinIRPaperConfig(), net)
			case nets.RestormerConfig:
				require.Equal(t, nets.RestormerPaperConfig(), net)
			case nets.UformerConfig:
				require.Equal(t, nets.UformerPaperConfig(), net)
			case nets.PromptIRConfig:
				require.Equal(t, nets.PromptIRPaperConfig(), net)
			}
			m, err := build(cfg, nil)
			require.NoError(t, err)
			defer m.Close()
			require.Equal(t, c.params, layers.NumParams(m.network()))
			ps := layers.Params(m.network())
			require.Len(t, ps, k.Len())
			for _, p := range ps {
				require.True(t, k.Has(p.Name), p.Name)
				require.Equal(t, k.Shape(p.Name), p.Tensor().Shape(), p.Name)
			}
		})
	}
}

func TestImportErrors(t *testing.T) {
	path := func(n string) string { return fixtures.Path(t, "models", n) }
	live := torch.LiveTensors()

	// Wrong architecture hint: the error says so and names what is missing.
	_, err := Import(path("SwinIR.pth"), &ImportOptions{Arch: "SRResNet"})
	require.ErrorContains(t, err, "its keys are not those of SRResNet")
	require.ErrorContains(t, err, "conv_hr")
	_, err = Import(path("SwinIR.pth"), &ImportOptions{Arch: "NoSuchNet"})
	require.ErrorContains(t, err, `unknown backbone "NoSuchNet"`)

	// A configuration that does not match the checkpoint: strict load names
	// the offending keys.
	_, err = Import(path("SwinIR_EP.pth"), &ImportOptions{Config: &Config{Arch: "SwinIR",
		Net: nets.SwinIRConfig{Depths: []int{2}, Heads: []int64{6}, MLPRatio: 1, ImgSize: 16}, Prompt: prompt.Adaptive}})
	require.ErrorContains(t, err, "F_ext_net.conv1.weight")
	require.ErrorContains(t, err, "want [64 3 7 7], got [64 1 7 7]")
	_, err = Import(path("SRResNet.pth"), &ImportOptions{Config: &Config{Arch: "SRResNet", Net: nets.SRResNetConfig{Blocks: 15}}})
	require.ErrorContains(t, err, "body.15.conv1.weight")

	// The classifier is not a restoration network.
	_, err = Import(path("Classifier.pth"), nil)
	require.ErrorContains(t, err, "task classifier checkpoint")

	// Not a .pth at all.
	_, err = Import(path("type7.npy"), nil)
	require.Error(t, err)
	// An EP model without maps cannot restore with a task.
	m, err := Import(path("SRResNet_EP.pth"), nil)
	require.NoError(t, err)
	_, _, err = m.Restore(context.Background(), testImage(8, 8, 1), &Options{Task: 1})
	require.ErrorContains(t, err, "type7.npy")
	m.Close()
	require.Equal(t, live, torch.LiveTensors())
}

// TestImportUnknownKeys: a state dict that matches nothing gives an error
// naming its first keys and what each backbone looked for.
func TestImportUnknownKeys(t *testing.T) {
	k := keys.New([]string{"encoder.weight", "decoder.weight"}, [][]int64{{3}, {3}})
	_, err := inferKeys(k, "")
	require.ErrorContains(t, err, "no registered backbone matches")
	require.ErrorContains(t, err, "encoder.weight, decoder.weight")
	require.ErrorContains(t, err, "SwinIR needs patch_embed.norm.weight")

	k = keys.New([]string{"F_ext_net.conv1.weight"}, [][]int64{{64, 2, 7, 7}})
	_, err = inferKeys(k, "")
	require.ErrorContains(t, err, "F_ext_net.conv1.weight has shape [64 2 7 7]")
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	// Corrupt file.
	bad := filepath.Join(dir, "bad.safetensors")
	require.NoError(t, os.WriteFile(bad, []byte("not a model"), 0o644))
	_, err := Load(bad)
	require.ErrorContains(t, err, "mioir: load")
	// A safetensors file without our metadata.
	m, err := New(Config{Arch: "SRResNet", Net: nets.SRResNetConfig{Features: 4, Blocks: 1}}, 1)
	require.NoError(t, err)
	defer m.Close()
	sd, err := layers.StateDict(m)
	require.NoError(t, err)
	plain := filepath.Join(dir, "plain.safetensors")
	require.NoError(t, safetensors.WriteFile(plain, sd, nil))
	_, err = Load(plain)
	require.ErrorContains(t, err, "not a gomioir model")
	// A newer format version.
	newer := filepath.Join(dir, "newer.safetensors")
	require.NoError(t, safetensors.WriteFile(newer, sd, map[string]string{"format": Format, "format_version": "99", "config": "{}"}))
	_, err = Load(newer)
	require.ErrorContains(t, err, `format version "99" is not supported`)
	// Metadata that contradicts the tensors: strict errors name the keys.
	lie := filepath.Join(dir, "lie.safetensors")
	require.NoError(t, safetensors.WriteFile(lie, sd, map[string]string{"format": Format, "format_version": "1",
		"config": `{"Arch":"SRResNet","Net":{"Features":4,"Blocks":2},"Prompt":"none"}`}))
	_, err = Load(lie)
	require.ErrorContains(t, err, "body.1.conv1.weight")
}

// TestSaveLoadKeepsEverything: an EP model with its maps and classifier
// survives Save/Load bit for bit, and the file carries the configuration.
func TestSaveLoadKeepsEverything(t *testing.T) {
	cfg := Config{Arch: "SwinIR", Net: nets.SwinIRConfig{EmbedDim: 12, Depths: []int{2}, Heads: []int64{3}, ImgSize: 16},
		Prompt: prompt.Explicit, Classifier: true}
	m, err := New(cfg, 9)
	require.NoError(t, err)
	defer m.Close()
	path := filepath.Join(t.TempDir(), "m.safetensors")
	require.NoError(t, m.Save(path))
	h, err := safetensors.ReadHeaderFile(path)
	require.NoError(t, err)
	require.Equal(t, Format, h.Metadata["format"])
	require.Contains(t, h.Metadata["config"], `"Prompt":"ep"`)
	l, err := Load(path)
	require.NoError(t, err)
	defer l.Close()
	require.True(t, l.HasMaps())
	require.True(t, l.HasClassifier())
	require.Equal(t, "SwinIR_EP+Classifier", l.Config().Name())
	sameWeights(t, m, l)
	img := testImage(21, 19, 4)
	o1, i1, err := m.Restore(context.Background(), img, nil)
	require.NoError(t, err)
	o2, i2, err := l.Restore(context.Background(), img, nil)
	require.NoError(t, err)
	require.Equal(t, o1.Pix, o2.Pix)
	require.Equal(t, i1.Task, i2.Task)

	// Read takes the same bytes from a stream (go:embed) with the same checks.
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	r, err := Read(bytes.NewReader(raw))
	require.NoError(t, err)
	defer r.Close()
	o3, i3, err := r.Restore(context.Background(), img, nil)
	require.NoError(t, err)
	require.Equal(t, o1.Pix, o3.Pix)
	require.Equal(t, i1.Task, i3.Task)
	_, err = Read(bytes.NewReader(raw[:len(raw)/2]))
	require.ErrorContains(t, err, "mioir: read model")
	_, err = Read(strings.NewReader("not a model"))
	require.Error(t, err)
}

// TestConfigJSON: configurations round-trip through JSON, and JSON decoded
// onto an inferred configuration overlays only the fields it names.
func TestConfigJSON(t *testing.T) {
	cfg := Config{Arch: "SwinIR", Net: nets.SwinIRConfig{EmbedDim: 60, Depths: []int{2, 2}, Heads: []int64{6, 6}},
		Prompt: prompt.Adaptive, Classifier: true}
	b, err := json.Marshal(cfg)
	require.NoError(t, err)
	var back Config
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, cfg, back)

	base := Config{Arch: "SwinIR", Net: nets.SwinIRPaperConfig(), Prompt: prompt.Explicit}
	require.NoError(t, json.Unmarshal([]byte(`{"Net": {"ImgRange": 255}}`), &base))
	sc := base.Net.(nets.SwinIRConfig)
	require.Equal(t, 255.0, sc.ImgRange)
	require.Equal(t, int64(180), sc.EmbedDim)
	require.Equal(t, prompt.Explicit, base.Prompt)

	require.ErrorContains(t, json.Unmarshal([]byte(`{"Arch":"SwinIR","Net":{"Bogus":1}}`), &base), "Bogus")
	require.ErrorContains(t, json.Unmarshal([]byte(`{"Arch":"SwinIR","Prompt":"xp"}`), &base), `unknown prompt kind "xp"`)
}

// TestInferFixtureKeys infers the reduced fixture configurations from their
// key lists and checks that the built model has exactly those keys.
func TestInferFixtureKeys(t *testing.T) {
	for _, name := range []string{"SRResNet", "SRResNet_EP", "SwinIR", "SwinIR_AP", "Restormer", "Restormer_EP",
		"Uformer", "Uformer_AP", "PromptIR"} {
		t.Run(name, func(t *testing.T) {
			k := reducedKeys(t, name)
			cfg, err := inferKeys(k, "")
			require.NoError(t, err)
			require.Equal(t, name, cfg.Name())
			m, err := build(cfg, nil)
			require.NoError(t, err)
			defer m.Close()
			ps := layers.Params(m.network())
			require.Len(t, ps, k.Len())
			for _, p := range ps {
				require.Equal(t, k.Shape(p.Name), p.Tensor().Shape(), p.Name)
			}
		})
	}
}

func TestForwardAndKindErrors(t *testing.T) {
	for s, want := range map[string]prompt.Kind{"": prompt.None, "none": prompt.None, "EP": prompt.Explicit, "adaptive": prompt.Adaptive} {
		k, err := ParsePromptKind(s)
		require.NoError(t, err)
		require.Equal(t, want, k)
	}
	_, err := ParsePromptKind("xp")
	require.Error(t, err)

	m, err := New(Config{Arch: "SRResNet", Net: nets.SRResNetConfig{Features: 4, Blocks: 1}, Prompt: prompt.Explicit}, 1)
	require.NoError(t, err)
	defer m.Close()
	s := torch.NewScope(torch.Inference)
	defer s.Close()
	x, err := torch.Zeros(s, []int64{1, 3, 8, 8}, nil)
	require.NoError(t, err)
	_, err = m.Forward(x, nil)
	require.ErrorContains(t, err, "needs a prompt")
	p, err := m.TaskPrompt(s, 1, 2)
	require.NoError(t, err)
	require.Equal(t, []int64{2, 1, 128, 128}, p.Shape())
	plain, err := New(Config{Arch: "SRResNet", Net: nets.SRResNetConfig{Features: 4, Blocks: 1}}, 1)
	require.NoError(t, err)
	defer plain.Close()
	_, err = plain.TaskPrompt(s, 1)
	require.ErrorContains(t, err, "has no explicit prompt")
	require.ErrorContains(t, plain.LoadMaps("nowhere.npy"), "nowhere.npy")
	_, err = New(Config{Arch: "PromptIR", Prompt: prompt.Adaptive}, 1)
	require.ErrorContains(t, err, "no modulation points")
	_, err = New(Config{Arch: "SwinIR", Net: nets.SRResNetConfig{}}, 1)
	require.ErrorContains(t, err, `Arch "SwinIR" takes a nets.SwinIRConfig configuration, not a nets.SRResNetConfig`)
}

// A Restormer built with bias=True is recognised as such: the reference never
// gives the patch embedding a bias, so the output conv's bias tells.
func TestInferRestormerBias(t *testing.T) {
	for _, bias := range []bool{false, true} {
		cfg := Config{Arch: "Restormer", Net: nets.RestormerConfig{Dim: 4, Blocks: []int{1, 1, 1, 1}, RefinementBlocks: 1, Bias: bias}}
		m, err := build(cfg, nil)
		require.NoError(t, err)
		var names []string
		var shapes [][]int64
		for _, p := range layers.Params(m.network()) {
			names = append(names, p.Name)
			shapes = append(shapes, p.Tensor().Shape())
		}
		m.Close()
		require.Equal(t, bias, slices.Contains(names, "output.bias"))
		got, err := inferKeys(keys.New(names, shapes), "")
		require.NoError(t, err)
		require.Equal(t, bias, got.Net.(nets.RestormerConfig).Bias, "bias=%v", bias)
	}
}

// TestInitFromAcrossPromptKinds: an explicit-prompt model's backbone and
// modulation layers seed an adaptive-prompt model; the one tensor whose
// shape differs (the extractor's first convolution: 1 channel for a map, 3
// for an image) keeps its seeded values.
func TestInitFromAcrossPromptKinds(t *testing.T) {
	net := nets.SRResNetConfig{Features: 8, Blocks: 2}
	ep, err := New(Config{Arch: "SRResNet", Net: net, Prompt: prompt.Explicit}, 1)
	require.NoError(t, err)
	defer ep.Close()
	path := filepath.Join(t.TempDir(), "ep.safetensors")
	require.NoError(t, ep.Save(path))
	ap, err := New(Config{Arch: "SRResNet", Net: net, Prompt: prompt.Adaptive}, 2)
	require.NoError(t, err)
	defer ap.Close()
	seeded, err := layers.StateDict(ap)
	require.NoError(t, err)
	loaded, skipped, err := ap.InitFrom(path)
	require.NoError(t, err)
	require.Equal(t, []string{"F_ext_net.conv1.weight"}, skipped)
	a, err := layers.StateDict(ep)
	require.NoError(t, err)
	b, err := layers.StateDict(ap)
	require.NoError(t, err)
	require.Len(t, loaded, len(b.Keys())-1)
	for _, k := range loaded {
		x, _ := a.Get(k)
		y, _ := b.Get(k)
		require.Equal(t, x, y, k)
	}
	x, _ := seeded.Get(skipped[0])
	y, _ := b.Get(skipped[0])
	require.Equal(t, x, y, "the skipped tensor keeps its seeded values")

	other, err := New(Config{Arch: "SwinIR", Net: nets.SwinIRConfig{EmbedDim: 12, Depths: []int{2}, Heads: []int64{3}, ImgSize: 16}}, 3)
	require.NoError(t, err)
	defer other.Close()
	_, _, err = other.InitFrom(path)
	require.ErrorContains(t, err, "holds a SRResNet_EP, not a SwinIR")
	_, _, err = ap.InitFrom(filepath.Join(t.TempDir(), "absent.safetensors"))
	require.ErrorContains(t, err, "mioir: init from")
}
