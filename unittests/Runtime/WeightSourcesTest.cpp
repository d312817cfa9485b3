//===- WeightSourcesTest.cpp - External and generated weights -------------===//

#include "TestUtil.h"

#include "dsp/Format/Float16.h"
#include "dsp/Format/WeightSources.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

using namespace dsp::test;
using dsp::format::ProgramFile;
using dsp::program::BF16;
using dsp::program::F32;
using dsp::program::I64;

namespace {

TEST(WeightSourcesTest, ChecksumSeesEveryByte) {
  std::vector<uint8_t> bytes(100);
  for (size_t i = 0; i < bytes.size(); ++i)
    bytes[i] = static_cast<uint8_t>(i * 7);
  // Every prefix length (full blocks, words and tail bytes) differs, and
  // flipping any one bit changes the sum.
  std::set<uint64_t> prefixes;
  for (size_t n = 0; n <= bytes.size(); ++n)
    prefixes.insert(dsp::format::weightChecksum(bytes.data(), n));
  EXPECT_EQ(prefixes.size(), bytes.size() + 1);
  uint64_t whole = dsp::format::weightChecksum(bytes.data(), bytes.size());
  for (size_t i = 0; i < bytes.size(); ++i) {
    bytes[i] ^= 0x10;
    EXPECT_NE(dsp::format::weightChecksum(bytes.data(), bytes.size()), whole)
        << "byte " << i;
    bytes[i] ^= 0x10;
  }
  EXPECT_EQ(dsp::format::weightChecksum(bytes.data(), bytes.size()), whole);
}

TEST(WeightSourcesTest, GeneratedValuesAreSeededAndInRange) {
  dsp::program::GeneratedWeight generated;
  generated.set_seed(42);
  generated.set_center(1.0);
  generated.set_bound(0.25);
  const uint64_t n = 10000;
  std::vector<float> a(n), b(n);
  dsp::format::generateWeight(generated, F32, n, a.data());
  dsp::format::generateWeight(generated, F32, n, b.data());
  EXPECT_EQ(a, b);
  double sum = 0;
  for (float v : a) {
    ASSERT_GE(v, 0.75f);
    ASSERT_LE(v, 1.25f);
    sum += v;
  }
  EXPECT_NEAR(sum / n, 1.0, 0.01);
  std::set<float> distinct(a.begin(), a.end());
  EXPECT_GT(distinct.size(), n / 2);

  // Another seed, other values; bf16 holds the f32 values rounded once.
  generated.set_seed(43);
  dsp::format::generateWeight(generated, F32, n, b.data());
  EXPECT_NE(a, b);
  std::vector<uint16_t> narrow(n);
  dsp::format::generateWeight(generated, BF16, n, narrow.data());
  for (uint64_t i = 0; i < n; ++i)
    ASSERT_EQ(narrow[i], dsp::format::floatToBfloat16(b[i])) << i;
}

TEST(WeightSourcesTest, PathRules) {
  EXPECT_EQ(dsp::format::externalPathProblem("weights.bin"), "");
  EXPECT_EQ(dsp::format::externalPathProblem("sub/dir/w..bin"), "");
  EXPECT_EQ(dsp::format::externalPathProblem(""), "is empty");
  EXPECT_EQ(dsp::format::externalPathProblem("/etc/passwd"), "is absolute");
  EXPECT_EQ(dsp::format::externalPathProblem("../w.bin"),
            "has a '..' component");
  EXPECT_EQ(dsp::format::externalPathProblem("a/../../w.bin"),
            "has a '..' component");
  EXPECT_EQ(dsp::format::externalPathProblem("a/.."), "has a '..' component");
  EXPECT_EQ(dsp::format::externalPathProblem(std::string("w\0.bin", 6)),
            "holds a NUL byte");
}

/// y = x @ w + g: w [3,4] from an external file, g [4] generated.
struct SourcedProgram {
  ProgramBuilder builder;
  uint32_t w, g;
  std::vector<float> values = randomFloats(12, 3);

  SourcedProgram() {
    uint32_t x = builder.input("x", F32, {2, 3});
    w = builder.sourcedWeight("w", F32, {3, 4});
    g = builder.sourcedWeight("g", F32, {4});
    uint32_t y = builder.op("matmul", {x, w}, F32, {2, 4});
    builder.output(builder.op("add", {y, g}, F32, {2, 4}));
    dsp::program::ExternalWeight *external =
        builder.program.mutable_tensors(w)->mutable_external();
    external->set_path("w.bin");
    external->set_offset(8);
    external->set_bytes(values.size() * sizeof(float));
    external->set_dtype(F32);
    external->set_checksum(
        dsp::format::weightChecksum(values.data(), external->bytes()));
    dsp::program::GeneratedWeight *generated =
        builder.program.mutable_tensors(g)->mutable_generated();
    generated->set_seed(1);
    generated->set_bound(0.5);
  }
};

std::string folderFor(const std::string &name) {
  std::string folder = temporaryPath(name);
  ::mkdir(folder.c_str(), 0755);
  return folder;
}

void writeWeightFile(const std::string &path,
                     const std::vector<float> &values) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file.write("pad-pad!", 8);
  file.write(reinterpret_cast<const char *>(values.data()),
             values.size() * sizeof(float));
}

TEST(WeightSourcesTest, LoaderFillsTheLoadedBlob) {
  SourcedProgram sourced;
  std::string folder = folderFor("sourced");
  writeWeightFile(folder + "/w.bin", sourced.values);
  ASSERT_EQ(sourced.builder.write(folder + "/p.dspx"), "");
  std::string error;
  std::shared_ptr<const ProgramFile> file =
      ProgramFile::open(folder + "/p.dspx", error);
  ASSERT_TRUE(file) << error;
  EXPECT_EQ(file->header().minorVersion, dsp::format::kMinorVersion);
  EXPECT_EQ(file->header().weightsSize, 0u);
  EXPECT_TRUE(file->hasGeneratedWeights());
  EXPECT_EQ(file->weightsBytes(), file->program().loaded_weights_bytes());
  const float *w = static_cast<const float *>(file->weightData(sourced.w));
  EXPECT_EQ(std::vector<float>(w, w + 12), sourced.values);
  const float *g = static_cast<const float *>(file->weightData(sourced.g));
  std::vector<float> expected(4);
  dsp::format::generateWeight(file->program().tensors(sourced.g).generated(),
                              F32, 4, expected.data());
  EXPECT_EQ(std::vector<float>(g, g + 4), expected);
  for (float v : expected)
    EXPECT_TRUE(v != 0 && std::fabs(v) <= 0.5f) << v;

  // F32 in the file narrowed to a BF16 weight, rounded once at load.
  SourcedProgram narrow;
  narrow.builder.program.mutable_tensors(narrow.w)->set_dtype(BF16);
  narrow.builder.program.mutable_tensors(narrow.w)->set_bytes(24);
  narrow.builder.program.mutable_tensors(narrow.g)->set_dtype(BF16);
  narrow.builder.program.mutable_tensors(narrow.g)->set_bytes(8);
  for (uint32_t t = 0; t < 5; ++t)
    if (narrow.builder.program.tensors(t).kind() != dsp::program::WEIGHT) {
      narrow.builder.program.mutable_tensors(t)->set_dtype(BF16);
      narrow.builder.program.mutable_tensors(t)->set_bytes(
          narrow.builder.program.tensors(t).bytes() / 2);
    }
  ASSERT_EQ(narrow.builder.write(folder + "/narrow.dspx"), "");
  file = ProgramFile::open(folder + "/narrow.dspx", error);
  ASSERT_TRUE(file) << error;
  const uint16_t *bits =
      static_cast<const uint16_t *>(file->weightData(narrow.w));
  for (int i = 0; i < 12; ++i)
    EXPECT_EQ(bits[i], dsp::format::floatToBfloat16(narrow.values[i]));
}

TEST(WeightSourcesTest, LoaderRefusesWhatItCannotTrust) {
  SourcedProgram sourced;
  std::string folder = folderFor("refused");
  ASSERT_EQ(sourced.builder.write(folder + "/p.dspx"), "");
  std::string error;
  auto openError = [&] {
    error.clear();
    EXPECT_FALSE(ProgramFile::open(folder + "/p.dspx", error));
    return error;
  };
  EXPECT_NE(openError().find("weight 'w': external file 'w.bin' cannot be "
                             "opened: No such file or directory"),
            std::string::npos)
      << error;
  // A symlink that leads out of the program's folder.
  std::string outside = folder + ".outside.bin";
  writeWeightFile(outside, sourced.values);
  ASSERT_EQ(::symlink(outside.c_str(), (folder + "/w.bin").c_str()), 0);
  EXPECT_NE(openError().find("leads outside the program's folder"),
            std::string::npos)
      << error;
  ::unlink((folder + "/w.bin").c_str());
  // A directory, a short file, a changed byte.
  ::mkdir((folder + "/w.bin").c_str(), 0755);
  EXPECT_NE(openError().find("is a directory, expected a regular file"),
            std::string::npos)
      << error;
  ::rmdir((folder + "/w.bin").c_str());
  writeWeightFile(folder + "/w.bin", {1, 2});
  EXPECT_NE(openError().find("it holds 16 bytes, the weight needs 48 from "
                             "offset 8"),
            std::string::npos)
      << error;
  std::vector<float> changed = sourced.values;
  changed[5] += 1;
  writeWeightFile(folder + "/w.bin", changed);
  EXPECT_NE(openError().find("do not match the checksum"), std::string::npos)
      << error;
  writeWeightFile(folder + "/w.bin", sourced.values);
  EXPECT_TRUE(ProgramFile::open(folder + "/p.dspx", error)) << error;
  // A caller's memory budget for the loaded weights.
  bool overBudget = false;
  EXPECT_FALSE(ProgramFile::open(folder + "/p.dspx", error, 64, &overBudget));
  EXPECT_NE(error.find("its weights take 80 bytes once loaded, more than "
                       "the limit of 64"),
            std::string::npos)
      << error;
  EXPECT_TRUE(overBudget);
  EXPECT_FALSE(
      ProgramFile::open(folder + "/p.dspx.missing", error, 64, &overBudget));
  EXPECT_FALSE(overBudget) << "a missing file is no budget problem";
  std::remove(outside.c_str());
}

TEST(WeightSourcesTest, GeneratedWeightsBeyondTheMachinesMemory) {
  // 8 TiB of generated weights: refused before any allocation.
  ProgramBuilder builder;
  Shape shape = {int64_t(1) << 20, int64_t(1) << 21};
  uint32_t x = builder.input("x", F32, shape);
  uint32_t g = builder.sourcedWeight("g", F32, shape);
  builder.program.mutable_tensors(g)->mutable_generated()->set_bound(0.5);
  builder.output(builder.op("add", {x, g}, F32, shape));
  std::string path = temporaryPath("huge_generated.dspx");
  ASSERT_EQ(builder.write(path), "");
  std::string error;
  bool overBudget = false;
  EXPECT_FALSE(ProgramFile::open(path, error, dsp::format::kMaxBufferBytes,
                                 &overBudget));
  EXPECT_NE(error.find("its weights take 8796093022208 bytes once loaded, "
                       "more than this machine's memory of "),
            std::string::npos)
      << error;
  EXPECT_TRUE(overBudget);
}

TEST(WeightSourcesTest, SplatWeightsAreFilledAtLoad) {
  // y = x + s + b: s a 1000-element f32 splat of 2.5, b a bool splat of 1,
  // each one element in the file.
  ProgramBuilder builder;
  uint32_t x = builder.input("x", F32, {1000});
  uint32_t s = builder.sourcedWeight("s", F32, {1000});
  uint32_t b = builder.sourcedWeight("b", dsp::program::BOOL, {1000});
  float value = 2.5f;
  builder.program.mutable_tensors(s)->mutable_splat()->set_element(
      std::string(reinterpret_cast<const char *>(&value), sizeof(value)));
  builder.program.mutable_tensors(b)->mutable_splat()->set_element(
      std::string(1, '\1'));
  uint32_t y = builder.op("add", {x, s}, F32, {1000});
  builder.output(y);
  builder.output(b);
  std::string path = temporaryPath("splat_weights.dspx");
  ASSERT_EQ(builder.write(path), "");
  struct stat status;
  ASSERT_EQ(::stat(path.c_str(), &status), 0);
  EXPECT_LT(status.st_size, 1000) << "a splat costs the file one element";
  std::string error;
  std::shared_ptr<const ProgramFile> file = ProgramFile::open(path, error);
  ASSERT_TRUE(file) << error;
  const float *values = static_cast<const float *>(file->weightData(s));
  EXPECT_EQ(std::vector<float>(values, values + 1000),
            std::vector<float>(1000, 2.5f));
  const uint8_t *flags = static_cast<const uint8_t *>(file->weightData(b));
  EXPECT_EQ(std::vector<uint8_t>(flags, flags + 1000),
            std::vector<uint8_t>(1000, 1));

  auto problem = [&](uint32_t tensor, std::string element) {
    dsp::program::Program program = file->program();
    program.mutable_tensors(tensor)->mutable_splat()->set_element(element);
    return dsp::format::validateProgram(program, 0);
  };
  EXPECT_NE(problem(s, "ab").find("a splat weight's element has 2 bytes, "
                                  "expected 4 for f32"),
            std::string::npos);
  EXPECT_NE(problem(b, "").find("a splat weight's element has 0 bytes, "
                                "expected 1 for bool"),
            std::string::npos);
  EXPECT_NE(problem(b, std::string(1, '\2'))
                .find("a splat weight's BOOL element is 2, expected 0 or 1"),
            std::string::npos);
}

TEST(WeightSourcesTest, ValidatorChecksSources) {
  SourcedProgram sourced;
  ASSERT_EQ(sourced.builder.write(temporaryPath("valid_sources.dspx")), "");
  const dsp::program::Program valid = sourced.builder.program;
  ASSERT_EQ(dsp::format::validateProgram(valid, 0), "");
  auto problem = [&](auto change) {
    dsp::program::Program program = valid;
    change(program);
    return dsp::format::validateProgram(program, 0);
  };
  auto has = [](const std::string &text, const std::string &part) {
    return text.find(part) != std::string::npos;
  };
  uint32_t w = sourced.w, g = sourced.g;
  EXPECT_TRUE(has(problem([&](auto &p) {
                    p.mutable_tensors(w)->mutable_external()->set_path("../w");
                  }),
                  "external weight path '../w' has a '..' component"));
  EXPECT_TRUE(has(problem([&](auto &p) {
                    p.mutable_tensors(w)->mutable_external()->set_path(
                        std::string(5000, 'a'));
                  }),
                  "more than the limit of 4096"));
  EXPECT_TRUE(has(problem([&](auto &p) {
                    p.mutable_tensors(w)->mutable_external()->set_dtype(I64);
                  }),
                  "an external weight of dtype i64 cannot be loaded as f32"));
  EXPECT_TRUE(
      has(problem([&](auto &p) {
            p.mutable_tensors(w)->mutable_external()->set_bytes(UINT64_MAX);
          }),
          "external weight bytes is 18446744073709551615, expected 48"));
  EXPECT_TRUE(has(problem([&](auto &p) {
                    p.mutable_tensors(g)->mutable_generated()->set_center(NAN);
                  }),
                  "is not finite, negative or beyond 1e30"));
  EXPECT_TRUE(has(problem([&](auto &p) {
                    p.mutable_tensors(g)->mutable_generated()->set_bound(-1);
                  }),
                  "is not finite, negative or beyond 1e30"));
  EXPECT_TRUE(has(problem([&](auto &p) {
                    p.mutable_tensors(g)->set_offset(p.tensors(w).offset());
                  }),
                  "overlap those of 'w'"));
  EXPECT_TRUE(has(
      problem([&](auto &p) { p.set_loaded_weights_bytes(uint64_t(1) << 40); }),
      "but the weights end at byte"));
  EXPECT_TRUE(has(problem([&](auto &p) {
                    p.mutable_tensors(g)->set_offset(uint64_t(1) << 40);
                  }),
                  "lie outside the loaded blob's part past the file's blob"));
  EXPECT_TRUE(
      has(problem([&](auto &p) { p.mutable_tensors(g)->clear_generated(); }),
          "lie outside the file's weight blob (0 bytes)"));
  EXPECT_TRUE(has(problem([&](auto &p) {
                    *p.mutable_tensors(0)->mutable_generated() =
                        p.tensors(g).generated();
                  }),
                  "only a WEIGHT tensor may have an external, generated "
                  "or splat source"));
}

} // namespace
