#include "model_slots.hpp"

#include <array>
#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>

#include "aisle/core/error.hpp"
#include "classifier.hpp"

namespace serve {
namespace {

// Murmur3's 64-bit finaliser: every input bit reaches every output bit.
std::uint64_t mix(std::uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  return h ^ (h >> 33);
}

std::string hex16(std::uint64_t value) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, value >>= 4) out[static_cast<std::size_t>(i)] = kDigits[value & 15];
  return out;
}

std::string utc_now_iso8601() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  std::array<char, 32> text{};
  std::strftime(text.data(), text.size(), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text.data();
}

void expect_regular_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw aisle::Error("model file " + path.string() + " does not exist");
  if (!std::filesystem::is_regular_file(path, ec)) throw aisle::Error("model file " + path.string() + " is not a regular file");
}

ModelInfo start_info(const char* name, const std::filesystem::path& path) {
  expect_regular_file(path);
  ModelInfo info;
  info.name = name;
  info.path = std::filesystem::absolute(path);
  info.version = file_version(path);
  info.loaded_at = utc_now_iso8601();
  return info;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

std::string file_version(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw aisle::Error("model file " + path.string() + ": cannot open");
  const auto length = static_cast<std::uint64_t>(in.tellg());
  std::array<unsigned char, 4> crc{};
  if (length < crc.size() || !in.seekg(-static_cast<std::streamoff>(crc.size()), std::ios::end) ||
      !in.read(reinterpret_cast<char*>(crc.data()), static_cast<std::streamsize>(crc.size())))
    throw aisle::Error("model file " + path.string() + ": too short to be a model file (" + std::to_string(length) +
                       " bytes)");
  const std::uint64_t stored = crc[0] | (crc[1] << 8) | (crc[2] << 16) | (std::uint64_t{crc[3]} << 24);
  return hex16(mix(mix(stored) ^ length));
}

std::shared_ptr<const RecommenderModel> load_recommender_model(const std::filesystem::path& path) {
  const auto start = std::chrono::steady_clock::now();
  auto info = start_info("rec", path);
  auto recommender = aisle::rec::Recommender::load(path);
  // Checked beside the serving model: it must answer a query before it serves.
  if (recommender.items().size() > 0) {
    const std::vector<std::string> probe{recommender.items().id(0)};
    (void)recommender.recommend(probe, 1);
  }
  info.kind = "rec." + recommender.model().kind();
  info.size = recommender.items().size();
  info.load_seconds = seconds_since(start);
  return std::make_shared<const RecommenderModel>(RecommenderModel{std::move(recommender), std::move(info)});
}

std::shared_ptr<const ClassifierModel> load_classifier_model(const std::filesystem::path& path) {
  const auto start = std::chrono::steady_clock::now();
  auto info = start_info("classifier", path);
  auto network = classify::load_classifier(path);
  (void)classify::class_probabilities(network, aisle::Matrix::Zero(1, network.input_size()));
  info.kind = "sequential";
  info.size = network.output_size();
  info.load_seconds = seconds_since(start);
  return std::make_shared<const ClassifierModel>(ClassifierModel{std::move(network), std::move(info)});
}

const char* slot_name(Slot slot) { return slot == Slot::recommender ? "rec" : "classifier"; }

std::shared_ptr<const RecommenderModel> ModelSlots::recommender() const {
  std::lock_guard lock(swap_mutex_);
  return recommender_;
}

std::shared_ptr<const ClassifierModel> ModelSlots::classifier() const {
  std::lock_guard lock(swap_mutex_);
  return classifier_;
}

std::vector<ModelInfo> ModelSlots::infos() const {
  std::vector<ModelInfo> out;
  if (const auto r = recommender()) out.push_back(r->info);
  if (const auto c = classifier()) out.push_back(c->info);
  return out;
}

std::optional<std::filesystem::path> ModelSlots::path_of(Slot slot) const {
  if (slot == Slot::recommender) {
    if (const auto r = recommender()) return r->info.path;
  } else if (const auto c = classifier()) {
    return c->info.path;
  }
  return std::nullopt;
}

ModelInfo ModelSlots::reload(Slot slot, const std::optional<std::filesystem::path>& path) {
  std::lock_guard one_load_at_a_time(reload_mutex_);
  const auto source = path ? path : path_of(slot);
  if (!source) throw aisle::Error(std::string("no ") + slot_name(slot) + " model is loaded: give a path");
  if (slot == Slot::recommender) {
    auto loaded = load_recommender_model(*source);
    std::lock_guard lock(swap_mutex_);
    recommender_.swap(loaded);  // the old model goes when its last request ends
    return recommender_->info;
  }
  auto loaded = load_classifier_model(*source);
  std::lock_guard lock(swap_mutex_);
  classifier_.swap(loaded);
  return classifier_->info;
}

}  // namespace serve
