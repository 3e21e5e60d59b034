#include "image_features.hpp"

#include <algorithm>
#include <charconv>
#include <optional>
#include <string_view>

#include "aisle/core/error.hpp"
#include "aisle/io/fashion_mnist.hpp"
#include "aisle/io/idx.hpp"
#include "classifier.hpp"

namespace recommend_cli {
namespace {

constexpr std::string_view kImagePrefix = "image:";

// n of "image:<n>"; nullopt for a feature of another kind.
std::optional<aisle::Index> image_index(const std::string& feature, aisle::Index image_count,
                                        const std::filesystem::path& images) {
  if (!feature.starts_with(kImagePrefix)) return std::nullopt;
  const std::string_view digits = std::string_view(feature).substr(kImagePrefix.size());
  aisle::Index n = -1;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() || n < 0 || n >= image_count)
    throw aisle::Error("item feature '" + feature + "': not image:<n> with n a whole number below " +
                       std::to_string(image_count) + ", the images in " + images.string());
  return n;
}

}  // namespace

ImageClassFeatures::ImageClassFeatures(const std::filesystem::path& classifier, const std::filesystem::path& images)
    : classifier_path_(classifier), images_path_(images) {}

std::vector<std::string> ImageClassFeatures::resolve(const std::vector<std::string>& features) const {
  const bool any_image = std::any_of(features.begin(), features.end(),
                                     [](const std::string& f) { return f.starts_with(kImagePrefix); });
  if (!any_image) return features;
  const auto images = aisle::io::read_idx_images(images_path_);
  if (images.rows != aisle::io::kFashionMnistSide || images.cols != aisle::io::kFashionMnistSide)
    throw aisle::Error(images_path_.string() + ": images of " + std::to_string(images.rows) + "x" +
                       std::to_string(images.cols) + " pixels; the classifier reads 28x28");
  const auto model = classify::load_classifier(classifier_path_);

  std::vector<std::optional<aisle::Index>> index_of;  // by feature
  std::vector<aisle::Index> named;                    // the images named, once each
  for (const auto& feature : features) {
    index_of.push_back(image_index(feature, images.pixels.rows(), images_path_));
    if (index_of.back()) named.push_back(*index_of.back());
  }
  std::sort(named.begin(), named.end());
  named.erase(std::unique(named.begin(), named.end()), named.end());
  aisle::Matrix pixels(static_cast<aisle::Index>(named.size()), images.pixels.cols());
  for (std::size_t r = 0; r < named.size(); ++r) pixels.row(static_cast<aisle::Index>(r)) = images.pixels.row(named[r]);
  const aisle::Matrix probabilities = classify::class_probabilities(model, pixels);

  std::vector<std::string> resolved;
  for (std::size_t f = 0; f < features.size(); ++f) {
    if (!index_of[f]) {
      resolved.push_back(features[f]);
      continue;
    }
    const auto row = std::lower_bound(named.begin(), named.end(), *index_of[f]) - named.begin();
    aisle::Index predicted = 0;
    probabilities.row(row).maxCoeff(&predicted);
    resolved.push_back("image-class:" + std::string(aisle::io::kFashionMnistClassNames[static_cast<std::size_t>(predicted)]));
  }
  return resolved;
}

}  // namespace recommend_cli
