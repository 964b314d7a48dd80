#pragma once
// A one-line progress bar for long operations. It draws only when enabled
// (the caller passes terminal_policy(2).animations()); otherwise every call is
// a no-op, so scripts see nothing but the tool's records.
#include <cstdint>
#include <iosfwd>
#include <string>

namespace cf::cli {

class ProgressBar {
 public:
  ProgressBar(std::ostream& out, bool enabled, std::string label, std::uint64_t total,
              int width = 30);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  void update(std::uint64_t done);
  void finish();  // draws 100% and ends the line
  bool enabled() const noexcept { return enabled_; }

  // The text of the bar without the carriage return, for tests and live views.
  static std::string render(std::string_view label, std::uint64_t done, std::uint64_t total,
                            int width);

 private:
  std::ostream* out_;
  bool enabled_;
  bool finished_ = false;
  std::string label_;
  std::uint64_t total_;
  int width_;
  int last_permille_ = -1;
};

}  // namespace cf::cli
