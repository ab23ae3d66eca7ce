// Package train trains MiOIR models and task classifiers as the reference
// does: a curriculum (mixed or sequential stages, cosine-restart learning
// rates; package curriculum), Adam or AdamW, an exponential moving average of
// the parameters, L1 loss (the classifier: cross-entropy), data from
// mioir/data's loader, atomic checkpoints and an exact Resume.
//
// A Trainer is made by NewTrainer (a mioir.Model: its prompt modules and
// backbone, Model.Network) or NewClassifierTrainer (a prompt.Classifier); the
// two differ only in their step, their validation and the file format of
// their exported weights, and share everything else. It writes into
// Config.Dir the training state (StateFile), the stages' model files
// (mioir.Load or mioir.LoadClassifier read them) and the history of losses
// and validations (HistoryFile, also Trainer.History); drawing curves is left
// to programs (examples/train draws curve.png from the history).
//
// Validation is an evaluation: package eval measures the model on the
// validation pairs exactly as an evaluation of the same images would
// (eval.Evaluate; a classifier: eval.Classify).
//
// # Data parallelism
//
// A Trainer whose Config.Group is set is one rank of a data-parallel run
// over c10d, PyTorch's distributed engine (torch.Group: Gloo for CPU
// tensors, NCCL for CUDA ones; torch.Launch reads torchrun's variables).
// There is no C++ DistributedDataParallel to call, so the trainer does what
// it does:
//
//   - at the rendezvous (NewTrainer), every rank publishes its setup (model
//     configuration and tensor layout, plan, batch, patch, seed, optimiser,
//     EMA, task weights, world size) and rank 0 refuses the run on every
//     rank if one differs, naming the difference;
//   - at the start of Run (and so after Resume, which only rank 0 reads) the
//     iteration, every tensor of the model, the EMA and, mid-stage, the
//     optimiser's moments are broadcast from rank 0;
//   - the data: rank r draws slots r*Batch..(r+1)*Batch-1 of each
//     iteration's global batch of Batch*World samples
//     (data.LoaderOptions.Offset), the very samples one process with the
//     global batch draws; stochastic depth is reseeded per iteration and rank;
//   - after backward, the gradients are averaged by one bucketed all-reduce
//     (torch.DefaultBucketBytes per message) before the optimiser step, so
//     every rank applies the same update and the weights stay bit-identical
//     across ranks (tested); after two sequential stages of 3 iterations they
//     equal one process's with the doubled batch within 1e-5 relative (over
//     hundreds of iterations Adam magnifies the rounding differences of the
//     two summation orders in parameters whose gradients are near zero);
//   - every step the ranks also sum their losses (the logged loss is the
//     global batch's) and a stop flag: a rank whose context ends makes all
//     stop after the same iteration, rank 0 writes the checkpoint, and the
//     others return ErrStoppedByPeer;
//   - rank 0 alone validates and writes checkpoints, model files and the
//     history; the others wait for it in the next all-reduce, so the group's
//     timeout must exceed the longest validation;
//   - a rank that dies closes its sockets and the others' next collective
//     fails at once; a rank that hangs makes them fail after the group's
//     timeout. Either way they return an error naming the collective and the
//     last checkpoint is intact (its writes are atomic).
//
// Killed (all ranks) and resumed, a data-parallel run ends bit for bit where
// an uninterrupted one ends, as a single process does. A state written by
// W ranks with batch B resumes with any ranks x batch whose product is W*B.
//
// # Zero and negative settings
//
// The zero value of every setting is the reference's (or the library's)
// default, so a zero or nil configuration reproduces the paper; a setting
// that can also be switched off takes a negative number for "off", as
// net.Dialer.KeepAlive does, rather than a second field that could
// contradict the first. The fields' docs say which ones.
package train
