#include "aisle/nn/targets.hpp"

#include "aisle/core/error.hpp"

namespace aisle {

const Labels& Targets::labels() const {
  if (const auto* labels = std::get_if<Labels>(&values_)) return *labels;
  throw Error("this loss needs integer labels, but the targets are a dense matrix " +
              shape_string(std::get<Matrix>(values_)));
}

const Matrix& Targets::dense() const {
  if (const auto* dense = std::get_if<Matrix>(&values_)) return *dense;
  throw Error("this loss needs dense (one-hot) targets, but the targets are " +
              std::to_string(std::get<Labels>(values_).size()) + " integer labels");
}

Index Targets::rows() const {
  return has_labels() ? std::get<Labels>(values_).size() : std::get<Matrix>(values_).rows();
}

void Targets::gather(std::span<const Index> rows, Targets& out) const {
  const auto count = static_cast<Index>(rows.size());
  if (const auto* labels = std::get_if<Labels>(&values_)) {
    if (!out.has_labels()) out.values_ = Labels();
    auto& dst = std::get<Labels>(out.values_);
    dst.resize(count);
    for (Index i = 0; i < count; ++i) dst(i) = (*labels)(rows[i]);
  } else {
    const auto& dense = std::get<Matrix>(values_);
    if (out.has_labels()) out.values_ = Matrix();
    auto& dst = std::get<Matrix>(out.values_);
    dst.resize(count, dense.cols());
    for (Index i = 0; i < count; ++i) dst.row(i) = dense.row(rows[i]);
  }
}

void Targets::slice(Index begin, Index count, Targets& out) const {
  if (const auto* labels = std::get_if<Labels>(&values_)) {
    if (!out.has_labels()) out.values_ = Labels();
    std::get<Labels>(out.values_) = labels->segment(begin, count);
  } else {
    if (out.has_labels()) out.values_ = Matrix();
    std::get<Matrix>(out.values_) = std::get<Matrix>(values_).middleRows(begin, count);
  }
}

}  // namespace aisle
