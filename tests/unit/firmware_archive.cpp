// Entry-name sanitising and container sniffing for fwunpack's archive reader.
#include <doctest/doctest.h>

#include <string>

#include "cf/firmware/archive.hpp"
#include "cf/firmware/signed_file.hpp"

using namespace cf::firmware;

TEST_CASE("member_base_name keeps the base name in exact case and drops prefixes") {
  CHECK(*member_base_name("usr/local/cm/tftp/Jar41sip.8-3-1.sbn") == "Jar41sip.8-3-1.sbn");
  CHECK(*member_base_name("SIP41.9-4-2SR3-1S.loads") == "SIP41.9-4-2SR3-1S.loads");
  CHECK(*member_base_name("7941_7961\\SIP\\x.sbn") == "x.sbn");
  CHECK(*member_base_name("./a.bin") == "a.bin");
}

TEST_CASE("member_base_name refuses what could escape the root") {
  const auto reason = [](std::string_view member) {
    auto r = member_base_name(member);
    REQUIRE_FALSE(r.ok());
    return r.error();
  };
  CHECK(reason("/etc/cron.d/ciscoflash-evil") == "absolute path");
  CHECK(reason("\\windows\\x") == "absolute path");
  CHECK(reason("C:/x.sbn") == "absolute path");
  CHECK(reason("../../../../tmp/ciscoflash-evil.sbn") == "'..' in the path");
  CHECK(reason("usr/local/cm/tftp/../../../../../tmp/x.sbn") == "'..' in the path");
  CHECK(reason("a/..") == "'..' in the path");
  CHECK(reason("..\\x") == "'..' in the path");
  CHECK(reason("dir/") == "no file name after the last '/'");
  CHECK(reason("") == "empty name");
  CHECK(reason("a\tb.sbn") == "control character in the name");
  CHECK(reason(std::string_view("a\nb", 3)) == "control character in the name");
}

TEST_CASE("sniff_container finds archives from their content") {
  const auto sniff = [](std::string text) { return sniff_container(as_bytes(text)); };
  CHECK(sniff("PK\x03\x04rest") == ContainerKind::archive);
  CHECK(sniff("\x1f\x8b\x08\x00") == ContainerKind::archive);
  std::string tar(512, '\0');
  tar.replace(257, 5, "ustar");
  CHECK(sniff(tar) == ContainerKind::archive);
  CHECK(sniff("CNU_File_Archive_3.0") == ContainerKind::none);
  CHECK(sniff("") == ContainerKind::none);
  // A signature header of H = 13 followed by a gzip stream: a .cop.sgn.
  std::string sgn("\x01\x00\x02\x00\x01\x02\x00\x02\x00\x0d\x0b\x00\x00\x1f\x8b\x08", 16);
  CHECK(sniff(sgn) == ContainerKind::signed_gzip);
  sgn[13] = 'x';
  CHECK(sniff(sgn) == ContainerKind::none);
}

// ---- Extractor: real archives written with libarchive into a temporary dir ----
#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <utility>
#include <vector>

#include "cf/cli/error.hpp"

namespace {
namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "cf-unit-archive-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~TempDir() { std::error_code ec; fs::remove_all(path, ec); }
};

using Entries = std::vector<std::pair<std::string, std::string>>;

// format: "zip" or "tar" (pax); each entry a regular file.
void write_archive(const fs::path& path, const std::string& format, const Entries& entries) {
  archive* a = archive_write_new();
  REQUIRE(a != nullptr);
  REQUIRE((format == "zip" ? archive_write_set_format_zip(a) : archive_write_set_format_pax_restricted(a)) ==
          ARCHIVE_OK);
  REQUIRE(archive_write_open_filename(a, path.c_str()) == ARCHIVE_OK);
  for (const auto& [name, bytes] : entries) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, static_cast<la_int64_t>(bytes.size()));
    REQUIRE(archive_write_header(a, e) == ARCHIVE_OK);
    REQUIRE(archive_write_data(a, bytes.data(), bytes.size()) == static_cast<la_ssize_t>(bytes.size()));
    archive_entry_free(e);
  }
  REQUIRE(archive_write_close(a) == ARCHIVE_OK);
  archive_write_free(a);
}

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string file_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// Incompressible bytes, several of the extractor's 256 KiB blocks long.
std::string noise(std::size_t size, unsigned seed) {
  std::string out(size, '\0');
  std::uint32_t x = seed * 2654435761u + 1;
  for (auto& c : out) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x);
  }
  return out;
}

std::size_t files_in(const fs::path& dir) {
  return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

}  // namespace

TEST_CASE("Extractor: the same file in two archives is staged once and shared") {
  TempDir tmp;
  const auto image = noise(700'000, 1);
  write_archive(tmp.path / "a.zip", "zip", {{"apps41.sbn", image}, {"a.loads", "apps41.sbn\n"}});
  write_archive(tmp.path / "b.tar", "tar", {{"usr/local/cm/tftp/apps41.sbn", image}});
  fs::create_directory(tmp.path / "stage");
  Extractor extractor(tmp.path / "stage", {});
  extractor.add(tmp.path / "a.zip");
  extractor.add(tmp.path / "b.tar");
  const auto& files = extractor.files();
  REQUIRE(files.size() == 3);
  CHECK(files[0].name == "apps41.sbn");
  CHECK(files[2].name == "apps41.sbn");
  CHECK(files[2].path == files[0].path);                  // compared, not written again
  CHECK(files[2].origin() == (tmp.path / "b.tar").string() + ": usr/local/cm/tftp/apps41.sbn");
  CHECK(files_in(tmp.path / "stage") == 2);               // apps41.sbn and a.loads
  CHECK(read_all(files[2].path) == image);
  CHECK(extractor.staged_bytes() == 2 * image.size() + 11);  // --max-bytes counts what was unpacked
}

TEST_CASE("Extractor: same name and size but other bytes get a file of their own, byte-exact") {
  TempDir tmp;
  const auto image = noise(700'000, 2);
  auto last_differs = image;
  last_differs.back() = static_cast<char>(last_differs.back() ^ 1);  // past the first blocks: the prefix is copied
  auto first_differs = image;
  first_differs.front() = static_cast<char>(first_differs.front() ^ 1);
  auto middle_differs = image;
  middle_differs[300'000] = static_cast<char>(middle_differs[300'000] ^ 0x80);
  write_archive(tmp.path / "1.zip", "zip", {{"x.sbn", image}});
  write_archive(tmp.path / "2.zip", "zip", {{"x.sbn", last_differs}});
  write_archive(tmp.path / "3.tar", "tar", {{"x.sbn", first_differs}});
  write_archive(tmp.path / "4.tar", "tar", {{"x.sbn", middle_differs}});
  write_archive(tmp.path / "5.tar", "tar", {{"x.sbn", image.substr(0, 500'000)}});  // a shorter one
  fs::create_directory(tmp.path / "stage");
  Extractor extractor(tmp.path / "stage", {});
  for (const auto* name : {"1.zip", "2.zip", "3.tar", "4.tar", "5.tar"}) extractor.add(tmp.path / name);
  const auto& files = extractor.files();
  REQUIRE(files.size() == 5);
  std::set<fs::path> paths;
  for (const auto& file : files) paths.insert(file.path);
  CHECK(paths.size() == 5);
  CHECK(files_in(tmp.path / "stage") == 5);
  CHECK(read_all(files[0].path) == image);
  CHECK(read_all(files[1].path) == last_differs);
  CHECK(read_all(files[2].path) == first_differs);
  CHECK(read_all(files[3].path) == middle_differs);
  CHECK(read_all(files[4].path) == image.substr(0, 500'000));
  CHECK(files[4].size == 500'000);
}

TEST_CASE("Extractor: a loose file in a directory input shares the staged copy from an archive") {
  TempDir tmp;
  const auto image = noise(300'000, 3);
  write_archive(tmp.path / "a.zip", "zip", {{"P00308000900.sbn", image}});
  fs::create_directory(tmp.path / "loose");
  std::ofstream(tmp.path / "loose" / "P00308000900.sbn", std::ios::binary) << image;
  std::ofstream(tmp.path / "loose" / "P00308000900.bin", std::ios::binary) << "bin";
  fs::create_directory(tmp.path / "stage");
  Extractor extractor(tmp.path / "stage", {});
  extractor.add(tmp.path / "a.zip");
  extractor.add(tmp.path / "loose");
  const auto& files = extractor.files();
  REQUIRE(files.size() == 3);
  CHECK(files[2].name == "P00308000900.sbn");
  CHECK(files[2].path == files[0].path);
  CHECK(read_all(files[1].path) == "bin");
  CHECK(files_in(tmp.path / "stage") == 2);
}

TEST_CASE("Extractor: --max-bytes counts every copy, shared or not") {
  TempDir tmp;
  const auto image = noise(600'000, 4);
  write_archive(tmp.path / "a.zip", "zip", {{"x.sbn", image}});
  write_archive(tmp.path / "b.zip", "zip", {{"x.sbn", image}});
  fs::create_directory(tmp.path / "stage");
  ExtractLimits limits;
  limits.max_bytes = 1'000'000;
  Extractor extractor(tmp.path / "stage", limits);
  extractor.add(tmp.path / "a.zip");
  CHECK_THROWS_AS(extractor.add(tmp.path / "b.zip"), cf::VerificationError);
}

TEST_CASE("Extractor: a nested archive is read and its staged copy removed; its files are shared") {
  TempDir tmp;
  const auto image = noise(400'000, 5);
  write_archive(tmp.path / "inner.tar", "tar", {{"SIP41.loads", "apps41.sbn\n"}, {"apps41.sbn", image}});
  write_archive(tmp.path / "outer.zip", "zip",
                {{"7941/SIP/inner.tar", file_bytes(tmp.path / "inner.tar")}, {"apps41.sbn", image}});
  fs::create_directory(tmp.path / "stage");
  Extractor extractor(tmp.path / "stage", {});
  extractor.add(tmp.path / "outer.zip");
  const auto& files = extractor.files();
  REQUIRE(files.size() == 3);
  CHECK(files[0].name == "SIP41.loads");
  CHECK(files[1].origin() == (tmp.path / "outer.zip").string() + ": 7941/SIP/inner.tar > apps41.sbn");
  CHECK(files[2].path == files[1].path);
  CHECK(files_in(tmp.path / "stage") == 2);  // the inner tar is gone
  CHECK(extractor.staged_bytes() == 2 * image.size() + 11);
}

TEST_CASE("Extractor: holes of a sparse tar entry come out as zeros and count toward the limits") {
  TempDir tmp;
  const auto path = tmp.path / "sparse.tar";
  {
    archive* a = archive_write_new();
    REQUIRE(archive_write_set_format_pax(a) == ARCHIVE_OK);
    REQUIRE(archive_write_open_filename(a, path.c_str()) == ARCHIVE_OK);
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, "holes.sbn");
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, 3 * 65536);
    archive_entry_sparse_add_entry(e, 65536, 1000);  // data only at 64 KiB .. +1000
    REQUIRE(archive_write_header(a, e) == ARCHIVE_OK);
    // The pax writer takes the whole file and stores only the bytes outside the holes.
    std::string logical(3 * 65536, '\0');
    logical.replace(65536, 1000, std::string(1000, 'd'));
    REQUIRE(archive_write_data(a, logical.data(), logical.size()) == static_cast<la_ssize_t>(logical.size()));
    archive_entry_free(e);
    REQUIRE(archive_write_close(a) == ARCHIVE_OK);
    archive_write_free(a);
  }
  REQUIRE(fs::file_size(path) < 65536);  // stored sparse: the holes are not in the archive
  fs::create_directory(tmp.path / "stage");
  Extractor extractor(tmp.path / "stage", {});
  extractor.add(path);
  REQUIRE(extractor.files().size() == 1);
  std::string expected(3 * 65536, '\0');
  expected.replace(65536, 1000, std::string(1000, 'd'));
  CHECK(read_all(extractor.files()[0].path) == expected);
  CHECK(extractor.files()[0].size == expected.size());

  TempDir tmp2;
  fs::create_directory(tmp2.path / "stage");
  ExtractLimits limits;
  limits.max_bytes = 100'000;  // 1000 bytes of data, but 196608 once the holes are filled
  Extractor limited(tmp2.path / "stage", limits);
  CHECK_THROWS_AS(limited.add(path), cf::VerificationError);
}

TEST_CASE("name_problem: the one name check for archive members and folder entries") {
  CHECK_FALSE(name_problem("SIP41.9-4-2SR3-1S.loads"));
  CHECK(name_problem("") == "empty name");
  CHECK(name_problem("..") == "'..' in the path");
  CHECK(name_problem(".") == "'..' in the path");
  CHECK(name_problem("a\nb.loads") == "control character in the name");
  CHECK(name_problem("\x1b[2Jx.sbn") == "control character in the name");
  CHECK(name_problem("a\x7f.sbn") == "control character in the name");
  CHECK(name_problem("a\\b.sbn") == "a '/' or '\\' in the name");
  CHECK(name_problem("a/b.sbn") == "a '/' or '\\' in the name");
  CHECK(may_be_installed("P00308000900.sbn"));
  CHECK(may_be_installed("term41.default.loads"));
  CHECK(may_be_installed("OS79XX.TXT"));
  CHECK_FALSE(may_be_installed("README.txt"));
  CHECK_FALSE(may_be_installed("junk/000001.txt"));
}

TEST_CASE("Extractor: a folder entry with a newline or ESC in its name is refused like an archive member") {
  for (const std::string& bad : {std::string("evil\n.loads"), std::string("evil\x1b[31m.sbn")}) {
    TempDir tmp;
    fs::create_directory(tmp.path / "in");
    std::ofstream(tmp.path / "in" / "P00308000900.bin", std::ios::binary) << "bin";
    std::ofstream(tmp.path / "in" / bad, std::ios::binary) << "x";
    fs::create_directory(tmp.path / "stage");
    Extractor extractor(tmp.path / "stage", {});
    std::string message;
    try {
      extractor.add(tmp.path / "in");
    } catch (const cf::VerificationError& error) {
      message = error.what();
    }
    CHECK(message.find("refused: control character in the name") != std::string::npos);
    // The message shows the name escaped: it cannot forge a line or drive a terminal.
    CHECK(message.find_first_of("\n\x1b") == std::string::npos);
    CHECK(message.find("\\x") != std::string::npos);
  }
  // The same names inside an archive: the same refusal, the same escaping.
  TempDir tmp;
  write_archive(tmp.path / "a.tar", "tar", {{"x/evil\n.loads", "a.sbn\n"}});
  fs::create_directory(tmp.path / "stage");
  Extractor extractor(tmp.path / "stage", {});
  try {
    extractor.add(tmp.path / "a.tar");
    FAIL("not refused");
  } catch (const cf::VerificationError& error) {
    const std::string message = error.what();
    CHECK(message.find("refused: control character in the name") != std::string::npos);
    CHECK(message.find('\n') == std::string::npos);
  }
}

TEST_CASE("Extractor: --max-entries counts every entry of every input, folders included") {
  TempDir tmp;
  Entries entries;
  for (int i = 0; i < 30; ++i) entries.emplace_back("junk/" + std::to_string(i) + ".txt", "x");
  write_archive(tmp.path / "a.zip", "zip", entries);
  fs::create_directory(tmp.path / "dir");
  for (int i = 0; i < 5; ++i) std::ofstream(tmp.path / "dir" / (std::to_string(i) + ".sbn")) << "y";
  fs::create_directory(tmp.path / "stage");
  ExtractLimits limits;
  limits.max_entries = 34;
  {
    Extractor extractor(tmp.path / "stage", limits);
    extractor.add(tmp.path / "a.zip");
    CHECK(extractor.entries() == 30);
    try {
      extractor.add(tmp.path / "dir");
      FAIL("not refused");
    } catch (const cf::VerificationError& error) {
      CHECK(std::string(error.what()).find("more than --max-entries (34) entries in total") != std::string::npos);
    }
  }
  limits.max_entries = 35;
  fs::remove_all(tmp.path / "stage");
  fs::create_directory(tmp.path / "stage");
  Extractor extractor(tmp.path / "stage", limits);
  extractor.add(tmp.path / "a.zip");
  extractor.add(tmp.path / "dir");
  CHECK(extractor.files().size() == 35);
}

TEST_CASE("Extractor: entries no load can list are read and checked but never written") {
  TempDir tmp;
  const auto image = noise(300'000, 7);
  write_archive(tmp.path / "inner.tar", "tar", {{"apps41.sbn", image}});
  write_archive(tmp.path / "a.zip", "zip",
                {{"readme.html", "<p>hello</p>"}, {"notes", noise(5000, 8)}, {"bundle.bin.part", ""},
                 {"nested.archive", file_bytes(tmp.path / "inner.tar")}});
  fs::create_directory(tmp.path / "stage");
  Extractor extractor(tmp.path / "stage", {});
  extractor.add(tmp.path / "a.zip");
  const auto& files = extractor.files();
  REQUIRE(files.size() == 4);
  CHECK(files[0].name == "readme.html");
  CHECK(files[0].path.empty());
  CHECK(files[0].size == 12);
  CHECK(files[1].path.empty());
  CHECK(files[1].size == 5000);
  CHECK(files[2].path.empty());
  // An archive under any name is still read: its load file is staged.
  CHECK(files[3].name == "apps41.sbn");
  CHECK(read_all(files[3].path) == image);
  CHECK(files_in(tmp.path / "stage") == 1);
}
