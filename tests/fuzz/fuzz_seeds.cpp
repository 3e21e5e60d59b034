// Writes a seed corpus for each fuzz target into DIR/<target>/: small valid
// files made by aisle's own writers (model files without their trailing
// checksum, which the targets append), so that fuzzing starts deep inside
// each format.
//
// usage: aisle-fuzz-seeds DIR

#include <cstdint>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>

#include "aisle/aisle.hpp"
#include "aisle/io/idx.hpp"
#include "aisle/rec/event_log.hpp"
#include "aisle/rec/interactions.hpp"
#include "aisle/rec/model.hpp"
#include "aisle/rec/recommender.hpp"
#include "aisle/rec/synthetic.hpp"

namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void put(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// A model file as the targets take it: without the CRC-32 they append.
void put_model(const fs::path& path, const fs::path& saved) {
  const std::string bytes = slurp(saved);
  put(path, bytes.substr(0, bytes.size() - 4));
}

std::string big_endian(std::uint32_t value) {
  return {static_cast<char>(value >> 24), static_cast<char>(value >> 16), static_cast<char>(value >> 8),
          static_cast<char>(value)};
}

void idx_seeds(const fs::path& dir, const fs::path& scratch) {
  aisle::Matrix pixels(3, 4);
  pixels << 0, 0.5f, 1, 0.25f, 1, 1, 0, 0, 0.1f, 0.2f, 0.3f, 0.4f;
  aisle::io::write_idx_images(scratch / "images.gz", pixels, 2, 2);
  put(dir / "idx_images" / "gzip", slurp(scratch / "images.gz"));
  put(dir / "idx_images" / "plain", big_endian(0x803) + big_endian(2) + big_endian(1) + big_endian(3) +
                                        std::string("\x00\x7f\xff\x01\x02\x03", 6));
  aisle::Labels labels(4);
  labels << 0, 9, 3, 3;
  aisle::io::write_idx_labels(scratch / "labels.gz", labels);
  put(dir / "idx_labels" / "gzip", slurp(scratch / "labels.gz"));
  put(dir / "idx_labels" / "plain", big_endian(0x801) + big_endian(3) + std::string("\x00\x09\x04", 3));
}

void pgm_seeds(const fs::path& dir) {
  put(dir / "pgm" / "binary", std::string("P5\n3 2\n255\n", 11) + std::string("\x00\x80\xff\x10\x20\x30", 6));
  put(dir / "pgm" / "ascii", "P2\n# a comment\n3 1\n15\n0 7 15\n");
}

void sequential_seeds(const fs::path& dir, const fs::path& scratch) {
  aisle::Sequential model({.seed = 1});
  model.add(aisle::Dense(4, aisle::Activation::relu, 3));
  model.add(aisle::Dense(2, aisle::Activation::softmax));
  model.compile(aisle::Adam(), aisle::SparseCategoricalCrossentropy(), {aisle::Metric::accuracy});
  model.save(scratch / "sequential.aisle");
  put_model(dir / "sequential_file" / "adam", scratch / "sequential.aisle");

  aisle::Sequential cnn({.seed = 2});
  const aisle::Conv2D conv({.input = {4, 4, 1}, .filters = 2, .kernel = 3, .activation = aisle::Activation::relu});
  cnn.add(conv);
  cnn.add(aisle::MaxPool2D({.input = conv.output_shape(), .pool = 2}));
  cnn.add(aisle::Flatten());
  cnn.add(aisle::DropoutLayer(0.5f));
  cnn.add(aisle::Dense(2, aisle::Activation::softmax));
  cnn.compile(aisle::Adam(), aisle::SparseCategoricalCrossentropy(), {aisle::Metric::accuracy});
  cnn.save(scratch / "cnn.aisle");
  put_model(dir / "sequential_file" / "cnn", scratch / "cnn.aisle");
}

void recommender_seeds(const fs::path& dir, const fs::path& scratch) {
  const aisle::rec::SyntheticOptions options{.users = 30, .items = 12, .categories = 3};
  aisle::rec::write_synthetic_store(scratch / "shop", aisle::rec::make_synthetic_store(options), options);
  const aisle::rec::Interactions data = aisle::rec::read_dataset(scratch / "shop");
  for (const std::string& kind : aisle::rec::model_kinds()) {
    const nlohmann::json model_options =
        kind == "neural" || kind == "hybrid" ? nlohmann::json{{"epochs", 1}, {"hidden", 4}} : nlohmann::json::object();
    const auto recommender = aisle::rec::Recommender::fit(data, aisle::rec::make_model(kind, model_options));
    recommender.save(scratch / (kind + ".aisle"));
    put_model(dir / "recommender_file" / kind, scratch / (kind + ".aisle"));
  }
  const aisle::rec::SyntheticOptions few{.users = 3, .items = 12, .categories = 3};
  aisle::rec::write_synthetic_store(scratch / "few", aisle::rec::make_synthetic_store(few), few);
  put(dir / "interactions_csv" / "synthetic", slurp(scratch / "few" / "interactions.csv"));
  put(dir / "items_csv" / "synthetic", slurp(scratch / "few" / "items.csv"));
  put(dir / "items_csv" / "awkward", "\xEF\xBB\xBFitem,feature\r\na,image:4\r\n\"q,1\",\"brand:\"\"x\"\"\"\nb,image:4\nzz,genre:y\na,image:4\n");
  put(dir / "interactions_csv" / "rated", "user,item,timestamp,rating\nu1,i1,10,5\nu1,i2,11,3\nu2,i1,9,1\n\"u 3\",i3,12,4\n");
}

// One request a file: the endpoint byte, the Content-Type byte, the body
// (see fuzz_serve_requests.cpp).
void serve_request_seeds(const fs::path& dir) {
  const auto seed = [&](const std::string& name, char endpoint, char content_type, const std::string& body) {
    put(dir / "serve_requests" / name, std::string{endpoint, content_type} + body);
  };
  seed("recommend-user", 0, 0, R"({"user":"shopper-000001","k":5,"explain":true})");
  seed("recommend-history", 0, 0, R"({"history":["item-00001","item-00002","zz"],"exclude":["item-00003"],"feature":"category:c01"})");
  seed("batch", 1, 0, R"({"queries":[{"user":"shopper-000002"},{"history":["item-00004"]}],"k":3,"allow":["item-00005","item-00006"]})");
  seed("similar", 2, 0, R"({"item":"item-00001","k":4})");
  seed("explain", 3, 0, R"({"history":["item-00001","item-00007"],"item":"item-00002"})");
  std::string pixels = R"({"pixels":[0)";
  for (int i = 1; i < 784; ++i) pixels += "," + std::to_string(i % 256);
  seed("classify-pixels", 4, 0, pixels + "]}");
  seed("classify-pgm", 4, 1, "P5\n28 28\n255\n" + std::string(784, '\x40'));
  seed("reload", static_cast<char>(0x86), 0, R"({"model":"rec"})");
  seed("event", 12, 0, R"({"user":"shopper-000001","item":"item-00003","timestamp":1733312345})");
  seed("events", 12, 0, R"({"events":[{"user":"u9","item":"item-00001"},{"user":"u9","item":"new-item","timestamp":7}]})");
  seed("history", static_cast<char>(0x8d), 2, "");
  seed("forget", static_cast<char>(0x8e), 2, "");
}

// The records of logs EventLog wrote, without the 12-byte header that
// fuzz_event_log.cpp writes itself.
void event_log_seeds(const fs::path& dir, const fs::path& scratch) {
  const auto records = [&](const fs::path& folder) { return slurp(folder / "events.log").substr(12); };
  {
    aisle::rec::EventLog log(scratch / "events");
    log.append(std::vector<aisle::rec::Event>{{"u1", "i1", 10}, {"u1", "i2", 11}, {"u2", "i1", 12}});
  }
  put(dir / "event_log" / "events", records(scratch / "events"));
  {
    aisle::rec::EventLog log(scratch / "forgotten");
    log.append(std::vector<aisle::rec::Event>{{"u1", "i1", 10}, {"u2", "i2", 11}});
    log.forget("u1");
    put(dir / "event_log" / "tombstone", records(scratch / "forgotten"));
    log.compact();
  }
  put(dir / "event_log" / "compacted", records(scratch / "forgotten"));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: aisle-fuzz-seeds DIR\n";
    return 2;
  }
  try {
    const fs::path dir = argv[1];
    const fs::path scratch = dir / "scratch";
    fs::create_directories(scratch);
    idx_seeds(dir, scratch);
    pgm_seeds(dir);
    sequential_seeds(dir, scratch);
    recommender_seeds(dir, scratch);
    serve_request_seeds(dir);
    event_log_seeds(dir, scratch);
    fs::remove_all(scratch);
  } catch (const std::exception& e) {
    std::cerr << "aisle-fuzz-seeds: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
