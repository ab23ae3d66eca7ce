// Package pth reads PyTorch checkpoints saved with torch.save (the zip
// format of PyTorch 1.6 and later) into ordered host.StateDicts, in pure
// Go.
//
// The authors' MiOIR checkpoints are BasicSR dicts
// {'params': state_dict, 'params_ema': state_dict}; other checkpoints are a
// bare state dict. Load tells the two apart (see Checkpoint) so that model
// import needs no Python.
//
// The pickle stream (data.pkl) is decoded with gopickle's unpickler, but the
// torch-specific parts are handled here: storages are read as raw
// little-endian bytes straight from their zip records, and each tensor is
// rebuilt from its storage, storage offset, sizes and strides into its own
// freshly copied C-order buffer. Views (transposes, slices with an offset,
// expanded tensors) therefore come out as the values PyTorch shows, and no two
// tensors share memory.
//
// Supported element types: float32, float64, float16, bfloat16, int64,
// int32, uint8 and bool. Other storages (int16, int8, complex, quantized) and
// the legacy pre-1.6 format are reported as errors, as are TorchScript
// archives.
package pth
