#pragma once

// What the aisle-serve tests share: a small synthetic store, two EASE models
// fitted on it (different l2, so different versions and scores), a
// classifier, and requests built in one line.

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "aisle/rec/recommender.hpp"
#include "aisle/rec/synthetic.hpp"
#include "classifier.hpp"
#include "http_types.hpp"
#include "support/test_files.hpp"

namespace aisle::test_support {

struct ServeModels {
  TempDir dir;
  std::filesystem::path data = dir / "store";
  std::filesystem::path rec = dir / "rec.model";
  std::filesystem::path rec_other = dir / "rec-other.model";
  std::filesystem::path classifier = dir / "classifier.model";

  ServeModels() {
    const rec::SyntheticOptions options{.users = 150, .items = 60, .categories = 4, .seed = 11};
    rec::write_synthetic_store(data, rec::make_synthetic_store(options), options);
    const auto store = rec::read_dataset(data);
    rec::Recommender::fit(store, rec::make_model("ease", {{"l2", 10.0}})).save(rec);
    rec::Recommender::fit(store, rec::make_model("ease", {{"l2", 300.0}})).save(rec_other);
    classify::build_classic_model(3, std::nullopt, 1e-3f).save(classifier);
  }
};

inline serve::HttpRequest post_json(const std::string& path, const nlohmann::json& body) {
  return {.method = "POST", .path = path, .content_type = "application/json", .body = body.dump()};
}

inline serve::HttpRequest post_text(const std::string& path, const std::string& body,
                                    const std::string& content_type = "application/json") {
  return {.method = "POST", .path = path, .content_type = content_type, .body = body};
}

inline serve::HttpRequest get(const std::string& path) { return {.method = "GET", .path = path}; }

inline nlohmann::json body_of(const serve::HttpResponse& response) { return nlohmann::json::parse(response.body); }

// The item ids of an answer's "items", or of the library's Recommendations.
inline std::vector<std::string> item_ids(const nlohmann::json& items) {
  std::vector<std::string> out;
  for (const auto& entry : items) out.push_back(entry.at("item").get<std::string>());
  return out;
}

inline std::vector<std::string> item_ids(const rec::Recommendations& r) {
  std::vector<std::string> out;
  for (const auto& s : r.items) out.push_back(s.item);
  return out;
}

}  // namespace aisle::test_support
