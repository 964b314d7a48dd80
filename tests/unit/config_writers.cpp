#include <sstream>

#include <doctest/doctest.h>
#include <pugixml.hpp>

#include "cf/cli/error.hpp"
#include "cf/config/digest.hpp"
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
  CHECK(std::string(device.child("transportLayerProtocol").text().get()) == "2");  // UDP
  auto tcp = network();
  tcp.transport = SipTransport::tcp;
  CHECK(std::string(parse(sep_file(tcp, phone, sip).content).child("device")
                        .child("transportLayerProtocol").text().get()) == "4");

  const auto sccp = *cf::firmware::parse_load_name("SCCP45.9-4-2SR3-1S", catalog);
  const auto plain = parse(sep_file(network(), phone, sccp).content);
  CHECK(plain.child("device").child("sipProfile").empty());
  CHECK(plain.child("device").child("transportLayerProtocol").empty());  // SCCP: always TCP
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
}

TEST_CASE("dialplan.xml: numbers longer than an extension can be dialled") {
  const Phone a{"001A2B3C4D5E", "7940", {{"1001", "pw", "A", 1}, {"1002", "pw", "B", 2}}, 1};
  const Phone b{"001A2B3C4D5F", "7961", {{"20", "pw", "C", 3}, {"desk", "pw", "D", 4}}, 3};
  const auto plan = parse(dialplan_file(network(), {a, b}).content);
  std::vector<std::pair<std::string, std::string>> templates;
  for (const auto t : plan.child("DIALTEMPLATE").children("TEMPLATE"))
    templates.emplace_back(t.attribute("MATCH").value(), t.attribute("Timeout").value());
  // Per length and first digit; never Timeout 0, so 10015551234 is not cut at 1001.
  const std::vector<std::pair<std::string, std::string>> expected{
      {"2.", "2"}, {"1...", "2"}, {"*", "5"}};
  CHECK(templates == expected);

  auto own = network();
  own.dial_patterns = {*parse_dial_pattern("1...=0"), *parse_dial_pattern("9*=3")};
  const auto custom = parse(dialplan_file(own, {a}).content);
  CHECK(std::string(custom.child("DIALTEMPLATE").last_child().attribute("MATCH").value()) == "*");
  own.dial_patterns.push_back(*parse_dial_pattern("*=7"));
  const auto with_catch_all = parse(dialplan_file(own, {a}).content);
  CHECK(std::string(with_catch_all.child("DIALTEMPLATE").last_child().attribute("Timeout").value()) == "7");
  own.dialplan_xml = "<DIALTEMPLATE><TEMPLATE MATCH=\"*\" Timeout=\"4\"/></DIALTEMPLATE>\n";
  CHECK(dialplan_file(own, {a}).content == own.dialplan_xml);

  for (const char* bad : {"1...", "=2", "1a..=2", "1...=61", "1...=x", "1...=", "1...=100"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_dial_pattern(bad));
  }
  CHECK(check_dialplan_xml("<DIALTEMPLATE><TEMPLATE MATCH=\"*\" Timeout=\"5\"/></DIALTEMPLATE>").empty());
  CHECK(check_dialplan_xml("<DIALTEMPLATE><TEMPLATE MATCH=\"*\"></DIALTEMPLATE>").find("well-formed") != std::string::npos);
  CHECK(check_dialplan_xml("<dialplan/>").find("DIALTEMPLATE") != std::string::npos);
  CHECK(check_dialplan_xml("<DIALTEMPLATE><TEMPLATE/></DIALTEMPLATE>").find("MATCH") != std::string::npos);
  CHECK(check_dialplan_xml("<DIALTEMPLATE><X MATCH=\"1\"/></DIALTEMPLATE>").find("<X>") != std::string::npos);
  CHECK(check_dialplan_xml(std::string(9000, ' ')).find("8192") != std::string::npos);
}

TEST_CASE("pjsip.conf: endpoint, auth and aor per line") {
  const Phone phone{"001A2B3C4D5E", "7961", {{"1001", "pw", "Desk", 1}}, 1};
  const auto conf = pjsip_file(network(), AsteriskOptions{}, {phone}).content;
  // Both transports by default, and then no endpoint pins one.
  CHECK(conf.find("[ciscoflash-udp]\ntype=transport\nprotocol=udp\nbind=0.0.0.0:5060\n") != std::string::npos);
  CHECK(conf.find("[ciscoflash-tcp]\ntype=transport\nprotocol=tcp\nbind=0.0.0.0:5060\n") != std::string::npos);
  CHECK(conf.find("transport=") == std::string::npos);
  AsteriskOptions tcp_only;
  tcp_only.transports = {SipTransport::tcp};
  const auto tcp = pjsip_file(network(), tcp_only, {phone}).content;
  CHECK(tcp.find("[ciscoflash-udp]") == std::string::npos);
  CHECK(tcp.find("[1001]\ntype=endpoint\ntransport=ciscoflash-tcp\n") != std::string::npos);
  CHECK(conf.find("[1001]\ntype=endpoint\n") != std::string::npos);
  CHECK(conf.find("[1001]\ntype=auth\nauth_type=userpass\nusername=1001\npassword=pw\n") != std::string::npos);
  CHECK(conf.find("[1001]\ntype=aor\nmax_contacts=1\n") != std::string::npos);
  CHECK(conf.find("callerid=\"Desk\" <1001>\n") != std::string::npos);
  const auto sccp = sccp_file(AsteriskOptions{}, {phone}).content;
  CHECK(sccp.find("[SEP001A2B3C4D5E]\ntype=device\ndevicetype=7961\n") != std::string::npos);
}

TEST_CASE("MD5 and digest HA1: RFC 1321 A.5 and RFC 2617 3.5") {
  CHECK(md5_hex("") == "d41d8cd98f00b204e9800998ecf8427e");
  CHECK(md5_hex("a") == "0cc175b9c0f1b6a831c399e269772661");
  CHECK(md5_hex("abc") == "900150983cd24fb0d6963f7d28e17f72");
  CHECK(md5_hex("message digest") == "f96b697d7cb7938d525a2f31aaf161d0");
  CHECK(md5_hex("abcdefghijklmnopqrstuvwxyz") == "c3fcd3d76192e4007dfb496cca67e13b");
  CHECK(md5_hex("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") ==
        "d174ab98d277d9f5a5611c2c9f419d9f");
  CHECK(md5_hex("12345678901234567890123456789012345678901234567890123456789012345678901234567890") ==
        "57edf4a22be3c955ac49da2e2107b67a");
  // 55, 56 and 64 bytes: the padding spills into a second block at 56.
  CHECK(md5_hex(std::string(55, 'a')) == "ef1772b6dff9a122358552954ad0df65");
  CHECK(md5_hex(std::string(56, 'a')) == "3b0c8ac703f828b04c6c197006d17218");
  CHECK(md5_hex(std::string(64, 'a')) == "014842d480b571495a4a0363793f7367");
  // RFC 2617 3.5: Mufasa / testrealm@host.com / Circle Of Life.
  CHECK(digest_ha1("Mufasa", "testrealm@host.com", "Circle Of Life") ==
        "939e7578ed9e3c518a452acee763bce9");
}

TEST_CASE("Kamailio db_text: version 7 and one subscriber per SIP line") {
  const Phone a{"001A2B3C4D5E", "7961", {{"1001", "pw:1", "Desk", 1}, {"1002", "pw2", "B", 2}}, 1};
  const Phone b{"001A2B3C4D5F", "7960", {{"1003", "pw3", "C", 3}}, 3};
  const auto files = kamailio_files("192.168.1.1", {a, b});
  REQUIRE(files.size() == 2);
  CHECK(files[0].name == "version");
  CHECK(files[0].content == "id(int,auto) table_name(string) table_version(int)\n1:subscriber:7\n");
  CHECK(files[1].name == "subscriber");
  CHECK(files[1].mode == 0640);
  const auto& table = files[1].content;
  CHECK(table.starts_with("id(int,auto) username(string) domain(string) password(string) ha1(string) ha1b(string)\n"));
  // ':' separates columns, so the password's own is escaped.
  CHECK(table.find("\n1:1001:192.168.1.1:pw\\:1:" + digest_ha1("1001", "192.168.1.1", "pw:1") + ":" +
                   digest_ha1("1001@192.168.1.1", "192.168.1.1", "pw:1") + "\n") != std::string::npos);
  CHECK(table.find("\n3:1003:192.168.1.1:pw3:") != std::string::npos);
  CHECK(db_text_escape("a:b\\c\nd\te\rf") == "a\\:b\\\\c\\nd\\te\\rf");
  Phone no_secret = b;
  no_secret.lines[0].secret.clear();
  CHECK_THROWS_WITH_AS(kamailio_files("x", {no_secret}), doctest::Contains("needs a secret"), cf::UsageError);
}
