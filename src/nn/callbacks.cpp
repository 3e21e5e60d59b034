#include "aisle/nn/callbacks.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "aisle/nn/sequential.hpp"

namespace aisle {

std::optional<float> EpochEnd::get(const std::string& name) const {
  if (name == "loss") return loss;
  if (name == "val_loss") return val_loss;
  if (name.rfind("val_", 0) == 0) {
    const auto it = val_metrics.find(name.substr(4));
    if (it != val_metrics.end()) return it->second;
    return std::nullopt;
  }
  const auto it = metrics.find(name);
  if (it != metrics.end()) return it->second;
  return std::nullopt;
}

EarlyStopping::EarlyStopping(EarlyStoppingOptions options) : options_(std::move(options)) {}

bool EarlyStopping::improved(float value) const {
  if (!best_) return true;
  const bool maximise = options_.mode == "max" ||
                        (options_.mode == "auto" && options_.monitor.find("accuracy") != std::string::npos);
  return maximise ? value > *best_ + options_.min_delta : value < *best_ - options_.min_delta;
}

bool EarlyStopping::on_epoch_end(const EpochEnd& logs, Sequential& model) {
  const auto value = logs.get(options_.monitor);
  if (!value) return false;  // nothing to monitor (e.g. no validation data)
  if (improved(*value)) {
    best_ = *value;
    best_epoch_ = logs.epoch;
    wait_ = 0;
    if (options_.restore_best_weights) {
      best_weights_.clear();
      for (const Matrix* p : std::as_const(model).parameters()) best_weights_.push_back(*p);
    }
    return false;
  }
  if (++wait_ > options_.patience) {
    stopped_epoch_ = logs.epoch;
    return true;
  }
  return false;
}

void EarlyStopping::on_train_end(Sequential& model) {
  if (!options_.restore_best_weights || best_weights_.empty() || stopped_epoch_ == 0) return;
  auto params = model.parameters();
  for (std::size_t i = 0; i < params.size() && i < best_weights_.size(); ++i) *params[i] = best_weights_[i];
}

namespace {

bool is_terminal(const std::ostream& out) {
  if (&out == &std::cout) return isatty(STDOUT_FILENO) != 0;
  if (&out == &std::cerr || &out == &std::clog) return isatty(STDERR_FILENO) != 0;
  return false;
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  std::ostringstream out;
  const auto whole = static_cast<long long>(seconds + 0.5);
  if (whole >= 60) {
    out << whole / 60 << "m" << std::setw(2) << std::setfill('0') << whole % 60 << "s";
  } else {
    out << std::fixed << std::setprecision(seconds < 10 ? 1 : 0) << seconds << "s";
  }
  return out.str();
}

// Six decimals: float noise ("0.054999999701976776") helps no reader.
double rounded(double value) { return std::round(value * 1e6) / 1e6; }

std::string format_metrics(const std::map<std::string, float>& metrics, const char* prefix = "") {
  std::ostringstream out;
  out << std::fixed << std::setprecision(4);
  for (const auto& [name, value] : metrics) out << "  " << prefix << name << " " << value;
  return out.str();
}

}  // namespace

ProgressLogger::ProgressLogger(std::ostream& out, ProgressOptions options) : out_(out), style_(options.style) {
  if (style_ == ProgressOptions::Style::automatic)
    style_ = is_terminal(out) ? ProgressOptions::Style::bar : ProgressOptions::Style::lines;
}

void ProgressLogger::on_train_begin(const TrainBegin&) { last_draw_ = {}; }

void ProgressLogger::on_batch_end(const BatchEnd& logs) {
  if (style_ != ProgressOptions::Style::bar) return;
  const auto now = std::chrono::steady_clock::now();
  if (logs.batch != logs.batches && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  constexpr int kWidth = 30;
  const double fraction = static_cast<double>(logs.batch) / static_cast<double>(logs.batches);
  const int filled = static_cast<int>(fraction * kWidth);
  const double rate = logs.seconds > 0 ? static_cast<double>(logs.samples_seen) / logs.seconds : 0;
  const double eta = fraction > 0 ? logs.seconds * (1 - fraction) / fraction : 0;
  std::ostringstream line;
  line << "\rEpoch " << logs.epoch << "/" << logs.epochs << " [" << std::string(static_cast<std::size_t>(filled), '=')
       << std::string(static_cast<std::size_t>(kWidth - filled), ' ') << "] " << logs.batch << "/" << logs.batches
       << std::fixed << std::setprecision(4) << "  loss " << logs.loss << format_metrics(logs.metrics)
       << std::setprecision(0) << "  " << rate << " samples/s  ETA " << format_duration(eta) << "   ";
  out_ << line.str() << std::flush;
}

bool ProgressLogger::on_epoch_end(const EpochEnd& logs, Sequential&) {
  if (style_ == ProgressOptions::Style::json) {
    nlohmann::json line = {{"epoch", logs.epoch},
                           {"loss", rounded(logs.loss)},
                           {"seconds", rounded(logs.seconds)},
                           {"samples_per_s", std::round(logs.samples_per_s)}};
    line["val_loss"] = logs.val_loss ? nlohmann::json(rounded(*logs.val_loss)) : nlohmann::json(nullptr);
    // The same keys every epoch: a validation metric is null without validation data.
    for (const auto& [name, value] : logs.metrics) {
      line[name] = rounded(value);
      const auto val = logs.val_metrics.find(name);
      line["val_" + name] = val != logs.val_metrics.end() ? nlohmann::json(rounded(val->second)) : nlohmann::json(nullptr);
    }
    out_ << line.dump() << std::endl;
    return false;
  }
  std::ostringstream line;
  if (style_ == ProgressOptions::Style::bar) line << "\r";
  line << "Epoch " << logs.epoch << "/" << logs.epochs << std::fixed << std::setprecision(4) << "  loss " << logs.loss
       << format_metrics(logs.metrics);
  if (logs.val_loss) line << "  val_loss " << *logs.val_loss << format_metrics(logs.val_metrics, "val_");
  line << std::setprecision(0) << "  " << logs.samples_per_s << " samples/s  " << format_duration(logs.seconds);
  if (style_ == ProgressOptions::Style::bar) line << "          ";
  out_ << line.str() << std::endl;
  return false;
}

}  // namespace aisle
