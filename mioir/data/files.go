package data

import (
	"container/list"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // decoders for the formats listed in imageExts
	_ "image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	_ "golang.org/x/image/bmp"
	_ "golang.org/x/image/tiff"
	_ "golang.org/x/image/webp"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/internal/imgconv"
)

// Errors reported by the package. Errors returned by constructors and loaders
// wrap one of these where it applies, so callers can test them with errors.Is.
var (
	// ErrEmpty: a folder or meta file without any usable image.
	ErrEmpty = errors.New("data: no usable images")
	// ErrMismatch: GT and LQ files that do not pair (a missing counterpart or
	// incompatible sizes).
	ErrMismatch = errors.New("data: mismatched GT/LQ pair")
	// ErrTooSmall: an image smaller than the training patch.
	ErrTooSmall = errors.New("data: image smaller than the patch")
	// ErrClosed: the loader was closed.
	ErrClosed = errors.New("data: loader closed")
)

// imageExts are the file extensions treated as images (case-insensitive).
var imageExts = []string{".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}

func isImageFile(name string) bool {
	return slices.Contains(imageExts, strings.ToLower(filepath.Ext(name)))
}

// listImages returns the sorted names of the image files directly in dir.
func listImages(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	var names []string
	for _, e := range ents {
		if e.Type().IsRegular() && isImageFile(e.Name()) {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names, nil
}

// imageSize reads the size of an image file from its header only.
func imageSize(path string) (w, h int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	c, _, err := image.DecodeConfig(f)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %w", path, err)
	}
	if c.Width <= 0 || c.Height <= 0 {
		return 0, 0, fmt.Errorf("%s: empty image %dx%d", path, c.Width, c.Height)
	}
	return c.Width, c.Height, nil
}

// planes is a decoded image as 8-bit RGB planes (R, G, B, each h rows of w
// bytes): a third of the memory of the float32 form, converted per patch.
type planes struct {
	w, h int
	pix  []uint8

	depthOnce sync.Once // haze pseudo-depth of the mod-4 image, computed once
	depth     *degrade.DepthMap
	depthMax  float64
	depthErr  error
}

func decodePlanes(path string) (*planes, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	pix, w, h := imgconv.RGB8Planes(img)
	if pix == nil {
		return nil, fmt.Errorf("%s: empty image", path)
	}
	return &planes{w: w, h: h, pix: pix}, nil
}

// crop returns rectangle r (inside the image) as a float32 Image with values
// v/255, exactly what degrade.FromImage gives for the same pixels.
func (p *planes) crop(r image.Rectangle) *degrade.Image {
	w, h := r.Dx(), r.Dy()
	out := degrade.NewImage(w, h)
	n := p.w * p.h
	for c := range 3 {
		src := p.pix[c*n:]
		dst := out.Pix[c*w*h:]
		for y := range h {
			row := src[(r.Min.Y+y)*p.w+r.Min.X:]
			d := dst[y*w : (y+1)*w]
			for x := range d {
				d[x] = imgconv.FromByte(row[x])
			}
		}
	}
	return out
}

// cache is a byte-bounded LRU of decoded images, safe for concurrent use.
// Two goroutines asking for the same missing image may both decode it; the
// results are identical, so this only costs time.
type cache struct {
	mu    sync.Mutex
	limit int64
	used  int64
	ll    *list.List
	items map[string]*list.Element
}

type cacheEntry struct {
	key string
	p   *planes
}

func newCache(limit int64) *cache {
	return &cache{limit: limit, ll: list.New(), items: map[string]*list.Element{}}
}

// load returns the decoded image at path, from the cache when present.
func (c *cache) load(path string) (*planes, error) {
	if c == nil || c.limit <= 0 {
		return decodePlanes(path)
	}
	c.mu.Lock()
	if e, ok := c.items[path]; ok {
		c.ll.MoveToFront(e)
		p := e.Value.(*cacheEntry).p
		c.mu.Unlock()
		return p, nil
	}
	c.mu.Unlock()
	p, err := decodePlanes(path)
	if err != nil {
		return nil, err
	}
	size := int64(len(p.pix))
	if size > c.limit {
		return p, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[path]; ok { // decoded concurrently
		c.ll.MoveToFront(e)
		return e.Value.(*cacheEntry).p, nil
	}
	for c.used+size > c.limit && c.ll.Len() > 0 {
		old := c.ll.Back()
		c.ll.Remove(old)
		ce := old.Value.(*cacheEntry)
		delete(c.items, ce.key)
		c.used -= int64(len(ce.p.pix))
	}
	c.items[path] = c.ll.PushFront(&cacheEntry{key: path, p: p})
	c.used += size
	return p, nil
}

// readImage decodes a whole image file to a degrade.Image.
func readImage(path string) (*degrade.Image, error) {
	p, err := decodePlanes(path)
	if err != nil {
		return nil, err
	}
	return p.crop(image.Rect(0, 0, p.w, p.h)), nil
}
