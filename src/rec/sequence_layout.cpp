#include "rec/sequence_layout.hpp"

#include <algorithm>

namespace aisle::rec::detail {

SequenceLayout lay_out(const std::vector<std::span<const Index>>& sequences, Index max_length, bool with_targets) {
  SequenceLayout layout;
  const Index shift = with_targets ? 1 : 0;
  for (const auto& s : sequences)
    layout.length = std::max(layout.length, std::min(static_cast<Index>(s.size()) - shift, max_length));
  layout.length = std::max<Index>(layout.length, 1);
  const auto rows = static_cast<std::size_t>(layout.length) * sequences.size();
  layout.valid.assign(rows, 0);
  layout.items.assign(rows, -1);
  layout.targets.assign(rows, -1);
  for (std::size_t b = 0; b < sequences.size(); ++b) {
    const auto& s = sequences[b];
    const Index n = static_cast<Index>(s.size());
    const Index inputs = std::max<Index>(0, std::min(n - shift, max_length));
    const Index first_input = n - shift - inputs;
    for (Index i = 0; i < inputs; ++i) {
      const auto row = static_cast<std::size_t>(static_cast<Index>(b) * layout.length + layout.length - inputs + i);
      layout.valid[row] = 1;
      layout.items[row] = s[static_cast<std::size_t>(first_input + i)];
      if (with_targets) layout.targets[row] = s[static_cast<std::size_t>(first_input + i + 1)];
    }
  }
  return layout;
}

}  // namespace aisle::rec::detail
