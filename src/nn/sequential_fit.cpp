// Sequential::fit: the epoch and batch loop, validation and callbacks.

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstring>
#include <numeric>

#include "aisle/core/error.hpp"
#include "aisle/core/random.hpp"
#include "aisle/nn/sequential.hpp"
#include "core/parallel_for.hpp"
#include "core/thread_binding.hpp"

namespace aisle {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Throws naming the first NaN or infinity in m, if there is one: one such
// value spoils the weights it reaches, and not always the loss with them
// (oneDNN's fused ReLU turns NaN into 0).
void check_finite_values(ConstMatrixRef m, const std::string& what) {
  constexpr Index kParallelFloats = 1 << 16;
  const bool all = detail::parallel_all_of(m.rows(), {.parallel = m.size() >= kParallelFloats},
                                           [&](Index r) { return m.row(r).allFinite(); });
  if (all) return;
  for (Index r = 0; r < m.rows(); ++r)
    for (Index c = 0; c < m.cols(); ++c)
      if (!std::isfinite(m(r, c)))
        throw Error("fit: " + value_string(m(r, c)) + " in " + what + " at row " + std::to_string(r) + ", column " +
                    std::to_string(c) + ": training needs finite values");
}

void check_finite_targets(const Targets& y, const std::string& what) {
  if (!y.has_labels()) check_finite_values(y.dense(), what);
}

void check_fit_arguments(ConstMatrixRef x, const Targets& y, const FitOptions& options) {
  if (y.rows() != x.rows())
    throw Error("fit: " + std::to_string(y.rows()) + " targets for " + std::to_string(x.rows()) + " samples");
  if (options.epochs < 0) throw Error("fit: epochs must not be negative");
  if (options.batch_size <= 0) throw Error("fit: batch_size must be positive, got " + std::to_string(options.batch_size));
  if (!(options.validation_split >= 0.0f && options.validation_split < 1.0f))
    throw Error("fit: validation_split must lie in [0, 1), got " + std::to_string(options.validation_split));
  if (options.validation_split > 0 && options.validation_data)
    throw Error("fit: give validation_split or validation_data, not both");
  check_finite_values(x, "x");
  check_finite_targets(y, "the targets");
  if (options.validation_data) {
    check_finite_values(options.validation_data->first, "the validation x");
    check_finite_targets(options.validation_data->second, "the validation targets");
  }
}

// Running sums over an epoch's batches.
struct EpochTotals {
  double loss = 0;
  Index correct = 0;
  Index samples = 0;

  float mean_loss() const { return samples > 0 ? static_cast<float>(loss / static_cast<double>(samples)) : 0.0f; }
  float accuracy() const { return samples > 0 ? static_cast<float>(correct) / static_cast<float>(samples) : 0.0f; }
};

std::map<std::string, float> metric_values(const std::vector<Metric>& metrics, float accuracy) {
  std::map<std::string, float> values;
  for (Metric metric : metrics) values[std::string(to_string(metric))] = accuracy;
  return values;
}

void record(History& history, const EpochEnd& logs) {
  history.values["loss"].push_back(logs.loss);
  for (const auto& [name, value] : logs.metrics) history.values[name].push_back(value);
  if (logs.val_loss) history.values["val_loss"].push_back(*logs.val_loss);
  for (const auto& [name, value] : logs.val_metrics) history.values["val_" + name].push_back(value);
}

constexpr Index kRowsAtOnce = 8;

// Copies n rows of cols floats, a cache line of each row in turn.
void copy_rows_line_by_line(const std::array<const float*, kRowsAtOnce>& from,
                            const std::array<float*, kRowsAtOnce>& to, std::size_t n, Index cols) {
  constexpr Index kLineFloats = 16;
  const auto copy = [&](Index col, Index floats) {
    for (std::size_t i = 0; i < n; ++i)
      std::memcpy(to[i] + col, from[i] + col, static_cast<std::size_t>(floats) * sizeof(float));
  };
  Index col = 0;
  for (; col + kLineFloats <= cols; col += kLineFloats) copy(col, kLineFloats);
  if (col < cols) copy(col, cols - col);
}

// Copies a batch's rows out of the training set. The rows are scattered over
// a set larger than the caches, so the copy waits on memory: the threads
// share it, and each copies kRowsAtOnce rows together, a cache line of each
// in turn, so that that many streams of misses are in flight instead of one:
// a row-by-row copy keeps a single stream waiting on memory at a time
// (measurements in docs/performance.md).
void gather_rows(ConstMatrixRef x, std::span<const Index> rows, Matrix& out) {
  constexpr Index kParallelFloats = 1 << 14;
  const auto count = static_cast<Index>(rows.size());
  out.resize(count, x.cols());
  const Index groups = (count + kRowsAtOnce - 1) / kRowsAtOnce;
  detail::parallel_for(groups, {.parallel = count * x.cols() >= kParallelFloats}, [&](Index g) {
    const Index first = g * kRowsAtOnce;
    const auto n = static_cast<std::size_t>(std::min(kRowsAtOnce, count - first));
    std::array<const float*, kRowsAtOnce> from{};
    std::array<float*, kRowsAtOnce> to{};
    for (std::size_t i = 0; i < n; ++i) {
      from[i] = x.row(rows[static_cast<std::size_t>(first) + i]).data();
      to[i] = out.row(first + static_cast<Index>(i)).data();
    }
    copy_rows_line_by_line(from, to, n, x.cols());
  });
}

}  // namespace

History Sequential::fit(ConstMatrixRef x, const Targets& y, FitOptions options) {
  if (!compiled()) throw Error("fit: the model is not compiled; call compile() first");
  check_input(x, "fit");
  check_fit_arguments(x, y, options);

  const auto validation_rows = static_cast<Index>(static_cast<double>(x.rows()) * options.validation_split);
  const Index train_rows = x.rows() - validation_rows;
  if (train_rows <= 0) throw Error("fit: no training samples left after the validation split");
  const auto train_x = x.topRows(train_rows);
  std::optional<Matrix> split_x;
  Targets split_y;
  if (validation_rows > 0) {
    split_x = x.bottomRows(validation_rows);
    y.slice(train_rows, validation_rows, split_y);
  }
  const Matrix* val_x = split_x ? &*split_x : options.validation_data ? &options.validation_data->first : nullptr;
  const Targets* val_y = split_x ? &split_y : options.validation_data ? &options.validation_data->second : nullptr;

  training_config_ = {{"epochs", options.epochs},
                      {"batch_size", options.batch_size},
                      {"shuffle", options.shuffle},
                      {"seed", options.seed},
                      {"validation_split", options.validation_split},
                      {"samples", train_rows}};

  const Index batches = (train_rows + options.batch_size - 1) / options.batch_size;
  for (auto& callback : options.callbacks)
    callback->on_train_begin({options.epochs, train_rows, batches, val_x ? val_x->rows() : 0});

  detail::bind_thread_count();
  std::vector<Index> order(static_cast<std::size_t>(train_rows));
  std::iota(order.begin(), order.end(), Index{0});
  Rng rng(options.seed);
  Matrix batch_x;
  Targets batch_y;
  History history;
  for (int epoch = 1; epoch <= options.epochs; ++epoch) {
    for (auto& callback : options.callbacks) callback->on_epoch_begin(epoch);
    if (options.shuffle) shuffle(std::span<Index>(order), rng);
    const auto start = Clock::now();
    EpochTotals totals;
    for (Index batch = 0; batch < batches; ++batch) {
      const Index begin = batch * options.batch_size;
      const Index count = std::min(options.batch_size, train_rows - begin);
      const std::span<const Index> rows(order.data() + begin, static_cast<std::size_t>(count));
      gather_rows(train_x, rows, batch_x);
      y.gather(rows, batch_y);
      const float batch_loss = train_step(batch_x, batch_y);
      if (!std::isfinite(batch_loss))
        throw Error("fit: the loss became " + value_string(batch_loss) + " at epoch " + std::to_string(epoch) +
                    ", batch " + std::to_string(batch + 1) + " of " + std::to_string(batches) +
                    "; training stopped with the weights from before that batch (a learning rate too high?)");
      totals.loss += static_cast<double>(batch_loss) * static_cast<double>(count);
      totals.samples += count;
      if (!metrics_.empty()) totals.correct += count_correct(train_ws_->output(), batch_y);
      if (!options.callbacks.empty()) {
        const BatchEnd logs{epoch, options.epochs, batch + 1, batches, totals.samples, totals.mean_loss(),
                            metric_values(metrics_, totals.accuracy()), seconds_since(start)};
        for (auto& callback : options.callbacks) callback->on_batch_end(logs);
      }
    }
    EpochEnd logs;
    logs.epoch = epoch;
    logs.epochs = options.epochs;
    logs.seconds = seconds_since(start);
    logs.samples_per_s = logs.seconds > 0 ? static_cast<double>(train_rows) / logs.seconds : 0.0;
    logs.loss = totals.mean_loss();
    logs.metrics = metric_values(metrics_, totals.accuracy());
    if (val_x != nullptr) {
      const Evaluation val = evaluate(*val_x, *val_y);
      logs.val_loss = val.loss;
      logs.val_metrics = val.metrics;
    }
    record(history, logs);
    bool stop = false;
    for (auto& callback : options.callbacks) stop = callback->on_epoch_end(logs, *this) || stop;
    if (stop) break;
  }
  for (auto& callback : options.callbacks) callback->on_train_end(*this);
  return history;
}

}  // namespace aisle
