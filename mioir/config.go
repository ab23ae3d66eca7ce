package mioir

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/gomioir/gomioir/nets"
	"github.com/gomioir/gomioir/prompt"
)

// Config says which model to build: a backbone registered in package nets
// with its own configuration struct, the prompt kind and whether a task
// classifier is attached. It is stored (as JSON) in native model files, so
// that Load rebuilds the model from the file alone.
//
// In JSON, Arch picks the configuration type, Net holds the configuration
// with the Go field names of its struct, and Prompt is "none", "ep" or "ap":
//
//	{"Arch": "SwinIR", "Net": {"EmbedDim": 60, "Depths": [2, 2], "Heads": [6, 6]}, "Prompt": "ap"}
//
// Decoding JSON into a Config that already holds a configuration of the same
// backbone overlays the fields present in the JSON on it (how
// examples/restore applies -config to an inferred configuration).
type Config struct {
	// Arch is the registered backbone name ("SRResNet", "SwinIR"); it may
	// be left empty when Net is set.
	Arch string
	// Net is the backbone's configuration (nets.SRResNetConfig,
	// nets.SwinIRConfig, ...), of the type registered for Arch; nil means
	// its zero value, the paper configuration.
	Net nets.Config
	// Prompt is the prompt kind: prompt.None, prompt.Explicit (EP, per-task
	// maps) or prompt.Adaptive (AP, the input itself).
	Prompt prompt.Kind
	// Classifier attaches the task classifier that picks an EP model's task
	// automatically.
	Classifier bool
}

type configJSON struct {
	Arch       string
	Net        json.RawMessage `json:",omitempty"`
	Prompt     string
	Classifier bool `json:",omitempty"`
}

// ParsePromptKind reads "none", "ep" or "ap" (also "explicit",
// "adaptive", and "" for none).
func ParsePromptKind(s string) (prompt.Kind, error) {
	switch strings.ToLower(s) {
	case "", "none", "plain":
		return prompt.None, nil
	case "ep", "explicit":
		return prompt.Explicit, nil
	case "ap", "adaptive":
		return prompt.Adaptive, nil
	}
	return 0, fmt.Errorf("mioir: unknown prompt kind %q (none, ep or ap)", s)
}

// MarshalJSON encodes the configuration with the prompt kind as a string.
func (c Config) MarshalJSON() ([]byte, error) {
	j := configJSON{Arch: c.arch(), Prompt: c.Prompt.String(), Classifier: c.Classifier}
	if c.Net != nil {
		b, err := json.Marshal(c.Net)
		if err != nil {
			return nil, fmt.Errorf("mioir: encode %s configuration: %w", j.Arch, err)
		}
		j.Net = b
	}
	return json.Marshal(j)
}

// UnmarshalJSON decodes a configuration. Net is decoded into the backbone's
// configuration type; fields absent from the JSON keep the values c already
// holds for the same backbone (zero values otherwise).
func (c *Config) UnmarshalJSON(b []byte) error {
	j := configJSON{Arch: c.Arch, Prompt: c.Prompt.String(), Classifier: c.Classifier}
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("mioir: decode configuration: %w", err)
	}
	if j.Arch == "" {
		return fmt.Errorf("mioir: decode configuration: no Arch")
	}
	a, err := nets.Lookup(j.Arch)
	if err != nil {
		return fmt.Errorf("mioir: decode configuration: %w", err)
	}
	kind, err := ParsePromptKind(j.Prompt)
	if err != nil {
		return err
	}
	net := reflect.New(reflect.TypeOf(a.Config)).Interface() // a pointer to decode into
	if c.Net != nil && reflect.TypeOf(c.Net) == reflect.TypeOf(a.Config) {
		// Overlay on the current configuration: copy it into the new
		// pointer first.
		reflect.ValueOf(net).Elem().Set(reflect.ValueOf(c.Net))
	}
	if len(j.Net) > 0 && string(j.Net) != "null" {
		dec := json.NewDecoder(strings.NewReader(string(j.Net)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(net); err != nil {
			return fmt.Errorf("mioir: decode %s configuration: %w", a.Name(), err)
		}
	}
	*c = Config{Arch: a.Name(), Net: reflect.ValueOf(net).Elem().Interface().(nets.Config), Prompt: kind, Classifier: j.Classifier}
	return nil
}

// arch is Arch, or the name of Net's backbone when Arch is empty.
func (c Config) arch() string {
	if c.Arch == "" && c.Net != nil {
		return c.Net.ArchName()
	}
	return c.Arch
}

// resolve returns c with Arch set to the registered name and Net to the
// backbone's configuration (its zero value when nil), or an error when
// Arch is unknown or Net is not of the type registered for Arch.
func (c Config) resolve() (Config, nets.Arch, error) {
	a, err := nets.Lookup(c.arch())
	if err != nil {
		return c, a, fmt.Errorf("mioir: %w", err)
	}
	c.Arch = a.Name()
	if c.Net == nil {
		c.Net = a.Config
	}
	if reflect.TypeOf(c.Net) != reflect.TypeOf(a.Config) {
		return c, a, fmt.Errorf("mioir: Arch %q takes a %T configuration, not a %T", c.Arch, a.Config, c.Net)
	}
	return c, a, nil
}

// Name returns the reference class name of the configuration:
// "SwinIR", "SwinIR_EP", "SRResNet_AP", with "+Classifier" when one is
// attached.
func (c Config) Name() string {
	n := c.arch()
	switch c.Prompt {
	case prompt.Explicit:
		n += "_EP"
	case prompt.Adaptive:
		n += "_AP"
	}
	if c.Classifier {
		n += "+Classifier"
	}
	return n
}
