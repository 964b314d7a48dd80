#include "cf/tftp/event_log.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>

#include <fmt/format.h>

#include "cf/cli/error.hpp"

namespace cf::tftp {

EventLog::EventLog(std::string path) : path_(std::move(path)) {
  file_ = std::fopen(path_.c_str(), "ae");
  if (!file_) throw Error("cannot open event log " + path_ + ": " + std::strerror(errno));
}

EventLog::~EventLog() {
  if (file_) std::fclose(file_);
}

bool EventLog::write(const nlohmann::json& event) {
  if (!file_) return true;
  const auto line = event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + '\n';
  const bool ok = std::fwrite(line.data(), 1, line.size(), file_) == line.size();
  return std::fflush(file_) == 0 && ok;
}

bool EventLog::reopen() {
  if (path_.empty()) return true;
  std::FILE* fresh = std::fopen(path_.c_str(), "ae");
  if (!fresh) return false;
  if (file_) std::fclose(file_);
  file_ = fresh;
  return true;
}

std::string utc_timestamp_now() {
  const auto now = std::chrono::system_clock::now();
  const auto seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(
                          now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  return fmt::format("{}.{:03}Z", text, millis);
}

}  // namespace cf::tftp
