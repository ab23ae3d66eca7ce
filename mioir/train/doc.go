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
// # Zero and negative settings
//
// The zero value of every setting is the reference's (or the library's)
// default, so a zero or nil configuration reproduces the paper; a setting
// that can also be switched off takes a negative number for "off", as
// net.Dialer.KeepAlive does, rather than a second field that could
// contradict the first. The fields' docs say which ones.
package train
