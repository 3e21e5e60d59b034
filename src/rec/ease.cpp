#include "aisle/rec/ease.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <sstream>

#include "aisle/core/error.hpp"
#include "aisle/core/memory.hpp"
#include "aisle/rec/evaluation.hpp"
#include "backend/spd_inverse.hpp"
#include "core/parallel_for.hpp"
#include "rec/scoring.hpp"

namespace aisle::rec {
namespace {

constexpr const char* kWeights = "ease.weights";

std::string format_l2(float l2) {
  std::ostringstream s;
  s << l2;
  return s.str();
}

// From P (symmetric, both triangles stored), B(i, j) = -P(i, j) / P(j, j)
// off the diagonal, 0 on it, in place: each row scaled by one vector.
void weights_from_inverse(Matrix& p) {
  const Index n = p.rows();
  const Eigen::RowVectorXf minus_inverse_diagonal = -p.diagonal().cwiseInverse().transpose();
  aisle::detail::parallel_for(n, {}, [&](Index i) {
    p.row(i).array() *= minus_inverse_diagonal.array();
    p(i, i) = 0.0f;
  });
}

// B in place of the Gram matrix X^T X.
void solve_in_place(Matrix& gram, float l2) {
  const Index n = gram.rows();
  if (gram.cols() != n) throw Error("ease: the Gram matrix is " + shape_string(gram) + ", not square");
  if (!(l2 > 0)) throw Error("ease: l2 must be positive, got " + format_l2(l2));
  gram.diagonal().array() += l2;
  try {
    aisle::detail::invert_spd_in_place(gram.data(), n, n);
  } catch (const Error&) {
    throw Error("ease: X^T X + l2 I is not positive definite (l2 " + format_l2(l2) + ")");
  }
  weights_from_inverse(gram);
}

// The metric tuning maximises: the protocol's ranking metric at its cutoff.
MetricSpec tuning_metric(Protocol protocol) { return protocol_metrics(protocol).back(); }

// The best grid value, found by climbing from the middle of the sorted grid
// towards better values until the next one is no better: a few solves instead
// of one per grid value, exact when the validation curve is unimodal (it is
// in practice). Every measured point is appended to measured.
template <class Measure>
float climb_grid(std::vector<float> grid, Measure&& measure, std::vector<std::pair<float, double>>& measured) {
  std::sort(grid.begin(), grid.end());
  grid.erase(std::unique(grid.begin(), grid.end()), grid.end());
  std::map<std::size_t, double> values;
  const auto value = [&](std::size_t i) {
    if (!values.count(i)) {
      values[i] = measure(grid[i]);
      measured.emplace_back(grid[i], values[i]);
    }
    return values[i];
  };
  const std::size_t start = (grid.size() - 1) / 2;
  std::size_t best = start;
  for (const int step : {+1, -1}) {
    while (true) {
      const auto next = static_cast<std::ptrdiff_t>(best) + step;
      if (next < 0 || next >= static_cast<std::ptrdiff_t>(grid.size())) break;
      if (value(static_cast<std::size_t>(next)) <= value(best)) break;
      best = static_cast<std::size_t>(next);
    }
    if (best != start) break;  // climbed up: the other side is worse
  }
  std::sort(measured.begin(), measured.end());
  return grid[best];
}

// EASE's memory grows with items^2, whatever the interactions: refuse a
// catalogue that cannot fit before allocating anything. Tuning holds the
// validation Gram matrix and one candidate's weights at once; a shared Gram
// matrix is copied into the weights.
void require_memory_for_fit(Index items, bool two_matrices) {
  const auto n = static_cast<std::uint64_t>(items);
  const std::uint64_t square = n * n * sizeof(float);
  const std::uint64_t workspace = aisle::detail::spd_inverse_workspace_floats(items) * sizeof(float);
  const std::string how = std::string(two_matrices ? "two" : "one") + " " + std::to_string(items) + " x " +
                          std::to_string(items) + " float matri" + (two_matrices ? "ces" : "x") +
                          " and the inverse's workspace";
  require_memory((two_matrices ? 2 : 1) * square + workspace, "ease on " + std::to_string(items) + " items", how,
                 "itemknn and neural fit in memory that grows with the interactions, not with items^2");
}

}  // namespace

Matrix ease_weights(Matrix gram, float l2) {
  solve_in_place(gram, l2);
  return gram;
}

EaseModel::EaseModel(EaseOptions options) : options_(std::move(options)) {
  if (options_.l2 && !(*options_.l2 > 0)) throw Error("ease: l2 must be positive");
  if (!options_.l2 && options_.l2_grid.empty()) throw Error("ease: an empty l2 grid and no l2");
}

const OptionSchema<EaseOptions>& EaseModel::option_schema() {
  static const auto schema = OptionSchema<EaseOptions>("ease model")
                                 .add("l2", &EaseOptions::l2, "L2 regularisation (default: tuned over l2_grid)")
                                 .add("l2_grid", &EaseOptions::l2_grid, "the values tuning tries for l2");
  return schema;
}

nlohmann::json EaseModel::params() const {
  EaseOptions fitted = options_;
  fitted.l2 = l2_;
  nlohmann::json p = option_schema().write(fitted);
  if (!tuning_.empty()) {
    nlohmann::json measured = nlohmann::json::array();
    for (const auto& [l2, value] : tuning_) measured.push_back({l2, value});
    p["l2_tuned_on"] = tuning_metric_ + " of a validation split of the fitted rows";
    p["l2_validation"] = measured;
  }
  return p;
}

void EaseModel::fit(const Histories& rows, Index item_count, const FitContext& context) {
  tuning_.clear();
  tuning_metric_.clear();
  require_memory_for_fit(item_count, !options_.l2 || context.share);
  if (options_.l2) {
    l2_ = *options_.l2;
  } else {
    const auto split = make_validation_split(rows, item_count, context.validation_protocol);
    const auto metric = tuning_metric(context.validation_protocol);
    tuning_metric_ = metric.name();
    context.report("ease: tuning l2 on " + std::to_string(split.queries.size()) + " validation users (" +
                   tuning_metric_ + ")");
    const Matrix gram = detail::gram_matrix(split.fitted, item_count);
    EaseModel candidate(EaseOptions{.l2 = 1.0f, .l2_grid = {}});
    const auto measure = [&](float l2) {
      const auto start = std::chrono::steady_clock::now();
      candidate.l2_ = l2;
      candidate.weights_ = gram;  // into the same buffer each time: no fresh pages to fault in
      solve_in_place(candidate.weights_, l2);
      const double value = evaluate(candidate, split, {.metrics = {metric}}).metrics.front().second;
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      context.report("ease: l2 " + format_l2(l2) + " -> " + tuning_metric_ + " " + std::to_string(value) + " (" +
                     std::to_string(seconds) + " s)");
      return value;
    };
    l2_ = climb_grid(options_.l2_grid, measure, tuning_);
  }
  context.report("ease: solving with l2 " + format_l2(l2_) + " for " + std::to_string(item_count) + " items");
  if (context.share) {
    weights_ = *context.share->gram(rows, item_count);
  } else {
    weights_ = detail::gram_matrix(rows, item_count);
  }
  solve_in_place(weights_, l2_);
}

void EaseModel::score_batch(const Histories& histories, Matrix& scores) const {
  require_fitted("score_batch");
  detail::multiply_histories(histories, weights_, scores);
}

std::vector<float> EaseModel::contributions(std::span<const Index> history, Index item) const {
  std::vector<float> out;
  out.reserve(history.size());
  for (const Index h : history) out.push_back(weights_(h, item));
  return out;
}

void EaseModel::save(io::ModelFile& file) const {
  require_fitted("save");
  file.header["model"] = {{"kind", kind()}, {"params", params()}};
  file.tensors.push_back({kWeights, weights_});
}

void EaseModel::load(io::ModelFile& file, const std::filesystem::path& path) {
  const auto& params = file.header.at("model").at("params");
  const EaseOptions saved = option_schema().read_saved(params, {});
  if (!saved.l2) throw Error(path.string() + ": the ease model's params have no l2");
  l2_ = *saved.l2;
  options_.l2_grid = saved.l2_grid;
  tuning_.clear();
  tuning_metric_.clear();
  if (params.contains("l2_validation")) {
    for (const auto& point : params.at("l2_validation")) tuning_.emplace_back(point.at(0).get<float>(), point.at(1).get<double>());
    const auto text = params.at("l2_tuned_on").get<std::string>();
    tuning_metric_ = text.substr(0, text.find(' '));
  }
  Matrix weights = file.take_tensor(kWeights);
  if (weights.rows() != weights.cols() || weights.rows() == 0)
    throw Error(path.string() + ": " + kWeights + " has shape " + shape_string(weights) + ", expected [items x items]");
  weights_ = std::move(weights);
}

}  // namespace aisle::rec
