package mioir

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
)

// BundledPrefix starts the names Open gives to models compiled into a
// program: Open("bundled:default") is the library's default model once
// package mioir/pretrained is linked in (it registers itself, as image/png
// registers its format with package image).
const BundledPrefix = "bundled:"

var (
	bundledMu sync.RWMutex
	bundled   = map[string]func() ([]byte, error){}
)

// RegisterBundled makes a native model compiled into the program available
// to Open as BundledPrefix+name; read returns the model file's bytes (as
// Save writes them). Registering a name twice is an error.
func RegisterBundled(name string, read func() ([]byte, error)) error {
	if name == "" || read == nil {
		return errors.New("mioir: register bundled model: empty name or nil reader")
	}
	bundledMu.Lock()
	defer bundledMu.Unlock()
	if _, dup := bundled[name]; dup {
		return fmt.Errorf("mioir: bundled model %q is already registered", name)
	}
	bundled[name] = read
	return nil
}

// Bundled returns the names of the registered bundled models, sorted,
// each with BundledPrefix.
func Bundled() []string {
	bundledMu.RLock()
	defer bundledMu.RUnlock()
	var names []string
	for n := range bundled {
		names = append(names, BundledPrefix+n)
	}
	slices.Sort(names)
	return names
}

// Open opens a model of any kind the library reads: a bundled model by name
// (BundledPrefix), a native model file (written by Save) or an authors'
// checkpoint (.pth, read by Import), told apart by content rather than by
// extension. A nil *ImportOptions infers everything. Maps and Classifier
// apply to every kind; Arch, Config and EMA only to checkpoints, which need
// them, and are refused for native and bundled models, which carry their
// configuration.
func Open(name string, o *ImportOptions) (*Model, error) {
	if o == nil {
		o = &ImportOptions{}
	}
	native := func(what string) error {
		if o.Arch != "" || o.Config != nil || o.EMA {
			return fmt.Errorf("mioir: open %s: Arch, Config and EMA apply to .pth checkpoints; a %s model carries its configuration", name, what)
		}
		return nil
	}
	if n, ok := strings.CutPrefix(name, BundledPrefix); ok {
		if err := native("bundled"); err != nil {
			return nil, err
		}
		bundledMu.RLock()
		read := bundled[n]
		bundledMu.RUnlock()
		if read == nil {
			return nil, fmt.Errorf("mioir: open %s: no such bundled model (registered: %v; the default one needs an import of github.com/gomioir/gomioir/mioir/pretrained)", name, Bundled())
		}
		b, err := read()
		if err != nil {
			return nil, fmt.Errorf("mioir: open %s: %w", name, err)
		}
		m, err := Read(bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		return m.attach(o)
	}
	isNative, err := sniffNative(name)
	if err != nil {
		return nil, fmt.Errorf("mioir: open: %w", err)
	}
	if !isNative {
		return Import(name, o)
	}
	if err := native("native"); err != nil {
		return nil, err
	}
	m, err := Load(name)
	if err != nil {
		return nil, err
	}
	return m.attach(o)
}

// attach loads o's maps and classifier into a freshly opened model and
// returns it; on error the model is closed and nil returned.
func (m *Model) attach(o *ImportOptions) (*Model, error) {
	var err error
	if o.Maps != "" {
		err = m.LoadMaps(o.Maps)
	}
	if err == nil && o.Classifier != "" {
		err = m.ImportClassifier(o.Classifier)
	}
	if err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

// sniffNative reports whether the file at path looks like safetensors (an
// 8-byte little-endian header length, then a JSON object) rather than a
// PyTorch checkpoint (a zip archive or a legacy pickle).
func sniffNative(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	var head [9]byte
	n, err := io.ReadFull(f, head[:])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return false, err
	}
	if n < len(head) {
		return false, fmt.Errorf("%s: %d bytes is neither a model file nor a checkpoint", path, n)
	}
	return head[8] == '{' && binary.LittleEndian.Uint64(head[:8]) > 1, nil
}
