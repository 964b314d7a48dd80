#pragma once
// The --events file of cisco-tftpd: JSON Lines appended and flushed one line
// at a time (DESIGN.md "Contracts"), reopened on SIGHUP for log rotation.
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

namespace cf::tftp {

class EventLog {
 public:
  EventLog() = default;  // disabled: write() does nothing
  explicit EventLog(std::string path);  // throws cf::Error if it cannot be opened
  ~EventLog();
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  // Writes one line (throws nothing; a failed write is reported by the return).
  bool write(const nlohmann::json& event);
  // Closes and opens the path again (after logrotate moved it). False and the
  // old stream kept if the reopen fails.
  bool reopen();
  bool enabled() const noexcept { return file_ != nullptr; }
  const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
};

// "2026-11-27T10:15:03.123Z": the ts field of every event (UTC, milliseconds).
std::string utc_timestamp_now();

}  // namespace cf::tftp
