// The completeness check (check_load/check_root) and install() on a real
// temporary root: missing, empty and broken files; identical files left alone;
// differing files refused unless forced; staging removed.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include <fmt/format.h>

#include "cf/cli/diagnostics.hpp"
#include "cf/cli/error.hpp"
#include "cf/firmware/completeness.hpp"
#include "cf/firmware/install.hpp"

using namespace cf::firmware;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "cf-unit-install-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~TempDir() { std::error_code ec; fs::remove_all(path, ec); }
};

void write(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string header(unsigned total) {  // tag 1, tag 2 = H, one filler record
  std::string h{"\x01\x00\x02\x00\x01\x02\x00\x02", 8};
  h += static_cast<char>(total >> 8);
  h += static_cast<char>(total & 0xff);
  h += std::string("\x0b", 1) + static_cast<char>(0) + static_cast<char>(total - 13);
  h.resize(total, 'z');
  return h;
}

// A load of the 7940 shape: .loads naming a .bin, .sb2 and an opaque .sbn.
void write_load(const fs::path& dir, const std::string& extra_byte = "") {
  write(dir / "P00308000900.loads", header(40) + "P00308000900.bin\nP00308000900.sb2\nP00308000900.sbn\n");
  write(dir / "P00308000900.bin", "bin" + extra_byte);
  write(dir / "P00308000900.sb2", "sb2");
  write(dir / "P00308000900.sbn", header(40) + "loader");
}

StagedFile staged(const fs::path& dir, const std::string& name) {
  return StagedFile{name, "test.zip", {name}, dir / name, fs::file_size(dir / name)};
}

}  // namespace

TEST_CASE("check_load: a complete load, then each way it can be incomplete") {
  TempDir root;
  write_load(root.path);
  auto check = check_load(root.path, "P00308000900");
  CHECK(check.complete());
  CHECK(check.files == std::vector<std::string>{"P00308000900.loads", "P00308000900.bin", "P00308000900.sb2",
                                               "P00308000900.sbn"});
  CHECK(check.bytes == fs::file_size(root.path / "P00308000900.loads") + 3 + 3 + 46);
  CHECK(check_load(root.path, "P00308000900.loads").complete());

  fs::remove(root.path / "P00308000900.sb2");
  write(root.path / "P00308000900.bin", "");
  write(root.path / "P00308000900.sbn", header(40));
  check = check_load(root.path, "P00308000900");
  REQUIRE(check.problems.size() == 3);
  CHECK(check.problems[0].file == "P00308000900.bin");
  CHECK(check.problems[0].problem == "empty");
  CHECK(check.problems[1].problem == "missing");
  CHECK(check.problems[2].problem.starts_with("broken: "));

  auto none = check_load(root.path, "SIP41.9-4-2SR3-1S");
  REQUIRE(none.problems.size() == 1);
  CHECK(none.problems[0].file == "SIP41.9-4-2SR3-1S.loads");
  CHECK(check_root(root.path).size() == 1);
}

TEST_CASE("install: renames whole files, leaves identical ones, refuses differing ones") {
  TempDir root, source;
  write_load(source.path);
  std::ostringstream sink;
  const cf::cli::Diagnostics diagnostics("fwunpack", sink, false);

  std::vector<StagedFile> files;
  {
    StagingDir staging(root.path);
    for (const auto* name : {"P00308000900.loads", "P00308000900.bin", "P00308000900.sb2", "P00308000900.sbn"})
      fs::copy_file(source.path / name, staging.path() / name);
    for (const auto* name : {"P00308000900.loads", "P00308000900.bin", "P00308000900.sb2", "P00308000900.sbn"})
      files.push_back(staged(staging.path(), name));
    const auto plan = plan_loads(files, root.path, false, diagnostics);
    REQUIRE(plan.complete());
    REQUIRE(plan.loads.size() == 1);
    const auto summary = install(plan, root.path, false, diagnostics);
    CHECK(summary.installed.size() == 4);
    CHECK(summary.installed.back() == "P00308000900.loads");  // the .loads goes last
  }
  // The staging directory is gone; the root holds exactly the load.
  std::size_t entries = 0;
  for (const auto& entry : fs::directory_iterator(root.path)) {
    ++entries;
    CHECK_FALSE(entry.path().filename().string().starts_with(".fwunpack-"));
  }
  CHECK(entries == 4);
  CHECK(check_load(root.path, "P00308000900").complete());

  SUBCASE("the same bytes again: nothing renamed") {
    StagingDir staging(root.path);
    files.clear();
    for (const auto* name : {"P00308000900.loads", "P00308000900.bin", "P00308000900.sb2", "P00308000900.sbn"}) {
      fs::copy_file(source.path / name, staging.path() / name);
      files.push_back(staged(staging.path(), name));
    }
    const auto summary = install(plan_loads(files, root.path, false, diagnostics), root.path, false, diagnostics);
    CHECK(summary.installed.empty());
    CHECK(summary.unchanged.size() == 4);
  }
  SUBCASE("different bytes: refused without --force, replaced with it") {
    write_load(source.path, "X");
    StagingDir staging(root.path);
    files.clear();
    for (const auto* name : {"P00308000900.loads", "P00308000900.bin", "P00308000900.sb2", "P00308000900.sbn"}) {
      fs::copy_file(source.path / name, staging.path() / name);
      files.push_back(staged(staging.path(), name));
    }
    const auto plan = plan_loads(files, root.path, false, diagnostics);
    CHECK_THROWS_AS(install(plan, root.path, false, diagnostics), cf::Error);
    std::ifstream in(root.path / "P00308000900.bin");
    CHECK(std::string(std::istreambuf_iterator<char>(in), {}) == "bin");
    const auto summary = install(plan, root.path, true, diagnostics);
    CHECK(summary.installed == std::vector<std::string>{"P00308000900.bin"});
  }
}

TEST_CASE("plan_loads: a component missing from the inputs is reported with its .loads") {
  TempDir staging, root;
  write_load(staging.path);
  fs::remove(staging.path / "P00308000900.sb2");
  std::vector<StagedFile> files{staged(staging.path, "P00308000900.loads"), staged(staging.path, "P00308000900.bin"),
                                staged(staging.path, "P00308000900.sbn")};
  std::ostringstream sink;
  const cf::cli::Diagnostics diagnostics("fwunpack", sink, false);
  const auto plan = plan_loads(files, root.path, false, diagnostics);
  CHECK_FALSE(plan.complete());
  const auto problems = describe_problems(plan);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].find("P00308000900 is incomplete: P00308000900.sb2 is missing") == 0);
  CHECK(problems[0].find("test.zip") != std::string::npos);
  // ... but a component already whole in the root completes the load.
  write(root.path / "P00308000900.sb2", "sb2");
  CHECK(plan_loads(files, root.path, false, diagnostics).complete());
}

TEST_CASE("same_content: sizes first, then every block; a shared path or inode is the same file") {
  TempDir dir;
  std::string big(600'000, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7 + i / 251);
  write(dir.path / "a", big);
  write(dir.path / "b", big);
  CHECK(same_content(dir.path / "a", dir.path / "b"));
  CHECK(same_content(dir.path / "a", dir.path / "a"));
  fs::create_hard_link(dir.path / "a", dir.path / "a-link");
  CHECK(same_content(dir.path / "a", dir.path / "a-link"));

  auto last = big;
  last.back() = static_cast<char>(last.back() ^ 1);  // in the third 256 KiB block
  write(dir.path / "last", last);
  CHECK_FALSE(same_content(dir.path / "a", dir.path / "last"));
  auto first = big;
  first.front() = static_cast<char>(first.front() ^ 1);
  write(dir.path / "first", first);
  CHECK_FALSE(same_content(dir.path / "a", dir.path / "first"));
  write(dir.path / "short", big.substr(0, big.size() - 1));
  CHECK_FALSE(same_content(dir.path / "a", dir.path / "short"));
  write(dir.path / "block", big.substr(0, 256 * 1024));  // exactly one block
  write(dir.path / "block2", big.substr(0, 256 * 1024));
  CHECK(same_content(dir.path / "block", dir.path / "block2"));
  write(dir.path / "empty", "");
  write(dir.path / "empty2", "");
  CHECK(same_content(dir.path / "empty", dir.path / "empty2"));
  CHECK_FALSE(same_content(dir.path / "a", dir.path / "missing"));
  CHECK_FALSE(same_content(dir.path / "missing", dir.path / "missing2"));
}

TEST_CASE("plan_loads: copies that share one staging file (identical in several inputs) are no conflict") {
  TempDir staging, root;
  write_load(staging.path);
  std::vector<StagedFile> files;
  for (const auto* name : {"P00308000900.loads", "P00308000900.bin", "P00308000900.sb2", "P00308000900.sbn"})
    files.push_back(staged(staging.path, name));
  auto again = staged(staging.path, "P00308000900.sbn");
  again.input = "other.zip";
  files.push_back(again);
  std::ostringstream sink;
  const cf::cli::Diagnostics diagnostics("fwunpack", sink, false);
  const auto plan = plan_loads(files, root.path, false, diagnostics);
  CHECK(plan.complete());
  CHECK(plan.files.at("P00308000900.sbn")->input == "test.zip");  // the first copy is the one planned
  CHECK(sink.str().empty());
}

TEST_CASE("plan_loads: a .loads file whose name is no known load is skipped with its own components") {
  TempDir staging, root;
  write_load(staging.path);
  // An unknown platform (99) and an unknown term file, next to a real load; the
  // unknown load shares one component with the real one and has one of its own.
  write(staging.path / "SCCP99.9-4-2S.loads", header(40) + "P00308000900.bin\nonly99.sbn\n");
  write(staging.path / "only99.sbn", header(40) + "x");
  write(staging.path / "term99.default.loads", header(40) + "only99.sbn\n");
  std::vector<StagedFile> files;
  for (const auto* name : {"P00308000900.loads", "P00308000900.bin", "P00308000900.sb2", "P00308000900.sbn",
                           "SCCP99.9-4-2S.loads", "only99.sbn", "term99.default.loads"})
    files.push_back(staged(staging.path, name));
  std::ostringstream sink;
  const cf::cli::Diagnostics diagnostics("fwunpack", sink, false);
  const auto plan = plan_loads(files, root.path, false, diagnostics);
  REQUIRE(plan.loads.size() == 1);
  CHECK(plan.loads[0].load == "P00308000900");
  CHECK(plan.recovery.empty());
  REQUIRE(plan.skipped.size() == 2);
  CHECK(plan.skipped[0].file == "SCCP99.9-4-2S.loads");
  CHECK(plan.skipped[0].reason.find("platform code 99") != std::string::npos);
  CHECK(plan.skipped[1].file == "term99.default.loads");
  CHECK(plan.ignored == std::set<std::string>{"SCCP99.9-4-2S.loads", "only99.sbn", "term99.default.loads"});

  StagingDir unused(root.path);  // install() must leave it alone; its name is fwunpack's own
  const auto summary = install(plan, root.path, false, diagnostics);
  CHECK(summary.installed.size() == 4);
  CHECK_FALSE(fs::exists(root.path / "SCCP99.9-4-2S.loads"));
  CHECK_FALSE(fs::exists(root.path / "only99.sbn"));
  CHECK_FALSE(fs::exists(root.path / "term99.default.loads"));
}

TEST_CASE("plan_loads: files no load can list are never compared, so two readmes are no conflict") {
  TempDir staging, root;
  write_load(staging.path);
  write(staging.path / "a-readme.txt", "one");
  write(staging.path / "b-readme.txt", "two");
  std::vector<StagedFile> files;
  for (const auto* name : {"P00308000900.loads", "P00308000900.bin", "P00308000900.sb2", "P00308000900.sbn"})
    files.push_back(staged(staging.path, name));
  auto first = staged(staging.path, "a-readme.txt");
  first.name = "readme.txt";
  auto second = staged(staging.path, "b-readme.txt");
  second.name = "readme.txt";
  second.input = "other.zip";
  files.push_back(first);
  files.push_back(second);
  files.push_back(StagedFile{"notes.html", "test.zip", {"notes.html"}, {}, 10});  // read, not kept
  std::ostringstream sink;
  const cf::cli::Diagnostics diagnostics("fwunpack", sink, false);
  const auto plan = plan_loads(files, root.path, false, diagnostics);
  CHECK(plan.complete());
  CHECK(plan.ignored == std::set<std::string>{"notes.html", "readme.txt"});
}

TEST_CASE("plan_loads and install: thousands of files and term variants stay near linear") {
  // Not a timing test: the sizes make a quadratic plan (millions of file
  // comparisons, hundreds of millions of name searches) show as a ctest
  // timeout; a linear one takes well under a second.
  TempDir staging, root;
  write_load(staging.path);
  std::vector<StagedFile> files;
  for (const auto* name : {"P00308000900.loads", "P00308000900.bin", "P00308000900.sb2", "P00308000900.sbn"})
    files.push_back(staged(staging.path, name));
  constexpr int kJunk = 30000;
  for (int i = 0; i < kJunk; ++i)
    files.push_back(StagedFile{"j" + std::to_string(i) + ".txt", "many.zip", {"j.txt"}, {}, 1});
  constexpr int kVariants = 3000;  // one size, all different bytes: only a digest tells them apart cheaply
  const auto body = header(40) + "P00308000900.bin\nP00308000900.sb2\nP00308000900.sbn\n";
  for (int i = 0; i < kVariants; ++i) {
    const auto name = "term41-" + std::to_string(i);
    write(staging.path / name, body + fmt::format("{:08d}", i));
    files.push_back(staged(staging.path, name));
    files.back().name = "term41.default.loads";
  }
  std::ostringstream sink;
  const cf::cli::Diagnostics diagnostics("fwunpack", sink, false);
  const auto plan = plan_loads(files, root.path, false, diagnostics);
  CHECK(plan.ignored.size() == kJunk);
  REQUIRE(plan.recovery.size() == 1);
  CHECK(plan.recovery_points_to.at("term41.default") == "P00308000900");
  CHECK(sink.str().find("term41.default.loads: 3000 variants") != std::string::npos);
  const auto summary = install(plan, root.path, false, diagnostics);
  CHECK(summary.installed.size() == 5);
}

TEST_CASE("rename_no_replace: never replaces an existing name") {
  TempDir dir;
  write(dir.path / "new", "new");
  write(dir.path / "old", "old");
  CHECK_FALSE(rename_no_replace(dir.path / "new", dir.path / "old"));
  std::ifstream old_file(dir.path / "old");
  CHECK(std::string(std::istreambuf_iterator<char>(old_file), {}) == "old");
  CHECK(fs::exists(dir.path / "new"));
  CHECK(rename_no_replace(dir.path / "new", dir.path / "fresh"));
  CHECK_FALSE(fs::exists(dir.path / "new"));
  CHECK(fs::exists(dir.path / "fresh"));
  CHECK_THROWS_AS(rename_no_replace(dir.path / "missing", dir.path / "other"), cf::Error);
}

TEST_CASE("report_lines: a long list of problems is cut, with a count of the rest") {
  std::ostringstream sink;
  const cf::cli::Diagnostics diagnostics("fwunpack", sink, false);
  std::vector<std::string> lines;
  for (int i = 0; i < 25; ++i) lines.push_back("problem " + std::to_string(i));
  report_lines(diagnostics, cf::cli::Severity::error, lines, 10);
  const auto text = sink.str();
  CHECK(std::count(text.begin(), text.end(), '\n') == 11);
  CHECK(text.find("problem 9\n") != std::string::npos);
  CHECK(text.find("problem 10\n") == std::string::npos);
  CHECK(text.find("... and 15 more like these") != std::string::npos);
}

namespace {

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

const ModelCatalog& catalog() {
  static const ModelCatalog instance = ModelCatalog::load_default();
  return instance;
}

}  // namespace

TEST_CASE("plan_loads and install keep each term variant under .term/LOAD; set_recovery_load installs one") {
  TempDir root;
  std::ostringstream sink;
  const cf::cli::Diagnostics diagnostics("fwunpack", sink, false);
  const auto term_a = header(50) + "a41.8-5-2.bin\n";      // ships with SCCP41.8-5-2S
  const auto term_b = header(60) + "b41.9-4-2.bin\n";      // ships with SIP41.9-4-2SR3-1S
  const auto term_c = header(70) + "c41.nothing.bin\n";    // lists no load of the run
  {
    StagingDir staging(root.path);
    const auto& dir = staging.path();
    write(dir / "SCCP41.8-5-2S.loads", header(40) + "a41.8-5-2.bin\n");
    write(dir / "a41.8-5-2.bin", "a");
    write(dir / "SIP41.9-4-2SR3-1S.loads", header(40) + "b41.9-4-2.bin\n");
    write(dir / "b41.9-4-2.bin", "b");
    write(dir / "t-a", term_a);
    write(dir / "t-c", term_c);
    write(dir / "t-b", term_b);
    std::vector<StagedFile> files;
    for (const auto* name : {"SCCP41.8-5-2S.loads", "a41.8-5-2.bin", "SIP41.9-4-2SR3-1S.loads", "b41.9-4-2.bin"})
      files.push_back(staged(dir, name));
    for (const auto* name : {"t-a", "t-c", "t-b"}) {
      files.push_back(staged(dir, name));
      files.back().name = "term61.default.loads";
    }
    const auto plan = plan_loads(files, root.path, false, diagnostics);
    REQUIRE(plan.complete());
    REQUIRE(plan.kept_terms.size() == 2);
    const auto summary = install(plan, root.path, false, diagnostics);
    CHECK(summary.terms_written.size() == 2);
  }
  // Today's default in the root (the newest load's), every variant kept by load.
  CHECK(read_all(root.path / "term61.default.loads") == term_b);
  CHECK(read_all(kept_term_path(root.path, "SCCP41.8-5-2S", "term61.default.loads")) == term_a);
  CHECK(read_all(kept_term_path(root.path, "SIP41.9-4-2SR3-1S", "term61.default.loads")) == term_b);
  std::size_t kept_dirs = 0;
  for (const auto& entry : fs::directory_iterator(root.path / ".term")) {
    ++kept_dirs;
    CHECK(entry.is_directory());
  }
  CHECK(kept_dirs == 2);  // term_c lists no load of the run: not kept
  // --verify and the manifest see only the root's own .loads files.
  std::set<std::string> checked;
  for (const auto& check : check_root(root.path)) checked.insert(check.load);
  CHECK(checked == std::set<std::string>{"SCCP41.8-5-2S", "SIP41.9-4-2SR3-1S", "term61.default"});

  const auto* m7961 = catalog().find_model("7961");
  REQUIRE(m7961 != nullptr);
  SUBCASE("set_recovery_load: the kept variant replaces the root's by rename; again: left alone") {
    const auto first = set_recovery_load(root.path, *m7961, "SCCP41.8-5-2S", catalog(), "x.zip");
    REQUIRE(first.size() == 1);
    CHECK(first[0].term_file == "term61.default.loads");
    CHECK(first[0].load == "SCCP41.8-5-2S");
    CHECK(first[0].changed);
    CHECK(read_all(root.path / "term61.default.loads") == term_a);
    const auto again = set_recovery_load(root.path, *m7961, "SCCP41.8-5-2S", catalog(), "x.zip");
    CHECK_FALSE(again[0].changed);
    for (const auto& entry : fs::directory_iterator(root.path))
      CHECK_FALSE(entry.path().filename().string().starts_with(".fwunpack-"));
    // The new bytes are a new inode: the kept variant is not touched by later changes.
    set_recovery_load(root.path, *m7961, "SIP41.9-4-2SR3-1S", catalog(), "x.zip");
    CHECK(read_all(root.path / "term61.default.loads") == term_b);
    CHECK(read_all(kept_term_path(root.path, "SCCP41.8-5-2S", "term61.default.loads")) == term_a);
  }
  SUBCASE("set_recovery_load fails closed") {
    const auto code = [&](const std::string& model, const std::string& load) {
      const auto* info = catalog().find_model(model);
      REQUIRE(info != nullptr);
      try {
        set_recovery_load(root.path, *info, load, catalog(), "cmterm-x.zip");
      } catch (const cf::Error& error) {
        INFO(error.what());
        return static_cast<int>(error.code());
      }
      return 0;
    };
    CHECK(code("7960", "SCCP41.8-5-2S") == 1);      // no term file
    CHECK(code("7941", "SCCP41.8-5-2S") == 1);      // term41 never kept
    CHECK(code("7961", "P00308000900") == 1);       // another family
    CHECK(code("7961", "SCCP42.8-5-2S") == 1);      // another family too
    CHECK(code("7961", "term61.default") == 1);     // not an application load
    CHECK(code("7961", "SCCP41.8-4-2S") == 1);      // never unpacked: no variant kept
    // Kept, but the load in the root lost a file: refused.
    fs::rename(root.path / "a41.8-5-2.bin", root.path / "a.away");
    CHECK(code("7961", "SCCP41.8-5-2S") == 3);
    fs::rename(root.path / "a.away", root.path / "a41.8-5-2.bin");
    try {
      set_recovery_load(root.path, *m7961, "SCCP41.8-5-2S", catalog(), "cmterm-x.zip");
      fs::remove(kept_term_path(root.path, "SCCP41.8-5-2S", "term61.default.loads"));
      set_recovery_load(root.path, *m7961, "SCCP41.8-5-2S", catalog(), "cmterm-x.zip");
      FAIL("a missing variant was installed");
    } catch (const cf::Error& error) {
      CHECK(std::string(error.what()).find("cmterm-x.zip") != std::string::npos);
    }
    // A kept variant that no longer lists the load's components: refused, root unchanged.
    write(kept_term_path(root.path, "SIP41.9-4-2SR3-1S", "term61.default.loads"), header(60) + "a41.8-5-2.bin\n");
    const auto served = read_all(root.path / "term61.default.loads");
    CHECK(code("7961", "SIP41.9-4-2SR3-1S") == 3);
    CHECK(read_all(root.path / "term61.default.loads") == served);
    // A symbolic link in place of a load's folder is not read through.
    fs::remove_all(root.path / ".term" / "SIP41.9-4-2SR3-1S");
    fs::create_directory_symlink(root.path / ".term" / "SCCP41.8-5-2S", root.path / ".term" / "SIP41.9-4-2SR3-1S");
    CHECK(code("7961", "SIP41.9-4-2SR3-1S") == 3);
  }
  SUBCASE("install: a kept variant with other bytes is a conflict unless --force") {
    write(kept_term_path(root.path, "SCCP41.8-5-2S", "term61.default.loads"), header(52) + "a41.8-5-2.bin\n");
    StagingDir staging(root.path);
    write(staging.path() / "SCCP41.8-5-2S.loads", header(40) + "a41.8-5-2.bin\n");
    write(staging.path() / "a41.8-5-2.bin", "a");
    write(staging.path() / "t-a", term_a);
    std::vector<StagedFile> files{staged(staging.path(), "SCCP41.8-5-2S.loads"), staged(staging.path(), "a41.8-5-2.bin"),
                                  staged(staging.path(), "t-a")};
    files.back().name = "term61.default.loads";
    const auto plan = plan_loads(files, root.path, false, diagnostics);
    CHECK_THROWS_AS(install(plan, root.path, false, diagnostics), cf::Error);
    const auto summary = install(plan, root.path, true, diagnostics);
    CHECK(summary.terms_written == std::vector<std::string>{".term/SCCP41.8-5-2S/term61.default.loads"});
    CHECK(read_all(kept_term_path(root.path, "SCCP41.8-5-2S", "term61.default.loads")) == term_a);
  }
}
