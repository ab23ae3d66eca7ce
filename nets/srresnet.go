package nets

import (
	"fmt"
	"strconv"

	"github.com/gomioir/gomioir/curriculum"
	"github.com/gomioir/gomioir/nets/keys"
	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
)

// SRResNetConfig configures an SRResNet. Zero fields take the paper's values
// (section 5.1 of the method: 3 in, 3 out, 64 features, 16 blocks, upscale 1).
type SRResNetConfig struct {
	InChannels, OutChannels int64
	Features                int64
	Blocks                  int
	// Upscale must be 0 or 1: the MiOIR SRResNet works at the input size
	// (x4 SR inputs are upsampled beforehand); other factors are refused.
	Upscale int
	// Prompted selects the reference EP/AP variant (SRResNet_EP,
	// SRResNet_AP): the body blocks are named body1..body16 with the block
	// at index 0 ("body1.0.conv1.weight") instead of body.0..body.15, and
	// conv_first, conv_hr and conv_last keep PyTorch's default init instead
	// of BasicSR's Kaiming-normal x0.1. The computation is the same.
	Prompted bool
}

func init() {
	mustRegister(Arch{Config: SRResNetConfig{}, Infer: inferSRResNet,
		Recipe: Recipe{Period: 250_000, Order: curriculum.OrderSBNJRHD()}})
}

// ArchName is "SRResNet" (the EP/AP variants included).
func (SRResNetConfig) ArchName() string { return "SRResNet" }

// New builds the network (NewSRResNet).
func (c SRResNetConfig) New(g *torch.Generator) (Backbone, error) { return backbone(NewSRResNet(g, c)) }

// Pad is none: the reference feeds the whole image.
func (SRResNetConfig) Pad() PadRule { return PadRule{Multiple: 1} }

// inferSRResNet reads SRResNet, SRResNet_EP and SRResNet_AP keys; the
// body1..body16 naming of the latter two sets Prompted.
func inferSRResNet(k *keys.Keys) (Config, error) {
	if !k.Has("conv_first.weight") || !k.Has("conv_hr.weight") || !k.Has("conv_last.weight") {
		return nil, fmt.Errorf("%w: SRResNet needs conv_first, conv_hr and conv_last", keys.ErrNoMatch)
	}
	r := k.Reader()
	c := SRResNetConfig{Upscale: 1, Features: r.Dim("conv_first.weight", 0), InChannels: r.Dim("conv_first.weight", 1),
		OutChannels: r.Dim("conv_last.weight", 0)}
	switch {
	case len(k.Indices("body.")) > 0:
		c.Blocks = r.Count("body.")
	case k.Has("body1.0.conv1.weight"):
		c.Prompted = true
		for k.Has("body" + strconv.Itoa(c.Blocks+1) + ".0.conv1.weight") {
			c.Blocks++
		}
	default:
		return nil, fmt.Errorf("%w: SRResNet needs body.0.* or body1.0.*", keys.ErrNoMatch)
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c SRResNetConfig) withDefaults() SRResNetConfig {
	if c.InChannels == 0 {
		c.InChannels = 3
	}
	if c.OutChannels == 0 {
		c.OutChannels = 3
	}
	if c.Features == 0 {
		c.Features = 64
	}
	if c.Blocks == 0 {
		c.Blocks = 16
	}
	if c.Upscale == 0 {
		c.Upscale = 1
	}
	return c
}

// SRResNet is the MiOIR SRResNet backbone (BasicSR's MSRResNet at upscale 1):
// conv_first, LeakyReLU(0.1), residual blocks, conv_hr, LeakyReLU(0.1),
// conv_last, plus the input (global skip). Modulation points follow each
// block, conv_hr's activation and conv_last.
type SRResNet struct {
	Config    SRResNetConfig
	ConvFirst *layers.Conv2d
	Body      []*layers.ResidualBlockNoBN
	ConvHR    *layers.Conv2d
	ConvLast  *layers.Conv2d

	points []string // hook names of the blocks: body1, body2, ...
}

var _ Backbone = (*SRResNet)(nil)

// NewSRResNet builds an SRResNet initialised from g in the reference's order
// (a nil g leaves zeros for loading).
func NewSRResNet(g *torch.Generator, cfg SRResNetConfig) (*SRResNet, error) {
	c := cfg.withDefaults()
	if c.Upscale != 1 {
		return nil, fmt.Errorf("nets: SRResNet: upscale %d is not supported (only 1)", c.Upscale)
	}
	if c.Prompted && c.Blocks != 16 {
		return nil, fmt.Errorf("nets: SRResNet: the prompted variant has 16 blocks, not %d", c.Blocks)
	}
	if c.Blocks < 0 || c.Features < 0 || c.InChannels < 0 || c.OutChannels < 0 {
		return nil, fmt.Errorf("nets: SRResNet: negative size in %+v", cfg)
	}
	n := &SRResNet{Config: c}
	fail := func(err error) (*SRResNet, error) {
		n.Close()
		return nil, fmt.Errorf("nets: SRResNet: %w", err)
	}
	var err error
	if n.ConvFirst, err = layers.NewConv2d(g, c.InChannels, c.Features, 3, &layers.ConvConfig{Padding: 1}); err != nil {
		return fail(err)
	}
	for range c.Blocks {
		b, err := layers.NewResidualBlockNoBN(g, c.Features, 1)
		if err != nil {
			return fail(err)
		}
		n.Body = append(n.Body, b)
		n.points = append(n.points, "body"+strconv.Itoa(len(n.Body)))
	}
	if n.ConvHR, err = layers.NewConv2d(g, c.Features, c.Features, 3, &layers.ConvConfig{Padding: 1}); err != nil {
		return fail(err)
	}
	if n.ConvLast, err = layers.NewConv2d(g, c.Features, c.OutChannels, 3, &layers.ConvConfig{Padding: 1}); err != nil {
		return fail(err)
	}
	if !c.Prompted {
		for _, conv := range []*layers.Conv2d{n.ConvFirst, n.ConvHR, n.ConvLast} {
			if err := layers.ScaledKaimingInit(g, conv, 0.1); err != nil {
				return fail(err)
			}
		}
	}
	return n, nil
}

// blockName is the state_dict prefix of body block i: the explicit key
// mapping between the two reference classes.
func (n *SRResNet) blockName(i int) string {
	if n.Config.Prompted {
		return "body" + strconv.Itoa(i+1) + ".0"
	}
	return "body." + strconv.Itoa(i)
}

// Visit reports the tensors with the reference names of the configured
// variant: conv_first, body.N (or bodyN.0), conv_hr, conv_last.
func (n *SRResNet) Visit(v layers.Visitor) {
	v.Module("conv_first", n.ConvFirst)
	for i, b := range n.Body {
		v.Module(n.blockName(i), b)
	}
	v.Module("conv_hr", n.ConvHR)
	v.Module("conv_last", n.ConvLast)
}

// Modulation lists the points of section 4.3 for this network.
func (n *SRResNet) Modulation() Modulation { return n.Config.Modulation() }

// Modulation lists the points of section 4.3: after each block
// ("body1".."body16", FC keys prompt_scale1..), after conv_hr's activation
// ("hr") and after conv_last ("out"), all fed by one extractor F_ext_net.
// It needs no network, so prompt modules can be built before the backbone
// (the reference's construction order, which seeded builds follow).
func (c SRResNetConfig) Modulation() Modulation {
	c = c.withDefaults()
	m := Modulation{Extractors: []string{"F_ext_net"}}
	add := func(suffix string, ch int64) {
		m.Points = append(m.Points, ModulationPoint{
			Name: pointName(suffix), Channels: ch, Layout: ChannelsFirst,
			ScaleKey: "prompt_scale" + suffix, ShiftKey: "prompt_shift" + suffix,
		})
	}
	for i := range c.Blocks {
		add(strconv.Itoa(i+1), c.Features)
	}
	add("hr", c.Features)
	add("out", c.OutChannels)
	return m
}

func pointName(suffix string) string {
	if suffix == "hr" || suffix == "out" {
		return suffix
	}
	return "body" + suffix
}

// Forward restores x (N, 3, H, W), calling hook at every modulation point
// (nil: the plain network).
func (n *SRResNet) Forward(x *torch.Tensor, hook Hook) *torch.Tensor {
	// Each stage runs in its own child scope (layers.Step) and the previous
	// feature map is freed as soon as the next exists: a forward pass holds
	// two or three feature maps instead of all ~70.
	f := layers.Step(x, func(x *torch.Tensor) *torch.Tensor {
		return n.ConvFirst.ForwardFused(x, torch.LeakyReLU(0.1), nil)
	})
	advance := func(point string, stage func(f *torch.Tensor) *torch.Tensor) {
		next := layers.Step(f, func(f *torch.Tensor) *torch.Tensor {
			return hook.Apply(point, stage(f))
		})
		f.Close()
		f = next
	}
	for i, b := range n.Body {
		advance(n.points[i], b.Forward)
	}
	advance("hr", func(f *torch.Tensor) *torch.Tensor { return n.ConvHR.ForwardFused(f, torch.LeakyReLU(0.1), nil) })
	// upscale 1: the reference's bilinear resize of x is the identity. The
	// plain network adds the input in conv_last's epilogue; the prompted one
	// modulates conv_last's output first.
	if hook == nil {
		out := n.ConvLast.ForwardFused(f, torch.NoActivation, x)
		f.Close()
		return out
	}
	advance("out", n.ConvLast.Forward)
	out := f.Add(x)
	f.Close()
	return out
}

// Close frees the parameters.
func (n *SRResNet) Close() {
	if n != nil {
		layers.Close(n)
	}
}
