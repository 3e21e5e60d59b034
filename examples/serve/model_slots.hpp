#pragma once

// The models a service answers with, each in a slot that a reload swaps
// atomically: a request takes a shared pointer to the model when it starts
// and finishes on it, whatever reloads happen meanwhile.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "aisle/nn/sequential.hpp"
#include "aisle/rec/recommender.hpp"

namespace serve {

// What /v1/models and /metrics say of a loaded model.
struct ModelInfo {
  std::string name;     // "rec" or "classifier": the slot
  std::string kind;     // the model file's kind: "rec.ease", "sequential"
  std::string version;  // 16 hex digits: a hash of the file's bytes
  std::filesystem::path path;
  std::int64_t size = 0;  // items for a recommender, classes for a classifier
  std::string loaded_at;  // UTC, ISO 8601
  double load_seconds = 0;
};

struct RecommenderModel {
  aisle::rec::Recommender recommender;
  ModelInfo info;
};

struct ClassifierModel {
  aisle::Sequential network;
  ModelInfo info;
};

// The version of a model file, as 16 hex digits: a hash of the CRC-32 of its
// contents, which every aisle model file ends with, and of its length. Read
// from the file's last bytes, not the whole file: the load that follows
// reads it once and checks that CRC. Different contents differ in it but for
// a chance of one in 2^32.
std::string file_version(const std::filesystem::path& path);

// Loads and checks a model (it answers one query) or throws aisle::Error
// naming the file and the fault: missing, corrupt, or of the wrong kind.
std::shared_ptr<const RecommenderModel> load_recommender_model(const std::filesystem::path& path);
std::shared_ptr<const ClassifierModel> load_classifier_model(const std::filesystem::path& path);

enum class Slot { recommender, classifier };
const char* slot_name(Slot slot);  // "rec", "classifier"

class ModelSlots {
 public:
  // Empty slots; a request that needs a model in one gets a 503.
  ModelSlots() = default;
  ModelSlots(const ModelSlots&) = delete;
  ModelSlots& operator=(const ModelSlots&) = delete;

  std::shared_ptr<const RecommenderModel> recommender() const;
  std::shared_ptr<const ClassifierModel> classifier() const;
  std::vector<ModelInfo> infos() const;

  // Loads the model at path (or, without one, the slot's current file again)
  // beside the one serving, then swaps it in. One load runs at a time; the
  // serving model answers throughout. On failure the old model stays and the
  // aisle::Error propagates.
  ModelInfo reload(Slot slot, const std::optional<std::filesystem::path>& path = std::nullopt);
  // The path the slot was last loaded from; nullopt when never loaded.
  std::optional<std::filesystem::path> path_of(Slot slot) const;

 private:
  mutable std::mutex swap_mutex_;  // guards the two pointers, held only to copy or swap them
  std::mutex reload_mutex_;        // one load at a time
  std::shared_ptr<const RecommenderModel> recommender_;
  std::shared_ptr<const ClassifierModel> classifier_;
};

}  // namespace serve
