#include <sstream>

#include <doctest/doctest.h>
#include <pugixml.hpp>

#include "cf/cli/error.hpp"
#include "cf/config/writers.hpp"

using namespace cf::config;

namespace {
pugi::xml_document parse(const std::string& text) {
  pugi::xml_document doc;
  const auto result = doc.load_string(text.c_str());
  REQUIRE_MESSAGE(result, result.description());
  return doc;
}
Network network() {
  Network n;
  n.callmanagers = {"192.168.1.1"};
  return n;
}
}  // namespace

TEST_CASE("XMLDefault names each model by its device type") {
  const auto catalog = cf::firmware::ModelCatalog::load_default();
  LoadSelection loads(catalog);
  loads.add_explicit("7940-7960=P0S3-8-12-00");
  loads.add_explicit("7945-7965=SIP45.9-4-2SR3-1S");
  loads.choose(std::nullopt);
  const auto file = xmldefault(network(), loads, catalog);
  CHECK(file.name == "XMLDefault.cnf.xml");
  const auto doc = parse(file.content);
  const auto root = doc.child("Default");
  CHECK(std::string(root.select_node("callManagerGroup/members/member/callManager/processNodeName")
                        .node().text().get()) == "192.168.1.1");
  CHECK(std::string(root.select_node("callManagerGroup/members/member/callManager/ports/ethernetPhonePort")
                        .node().text().get()) == "2000");
  CHECK(std::string(root.child("loadInformation8").text().get()) == "P0S3-8-12-00");
  CHECK(std::string(root.child("loadInformation7").text().get()) == "P0S3-8-12-00");
  CHECK(std::string(root.child("loadInformation435").text().get()) == "SIP45.9-4-2SR3-1S");
  CHECK(std::string(root.child("loadInformation436").text().get()) == "SIP45.9-4-2SR3-1S");
  CHECK(root.child("loadInformation115").empty());
  CHECK(xmldefault(network(), loads, catalog).content == file.content);  // deterministic
}

TEST_CASE("SEP: bare loadInformation; a sipProfile with escaped lines for CNU SIP loads") {
  const auto catalog = cf::firmware::ModelCatalog::load_default();
  Phone phone{"001A2B3C4D5E", "7965", {{"1001", "a&<b>", "Bob & <Co>", 1}, {"1002", "pw", "1002", 2}}, 1};
  const auto sip = *cf::firmware::parse_load_name("SIP45.9-4-2SR3-1S", catalog);
  const auto file = sep_file(network(), phone, sip);
  CHECK(file.name == "SEP001A2B3C4D5E.cnf.xml");
  CHECK(file.content.find("Bob &amp; &lt;Co&gt;") != std::string::npos);
  const auto doc = parse(file.content);
  const auto device = doc.child("device");
  CHECK(std::string(device.child("loadInformation").text().get()) == "SIP45.9-4-2SR3-1S");
  CHECK(device.child("loadInformation").first_attribute().empty());
  const auto lines = device.select_nodes("sipProfile/sipLines/line");
  REQUIRE(lines.size() == 2);
  CHECK(std::string(lines[0].node().child("authPassword").text().get()) == "a&<b>");
  CHECK(std::string(lines[0].node().child("displayName").text().get()) == "Bob & <Co>");
  CHECK(std::string(lines[1].node().attribute("button").value()) == "2");
  CHECK(std::string(device.select_node("sipProfile/dialTemplate").node().text().get()) == "dialplan.xml");

  const auto sccp = *cf::firmware::parse_load_name("SCCP45.9-4-2SR3-1S", catalog);
  const auto plain = parse(sep_file(network(), phone, sccp).content);
  CHECK(plain.child("device").child("sipProfile").empty());
  CHECK(std::string(plain.child("device").child("deviceProtocol").text().get()) == "SCCP");

  phone.lines[1].secret.clear();
  CHECK_THROWS_WITH_AS(sep_file(network(), phone, sip), doctest::Contains("needs a secret"), cf::UsageError);
}

TEST_CASE("7940/7960 SIP files") {
  const auto catalog = cf::firmware::ModelCatalog::load_default();
  const auto load = *cf::firmware::parse_load_name("P0S3-8-12-00", catalog);
  CHECK(os79xx_file(load).content == "P003-8-12-00\n");
  CHECK(os79xx_file(*cf::firmware::parse_load_name("P00308010200", catalog)).content == "P00308010200\n");
  const auto def = sipdefault_file(network(), load).content;
  CHECK(def.find("image_version: \"P0S3-8-12-00\"\n") != std::string::npos);
  CHECK(def.find("proxy1_address: \"192.168.1.1\"\n") != std::string::npos);
  CHECK(def.find("dial_template: \"dialplan\"\n") != std::string::npos);
  const Phone phone{"001A2B3C4D5E", "7940", {{"1001", "pw", "Desk", 1}}, 1};
  const auto mac = sip_mac_file(network(), phone, load);
  CHECK(mac.name == "SIP001A2B3C4D5E.cnf");
  CHECK(mac.content.find("line1_authname: \"1001\"\nline1_password: \"pw\"\n") != std::string::npos);
  const auto plan = parse(dialplan_file(network(), {phone}).content);
  CHECK(std::string(plan.child("DIALTEMPLATE").first_child().attribute("MATCH").value()) == "....");
}

TEST_CASE("pjsip.conf: endpoint, auth and aor per line") {
  const Phone phone{"001A2B3C4D5E", "7961", {{"1001", "pw", "Desk", 1}}, 1};
  const auto conf = pjsip_file(network(), AsteriskOptions{}, {phone}).content;
  CHECK(conf.find("[1001]\ntype=endpoint\n") != std::string::npos);
  CHECK(conf.find("[1001]\ntype=auth\nauth_type=userpass\nusername=1001\npassword=pw\n") != std::string::npos);
  CHECK(conf.find("[1001]\ntype=aor\nmax_contacts=1\n") != std::string::npos);
  CHECK(conf.find("callerid=\"Desk\" <1001>\n") != std::string::npos);
  const auto sccp = sccp_file(AsteriskOptions{}, {phone}).content;
  CHECK(sccp.find("[SEP001A2B3C4D5E]\ntype=device\ndevicetype=7961\n") != std::string::npos);
}
