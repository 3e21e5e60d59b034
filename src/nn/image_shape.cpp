#include "aisle/nn/image_shape.hpp"

#include "aisle/core/error.hpp"

namespace aisle {

std::string ImageShape::text() const {
  return std::to_string(height) + "x" + std::to_string(width) + "x" + std::to_string(channels);
}

nlohmann::json ImageShape::to_json() const { return {{"height", height}, {"width", width}, {"channels", channels}}; }

ImageShape ImageShape::from_json(const nlohmann::json& j, const std::string& where) {
  ImageShape shape;
  for (auto [name, field] : {std::pair{"height", &shape.height}, {"width", &shape.width}, {"channels", &shape.channels}}) {
    if (!j.contains(name) || !j.at(name).is_number_integer() || j.at(name).get<Index>() <= 0)
      throw Error(where + ": '" + name + "' must be a positive whole number");
    *field = j.at(name).get<Index>();
  }
  return shape;
}

}  // namespace aisle
