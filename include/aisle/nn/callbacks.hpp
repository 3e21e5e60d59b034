#pragma once

#include <chrono>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "aisle/core/tensor.hpp"

namespace aisle {

class Sequential;

struct TrainBegin {
  int epochs = 0;
  Index samples = 0;             // training samples per epoch
  Index batches_per_epoch = 0;
  Index validation_samples = 0;
};

struct BatchEnd {
  int epoch = 0;                 // 1-based
  int epochs = 0;
  Index batch = 0;               // 1-based
  Index batches = 0;
  Index samples_seen = 0;        // in this epoch
  float loss = 0;                // running mean over the epoch so far
  std::map<std::string, float> metrics;  // running means
  double seconds = 0;            // since the epoch began
};

struct EpochEnd {
  int epoch = 0;                 // 1-based
  int epochs = 0;
  float loss = 0;
  std::map<std::string, float> metrics;
  std::optional<float> val_loss;
  std::map<std::string, float> val_metrics;
  double seconds = 0;            // training time of the epoch (validation excluded)
  double samples_per_s = 0;

  // "loss", "accuracy", "val_loss", "val_accuracy", ...; nullopt if absent.
  std::optional<float> get(const std::string& name) const;
};

// Hooks into Sequential::fit. Return true from on_epoch_end to stop training.
class Callback {
 public:
  virtual ~Callback() = default;
  virtual void on_train_begin(const TrainBegin&) {}
  virtual void on_epoch_begin(int /*epoch*/) {}
  virtual void on_batch_end(const BatchEnd&) {}
  virtual bool on_epoch_end(const EpochEnd&, Sequential&) { return false; }
  virtual void on_train_end(Sequential&) {}
};

struct EarlyStoppingOptions {
  std::string monitor = "val_loss";  // any EpochEnd field name
  float min_delta = 0.0f;
  int patience = 0;
  bool restore_best_weights = false;
  // "min", "max", or "auto" (max for names containing "accuracy").
  std::string mode = "auto";
};

// Stops when the monitored value has not improved by min_delta for
// `patience` epochs; optionally restores the best epoch's weights.
class EarlyStopping final : public Callback {
 public:
  explicit EarlyStopping(EarlyStoppingOptions options = {});
  bool on_epoch_end(const EpochEnd& logs, Sequential& model) override;
  void on_train_end(Sequential& model) override;
  int stopped_epoch() const { return stopped_epoch_; }
  int best_epoch() const { return best_epoch_; }

 private:
  bool improved(float value) const;

  EarlyStoppingOptions options_;
  std::optional<float> best_;
  int best_epoch_ = 0;
  int wait_ = 0;
  int stopped_epoch_ = 0;
  std::vector<Matrix> best_weights_;
};

struct ProgressOptions {
  // auto: a live bar when the stream is a terminal, else one line per epoch.
  enum class Style { automatic, bar, lines, json } style = Style::automatic;
};

// Reports training progress on a stream: a live bar per epoch on a terminal
// (batches, loss, accuracy, samples/s, ETA), one plain line per epoch
// otherwise, or one JSON object per epoch.
class ProgressLogger final : public Callback {
 public:
  explicit ProgressLogger(std::ostream& out, ProgressOptions options = {});
  void on_train_begin(const TrainBegin& info) override;
  void on_batch_end(const BatchEnd& logs) override;
  bool on_epoch_end(const EpochEnd& logs, Sequential& model) override;

 private:
  std::ostream& out_;
  ProgressOptions::Style style_;
  std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace aisle
