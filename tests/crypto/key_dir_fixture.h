// A test fixture with a fresh private directory for key files, removed after each test.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace medvault::crypto {

class KeyDirTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "medvault-keys-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes `contents` to `name` in the directory with `mode`.
  std::filesystem::path WriteFile(const std::string& name, const std::string& contents,
                                  mode_t mode) {
    std::filesystem::path path = dir_ / name;
    std::ofstream(path) << contents;
    ::chmod(path.c_str(), mode);
    return path;
  }

  std::filesystem::path dir_;
};

}  // namespace medvault::crypto
