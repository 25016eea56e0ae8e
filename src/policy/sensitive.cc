#include "policy/sensitive.h"

#include <algorithm>
#include <iterator>

namespace medvault::policy {
namespace {

struct Label {
  std::string_view code;
  SensitiveCategory category;
};

constexpr Label kActCodeLabels[] = {
    {"PSY", SensitiveCategory::kMentalHealth},  {"PSYTHPN", SensitiveCategory::kMentalHealth},
    {"MH", SensitiveCategory::kMentalHealth},   {"HIV", SensitiveCategory::kSexualHealth},
    {"STD", SensitiveCategory::kSexualHealth},  {"SEX", SensitiveCategory::kSexualHealth},
    {"SDV", SensitiveCategory::kSexualHealth},  {"GDIS", SensitiveCategory::kGenetics},
};

std::string_view StringAt(const boost::json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string_view(value->as_string())
                                                : std::string_view();
}

}  // namespace

std::string_view SensitiveCategoryName(SensitiveCategory category) {
  switch (category) {
    case SensitiveCategory::kMentalHealth:
      return "mental_health";
    case SensitiveCategory::kSexualHealth:
      return "sexual_health";
    case SensitiveCategory::kPregnancy:
      return "pregnancy";
    case SensitiveCategory::kGenetics:
      return "genetics";
  }
  return "unknown";
}

std::optional<SensitiveCategory> SensitiveCategoryFromName(std::string_view name) {
  for (SensitiveCategory category : kSensitiveCategories) {
    if (SensitiveCategoryName(category) == name) return category;
  }
  return std::nullopt;
}

std::optional<SensitiveCategory> CategoryOfLabel(std::string_view system, std::string_view code) {
  if (system == kSensitivitySystem) return SensitiveCategoryFromName(code);
  if (system != kActCodeSystem) return std::nullopt;
  for (const Label& label : kActCodeLabels) {
    if (label.code == code) return label.category;
  }
  return std::nullopt;
}

std::vector<SensitiveCategory> SensitiveCategoriesOf(const boost::json::object& resource) {
  std::vector<SensitiveCategory> categories;
  const auto* meta = resource.if_contains("meta");
  if (meta == nullptr || !meta->is_object()) return categories;
  const auto* security = meta->as_object().if_contains("security");
  if (security == nullptr || !security->is_array()) return categories;
  for (const auto& coding : security->as_array()) {
    if (!coding.is_object()) continue;
    const auto category =
        CategoryOfLabel(StringAt(coding.as_object(), "system"), StringAt(coding.as_object(), "code"));
    if (category && std::ranges::find(categories, *category) == categories.end()) {
      categories.push_back(*category);
    }
  }
  std::ranges::sort(categories);
  return categories;
}

namespace {

bool Holds(const Principal& principal, SensitiveCategory category) {
  return std::ranges::find(principal.sensitive_categories, SensitiveCategoryName(category)) !=
         principal.sensitive_categories.end();
}

}  // namespace

std::vector<SensitiveCategory> MissingPermissions(const Principal& principal,
                                                  const boost::json::object& resource) {
  if (principal.role == audit::Role::kPatient) return {};
  std::vector<SensitiveCategory> missing = SensitiveCategoriesOf(resource);
  std::erase_if(missing, [&](SensitiveCategory category) { return Holds(principal, category); });
  return missing;
}

bool MayViewSensitive(const Principal& principal, const boost::json::object& resource) {
  return MissingPermissions(principal, resource).empty();
}

bool HoldsEveryCategory(const Principal& principal) {
  return principal.role == audit::Role::kPatient ||
         std::ranges::all_of(kSensitiveCategories,
                             [&](SensitiveCategory category) { return Holds(principal, category); });
}

}  // namespace medvault::policy
