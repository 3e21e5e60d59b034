#include "rec/next_item_loss.hpp"

#include <cmath>
#include <limits>
#include <vector>

#include "core/parallel_for.hpp"

namespace aisle::rec::detail {

float softmax_cross_entropy_in_place(Eigen::Map<Matrix> logits, std::span<const Index> targets) {
  const Index rows = logits.rows();
  std::vector<double> losses(static_cast<std::size_t>(rows));
  const float scale = 1.0f / static_cast<float>(rows);
  aisle::detail::parallel_for(rows, {.chunk = 8, .parallel = logits.size() >= (1 << 15)}, [&](Index r) {
    auto row = logits.row(r).array();
    const float top = row.maxCoeff();
    const float target_logit = row(targets[static_cast<std::size_t>(r)]);
    row = (row - top).exp();
    const float total = row.sum();
    losses[static_cast<std::size_t>(r)] = std::log(static_cast<double>(total)) + top - target_logit;
    row *= scale / total;
    row(targets[static_cast<std::size_t>(r)]) -= scale;
  });
  double sum = 0;
  for (const double l : losses) sum += l;
  return static_cast<float>(sum / static_cast<double>(std::max<Index>(rows, 1)));
}

void exclude_earlier_items(const SequenceLayout& layout, std::span<const Index> scored, std::span<const Index> targets,
                           Eigen::Map<Matrix> logits) {
  constexpr float kExcluded = -std::numeric_limits<float>::infinity();
  for (std::size_t i = 0; i < scored.size(); ++i) {
    const Index row = scored[i], first = row - row % layout.length;
    for (Index j = first; j <= row; ++j) {
      const Index item = layout.items[static_cast<std::size_t>(j)];
      if (item >= 0 && item != targets[i]) logits(static_cast<Index>(i), item) = kExcluded;
    }
  }
}

}  // namespace aisle::rec::detail
