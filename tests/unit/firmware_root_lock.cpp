// The root lock and the staging-folder locks (cf/firmware/root_lock.hpp). flock
// locks belong to an open file description, so two acquisitions in one process
// contend exactly as two processes would.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "cf/cli/error.hpp"
#include "cf/firmware/root_lock.hpp"

using namespace cf::firmware;
namespace fs = std::filesystem;
using std::chrono::milliseconds;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "cf-unit-lock-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~TempDir() { std::error_code ec; fs::remove_all(path, ec); }
};

std::string error_of(const fs::path& root, RootLock::Mode mode, milliseconds timeout, int* waits = nullptr) {
  try {
    (void)RootLock::acquire(root, mode, timeout, [&](const std::string&) {
      if (waits) ++*waits;
    });
  } catch (const cf::Error& error) {
    CHECK(error.code() == cf::ExitCode::failure);
    return error.what();
  }
  return "";
}

}  // namespace

TEST_CASE("RootLock: one exclusive holder; others wait, bounded, then fail naming the holder") {
  TempDir root;
  auto held = RootLock::acquire(root.path, RootLock::Mode::exclusive, milliseconds(0));
  REQUIRE(held);
  CHECK(fs::exists(root.path / ".fwunpack.lock"));

  const auto no_wait = error_of(root.path, RootLock::Mode::exclusive, milliseconds(0));
  CHECK(no_wait.find("is locked by another process (the last fwunpack to take it was pid " +
                     std::to_string(::getpid()) + ")") != std::string::npos);
  CHECK(no_wait.find("--lock-timeout") != std::string::npos);
  int waits = 0;
  CHECK_FALSE(error_of(root.path, RootLock::Mode::exclusive, milliseconds(120), &waits).empty());
  CHECK(waits == 1);  // told once, not once per retry
  CHECK_FALSE(error_of(root.path, RootLock::Mode::shared, milliseconds(0)).empty());  // --verify waits too

  held.reset();
  CHECK(RootLock::acquire(root.path, RootLock::Mode::exclusive, milliseconds(0)));
}

TEST_CASE("RootLock: shared holders coexist; a root without a lock file needs none") {
  TempDir root;
  CHECK_FALSE(RootLock::acquire(root.path, RootLock::Mode::shared, milliseconds(0)));
  CHECK_FALSE(fs::exists(root.path / ".fwunpack.lock"));  // --verify creates nothing
  (void)RootLock::acquire(root.path, RootLock::Mode::exclusive, milliseconds(0));
  auto a = RootLock::acquire(root.path, RootLock::Mode::shared, milliseconds(0));
  auto b = RootLock::acquire(root.path, RootLock::Mode::shared, milliseconds(0));
  CHECK(a);
  CHECK(b);
  CHECK_FALSE(error_of(root.path, RootLock::Mode::exclusive, milliseconds(0)).empty());
}

TEST_CASE("remove_stale_staging: folders of dead runs go, a live run's folder stays") {
  TempDir root;
  auto lock = RootLock::acquire(root.path, RootLock::Mode::exclusive, milliseconds(0));
  REQUIRE(lock);
  StagingDir live(root.path);
  std::ofstream(live.path() / "f000000") << "firmware of a run in progress";

  // A run killed after locking its folder: the lock file is there, nobody holds it.
  fs::create_directory(root.path / ".fwunpack-dead01");
  std::ofstream(root.path / ".fwunpack-dead01" / ".lock");
  std::ofstream(root.path / ".fwunpack-dead01" / "f000000") << "half a file";
  // A run killed between mkdtemp and its lock file.
  fs::create_directory(root.path / ".fwunpack-dead02");
  // Not ours to touch: a symbolic link under a staging name, and other names.
  fs::create_directory(root.path / "elsewhere");
  std::ofstream(root.path / "elsewhere" / "keep") << "keep";
  fs::create_directory_symlink(root.path / "elsewhere", root.path / ".fwunpack-link01");
  std::ofstream(root.path / "P00308000900.bin") << "bin";

  const auto removed = remove_stale_staging(root.path, *lock);
  CHECK(removed == std::vector<std::string>{".fwunpack-dead01", ".fwunpack-dead02"});
  CHECK_FALSE(fs::exists(root.path / ".fwunpack-dead01"));
  CHECK_FALSE(fs::exists(root.path / ".fwunpack-dead02"));
  CHECK(fs::exists(live.path() / "f000000"));
  CHECK(fs::exists(root.path / "elsewhere" / "keep"));
  CHECK(fs::is_symlink(root.path / ".fwunpack-link01"));
  CHECK(fs::exists(root.path / "P00308000900.bin"));
  CHECK(fs::exists(root.path / ".fwunpack.lock"));
  CHECK(remove_stale_staging(root.path, *lock).empty());
}

TEST_CASE("StagingDir: removed with its files when it goes; its names are fwunpack's own") {
  TempDir root;
  fs::path path;
  {
    StagingDir staging(root.path);
    path = staging.path();
    CHECK(path.filename().string().starts_with(".fwunpack-"));
    CHECK(is_fwunpack_private_name(path.filename().string()));
    std::ofstream(path / "f000000") << "x";
  }
  CHECK_FALSE(fs::exists(path));
  CHECK(is_fwunpack_private_name(".fwunpack.lock"));
  CHECK_FALSE(is_fwunpack_private_name("P00308000900.loads"));
  CHECK_FALSE(is_fwunpack_private_name(".fwunpackish"));
}
