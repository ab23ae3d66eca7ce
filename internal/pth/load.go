package pth

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/types"
)

// zipMagic starts every zip archive (a local file header).
const zipMagic = "PK\x03\x04"

// maxPickleSize bounds data.pkl; real checkpoints' pickles are a few MB.
const maxPickleSize = 1 << 30

// Load reads the PyTorch checkpoint at path.
func Load(path string) (*Checkpoint, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("pth: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("pth: %w", err)
	}
	c, err := Read(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return c, nil
}

// LoadBytes reads a PyTorch checkpoint held in memory.
func LoadBytes(data []byte) (*Checkpoint, error) {
	return Read(bytes.NewReader(data), int64(len(data)))
}

// Read reads a PyTorch checkpoint of the given size from r.
func Read(r io.ReaderAt, size int64) (c *Checkpoint, err error) {
	defer func() {
		// gopickle may panic on malformed streams; report them as errors.
		if p := recover(); p != nil {
			c, err = nil, fmt.Errorf("pth: corrupt checkpoint: %v", p)
		}
	}()
	if err := checkMagic(r, size); err != nil {
		return nil, err
	}
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("pth: truncated or corrupt zip archive: %w", err)
	}
	a, err := openArchive(zr)
	if err != nil {
		return nil, err
	}
	obj, err := a.unpickle()
	if err != nil {
		return nil, err
	}
	return newCheckpoint(obj)
}

func checkMagic(r io.ReaderAt, size int64) error {
	var head [4]byte
	n, _ := r.ReadAt(head[:], 0)
	switch {
	case n == 4 && string(head[:]) == zipMagic:
		return nil
	case n >= 2 && head[0] == 0x80 && head[1] <= 5:
		return errors.New("pth: legacy (pre-1.6, non-zip) PyTorch format is not supported; re-save it with a recent torch.save")
	case size == 0:
		return errors.New("pth: empty file")
	}
	return errors.New("pth: not a PyTorch checkpoint (not a zip archive)")
}

// archive indexes the records of a torch.save zip archive.
type archive struct {
	prefix  string // folder holding data.pkl, with a trailing slash
	records map[string]*zip.File
	loaded  map[string]*storage
}

func openArchive(zr *zip.Reader) (*archive, error) {
	a := &archive{records: make(map[string]*zip.File, len(zr.File)), loaded: map[string]*storage{}}
	var pkl *zip.File
	for _, f := range zr.File {
		a.records[f.Name] = f
		dir, base := splitRecord(f.Name)
		if base == "data.pkl" && strings.Count(f.Name, "/") <= 1 {
			if pkl != nil {
				return nil, errors.New("pth: archive holds more than one data.pkl")
			}
			pkl, a.prefix = f, dir
		}
	}
	if pkl == nil {
		return nil, errors.New("pth: zip archive has no data.pkl (not a torch.save checkpoint)")
	}
	if _, ok := a.records[a.prefix+"constants.pkl"]; ok {
		return nil, errors.New("pth: TorchScript archives are not supported (save model.state_dict() instead)")
	}
	if bo, ok := a.records[a.prefix+"byteorder"]; ok {
		b, err := readRecord(bo, 16)
		if err != nil {
			return nil, err
		}
		if order := strings.TrimSpace(string(b)); order != "little" {
			return nil, fmt.Errorf("pth: %q byte order is not supported", order)
		}
	}
	return a, nil
}

func splitRecord(name string) (dir, base string) {
	i := strings.LastIndexByte(name, '/')
	return name[:i+1], name[i+1:]
}

// readRecord returns the whole content of a zip record, refusing records
// larger than limit.
func readRecord(f *zip.File, limit int64) ([]byte, error) {
	if f.UncompressedSize64 > uint64(limit) {
		return nil, fmt.Errorf("pth: record %s is too large (%d bytes)", f.Name, f.UncompressedSize64)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("pth: record %s: %w", f.Name, err)
	}
	defer rc.Close()
	b := make([]byte, f.UncompressedSize64)
	if _, err := io.ReadFull(rc, b); err != nil {
		return nil, fmt.Errorf("pth: record %s truncated: %w", f.Name, err)
	}
	return b, nil
}

func (a *archive) unpickle() (obj interface{}, err error) {
	defer func() {
		// gopickle indexes its stacks unchecked and panics on some malformed
		// streams; report them as errors.
		if p := recover(); p != nil {
			obj, err = nil, fmt.Errorf("pth: decoding data.pkl: corrupt pickle (%v)", p)
		}
	}()
	pkl, err := readRecord(a.records[a.prefix+"data.pkl"], maxPickleSize)
	if err != nil {
		return nil, err
	}
	if err := checkPickle(pkl); err != nil {
		return nil, fmt.Errorf("pth: decoding data.pkl: %w", err)
	}
	u := pickle.NewUnpickler(bytes.NewReader(pkl))
	u.FindClass = findClass
	u.PersistentLoad = a.persistentLoad
	obj, err = u.Load()
	if err != nil {
		return nil, fmt.Errorf("pth: decoding data.pkl: %w", err)
	}
	return obj, nil
}

// persistentLoad resolves ('storage', storage_class, key, location, numel)
// references to storages read from the archive's data/<key> records.
func (a *archive) persistentLoad(id interface{}) (interface{}, error) {
	t, ok := id.(*types.Tuple)
	if !ok || t.Len() < 5 {
		return nil, fmt.Errorf("unexpected persistent id %v", id)
	}
	if kind, _ := t.Get(0).(string); kind != "storage" {
		return nil, fmt.Errorf("unsupported persistent id kind %v", t.Get(0))
	}
	cls, ok := t.Get(1).(*storageClass)
	if !ok {
		if o, isOpaque := t.Get(1).(*opaque); isOpaque {
			return nil, fmt.Errorf("unsupported storage type %s", o.class)
		}
		return nil, fmt.Errorf("persistent id has no storage class: %v", t.Get(1))
	}
	if cls.dtype == "" {
		return nil, fmt.Errorf("unsupported dtype: storage type %s (supported: float32 float64 float16 bfloat16 int64 int32 uint8 bool)", cls.name)
	}
	key, ok := t.Get(2).(string)
	if !ok {
		return nil, fmt.Errorf("storage key is %T, not a string", t.Get(2))
	}
	numel, err := toInt(t.Get(4))
	if err != nil || numel < 0 {
		return nil, fmt.Errorf("bad storage size %v", t.Get(4))
	}
	if st, ok := a.loaded[key]; ok {
		if st.dtype != cls.dtype {
			return nil, fmt.Errorf("storage %s used as %s and %s", key, st.dtype, cls.dtype)
		}
		return st, nil
	}
	rec, ok := a.records[a.prefix+"data/"+key]
	if !ok {
		return nil, fmt.Errorf("storage record data/%s is missing", key)
	}
	need := uint64(numel) * uint64(cls.dtype.Size())
	if numel > 1<<56 || rec.UncompressedSize64 < need {
		return nil, fmt.Errorf("storage data/%s holds %d bytes, %d %s elements need %d", key, rec.UncompressedSize64, numel, cls.dtype, need)
	}
	data, err := readRecord(rec, int64(rec.UncompressedSize64))
	if err != nil {
		return nil, err
	}
	st := &storage{dtype: cls.dtype, data: data[:need]}
	a.loaded[key] = st
	return st, nil
}
