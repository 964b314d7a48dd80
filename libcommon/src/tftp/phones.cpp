#include "cf/tftp/phones.hpp"
#include "cf/cli/text.hpp"

#include <cctype>

#include "cf/firmware/load_name.hpp"

namespace cf::tftp {
namespace {
// The last path component: phones may ask with a leading / or \.
std::string_view base_name(std::string_view file) {
  const auto slash = file.find_last_of("/\\");
  return slash == std::string_view::npos ? file : file.substr(slash + 1);
}

bool is_hex12(std::string_view text) {
  if (text.size() != 12) return false;
  for (char c : text)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

struct MacName {
  std::string_view prefix, suffix;
};
constexpr MacName kMacNames[] = {
    {"ctlsep", ".tlv"}, {"itlsep", ".tlv"}, {"sep", ".cnf.xml"}, {"sip", ".cnf"}};

std::optional<std::string> match_mac(std::string_view file, bool configs_only) {
  const auto name = to_lower(base_name(file));
  for (const auto& [prefix, suffix] : kMacNames) {
    if (configs_only && prefix != "sep" && prefix != "sip") continue;
    if (name.size() != prefix.size() + 12 + suffix.size()) continue;
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    if (name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
    auto mac = name.substr(prefix.size(), 12);
    if (!is_hex12(mac)) continue;
    for (char& c : mac) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return mac;
  }
  return std::nullopt;
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

}  // namespace

std::optional<std::string> mac_from_request(std::string_view file) {
  return match_mac(file, false);
}

bool is_phone_config(std::string_view file) { return match_mac(file, true).has_value(); }

bool is_quiet_probe(std::string_view file) {
  return to_lower(base_name(file)) == "itlfile.tlv" || mac_from_request(file).has_value();
}

// The phone for `client`, marked most recently seen; phones idle longer than
// max_idle, then the least recently seen beyond max_phones, are forgotten.
PhoneState* PhoneTracker::state_for(net::Ipv4 client, TimePoint now) {
  if (settings_.max_phones == 0) return nullptr;
  latest_ = std::max(latest_, now);
  auto it = phones_.find(client);
  if (it != phones_.end()) {
    it->second.last_seen = latest_;
    recency_.splice(recency_.begin(), recency_, it->second.recency);
    return &it->second;
  }
  while (!recency_.empty() && latest_ - phones_.at(recency_.back()).last_seen > settings_.max_idle)
    forget(recency_.back());
  while (phones_.size() >= settings_.max_phones) forget(recency_.back());
  recency_.push_front(client);
  auto& state = phones_[client];
  state.last_seen = latest_;
  state.recency = recency_.begin();
  return &state;
}

void PhoneTracker::forget(net::Ipv4 client) {
  auto it = phones_.find(client);
  if (it == phones_.end()) return;
  tracked_names_ -= it->second.requests.size();
  recency_.erase(it->second.recency);
  phones_.erase(it);
}

void PhoneTracker::forget_oldest_name(PhoneState& state) {
  auto oldest = state.requests.begin();
  for (auto it = state.requests.begin(); it != state.requests.end(); ++it)
    if (it->second.times.back() < oldest->second.times.back()) oldest = it;
  if (oldest == state.requests.end()) return;
  state.requests.erase(oldest);
  --tracked_names_;
}

const PhoneState* PhoneTracker::phone(net::Ipv4 client) const {
  auto it = phones_.find(client);
  return it == phones_.end() ? nullptr : &it->second;
}

std::string PhoneTracker::mac_of(net::Ipv4 client) const {
  const auto* state = phone(client);
  return state ? state->mac : std::string();
}

std::vector<PhoneEvent> PhoneTracker::on_request(net::Ipv4 client, std::string_view file,
                                                 TimePoint now) {
  std::vector<PhoneEvent> events;
  auto* state = state_for(client, now);
  if (!state) return events;
  if (auto mac = mac_from_request(file)) state->mac = *mac;
  const auto base = base_name(file);
  if (base.size() > settings_.max_name_length || settings_.max_files_per_phone == 0) return events;
  const auto key = to_lower(base);
  auto entry = state->requests.find(key);
  if (entry == state->requests.end()) {
    if (state->requests.size() >= settings_.max_files_per_phone) forget_oldest_name(*state);
    while (tracked_names_ >= settings_.max_tracked_names && recency_.size() > 1)
      forget(recency_.back());  // never the current phone: it is at the front
    if (tracked_names_ >= settings_.max_tracked_names) forget_oldest_name(*state);
    entry = state->requests.emplace(key, RecentRequests{}).first;
    ++tracked_names_;
  }
  auto& times = entry->second.times;
  std::erase_if(times, [&](TimePoint t) { return now - t > settings_.loop_window; });
  if (settings_.loop_count > 0 && times.size() >= settings_.loop_count)
    times.erase(times.begin(), times.begin() + static_cast<std::ptrdiff_t>(times.size() + 1 -
                                                                          settings_.loop_count));
  times.push_back(now);
  if (settings_.loop_count > 0 && times.size() >= settings_.loop_count) {
    // Reported once per window, not on every further fetch.
    auto& reported = entry->second.loop_reported;
    if (!reported || now - *reported > settings_.loop_window) {
      reported = now;
      events.push_back({"loop-suspected", state->mac, state->model, std::string(base), {},
                        static_cast<unsigned>(times.size()), {}, {}});
    }
  }
  return events;
}

namespace {
PhoneEvent load_complete(const PhoneState& state, const std::string& load,
                         const std::vector<std::string>& components) {
  PhoneEvent event{"load-complete", state.mac, state.model, load + ".loads", load, 0, {}, {}};
  auto add = [&](std::string_view name) {
    const auto it = state.completed.find(to_lower(name));
    event.files.emplace_back(std::string(name),
                             it == state.completed.end() ? FileIdentity{} : it->second.identity);
  };
  add(event.file);
  for (const auto& name : components) add(base_name(name));
  return event;
}
}  // namespace

std::vector<PhoneEvent> PhoneTracker::on_complete(net::Ipv4 client, std::string_view file,
                                                  const FileIdentity& identity,
                                                  const std::vector<std::string>* components) {
  std::vector<PhoneEvent> events;
  auto* state = state_for(client, latest_);
  if (!state) return events;
  const auto base = base_name(file);
  if (base.size() > settings_.max_name_length) return events;
  const auto key = to_lower(base);
  if (state->completed.size() < settings_.max_files_per_phone || state->completed.contains(key)) {
    auto& done = state->completed[key];
    ++done.count;
    done.identity = identity;
  }
  if (is_phone_config(file)) {
    PhoneEvent event{"phone-config", state->mac, state->model, std::string(base), {}, 0, {}, {}};
    event.identity = identity;
    events.push_back(std::move(event));
  }
  if (ends_with(key, ".loads") && components &&
      components->size() <= settings_.max_files_per_phone &&
      (state->pending_loads.size() < settings_.max_pending_loads ||
       state->pending_loads.contains(std::string(base.substr(0, base.size() - 6))))) {
    const auto load = std::string(base.substr(0, base.size() - 6));
    if (catalog_) {
      if (auto parsed = firmware::parse_load_name(load, *catalog_)) state->model = parsed->family;
    }
    std::set<std::string> missing;
    for (const auto& name : *components) {
      const auto component = to_lower(base_name(name));
      if (!state->completed.contains(component)) missing.insert(component);
    }
    if (missing.empty())
      events.push_back(load_complete(*state, load, *components));
    else
      state->pending_loads[load] = PendingLoad{*components, std::move(missing)};
  }
  for (auto it = state->pending_loads.begin(); it != state->pending_loads.end();) {
    if (it->second.missing.erase(key) && it->second.missing.empty()) {
      events.push_back(load_complete(*state, it->first, it->second.components));
      it = state->pending_loads.erase(it);
    } else {
      ++it;
    }
  }
  return events;
}

}  // namespace cf::tftp
