#pragma once

// Training on cut histories (private to the library): the examples and the
// epoch loop that the neural and hybrid models share. An example cuts a
// fitted row at a random point: the items before the cut, some dropped, are
// the input, weighted by recency; the items after it are the targets,
// weighted decay^distance from the cut.

#include <functional>
#include <span>
#include <string>
#include <vector>

#include "aisle/core/option_schema.hpp"
#include "aisle/core/random.hpp"
#include "aisle/nn/embedding_bag.hpp"
#include "aisle/rec/histories.hpp"
#include "aisle/rec/model.hpp"
#include "rec/sampled_output_layer.hpp"

namespace aisle::rec::detail {

struct CutOptions {
  float dropout = 0.5f;       // each input item is dropped with this probability
  float target_decay = 0.7f;  // weight of later targets: decay^distance from the cut
  float input_decay = 0.6f;   // weight of older input items: decay^age, rows of unit length
  Index cuts_per_row = 0;     // cuts of a row an epoch: 0 for n - 1, k for at most k
  Index batch_size = 128;
};

// The options of the models trained on cut histories that mean the same in
// each (their settings structs name them alike), added to schema in one order.
template <class Options>
OptionSchema<Options>& add_cut_training_options(OptionSchema<Options>& schema) {
  using O = Options;
  return schema.add("epochs", &O::epochs, "passes over the fitted interactions (at most, with validate)")
      .add("batch_size", &O::batch_size, "training examples a step")
      .add("learning_rate", &O::learning_rate, "Adam's learning rate")
      .add("dropout", &O::dropout, "input dropout, the denoising corruption")
      .add("target_decay", &O::target_decay, "weight of later targets: decay^distance from the cut")
      .add("input_decay", &O::input_decay, "weight of older history items: decay^age");
}

// The inputs and targets of one training batch.
struct CutBatch {
  Histories inputs;
  std::vector<float> weights;  // the input value of each of inputs.items()
  // Example r's targets, divided by target_totals[r], sum to 1.
  std::vector<TargetEntry> targets;
  std::vector<float> target_totals;

  Index size() const { return inputs.size(); }
  // The targets over the whole catalogue, rows summing to 1.
  Matrix dense_targets(Index item_count) const;
};

// The input values of every item of histories (decay^age of unit length per
// row, the newest of each row last).
std::vector<float> input_weights(const Histories& histories, float decay);

// histories with their input values as an input layer's bags.
inline WeightedBags bags_of(const Histories& histories, std::span<const float> weights) {
  return {histories.offsets(), histories.items(), weights};
}

// The epochs of a fit: each shuffles the rows' cuts, cuts batch_size rows at
// a time into a CutBatch and hands it to step, which returns its mean loss
// (a non-finite loss stops the fit with an error naming the epoch). kind
// names the model in progress lines (a line every half minute and one per
// epoch). after_epoch (optional) runs after each epoch; false stops early.
// Returns each epoch's mean loss.
struct EpochLoop {
  std::string kind;
  CutOptions cuts;
  int epochs = 0;
  std::function<float(const CutBatch&)> step;
  std::function<bool(int)> after_epoch;
};
std::vector<float> run_epochs(const Histories& rows, const EpochLoop& loop, Rng& rng, const FitContext& context);

// The examples an epoch makes: one per cut (throws naming kind when no row
// has the two items a cut needs).
std::vector<Index> trainable_rows(const Histories& rows, const CutOptions& cuts, const std::string& kind);

}  // namespace aisle::rec::detail
