package capi

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"time"
	"unsafe"
)

// Backend is a c10d process group backend (TT_GLOO, TT_NCCL).
type Backend int32

// Backends.
const (
	Gloo Backend = C.TT_GLOO
	NCCL Backend = C.TT_NCCL
)

// Collective is how AllReduce combines the ranks' tensors.
type Collective int32

// AllReduce combinations.
const (
	ReduceSum  Collective = C.TT_REDUCE_SUM
	ReduceMean Collective = C.TT_REDUCE_MEAN
)

// Store is an opaque handle to a c10d TCPStore.
type Store struct{ p unsafe.Pointer }

// Group is an opaque handle to a c10d process group.
type Group struct{ p unsafe.Pointer }

func millis(d time.Duration) C.int64_t { return C.int64_t(d.Milliseconds()) }

// DistAvailable reports whether the backend was compiled in.
func DistAvailable(b Backend) (bool, error) {
	var out C.int
	err := check(C.tt_dist_available(C.int(b), &out))
	return out != 0, err
}

// NewTCPStore connects to (or, with server, serves) a TCPStore at host:port.
func NewTCPStore(host string, port int, server bool, world int, timeout time.Duration) (Store, error) {
	h := C.CString(host)
	defer C.free(unsafe.Pointer(h))
	var out C.tt_store
	err := check(C.tt_store_tcp(h, C.int(port), cbool(server), C.int(world), millis(timeout), &out))
	return Store{unsafe.Pointer(out)}, err
}

// FreeStore releases s.
func FreeStore(s Store) { C.tt_store_free(C.tt_store(s.p)) }

// StoreSet sets key to val.
func StoreSet(s Store, key string, val []byte) error {
	k := C.CString(key)
	defer C.free(unsafe.Pointer(k))
	var p *C.uint8_t
	if len(val) > 0 {
		p = (*C.uint8_t)(unsafe.Pointer(&val[0]))
	}
	return check(C.tt_store_set(C.tt_store(s.p), k, p, C.int64_t(len(val))))
}

// StoreGet waits up to timeout for key and returns its value.
func StoreGet(s Store, key string, timeout time.Duration) ([]byte, error) {
	k := C.CString(key)
	defer C.free(unsafe.Pointer(k))
	var p *C.uint8_t
	var n C.int64_t
	if err := check(C.tt_store_get(C.tt_store(s.p), k, millis(timeout), &p, &n)); err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(p))
	return C.GoBytes(unsafe.Pointer(p), C.int(n)), nil
}

// NewGroup creates a process group over the store's keys under prefix.
func NewGroup(s Store, prefix string, b Backend, rank, world int, timeout time.Duration, iface, host string) (Group, error) {
	cp, ci, ch := C.CString(prefix), C.CString(iface), C.CString(host)
	defer C.free(unsafe.Pointer(cp))
	defer C.free(unsafe.Pointer(ci))
	defer C.free(unsafe.Pointer(ch))
	var out C.tt_group
	err := check(C.tt_group_new(C.tt_store(s.p), cp, C.int(b), C.int(rank), C.int(world), millis(timeout), ci, ch, &out))
	return Group{unsafe.Pointer(out)}, err
}

// FreeGroup releases g.
func FreeGroup(g Group) { C.tt_group_free(C.tt_group(g.p)) }

// AllReduce reduces ts across the group in place, in buckets.
func AllReduce(g Group, ts []Tensor, op Collective, bucketBytes int64) error {
	return check(C.tt_group_allreduce(C.tt_group(g.p), cTensors(ts), C.int(len(ts)), C.int(op), C.int64_t(bucketBytes)))
}

// Broadcast copies root's ts into every rank's ts, in buckets.
func Broadcast(g Group, ts []Tensor, root int, bucketBytes int64) error {
	return check(C.tt_group_broadcast(C.tt_group(g.p), cTensors(ts), C.int(len(ts)), C.int(root), C.int64_t(bucketBytes)))
}

// Barrier waits until every rank has reached it.
func Barrier(g Group) error { return check(C.tt_group_barrier(C.tt_group(g.p))) }
