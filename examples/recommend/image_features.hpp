#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace recommend_cli {

// The file of product photos beside a store's items.csv: "image:<n>" names
// image n of it (aisle-recommend synth --images writes one).
inline constexpr const char* kItemImagesFile = "item-images-idx3-ubyte.gz";

// Product photos as features that new products share with old ones: each
// "image:<n>" feature becomes "image-class:<class>", the Fashion-MNIST class
// that a product-image classifier (aisle-classify train) predicts for image n
// of an IDX image file. An id of a photo says nothing about the product; its
// predicted class does. Other features pass through unchanged.
class ImageClassFeatures {
 public:
  // Keeps the paths: resolve() reads both files, and only when some feature
  // is an image.
  ImageClassFeatures(const std::filesystem::path& classifier, const std::filesystem::path& images);

  // The resolved name of each feature, in order. Only the images named are
  // classified; an unreadable file is an aisle::Error naming it. "image:" followed by anything but a whole number below the
  // image count is an aisle::Error naming the feature and the image file.
  std::vector<std::string> resolve(const std::vector<std::string>& features) const;

 private:
  std::filesystem::path classifier_path_;
  std::filesystem::path images_path_;
};

}  // namespace recommend_cli
