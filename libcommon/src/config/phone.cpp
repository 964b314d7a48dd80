#include "cf/config/phone.hpp"

#include <algorithm>
#include <cctype>
#include <istream>

#include <fmt/format.h>

#include "cf/cli/error.hpp"
#include "cf/cli/text.hpp"

namespace cf::config {
namespace {

bool is_hex(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](unsigned char c) { return std::isxdigit(c) != 0; });
}

Result<std::string> bad_mac(std::string_view text) {
  return Result<std::string>::failure(fmt::format(
      "'{}' is not a MAC address (expected 12 hex digits, e.g. 001A2B3C4D5E, "
      "00:1a:2b:3c:4d:5e or 001a.2b3c.4d5e)",
      text));
}

// Groups of `width` hex digits separated by `separator`, nothing else.
bool grouped(std::string_view text, char separator, std::size_t width, std::size_t groups) {
  if (text.size() != groups * width + groups - 1) return false;
  for (std::size_t i = 0; i < groups; ++i) {
    if (!is_hex(text.substr(i * (width + 1), width))) return false;
    if (i + 1 < groups && text[i * (width + 1) + width] != separator) return false;
  }
  return true;
}

std::string strip_digits_only(std::string_view text) {
  std::string out;
  for (const char c : text)
    if (c != ':' && c != '-' && c != '.') out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\r')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\r')) text.remove_suffix(1);
  return text;
}

}  // namespace

Result<std::string> parse_mac(std::string_view text) {
  if (text.size() > 3 && (text.substr(0, 3) == "SEP" || text.substr(0, 3) == "sep"))
    text.remove_prefix(3);
  const bool ok = (text.size() == 12 && is_hex(text)) || grouped(text, ':', 2, 6) ||
                  grouped(text, '-', 2, 6) || grouped(text, '.', 4, 3);
  if (!ok) return bad_mac(text);
  std::string mac = strip_digits_only(text);
  if (mac == "000000000000")
    return Result<std::string>::failure(
        fmt::format("'{}' is the all-zero MAC address, no phone's own (a template name such "
                    "as SEP000000000000.cnf.xml, not a phone)",
                    text));
  if (mac == "FFFFFFFFFFFF")
    return Result<std::string>::failure(
        fmt::format("'{}' is the broadcast MAC address, no phone's own", text));
  // The group bit is the low bit of the first octet, i.e. of its second hex digit.
  const char low_nibble = mac[1];
  const int nibble = std::isdigit(static_cast<unsigned char>(low_nibble)) ? low_nibble - '0'
                                                                          : low_nibble - 'A' + 10;
  if ((nibble & 0x01) != 0)
    return Result<std::string>::failure(
        fmt::format("'{}' is a multicast MAC address (group bit of the first octet set), no "
                    "phone's own",
                    text));
  return mac;
}

std::size_t max_secret_length(const firmware::ModelInfo& model) {
  return model.family == "7940-7960" ? kMaxSecretLength79x0 : kMaxSecretLengthCnu;
}

std::string check_extension(std::string_view extension) {
  if (extension.empty()) return "the extension is empty";
  if (extension.size() > kMaxExtensionLength)
    return fmt::format("extension '{}' is longer than {} characters", extension, kMaxExtensionLength);
  const bool allowed = std::all_of(extension.begin(), extension.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '-' || c == '.' || c == '+';
  });
  if (!allowed)
    return fmt::format("extension '{}' may only hold letters, digits, '_', '-', '.' and '+' "
                       "(it names the SIP user and the Asterisk section)",
                       extension);
  // The extension names pjsip.conf and sccp.conf sections: it may not be a section
  // those files (or the admin's own, merged with them) already use.
  for (const std::string_view reserved :
       {"general", "global", "system", "ciscoflash-udp", "ciscoflash-tcp"})
    if (iequals(extension, reserved))
      return fmt::format("extension '{}' is a section name of pjsip.conf or sccp.conf "
                         "([{}]); choose another",
                         extension, reserved);
  if (extension.size() == 15 && istarts_with(extension, "SEP") && is_hex(extension.substr(3)))
    return fmt::format("extension '{}' looks like a phone's SEP<MAC> device section of "
                       "sccp.conf; choose another",
                       extension);
  return {};
}

std::string check_secret(std::string_view secret, std::size_t max_length) {
  if (secret.size() > max_length)
    return fmt::format("the secret is {} characters; the phone takes at most {} (12 on "
                       "79x1 and later, 32 on 7940/7960: see SECRETS in cnfgen(1))",
                       secret.size(), max_length);
  for (const char ch : secret) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7f)
      return "the secret may hold only printable ASCII without spaces";
    if (c == '"' || c == ';' || c == '#' || c == '\\')
      return fmt::format("the secret may not contain '{}' (it would end a value or start a "
                         "comment in SIP<MAC>.cnf or pjsip.conf)",
                         ch);
  }
  return {};
}

std::string check_quoted_text(std::string_view text) {
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) return "it may not hold control characters";
    if (c == '"' || c == '\\' || c == ';' || c == '#')
      return fmt::format("it may not contain '{}' (it would end a quoted value or start a "
                         "comment in SIPDefault.cnf)",
                         ch);
  }
  return {};
}

std::string check_display_name(std::string_view name) {
  if (name.empty()) return "the display name is empty";
  if (name.size() > kMaxDisplayNameLength)
    return fmt::format("display name '{}' is longer than {} bytes", name, kMaxDisplayNameLength);
  for (const char ch : name) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) return "the display name may not hold control characters";
    if (c == '"' || c == ';' || c == '#' || c == '\\' || c == '<' || c == '>')
      return fmt::format("the display name may not contain '{}' (it would break the caller id "
                         "or a quoted value in SIP<MAC>.cnf, sccp.conf or pjsip.conf)",
                         ch);
  }
  if (name.front() == ' ' || name.back() == ' ')
    return "the display name may not start or end with a space";
  return {};
}

void PhoneList::add(const std::string& where, std::size_t line, std::string_view mac_text,
                    std::string_view model_text, std::string_view extension,
                    std::string_view secret, std::string_view display_name) {
  const auto fail = [&](const std::string& reason) {
    throw UsageError(fmt::format("{}: {}", where, reason));
  };
  const auto mac = parse_mac(mac_text);
  if (!mac) fail(mac.error());
  const auto* model = catalog_->find_model(model_text);
  if (model == nullptr) fail(fmt::format("model '{}' is not in the model catalog", model_text));
  if (auto why = check_extension(extension); !why.empty()) fail(why);
  if (auto why = check_secret(secret, max_secret_length(*model)); !why.empty()) fail(why);
  const std::string display = display_name.empty() ? std::string(extension) : std::string(display_name);
  if (auto why = check_display_name(display); !why.empty()) fail(why);
  for (const auto& phone : phones_)
    for (const auto& l : phone.lines)
      if (l.extension == extension)
        fail(fmt::format("extension {} is already used by phone {} (line {})", extension,
                         phone.mac, l.source_line));
  auto phone = std::find_if(phones_.begin(), phones_.end(),
                            [&](const Phone& p) { return p.mac == *mac; });
  if (phone == phones_.end()) {
    phones_.push_back(Phone{*mac, model->model, {}, line});
    phone = std::prev(phones_.end());
  } else if (phone->model != model->model) {
    fail(fmt::format("phone {} was given as a {} (line {}), not a {}", *mac, phone->model,
                     phone->source_line, model->model));
  }
  if (model->lines > 0 && phone->lines.size() >= static_cast<std::size_t>(model->lines))
    fail(fmt::format("phone {} already has {} line(s); a {} has {} line key(s) (model catalog)",
                     *mac, phone->lines.size(), model->model, model->lines));
  phone->lines.push_back(Line{std::string(extension), std::string(secret), display, line});
}

std::vector<Phone> read_phones(std::istream& in, const std::string& source,
                               const firmware::ModelCatalog& catalog) {
  PhoneList list(catalog);
  std::string text;
  std::size_t number = 0;
  while (std::getline(in, text)) {
    ++number;
    const std::string where = fmt::format("{}:{}", source, number);
    const std::string_view line = trim(text);
    if (line.empty() || line.front() == '#') continue;
    std::vector<std::string_view> fields;
    std::size_t start = 0;
    while (true) {
      const auto tab = line.find('\t', start);
      fields.push_back(trim(line.substr(start, tab == std::string_view::npos ? tab : tab - start)));
      if (tab == std::string_view::npos) break;
      start = tab + 1;
    }
    if (fields.size() < 4 || fields.size() > 5)
      throw UsageError(fmt::format(
          "{}: expected 4 or 5 tab-separated fields (mac, model, extension, secret, "
          "[display name]), found {}",
          where, fields.size()));
    const std::string_view secret = fields[3] == "-" ? std::string_view() : fields[3];
    list.add(where, number, fields[0], fields[1], fields[2], secret,
             fields.size() == 5 ? fields[4] : std::string_view());
  }
  if (in.bad()) throw Error(fmt::format("{}: read error", source));
  return list.phones();
}

}  // namespace cf::config
