#include "cf/cli/progress.hpp"

#include <algorithm>
#include <ostream>

#include <fmt/format.h>

namespace cf::cli {

ProgressBar::ProgressBar(std::ostream& out, bool enabled, std::string label, std::uint64_t total,
                         int width)
    : out_(&out), enabled_(enabled), label_(std::move(label)), total_(total),
      width_(std::max(width, 1)) {}

ProgressBar::~ProgressBar() {
  if (enabled_ && !finished_ && last_permille_ >= 0) *out_ << '\n' << std::flush;
}

std::string ProgressBar::render(std::string_view label, std::uint64_t done, std::uint64_t total,
                                int width) {
  const double fraction =
      total == 0 ? 1.0 : static_cast<double>(std::min(done, total)) / static_cast<double>(total);
  const int filled = static_cast<int>(fraction * width);
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.resize(static_cast<std::size_t>(width), '-');
  return fmt::format("{} [{}] {:5.1f}%", label, bar, fraction * 100.0);
}

void ProgressBar::update(std::uint64_t done) {
  if (!enabled_ || finished_) return;
  const int permille =
      total_ == 0 ? 1000 : static_cast<int>(std::min(done, total_) * 1000 / total_);
  if (permille == last_permille_) return;  // redraw only when the figure changes
  last_permille_ = permille;
  *out_ << '\r' << render(label_, done, total_, width_) << "\033[K" << std::flush;
}

void ProgressBar::finish() {
  if (!enabled_ || finished_) return;
  update(total_);
  finished_ = true;
  *out_ << '\n' << std::flush;
}

}  // namespace cf::cli
