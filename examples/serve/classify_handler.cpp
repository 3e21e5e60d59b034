// /v1/classify: a product photo (a PGM image, or 784 pixel values) in, the
// Fashion-MNIST classes out, most probable first.

#include <cmath>
#include <string_view>

#include "aisle/core/error.hpp"
#include "aisle/io/fashion_mnist.hpp"
#include "aisle/io/pgm.hpp"
#include "classifier.hpp"
#include "handlers.hpp"
#include "request_fields.hpp"

namespace serve {
namespace {

constexpr aisle::Index kSide = aisle::io::kFashionMnistSide;
constexpr aisle::Index kPixels = aisle::io::kFashionMnistPixels;

bool is_pgm(std::string_view content_type) {
  return content_type.starts_with("image/x-portable-graymap") || content_type.starts_with("image/x-portable-anymap");
}

aisle::Matrix pixels_from_pgm(const HttpRequest& request) {
  try {
    return aisle::io::parse_pgm_row(request.body, "in the request body", kSide, kSide);
  } catch (const aisle::Error& e) {
    throw RequestError(400, e.what());
  }
}

// {"pixels": [784 numbers from 0 to 255]}, row by row, as one model input in [0, 1].
aisle::Matrix pixels_from_json(const HttpRequest& request) {
  const auto body = json_object_body(request);
  check_known_fields(body, {"pixels"});
  const auto it = body.find("pixels");
  if (it == body.end()) throw RequestError(400, "missing field 'pixels'");
  if (!it->is_array() || it->size() != static_cast<std::size_t>(kPixels))
    throw RequestError(400, "field 'pixels' must be an array of " + std::to_string(kPixels) + " numbers (28x28), not " +
                                (it->is_array() ? std::to_string(it->size()) + " entries" : std::string(it->type_name())));
  aisle::Matrix row(1, kPixels);
  for (aisle::Index i = 0; i < kPixels; ++i) {
    const auto& value = (*it)[static_cast<std::size_t>(i)];
    const double v = value.is_number() ? value.get<double>() : -1;
    if (!value.is_number() || !std::isfinite(v) || v < 0 || v > 255)
      throw RequestError(400, "field 'pixels': entry " + std::to_string(i) + " must be a number from 0 to 255, not " +
                                  value.dump());
    row(0, i) = static_cast<float>(v / 255.0);
  }
  return row;
}

}  // namespace

HttpResponse handle_classify(const HttpRequest& request, Service& service) {
  const aisle::Matrix pixels = is_pgm(request.content_type) ? pixels_from_pgm(request) : pixels_from_json(request);
  const auto model = service.slots().classifier();
  if (!model) throw RequestError(503, "no classifier is loaded (start aisle-serve with --classifier CLS.model)");
  const aisle::Matrix p = classify::class_probabilities(model->network, pixels);
  nlohmann::json classes = nlohmann::json::array();
  for (const auto& c : classify::top_classes(p.row(0), static_cast<std::size_t>(p.cols()))) {
    const auto label = aisle::io::kFashionMnistClassNames[static_cast<std::size_t>(c.index)];
    classes.push_back({{"label", std::string(label)}, {"p", c.probability}});
  }
  return json_response(200, {{"model_version", model->info.version}, {"classes", std::move(classes)}});
}

}  // namespace serve
