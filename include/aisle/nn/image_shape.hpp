#pragma once

// The shape of the images a convolutional layer reads: each row of a batch
// is one image, height x width x channels with the channels fastest (HWC),
// the layout a Dense layer after them reads as a flat vector.

#include <nlohmann/json.hpp>
#include <string>

#include "aisle/core/tensor.hpp"

namespace aisle {

// Sizes beyond these are refused before anything is allocated (a model
// file's config is untrusted): 65,536 pixels a side or channels, 2^28
// values an image.
inline constexpr Index kMaxImageExtent = Index{1} << 16;
inline constexpr Index kMaxImageValues = Index{1} << 28;

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
  // Throws aisle::Error naming where unless every size is positive and
  // within the limits above.
  void check(const std::string& where) const;
  // Throws aisle::Error naming where for missing, non-positive or too large sizes.
  static ImageShape from_json(const nlohmann::json& j, const std::string& where);
};

}  // namespace aisle
