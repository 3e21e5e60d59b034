// Links aisle through its installed CMake package and trains a tiny model.
#include <aisle/aisle.hpp>
#include <iostream>

int main() {
  aisle::Sequential model({.seed = 1});
  model.add(aisle::Dense(8, aisle::Activation::relu, 2));
  model.add(aisle::Dense(2, aisle::Activation::softmax));
  model.compile(aisle::Adam(), aisle::SparseCategoricalCrossentropy(), {aisle::Metric::accuracy});
  aisle::Matrix x(4, 2);
  x << 0, 0, 0, 1, 1, 0, 1, 1;
  aisle::Labels y(4);
  y << 0, 1, 1, 0;
  model.fit(x, y, {.epochs = 5, .batch_size = 4});
  const aisle::Matrix p = model.predict(x);
  if (p.rows() != 4 || p.cols() != 2) return 1;
  std::cout << "consumer ok: " << model.parameter_count() << " parameters\n";
  return 0;
}
