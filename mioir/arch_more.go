package mioir

import (
	"errors"
	"fmt"
	"math"

	"github.com/gomioir/gomioir/nets"
	"github.com/gomioir/gomioir/nets/blocks"
	"github.com/gomioir/gomioir/nets/torch"
	"github.com/gomioir/gomioir/prompt"
)

func init() {
	for _, a := range []Arch{restormerArch, promptirArch, uformerArch} {
		if err := RegisterArch(a); err != nil {
			panic(err)
		}
	}
}

// restormerArch is Restormer, Restormer_EP and Restormer_AP (reflect
// padding to 64).
var restormerArch = Arch{
	Name:      "Restormer",
	NewConfig: func() any { return new(nets.RestormerConfig) },
	Build: func(g *torch.Generator, cfg any, _ prompt.Kind) (nets.Backbone, error) {
		c, err := configAs[nets.RestormerConfig](cfg)
		if err != nil {
			return nil, err
		}
		return nets.NewRestormer(g, c)
	},
	Pad: func(any) PadRule { return PadRule{Multiple: nets.RestormerPadMultiple} },
	Infer: func(k *Keys) (any, error) {
		if !k.Has("patch_embed.proj.weight") || !k.Has("encoder_level1.0.attn.temperature") {
			return nil, fmt.Errorf("%w: Restormer needs patch_embed.proj.weight and encoder_level1.*", ErrNoMatch)
		}
		if k.Has("prompt1.prompt_param") {
			return nil, fmt.Errorf("%w: prompt1.prompt_param is PromptIR's", ErrNoMatch)
		}
		var c nets.RestormerConfig
		r, err := inferRestormerFamily(k)
		if err != nil {
			return nil, err
		}
		c.InChannels, c.OutChannels, c.Dim = r.in, r.out, r.dim
		c.Blocks, c.Heads, c.FFNExpansion, c.Bias, c.Norm = r.blocks, r.heads, r.ffn, r.bias, r.norm
		c.RefinementBlocks = r.refinement
		if c.RefinementBlocks == 0 {
			c.RefinementBlocks = -1
		}
		c.DualPixelTask = k.Has("skip_conv.weight")
		return c, nil
	},
}

// promptirArch is PromptIR (no EP/AP variant; reflect padding to 64).
var promptirArch = Arch{
	Name:      "PromptIR",
	NewConfig: func() any { return new(nets.PromptIRConfig) },
	Build: func(g *torch.Generator, cfg any, kind prompt.Kind) (nets.Backbone, error) {
		if kind != prompt.None {
			return nil, errors.New("PromptIR has no modulation points (no EP/AP variant; the reference uses Restormer_EP/AP)")
		}
		c, err := configAs[nets.PromptIRConfig](cfg)
		if err != nil {
			return nil, err
		}
		return nets.NewPromptIR(g, c)
	},
	Pad: func(any) PadRule { return PadRule{Multiple: nets.PromptIRPadMultiple} },
	Infer: func(k *Keys) (any, error) {
		if !k.Has("patch_embed.proj.weight") || !k.Has("prompt1.prompt_param") {
			return nil, fmt.Errorf("%w: PromptIR needs patch_embed.proj.weight and prompt1.prompt_param", ErrNoMatch)
		}
		r, err := inferRestormerFamily(k)
		if err != nil {
			return nil, err
		}
		var c nets.PromptIRConfig
		c.InChannels, c.OutChannels, c.Dim = r.in, r.out, r.dim
		c.Blocks, c.Heads, c.FFNExpansion, c.Bias, c.Norm = r.blocks, r.heads, r.ffn, r.bias, r.norm
		c.RefinementBlocks = r.refinement
		for i := range 3 {
			key := fmt.Sprintf("prompt%d.prompt_param", i+1)
			s := k.Shape(key)
			if len(s) != 5 {
				return nil, fmt.Errorf("PromptIR: %s has shape %v, want (1, len, dim, size, size)", key, s)
			}
			if i == 0 {
				c.PromptLen = s[1]
			}
			c.PromptDims[i], c.PromptSizes[i] = s[2], s[3]
		}
		if c.NoiseHeads, err = k.Dim("noise_level1.attn.temperature", 0); err != nil {
			return nil, fmt.Errorf("PromptIR: %w", err)
		}
		return c, nil
	},
}

type restormerFamily struct {
	in, out, dim int64
	blocks       []int
	heads        []int64
	refinement   int
	ffn          float64
	bias         bool
	norm         blocks.NormType
}

// inferRestormerFamily reads what Restormer and PromptIR share: widths,
// block and head counts, the FFN expansion, bias and LayerNorm variant.
func inferRestormerFamily(k *Keys) (r restormerFamily, err error) {
	if r.dim, err = k.Dim("patch_embed.proj.weight", 0); err != nil {
		return r, err
	}
	if r.in, err = k.Dim("patch_embed.proj.weight", 1); err != nil {
		return r, err
	}
	if r.out, err = k.Dim("output.weight", 0); err != nil {
		return r, err
	}
	levels := []string{"encoder_level1", "encoder_level2", "encoder_level3", "latent"}
	lo, hi := 0.0, math.Inf(1)
	for i, l := range levels {
		idx := k.Indices(l + ".")
		if len(idx) == 0 {
			return r, fmt.Errorf("no %s.N.* keys", l)
		}
		if err := contiguous(l+".N", idx); err != nil {
			return r, err
		}
		r.blocks = append(r.blocks, len(idx))
		h, err := k.Dim(l+".0.attn.temperature", 0)
		if err != nil {
			return r, err
		}
		r.heads = append(r.heads, h)
		hidden, err := k.Dim(l+".0.ffn.project_out.weight", 1)
		if err != nil {
			return r, err
		}
		d := float64(r.dim << i)
		lo, hi = max(lo, float64(hidden)/d), min(hi, float64(hidden+1)/d)
	}
	// The FFN expansion: the paper's 2.66 when it gives every level's
	// hidden width, else a value inside the interval they allow.
	fits := func(e float64) bool {
		for i, l := range levels {
			if h, _ := k.Dim(l+".0.ffn.project_out.weight", 1); blocks.GDFNHidden(r.dim<<i, e) != h {
				return false
			}
		}
		return true
	}
	switch {
	case fits(blocks.DefaultFFNExpansion):
		r.ffn = blocks.DefaultFFNExpansion
	case lo < hi && fits((lo+hi)/2):
		r.ffn = (lo + hi) / 2
	default:
		return r, errors.New("no FFN expansion factor gives the hidden widths of *.ffn.project_out.weight")
	}
	r.refinement = len(k.Indices("refinement."))
	// The reference never gives the patch embedding a bias; the output conv
	// has one exactly when the network was built with bias=True.
	r.bias = k.Has("output.bias")
	if !k.Has("encoder_level1.0.norm1.body.bias") {
		r.norm = blocks.NormBiasFree
	}
	return r, nil
}

// uformerLayers are the nine LeWin layers in order.
var uformerLayers = []string{"encoderlayer_0", "encoderlayer_1", "encoderlayer_2", "encoderlayer_3", "conv",
	"decoderlayer_0", "decoderlayer_1", "decoderlayer_2", "decoderlayer_3"}

// uformerArch is Uformer, Uformer_EP and Uformer_AP (reflect padding to 16
// windows, then to a square).
var uformerArch = Arch{
	Name:      "Uformer",
	NewConfig: func() any { return new(nets.UformerConfig) },
	Build: func(g *torch.Generator, cfg any, _ prompt.Kind) (nets.Backbone, error) {
		c, err := configAs[nets.UformerConfig](cfg)
		if err != nil {
			return nil, err
		}
		return nets.NewUformer(g, c)
	},
	Pad: func(cfg any) PadRule {
		c, _ := configAs[nets.UformerConfig](cfg)
		ws := c.WindowSize
		if ws == 0 {
			ws = 8
		}
		return PadRule{Multiple: 16 * ws, Square: true}
	},
	Infer: func(k *Keys) (any, error) {
		if !k.Has("input_proj.proj.0.weight") || !k.Has("output_proj.proj.0.weight") {
			return nil, fmt.Errorf("%w: Uformer needs input_proj.proj.0.weight and output_proj.proj.0.weight", ErrNoMatch)
		}
		c := nets.UformerPaperConfig()
		var err error
		if c.EmbedDim, err = k.Dim("input_proj.proj.0.weight", 0); err != nil {
			return nil, err
		}
		if c.DDIn, err = k.Dim("input_proj.proj.0.weight", 1); err != nil {
			return nil, err
		}
		if c.InChannels, err = k.Dim("output_proj.proj.0.weight", 0); err != nil {
			return nil, err
		}
		c.Depths, c.Heads = nil, nil
		for i, l := range uformerLayers {
			p := l + ".blocks."
			idx := k.Indices(p)
			if len(idx) == 0 {
				return nil, fmt.Errorf("Uformer: no %s* keys", p)
			}
			if err := contiguous(p+"N", idx); err != nil {
				return nil, err
			}
			c.Depths = append(c.Depths, len(idx))
			tab := p + "0.attn.relative_position_bias_table"
			h, err := k.Dim(tab, 1)
			if err != nil {
				return nil, err
			}
			c.Heads = append(c.Heads, h)
			if i == 0 {
				rows, _ := k.Dim(tab, 0)
				w := int64(1)
				for (2*w-1)*(2*w-1) < rows {
					w++
				}
				if (2*w-1)*(2*w-1) != rows {
					return nil, fmt.Errorf("Uformer: %s has %d rows, not (2*window-1)^2", tab, rows)
				}
				c.WindowSize = w
				hidden, err := k.Dim(p+"0.mlp.linear1.0.weight", 0)
				if err != nil {
					return nil, err
				}
				c.MLPRatio = float64(hidden) / float64(c.EmbedDim)
				c.NoQKVBias = !k.Has(p + "0.attn.qkv.to_q.bias")
			}
		}
		c.NoModulator = !k.Has("decoderlayer_0.blocks.0.modulator.weight")
		return c, nil
	},
}
