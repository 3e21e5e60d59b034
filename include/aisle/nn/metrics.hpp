#pragma once

#include <string>
#include <string_view>

#include "aisle/core/tensor.hpp"
#include "aisle/nn/targets.hpp"

namespace aisle {

enum class Metric { accuracy };

std::string_view to_string(Metric metric);
Metric metric_from_string(std::string_view name);

// The number of rows whose argmax equals the label (or the target row's argmax).
Index count_correct(ConstMatrixRef predictions, const Targets& targets);
// count_correct / rows.
float accuracy(ConstMatrixRef predictions, const Targets& targets);

}  // namespace aisle
