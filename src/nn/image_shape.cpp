#include "aisle/nn/image_shape.hpp"

#include "aisle/core/error.hpp"

namespace aisle {

std::string ImageShape::text() const {
  return std::to_string(height) + "x" + std::to_string(width) + "x" + std::to_string(channels);
}

nlohmann::json ImageShape::to_json() const { return {{"height", height}, {"width", width}, {"channels", channels}}; }

void ImageShape::check(const std::string& where) const {
  for (const Index extent : {height, width, channels})
    if (extent <= 0 || extent > kMaxImageExtent)
      throw Error(where + ": image shape " + text() + " must have sizes from 1 to " + std::to_string(kMaxImageExtent));
  if (size() > kMaxImageValues)
    throw Error(where + ": image shape " + text() + " has " + std::to_string(size()) + " values; at most " +
                std::to_string(kMaxImageValues));
}

ImageShape ImageShape::from_json(const nlohmann::json& j, const std::string& where) {
  ImageShape shape;
  for (auto [name, field] : {std::pair{"height", &shape.height}, {"width", &shape.width}, {"channels", &shape.channels}}) {
    if (!j.contains(name) || !j.at(name).is_number_integer() || j.at(name).get<Index>() <= 0)
      throw Error(where + ": '" + name + "' must be a positive whole number");
    *field = j.at(name).get<Index>();
  }
  shape.check(where);
  return shape;
}

}  // namespace aisle
