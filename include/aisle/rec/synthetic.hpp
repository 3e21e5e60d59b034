#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "aisle/core/tensor.hpp"

namespace aisle::rec {

// A labelled-synthetic storefront: shoppers with latent tastes over item
// categories, power-law item popularity, time-ordered sessions that stay
// mostly within one category. Deterministic from the seed on every platform.
struct SyntheticOptions {
  Index users = 2000;
  Index items = 500;
  Index categories = 12;
  std::uint64_t seed = 7;
  float popularity_exponent = 1.0f;  // item weight ~ 1 / rank^exponent
  Index max_sessions = 5;            // per shopper, at least 1
  Index max_session_items = 8;       // per session, at least 2
  // The exact number of rows when > 0 (at least one per shopper): each
  // shopper then gets between 1 and twice the mean, in sessions as above.
  // 0: each shopper's sessions are drawn (1..max_sessions).
  Index interactions = 0;
  // Product photos: the labels of an image set (Fashion-MNIST's test
  // labels). When given, each item's only feature is "image:<n>", image n
  // being one whose label is the item's category (category c is label c, so
  // categories must not exceed the labels' classes), and the category itself
  // is withheld. The rows stay those of the same options without images.
  std::vector<std::uint8_t> image_labels;
};

struct SyntheticRow {
  std::string user;
  std::string item;
  std::int64_t timestamp = 0;
};

struct SyntheticStore {
  std::vector<SyntheticRow> interactions;                     // by shopper, then time
  std::vector<std::pair<std::string, std::string>> features;  // (item, "category:...")
};

SyntheticStore make_synthetic_store(const SyntheticOptions& options);

// Writes interactions.csv, items.csv and a README.md that says the data is
// synthetic, each file atomically.
void write_synthetic_store(const std::filesystem::path& folder, const SyntheticStore& store,
                           const SyntheticOptions& options);

// The same files straight from the options, without holding the rows in
// memory (tens of millions of rows in seconds); returns the row count.
std::size_t write_synthetic_store(const std::filesystem::path& folder, const SyntheticOptions& options);

}  // namespace aisle::rec
