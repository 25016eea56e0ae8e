#include "identity/qr_svg.h"

#include <gtest/gtest.h>
#include <qrencode.h>

#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <utility>

namespace medvault::identity {
namespace {

namespace pt = boost::property_tree;
using Module = std::pair<int, int>;  // x, y in the module matrix (quiet zone excluded)

constexpr std::string_view kUri =
    "otpauth://totp/Labo%20Saint-%C3%89loi:jean.dupont%40example.fr"
    "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Labo%20Saint-%C3%89loi"
    "&algorithm=SHA1&digits=6&period=30";

// libqrencode's own matrix for the text, at the level and mode qr_svg.cc uses.
struct Reference {
  int width = 0;
  std::set<Module> dark;
};
Reference ReferenceMatrix(std::string_view text) {
  std::unique_ptr<QRcode, void (*)(QRcode*)> code(
      QRcode_encodeData(static_cast<int>(text.size()),
                        reinterpret_cast<const unsigned char*>(text.data()), 0, QR_ECLEVEL_M),
      QRcode_free);
  EXPECT_TRUE(code);
  Reference reference;
  if (!code) return reference;
  reference.width = code->width;
  for (int y = 0; y < code->width; ++y) {
    for (int x = 0; x < code->width; ++x) {
      if (code->data[y * code->width + x] & 1) reference.dark.insert({x, y});
    }
  }
  return reference;
}

// The modules a path's "M{x} {y}h{n}v1h-{n}z" subpaths cover; fails the test on anything else.
std::set<Module> ModulesOfPath(const std::string& d, int quiet_zone) {
  std::set<Module> modules;
  std::istringstream in(d);
  while (in.peek() != EOF) {
    char m = 0, h = 0, v = 0, h2 = 0, z = 0;
    int x = 0, y = 0, run = 0, one = 0, back = 0;
    in >> m >> x >> y >> h >> run >> v >> one >> h2 >> back >> z;
    EXPECT_TRUE(in && m == 'M' && h == 'h' && v == 'v' && one == 1 && h2 == 'h' && back == -run &&
                z == 'z' && run > 0)
        << "unexpected path data near offset " << in.tellg();
    if (!in) break;
    for (int i = 0; i < run; ++i) {
      const bool fresh = modules.insert({x + i - quiet_zone, y - quiet_zone}).second;
      EXPECT_TRUE(fresh) << "module drawn twice";
    }
  }
  return modules;
}

TEST(QrCodeSvg, IsWellFormedSvgWithOnlyRectAndPathAndEncodesQrencodesMatrix) {
  auto svg = QrCodeSvg(kUri);
  ASSERT_TRUE(svg) << svg.error().message();

  pt::ptree tree;
  std::istringstream in{std::string(svg->view())};
  ASSERT_NO_THROW(pt::read_xml(in, tree)) << "SVG is not well-formed XML";
  ASSERT_EQ(tree.size(), 1u);
  const pt::ptree& root = tree.get_child("svg");
  EXPECT_EQ(root.get<std::string>("<xmlattr>.xmlns"), "http://www.w3.org/2000/svg");

  const Reference reference = ReferenceMatrix(kUri);
  ASSERT_GT(reference.width, 21);  // this URI needs more than version 1
  const int size = reference.width + 2 * kQrQuietZoneModules;
  EXPECT_EQ(root.get<std::string>("<xmlattr>.viewBox"),
            "0 0 " + std::to_string(size) + " " + std::to_string(size));

  int rects = 0, paths = 0;
  std::set<Module> drawn;
  for (const auto& [name, child] : root) {
    if (name == "<xmlattr>") continue;
    ASSERT_TRUE(name == "rect" || name == "path") << "unexpected element <" << name << ">";
    EXPECT_TRUE(child.data().empty()) << "text inside <" << name << ">";
    if (name == "rect") {
      ++rects;
      EXPECT_EQ(child.get<std::string>("<xmlattr>.width"), std::to_string(size));
      EXPECT_EQ(child.get<std::string>("<xmlattr>.fill"), "#fff");
    } else {
      ++paths;
      EXPECT_EQ(child.get<std::string>("<xmlattr>.fill"), "#000");
      drawn = ModulesOfPath(child.get<std::string>("<xmlattr>.d"), kQrQuietZoneModules);
    }
  }
  EXPECT_EQ(rects, 1);
  EXPECT_EQ(paths, 1);
  EXPECT_EQ(drawn.size(), reference.dark.size());
  EXPECT_EQ(drawn, reference.dark) << "the SVG's dark modules differ from libqrencode's matrix";
}

TEST(QrCodeSvg, HasNoScriptTextOrExternalReference) {
  auto svg = QrCodeSvg("otpauth://totp/<script>alert(1)</script>:x?secret=AAAA");
  ASSERT_TRUE(svg);
  const std::string_view text = svg->view();
  for (std::string_view forbidden :
       {"script", "href", "<text", "<image", "<foreignObject", " on"}) {
    EXPECT_EQ(text.find(forbidden), std::string_view::npos) << forbidden;
  }
}

TEST(QrCodeSvg, RefusesEmptyAndOversizedText) {
  auto empty = QrCodeSvg("");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code(), ErrorCode::kInvalidArgument);
  auto oversized = QrCodeSvg(std::string(kQrMaxTextBytes + 1, 'a'));
  ASSERT_FALSE(oversized);
  EXPECT_EQ(oversized.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(QrCodeSvg(std::string(kQrMaxTextBytes, 'a')));
}

}  // namespace
}  // namespace medvault::identity
