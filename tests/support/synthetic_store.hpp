#pragma once

// A small synthetic storefront written as CSV files and read back, as a
// user's data set would be: the recommendation tests' shared fixture.

#include "aisle/rec/interactions.hpp"
#include "aisle/rec/synthetic.hpp"
#include "support/test_files.hpp"

namespace aisle::test_support {

inline rec::Interactions synthetic_store(Index users, Index items, Index categories) {
  TempDir dir;
  rec::SyntheticOptions options;
  options.users = users;
  options.items = items;
  options.categories = categories;
  rec::write_synthetic_store(dir.path(), options);
  return rec::read_dataset(dir.path());
}

}  // namespace aisle::test_support
