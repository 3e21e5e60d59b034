// EpochTuning: the best epoch of a validation curve is chosen, the curve is
// kept, and the probe stops once kPatience epochs bring nothing better.

#include <gtest/gtest.h>

#include <vector>

#include "aisle/rec/epoch_tuning.hpp"

namespace aisle::rec {
namespace {

constexpr Index kItems = 6;

// Scores every history's items by a fixed ranking: item 0 first when
// `knows_the_answer`, last otherwise. The probe below turns it on at one
// epoch only, so that the validation curve peaks there.
class ScriptedModel final : public Model {
 public:
  bool knows_the_answer = false;

  std::string kind() const override { return "scripted"; }
  nlohmann::json params() const override { return nlohmann::json::object(); }
  void fit(const Histories&, Index, const FitContext&) override {}
  Index item_count() const override { return kItems; }
  void score_batch(const Histories& histories, Matrix& scores) const override {
    scores.resize(histories.size(), kItems);
    for (Index h = 0; h < histories.size(); ++h)
      for (Index i = 0; i < kItems; ++i)
        scores(h, i) = static_cast<float>(i == 0 ? (knows_the_answer ? kItems : -1) : kItems - i);
  }
  void save(io::ModelFile&) const override {}
  void load(io::ModelFile&, const std::filesystem::path&) override {}
};

// Rows of three items end in item 0, which loo's validation split holds out
// of each; rows of two, too short to split, are fitted whole and put item 0
// among the candidates.
Histories rows_ending_in_item_zero() {
  Histories rows;
  for (Index u = 0; u < 20; ++u) {
    rows.add(std::vector<Index>{1 + u % 5, 1 + (u + 1) % 5, 0});
    rows.add(std::vector<Index>{0, 1 + u % 5});
  }
  return rows;
}

TEST(EpochTuning, ChoosesTheBestEpochAndStopsAfterPatience) {
  constexpr int best_epoch = 3, max_epochs = 100;
  EpochTuning tuning;
  int epochs_run = 0;
  const int chosen = tuning.choose(rows_ending_in_item_zero(), kItems, {}, "scripted",
                                   [&](const Histories&, const EpochTuning::AfterEpoch& after_epoch) {
                                     ScriptedModel probe;
                                     for (int epoch = 1; epoch <= max_epochs; ++epoch) {
                                       probe.knows_the_answer = epoch == best_epoch;
                                       ++epochs_run;
                                       if (!after_epoch(epoch, probe)) break;
                                     }
                                   });
  EXPECT_EQ(chosen, best_epoch);
  EXPECT_EQ(epochs_run, best_epoch + EpochTuning::kPatience);
  tuning.set_trained(chosen);
  nlohmann::json params;
  tuning.write(params);
  ASSERT_EQ(params.at("epochs_validation").size(), static_cast<std::size_t>(epochs_run));
  EXPECT_DOUBLE_EQ(params.at("epochs_validation")[best_epoch - 1][1].get<double>(), 1.0);  // item 0 first: NDCG 1
  EXPECT_LT(params.at("epochs_validation")[0][1].get<double>(), 1.0);
  EXPECT_EQ(params.at("epochs_trained"), best_epoch);
}

}  // namespace
}  // namespace aisle::rec
