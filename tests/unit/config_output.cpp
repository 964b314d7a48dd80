#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include <doctest/doctest.h>

#include "cf/cli/error.hpp"
#include "cf/config/output.hpp"

using namespace cf::config;
namespace fs = std::filesystem;

TEST_CASE("unified diff: hunks with context and line numbers") {
  CHECK(unified_diff("a\nb\n", "a\nb\n", "x", "y").empty());
  const std::string before = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
  const std::string after = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n";
  CHECK(unified_diff(before, after, "old", "new") ==
        "--- old\n+++ new\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n");
  CHECK(unified_diff("", "a\n", "/dev/null", "f") == "--- /dev/null\n+++ f\n@@ -0,0 +1,1 @@\n+a\n");
}

TEST_CASE("files are written atomically, checked, and stdout takes one file only") {
  const fs::path dir = fs::temp_directory_path() / ("cf-config-out-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::vector<GeneratedFile> files{{"a.txt", "one\n"}, {"b.conf", "two\n", 0640}};
  std::ostringstream out;
  CHECK(emit_files(files, dir.string(), true, out) == 2);  // nothing there yet
  CHECK(emit_files(files, dir.string(), false, out) == 0);
  CHECK((fs::status(dir / "b.conf").permissions() & fs::perms::others_read) == fs::perms::none);
  CHECK((fs::status(dir / "a.txt").permissions() & fs::perms::others_read) != fs::perms::none);
  std::ostringstream diff;
  CHECK(emit_files(files, dir.string(), true, diff) == 0);
  CHECK(diff.str().empty());
  std::ofstream(dir / "a.txt") << "ONE\n";
  CHECK(emit_files(files, dir.string(), true, diff) == 1);
  CHECK(diff.str().find("-ONE\n+one\n") != std::string::npos);
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++entries;
  CHECK(entries == 2);  // no temporary files left behind
  std::ostringstream stdout_text;
  CHECK_THROWS_AS(emit_files(files, "-", false, stdout_text), cf::UsageError);
  emit_files({files[0]}, "-", false, stdout_text);
  CHECK(stdout_text.str() == "one\n");
  CHECK_THROWS_AS(emit_files(files, (dir / "nodir").string(), false, stdout_text), cf::UsageError);
  CHECK_THROWS_WITH_AS(write_atomically(dir / "missing" / "x", "x", 0644),
                       doctest::Contains(("cannot write " + (dir / "missing" / "x").string() + ":").c_str()),
                       cf::Error);
  fs::remove_all(dir);
}

TEST_CASE("a set of files is written all or nothing, and the error names the real target") {
  const fs::path dir = fs::temp_directory_path() / ("cf-config-all-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "a.txt") << "old a\n";
  std::ofstream(dir / "b.txt") << "old b\n";
  fs::create_directory(dir / "c.txt");  // a target that cannot be replaced
  const std::vector<GeneratedFile> files{{"a.txt", "new a\n"}, {"b.txt", "new b\n"}, {"c.txt", "new c\n"}};
  std::ostringstream out;
  CHECK_THROWS_WITH_AS(emit_files(files, dir.string(), false, out),
                       ("cannot replace " + (dir / "c.txt").string() + ": Is a directory").c_str(),
                       cf::Error);
  const auto content = [&](const char* name) {
    std::ifstream in(dir / name);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  CHECK(content("a.txt") == "old a\n");
  CHECK(content("b.txt") == "old b\n");
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++entries;
  CHECK(entries == 3);  // no temporary file left behind
  fs::remove(dir / "c.txt");
  CHECK(emit_files(files, dir.string(), false, out) == 0);
  CHECK(content("a.txt") == "new a\n");
  CHECK(content("c.txt") == "new c\n");
  fs::remove_all(dir);
}
