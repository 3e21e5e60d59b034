#pragma once

// The shape of the images a convolutional layer reads: each row of a batch
// is one image, height x width x channels with the channels fastest (HWC),
// the layout a Dense layer after them reads as a flat vector.

#include <nlohmann/json.hpp>
#include <string>

#include "aisle/core/tensor.hpp"

namespace aisle {

struct ImageShape {
  Index height = 28;
  Index width = 28;
  Index channels = 1;

  Index size() const { return height * width * channels; }
  Index pixels() const { return height * width; }
  bool operator==(const ImageShape&) const = default;
  // "28x28x1"
  std::string text() const;
  nlohmann::json to_json() const;
  // Throws aisle::Error naming where for missing or non-positive sizes.
  static ImageShape from_json(const nlohmann::json& j, const std::string& where);
};

}  // namespace aisle
